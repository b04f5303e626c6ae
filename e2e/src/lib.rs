//! What the crate's two tests share. `tests/platform` starts the whole platform with
//! `scripts/up.sh` on ports of its own and checks every link of the data path from a
//! burst of load to the replica count the HPA would compute; `tests/chaos` starts the
//! shop on a PostgreSQL cluster and a Redis of its own, injects faults under load and
//! checks that no stock leaks and no order is lost or doubled. Both need the workspace's
//! binaries built and free ports, which is all that lives here.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (the Makefile exports it),
/// else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Builds every binary of the workspace in the debug profile (a no-op when the test run
/// already built them) and returns the directory they are in.
///
/// # Panics
/// When cargo cannot run or the build fails; the message carries cargo's output.
pub fn build_binaries() -> PathBuf {
    let build = Command::new(env!("CARGO"))
        .args(["build", "--workspace", "--bins"])
        .current_dir(workspace_root())
        .output();
    let build = build.unwrap_or_else(|e| panic!("cannot run cargo build: {e}"));
    assert!(
        build.status.success(),
        "cannot build: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    target_dir().join("debug")
}

/// A port nobody listened on a moment ago. Another process may take it before the
/// caller binds it; on a test machine that is rare enough to accept.
///
/// # Panics
/// When no loopback port can be bound at all.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0");
    let listener = listener.unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("cannot read the bound port: {e}"))
        .port()
}
