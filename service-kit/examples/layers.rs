//! What each layer of `service_kit::http::finish` costs per request: serves the same
//! constant-JSON route once per cumulative stack, each on its own port, for `wrk` to
//! measure in turn (`scripts/bench-layers.sh`, part of `make bench`).
//!
//! `cargo run --release -p service-kit --example layers -- --port 18100` prints one
//! `LAYER URL` line per stack and serves until killed.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use clap::{Parser, ValueEnum as _};
use service_kit::http::{HttpArgs, Layer, finish_upto};
use service_kit::{Readiness, Server};

#[derive(Parser)]
struct Cli {
    /// First port; the stacks take consecutive ports, bare first.
    #[arg(long, default_value_t = 18100)]
    port: u16,
}

/// A small product-like document, so the route does what a cached read does last.
async fn item(Path(id): Path<String>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"id": id, "name": "bench", "price_cents": 100, "stock": 1000}))
}

fn routes() -> Router {
    Router::new().route("/items/{id}", get(item))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // As the services do: info and above, so the request span is live.
    service_kit::telemetry::init(service_kit::telemetry::LogFormat::Text, "info");
    let args = HttpArgs::default();
    let mut stacks = vec![("bare".to_owned(), routes())];
    for layer in Layer::value_variants() {
        let name = format!("{layer:?}").to_lowercase();
        let app = finish_upto("layers", routes(), Readiness::new(), &args, *layer);
        stacks.push((name, app));
    }
    let mut tasks = Vec::new();
    for (i, (name, app)) in stacks.into_iter().enumerate() {
        let server = Server::bind("127.0.0.1", cli.port + i as u16, app).await?;
        println!("{name} http://127.0.0.1:{}/items/42", server.port());
        tasks.push(tokio::spawn(server.run(std::future::pending())));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}
