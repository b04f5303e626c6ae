//! Wiring: targets from the configuration, the Prometheus client, the shared state, the
//! refresh loop, the router, and the bound listener.

use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use service_kit::prometheus::Prometheus;
use service_kit::{Readiness, Server};

use crate::config::Config;
use crate::state::{AppState, Shared};
use crate::worker::Worker;

/// The `service` label of the predictor's own HTTP metrics.
pub const SERVICE: &str = "predictor-service";

/// Validates the configuration, starts the refresh loop and binds the listener. The loop is
/// a task of the current runtime: it ends with the process (or with a test's runtime).
pub async fn build(config: Config) -> anyhow::Result<Server> {
    config.validate().context("invalid configuration")?;
    let key = config.auth.key()?;
    let targets = crate::targets::targets(&config).context("invalid service configuration")?;
    let prometheus = Prometheus::new(&config.prometheus_url, config.prometheus_timeout)?;
    let config = Arc::new(config);
    let shared = Arc::new(Shared::new(targets, config.horizon_seconds));
    let worker = Worker {
        shared: Arc::clone(&shared),
        prometheus: prometheus.clone(),
        config: Arc::clone(&config),
    };
    tokio::spawn(worker.run());
    let readiness = Readiness::new().check("prometheus", move || {
        let prometheus = prometheus.clone();
        async move { prometheus.ready().await }
    });
    let router = app(
        AppState::new(shared, Arc::clone(&config)),
        readiness,
        &config.http,
        &key,
    );
    Server::bind(&config.http.host, config.port, router).await
}

/// The whole router, usable without a socket.
pub fn app(
    state: AppState,
    readiness: Readiness,
    http: &service_kit::HttpArgs,
    key: &service_kit::auth::AuthKey,
) -> Router {
    let routes = crate::routes::router()
        .with_state(state)
        .layer(key.layer())
        .merge(service_kit::openapi::route(&crate::routes::contract()));
    service_kit::http::finish(SERVICE, routes, readiness, http)
}
