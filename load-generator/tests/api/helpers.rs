//! Starting a server on 127.0.0.1:0 and running the generator against it with a time bound.

use axum::Router;
use clap::Parser;
use load_generator::app::run_load;
use load_generator::cli::Cli;
use load_generator::report::Summary;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves `router` on a free loopback port and returns its base URL.
pub(crate) async fn spawn(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// Runs the generator with `args` (after the program name; `--quiet` is added) and returns its
/// summary; fails if the run takes more than 20 s.
#[track_caller]
pub(crate) fn run(args: &[&str]) -> impl Future<Output = Summary> {
    let run = try_run(args);
    async move { run.await.expect("run succeeded") }
}

/// As [`run`], with the run's error.
#[track_caller]
pub(crate) fn try_run(args: &[&str]) -> impl Future<Output = anyhow::Result<Summary>> {
    let mut argv = vec!["load-generator", "--quiet"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("valid command line");
    async move {
        tokio::time::timeout(Duration::from_secs(20), run_load(&cli, std::future::pending()))
            .await
            .expect("run finished within 20 s")
    }
}
