//! A trivial HTTP endpoint to measure the generator against itself: whatever rate the generator
//! reaches here is its own ceiling on this machine, the reference `make bench` compares the shop
//! services with (and runs `wrk` against, when installed).

use axum::Router;
use axum::routing::get;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The router: `GET /` answers `ok` at once, and `GET /sleep/{ms}` answers after `ms` milliseconds
/// (for checking a tool's latency reporting against a known delay).
pub fn router() -> Router {
    Router::new().route("/", get(|| async { "ok" })).route(
        "/sleep/{ms}",
        get(|axum::extract::Path(ms): axum::extract::Path<u64>| async move {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            "ok"
        }),
    )
}

/// Binds `addr` (port 0 picks a free port), serves [`router`] in a background task, and returns
/// the bound address. The server runs until the task is aborted or the runtime ends.
pub async fn spawn(addr: SocketAddr) -> anyhow::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move { axum::serve(listener, router()).await });
    Ok((local, task))
}
