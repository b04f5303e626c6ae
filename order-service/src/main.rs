//! Entry point: `order-service` serves the API, `order-service worker` drains the queue.

use clap::Parser as _;
use order_service::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_kit::retired::check_env()?;
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Worker(config)) => {
            service_kit::telemetry::init(config.log_format, "info,order_service=debug");
            let worker = order_service::worker::build(config).await?;
            worker.run(service_kit::shutdown::signal()).await
        }
        None => {
            service_kit::telemetry::init(cli.serve.http.log_format, "info,order_service=debug");
            let server = order_service::build(cli.serve).await?;
            server.run(service_kit::shutdown::signal()).await?;
            Ok(())
        }
    }
}
