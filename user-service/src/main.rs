//! Entry point: parse flags, set up logging, serve until SIGTERM.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = user_service::Config::parse();
    service_kit::telemetry::init(config.http.log_format, "info,user_service=debug");
    let server = user_service::build(config).await?;
    server.run(service_kit::shutdown::signal()).await?;
    Ok(())
}
