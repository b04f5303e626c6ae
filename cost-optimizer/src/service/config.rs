//! Flags and environment variables of the HTTP service, with defaults that work on one machine
//! (Prometheus on 9090, the predictor on 8004, this service on 8005).

use std::path::PathBuf;
use std::time::Duration;

use service_kit::HttpArgs;
pub use service_kit::prometheus::Setup;

/// Cost-optimizer HTTP service configuration.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "cost-optimizer", version, about = "Cost analysis and scaling decisions")]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8005)]
    pub port: u16,
    /// Prometheus HTTP API, the source of usage and replica counts.
    #[arg(long, env = "PROMETHEUS_URL", default_value = "http://127.0.0.1:9090")]
    pub prometheus_url: String,
    /// Predictor service, the source of demand forecasts.
    #[arg(long, env = "PREDICTOR_URL", default_value = "http://127.0.0.1:8004")]
    pub predictor_url: String,
    /// Which series describe usage: native processes or Kubernetes pods.
    #[arg(long, env = service_kit::prometheus::SETUP_ENV, value_enum, default_value = "native")]
    pub setup: Setup,
    /// Namespace of the workloads (Kubernetes setup only).
    #[arg(long, env = "COST_KUBERNETES_NAMESPACE", default_value = "predictive-platform")]
    pub kubernetes_namespace: String,
    /// Optional pricing file (JSON: pricing, tiers, services).
    #[arg(long, env = "COST_PRICING_FILE")]
    pub pricing_file: Option<PathBuf>,
    /// Override the price of a CPU core-hour (USD).
    #[arg(long, env = "COST_CPU_CORE_HOUR")]
    pub cpu_core_hour: Option<f64>,
    /// Override the price of a GiB-hour of memory (USD).
    #[arg(long, env = "COST_MEMORY_GIB_HOUR")]
    pub memory_gib_hour: Option<f64>,
    /// Window over which mean and p95 usage are computed (e.g. 1h, 30m).
    #[arg(long, env = "COST_USAGE_WINDOW", default_value = "1h", value_parser = parse_duration)]
    pub usage_window: Duration,
    /// Resolution of the usage window (the query_range step).
    #[arg(long, env = "COST_USAGE_STEP", default_value = "1m", value_parser = parse_duration)]
    pub usage_step: Duration,
    /// `rate()` window for CPU; at least four scrape intervals, so 1m for a 15 s scrape.
    #[arg(long, env = "COST_RATE_WINDOW", default_value = "1m", value_parser = parse_duration)]
    pub rate_window: Duration,
    /// Longest wait for one Prometheus query.
    #[arg(long, env = "COST_PROMETHEUS_TIMEOUT", default_value = "2s", value_parser = parse_duration)]
    pub prometheus_timeout: Duration,
    /// Longest wait for the predictor; past it the decision falls back to current usage.
    #[arg(long, env = "COST_PREDICTOR_TIMEOUT", default_value = "2s", value_parser = parse_duration)]
    pub predictor_timeout: Duration,
    /// How often the `/metrics` gauges are recomputed for every service (0s: only on requests).
    #[arg(long, env = "COST_METRICS_REFRESH", default_value = "30s", value_parser = parse_duration)]
    pub metrics_refresh: Duration,
    /// Shared HTTP flags.
    #[command(flatten)]
    pub http: HttpArgs,
}

impl Config {
    /// The defaults, as `cost-optimizer` with no flags would use them (tests start from here).
    pub fn with_defaults() -> Self {
        Self {
            port: 8005,
            prometheus_url: "http://127.0.0.1:9090".into(),
            predictor_url: "http://127.0.0.1:8004".into(),
            setup: Setup::Native,
            kubernetes_namespace: "predictive-platform".into(),
            pricing_file: None,
            cpu_core_hour: None,
            memory_gib_hour: None,
            usage_window: Duration::from_secs(3600),
            usage_step: Duration::from_secs(60),
            rate_window: Duration::from_secs(60),
            prometheus_timeout: Duration::from_secs(2),
            predictor_timeout: Duration::from_secs(2),
            metrics_refresh: Duration::from_secs(30),
            http: HttpArgs::default(),
        }
    }
}

pub use service_kit::duration::{parse as parse_duration, seconds as parse_seconds};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn clap_defaults_match_with_defaults() {
        // PORT may be set in a CI environment, so the port is not compared.
        let parsed = Config::try_parse_from(["cost-optimizer"]).unwrap();
        let d = Config::with_defaults();
        assert_eq!(parsed.usage_window, d.usage_window);
        assert_eq!(parsed.rate_window, d.rate_window);
        assert_eq!(parsed.setup, d.setup);
        assert_eq!(parsed.prometheus_timeout, d.prometheus_timeout);
        assert_eq!(parsed.metrics_refresh, d.metrics_refresh);
        assert_eq!(parsed.http.request_timeout, d.http.request_timeout);
    }
}
