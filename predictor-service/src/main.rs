//! Entry point: see `predictor_service::cli`.

fn main() -> anyhow::Result<()> {
    predictor_service::cli::run()
}
