//! Wiring: build the state (cost model and clients, see `state`), the router and the
//! readiness check, start the metrics refresh and bind.

use axum::Router;
use service_kit::{HttpArgs, Readiness, Server};

use crate::service::config::Config;
use crate::service::state::AppState;

/// The `service` label on this service's own HTTP and process metrics.
pub const SERVICE: &str = "cost-optimizer";

/// Loads the cost model, starts the metrics refresh and binds the listener.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let state = AppState::from_config(&config)?;
    let prometheus = state.usage.prometheus().clone();
    // Prometheus only: without it cost analysis cannot answer at all, while a missing predictor
    // only makes decisions fall back, which is not a reason to take the pod out of the Service.
    let readiness = Readiness::new().check("prometheus", move || {
        let prometheus = prometheus.clone();
        async move { prometheus.ready().await }
    });
    crate::service::refresh::spawn_refresh(state.clone(), config.metrics_refresh);
    let router = app(state, readiness, &config.http);
    Server::bind(&config.http.host, config.port, router).await
}

/// The whole router, usable without a socket.
pub fn app(state: AppState, readiness: Readiness, http: &HttpArgs) -> Router {
    service_kit::http::finish(
        SERVICE,
        crate::service::routes::router()
            .with_state(state)
            .merge(service_kit::openapi::route(&crate::service::routes::contract())),
        readiness,
        http,
    )
}
