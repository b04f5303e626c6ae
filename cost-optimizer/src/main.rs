//! `cost-optimizer` binary. Without a subcommand (or with `serve`) it runs the HTTP service, so
//! that container images and manifests need no arguments; `simulate` replays traces through
//! autoscaling policies.

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use cost_optimizer::Config;
use cost_optimizer::simulate::cli::SimulateArgs;

/// Prices resources, decides scaling, and simulates autoscaling policies.
#[derive(Debug, Parser)]
// Server flags before a subcommand would be silently ignored by it: refuse them instead.
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The server's flags, used when no subcommand is given.
    #[command(flatten)]
    serve: Config,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (the default without a subcommand).
    Serve(Config),
    /// Replay demand traces through reactive, predictive and cost-aware scaling.
    Simulate(SimulateArgs),
}

fn main() -> Result<()> {
    service_kit::retired::check_env()?;
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(config)) => serve(config),
        Some(Command::Simulate(args)) => cost_optimizer::simulate::cli::run(&args),
    }
}

/// The runtime is built here rather than with `#[tokio::main]` so that `simulate`, which runs
/// on its own threads, does not start one.
fn serve(config: Config) -> Result<()> {
    service_kit::telemetry::init(config.http.log_format, "info,cost_optimizer=debug");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = cost_optimizer::build(config).await?;
        server.run(service_kit::shutdown::signal()).await?;
        Ok(())
    })
}
