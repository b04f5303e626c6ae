//! Entry point: parse flags, set up logging, serve until SIGTERM.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = catalog_service::Config::parse();
    service_kit::telemetry::init(config.http.log_format, "info,catalog_service=debug");
    let server = catalog_service::build(config).await?;
    server.run(service_kit::shutdown::signal()).await?;
    Ok(())
}
