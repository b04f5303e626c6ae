//! Flags and environment variables of `predictor-service serve`, with defaults that work on
//! one machine. Tests and the cost optimizer's tests build [`Config`] directly, starting from
//! [`Config::default`] (which reads no environment) and overriding the port and Prometheus URL.

use std::path::PathBuf;

use service_kit::HttpArgs;

use crate::duration::parse_duration;

/// Where the platform runs, which decides the default Prometheus queries per service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Setup {
    /// Processes started by `make up`: `process_cpu_seconds_total{service=...}`.
    Native,
    /// Pods: cAdvisor container CPU and kube-state-metrics replicas and requests.
    Kubernetes,
}

/// The services forecast by default: the shop and its queue worker.
pub const DEFAULT_SERVICES: &str = "user-service,catalog-service,order-service,order-worker";

/// Predictor-service configuration.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "predictor-service",
    version,
    about = "Forecasts CPU demand for the autoscaler"
)]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8004)]
    pub port: u16,
    /// Base URL of the Prometheus HTTP API the history is read from.
    #[arg(long, env = "PROMETHEUS_URL", default_value = "http://127.0.0.1:9090")]
    pub prometheus_url: String,
    /// How long one Prometheus call may take; a slow Prometheus must not stall a refresh.
    #[arg(long, env = "PROMETHEUS_TIMEOUT_MS", default_value_t = 5_000)]
    pub prometheus_timeout_ms: u64,
    /// Which default queries to use.
    #[arg(long, env = "PREDICTOR_SETUP", value_enum, default_value = "native")]
    pub setup: Setup,
    /// Services to forecast (comma-separated).
    #[arg(long, env = "PREDICTOR_SERVICES", value_delimiter = ',', default_value = DEFAULT_SERVICES)]
    pub services: Vec<String>,
    /// Forecast horizon (e.g. `5m`): pod start-up plus HPA sync plus scrape delay.
    #[arg(long = "horizon", env = "PREDICTOR_HORIZON", default_value = "5m", value_parser = parse_duration)]
    pub horizon_seconds: i64,
    /// How far back history is read (e.g. `6h`, `7d`).
    #[arg(long = "history", env = "PREDICTOR_HISTORY", default_value = "6h", value_parser = parse_duration)]
    pub history_seconds: i64,
    /// Query step; raised automatically so one query returns at most 11,000 points
    /// (Prometheus refuses more).
    #[arg(long = "step", env = "PREDICTOR_STEP", default_value = "15s", value_parser = parse_duration)]
    pub step_seconds: i64,
    /// Seconds between two refreshes of the predictions (query and forecast).
    #[arg(long, env = "PREDICTOR_REFRESH_SECONDS", default_value_t = 15)]
    pub refresh_seconds: u64,
    /// Seconds between two model selections (backtest of every candidate) per service.
    #[arg(long, env = "PREDICTOR_RETRAIN_SECONDS", default_value_t = 300)]
    pub retrain_seconds: u64,
    /// Kubernetes namespace of the services; when set, exported series carry `namespace` and
    /// `deployment` labels so Prometheus Adapter can attach them to the Deployment.
    #[arg(long, env = "KUBERNETES_NAMESPACE")]
    pub kubernetes_namespace: Option<String>,
    /// Optional JSON file overriding, per service, the demand query, the replicas query and
    /// the CPU request per pod (see the README).
    #[arg(long, env = "PREDICTOR_SERVICE_CONFIG")]
    pub service_config: Option<PathBuf>,
    /// Shared HTTP flags.
    #[command(flatten)]
    pub http: HttpArgs,
}

impl Default for Config {
    /// The documented defaults, without reading flags or the environment.
    fn default() -> Self {
        Self {
            port: 8004,
            prometheus_url: "http://127.0.0.1:9090".into(),
            prometheus_timeout_ms: 5_000,
            setup: Setup::Native,
            services: DEFAULT_SERVICES.split(',').map(str::to_owned).collect(),
            horizon_seconds: 300,
            history_seconds: 6 * 3600,
            step_seconds: 15,
            refresh_seconds: 15,
            retrain_seconds: 300,
            kubernetes_namespace: None,
            service_config: None,
            http: HttpArgs::default(),
        }
    }
}

/// Most points Prometheus returns for one range query.
pub const MAX_POINTS_PER_QUERY: i64 = 11_000;

impl Config {
    /// The query step actually used: the configured one, raised so that the history fits in
    /// one query.
    pub fn effective_step_seconds(&self) -> i64 {
        let needed = (self.history_seconds + MAX_POINTS_PER_QUERY - 1) / MAX_POINTS_PER_QUERY;
        self.step_seconds.max(needed).max(1)
    }

    /// Horizon in query steps (rounded up, at least one).
    pub fn horizon_steps(&self, horizon_seconds: i64) -> usize {
        let step = self.effective_step_seconds();
        usize::try_from((horizon_seconds + step - 1) / step).unwrap_or(1).max(1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn step_is_raised_so_a_week_fits_in_one_query() {
        let mut c = Config::default();
        assert_eq!(c.effective_step_seconds(), 15);
        c.history_seconds = 7 * 86_400;
        let step = c.effective_step_seconds();
        assert_eq!(step, 55);
        assert!(c.history_seconds / step <= MAX_POINTS_PER_QUERY);
    }

    #[test]
    fn horizon_rounds_up_to_whole_steps() {
        let c = Config::default();
        assert_eq!(c.horizon_steps(300), 20);
        assert_eq!(c.horizon_steps(301), 21);
        assert_eq!(c.horizon_steps(1), 1);
    }
}
