//! What the handlers, the optimizer and the gauge refresh share: the cost model and the two
//! clients, built from the configuration. It sits below `startup` and the routes, so that
//! nothing imports `startup` back.

use std::sync::Arc;

use anyhow::Context as _;
use service_kit::prometheus::{Prometheus, UsageQueries};

use crate::pricing::CostModel;
use crate::service::config::Config;
use crate::service::predictor_client::PredictorClient;
use crate::service::usage::UsageSource;

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
