//! Wiring: load the cost model, create the Prometheus and predictor clients, build the router,
//! start the metrics refresh and bind.

use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use service_kit::prometheus::{Prometheus, UsageQueries};
use service_kit::{HttpArgs, Readiness, Server};

use crate::config::Config;
use crate::predictor::PredictorClient;
use crate::pricing::CostModel;
use crate::usage::UsageSource;

/// The `service` label on this service's own HTTP and process metrics.
pub const SERVICE: &str = "cost-optimizer";

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// Prices, tiers and policies (file and flag overrides applied).
    pub model: Arc<CostModel>,
    /// Usage from Prometheus.
    pub usage: Arc<UsageSource>,
    /// Forecasts from the predictor.
    pub predictor: Arc<PredictorClient>,
}

impl AppState {
    /// Builds the state from the configuration; fails on an invalid pricing file or price.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let mut model = CostModel::load(config.pricing_file.as_deref()).context("cannot load the cost model")?;
        model.pricing = model
            .pricing
            .with_overrides(config.cpu_core_hour, config.memory_gib_hour)
            .context("invalid price override")?;
        anyhow::ensure!(!config.usage_window.is_zero(), "--usage-window must be positive");
        let prometheus = Prometheus::new(&config.prometheus_url, config.prometheus_timeout)?;
        let queries = UsageQueries::new(config.setup, &config.kubernetes_namespace, config.rate_window);
        let usage = UsageSource::new(prometheus, queries, config.usage_window, config.usage_step);
        Ok(Self {
            model: Arc::new(model),
            usage: Arc::new(usage),
            predictor: Arc::new(PredictorClient::new(&config.predictor_url, config.predictor_timeout)?),
        })
    }
}

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
    crate::gauges::spawn_refresh(state.clone(), config.metrics_refresh);
    let router = app(state, readiness, &config.http);
    Server::bind(&config.http.host, config.port, router).await
}

/// The whole router, usable without a socket.
pub fn app(state: AppState, readiness: Readiness, http: &HttpArgs) -> Router {
    service_kit::http::finish(SERVICE, crate::routes::router().with_state(state), readiness, http)
}
