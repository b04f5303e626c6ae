//! Entry point: parse flags, set up logging, serve until SIGTERM.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_kit::retired::check_env()?;
    let cli = user_service::Cli::parse();
    service_kit::telemetry::init(cli.config.http.log_format, "info,user_service=debug");
    let server = user_service::build_with(cli.config, &cli.cache).await?;
    server.run(service_kit::shutdown::signal()).await?;
    Ok(())
}
