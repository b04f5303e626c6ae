//! `load-generator`: parse the command line, set up logging, run.

use clap::Parser;
use load_generator::cli::Cli;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr next to the progress line; the table on stdout stays clean for scripts.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("load_generator=info,warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match load_generator::app::main(cli).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(error.message = %error, error.cause_chain = ?error, "load generator failed");
            ExitCode::FAILURE
        }
    }
}
