//! Flags and environment variables of `predictor-service serve`, with defaults that work on
//! one machine. Tests and the cost optimizer's tests build [`Config`] directly, starting from
//! [`Config::default`] (which reads no environment) and overriding the port and Prometheus URL.

use std::path::PathBuf;
use std::time::Duration;

use forecast::peak::PeakConfig;
use service_kit::HttpArgs;
pub use service_kit::prometheus::Setup;

use service_kit::duration::whole_seconds as parse_duration;

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
    #[arg(
        long,
        env = "PROMETHEUS_TIMEOUT",
        default_value = "5s",
        value_parser = service_kit::duration::positive
    )]
    pub prometheus_timeout: Duration,
    /// Which default queries to use.
    #[arg(long, env = service_kit::prometheus::SETUP_ENV, value_enum, default_value = "native")]
    pub setup: Setup,
    /// Services to forecast (comma-separated).
    #[arg(long, env = "PREDICTOR_SERVICES", value_delimiter = ',', default_value = DEFAULT_SERVICES)]
    pub services: Vec<String>,
    /// Horizon of the bucket models behind `GET /predict` (`predicted_cores`) and the cost
    /// optimizer (e.g. `5m`); the HPA's series use `--lead` instead.
    #[arg(long = "horizon", env = "PREDICTOR_HORIZON", default_value = "5m", value_parser = parse_duration)]
    pub horizon_seconds: i64,
    /// Lead time the exported peak is taken over: what a scale-up takes to help. Default
    /// 150s = pod start-up 60 s + rate window 60 s + scrape 15 s + HPA sync 15 s.
    #[arg(long = "lead", env = "PREDICTOR_LEAD", default_value = "150s", value_parser = parse_duration)]
    pub lead_seconds: i64,
    /// Quantile of the exported peak (0 < q < 1): the realised peak over the lead time
    /// exceeds `predicted_cpu_cores` about (1 - q) of the time. Overridable per service.
    #[arg(long, env = "PREDICTOR_QUANTILE", default_value_t = 0.9)]
    pub quantile: f64,
    /// Other settings of the peak forecaster as JSON (fields of `forecast::peak::PeakConfig`,
    /// as `cost-optimizer simulate --peak-config` takes them, e.g. `{"trend_steps": 4}`), so
    /// the service can run what the simulator evaluated. `--lead` and the quantile override
    /// theirs, and the seasonal buckets follow `--season-step`.
    #[arg(long, env = "PREDICTOR_PEAK_CONFIG", value_parser = PeakConfig::from_json)]
    pub peak_config: Option<PeakConfig>,
    /// Recent history, read at `--step` (e.g. `24h`): what the bucket models fit and what
    /// calibrates the peak forecaster. A day flushes the forecaster's calibration ring (a
    /// day of errors) of the coarse history's errors.
    #[arg(long = "recent", env = "PREDICTOR_RECENT", default_value = "24h", value_parser = parse_duration)]
    pub recent_seconds: i64,
    /// Long history, read at `--season-step` (e.g. `7d`): it seeds the peak forecaster's
    /// daily profile (a week of days); only its part before `--recent` is used.
    #[arg(long = "history", env = "PREDICTOR_HISTORY", default_value = "7d", value_parser = parse_duration)]
    pub history_seconds: i64,
    /// Step of the long history query (a multiple of `--step`; raised so that the query
    /// returns at most 11,000 points).
    #[arg(long = "season-step", env = "PREDICTOR_SEASON_STEP", default_value = "5m", value_parser = parse_duration)]
    pub season_step_seconds: i64,
    /// Query step of the recent history; raised automatically so one query returns at most
    /// 11,000 points (Prometheus refuses more).
    #[arg(long = "step", env = "PREDICTOR_STEP", default_value = "15s", value_parser = parse_duration)]
    pub step_seconds: i64,
    /// Time between two refreshes of the predictions (query and forecast); at least 1s.
    #[arg(
        long,
        env = "PREDICTOR_REFRESH",
        default_value = "15s",
        value_parser = service_kit::duration::positive
    )]
    pub refresh: Duration,
    /// Time between two model selections (backtest of every candidate) per service; 0s
    /// selects at every refresh.
    #[arg(
        long,
        env = "PREDICTOR_RETRAIN",
        default_value = "5m",
        value_parser = service_kit::duration::parse
    )]
    pub retrain: Duration,
    /// Fits requests may run at once (`POST /forecast`, `GET /predict?horizon=`); one more
    /// is answered 503 with `Retry-After`. Default: the number of CPUs.
    #[arg(long, env = "PREDICTOR_MAX_CONCURRENT_FITS", default_value_t = default_fit_slots())]
    pub max_concurrent_fits: usize,
    /// Shortest time between two `POST /models/{service}/retrain` of one service; a sooner
    /// one is answered 429 with `Retry-After`. 0s lets every request through.
    #[arg(
        long,
        env = "PREDICTOR_RETRAIN_MIN_INTERVAL",
        default_value = "60s",
        value_parser = service_kit::duration::parse
    )]
    pub retrain_min_interval: Duration,
    /// Kubernetes namespace of the services; when set, exported series carry `namespace` and
    /// `deployment` labels so Prometheus Adapter can attach them to the Deployment.
    #[arg(long, env = "KUBERNETES_NAMESPACE")]
    pub kubernetes_namespace: Option<String>,
    /// Optional JSON file overriding, per service, the demand query, the replicas query,
    /// the CPU request per pod and the quantile (see the README).
    #[arg(long, env = "PREDICTOR_SERVICE_CONFIG")]
    pub service_config: Option<PathBuf>,
    /// Shared HTTP flags.
    #[command(flatten)]
    pub http: HttpArgs,
    /// The token secret: retraining needs an admin token.
    #[command(flatten)]
    pub auth: service_kit::auth::AuthArgs,
}

impl Default for Config {
    /// The documented defaults, without reading flags or the environment.
    fn default() -> Self {
        Self {
            port: 8004,
            prometheus_url: "http://127.0.0.1:9090".into(),
            prometheus_timeout: Duration::from_secs(5),
            setup: Setup::Native,
            services: DEFAULT_SERVICES.split(',').map(str::to_owned).collect(),
            horizon_seconds: 300,
            lead_seconds: 150,
            quantile: 0.9,
            peak_config: None,
            recent_seconds: 24 * 3600,
            history_seconds: 7 * 86_400,
            season_step_seconds: 300,
            step_seconds: 15,
            refresh: Duration::from_secs(15),
            retrain: Duration::from_secs(300),
            max_concurrent_fits: default_fit_slots(),
            retrain_min_interval: Duration::from_secs(60),
            kubernetes_namespace: None,
            service_config: None,
            http: HttpArgs::default(),
            auth: service_kit::auth::AuthArgs::default(),
        }
    }
}

/// One fit slot per CPU: a fit is CPU-bound, so more at once only makes each slower.
pub fn default_fit_slots() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Most points Prometheus returns for one range query.
pub const MAX_POINTS_PER_QUERY: i64 = 11_000;

/// Steps needed for `seconds` to fit in one query.
fn step_to_fit(seconds: i64) -> i64 {
    (seconds + MAX_POINTS_PER_QUERY - 1) / MAX_POINTS_PER_QUERY
}

impl Config {
    /// The recent query's step: the configured one, raised so that `--recent` fits in one
    /// query.
    pub fn effective_step_seconds(&self) -> i64 {
        self.step_seconds.max(step_to_fit(self.recent_seconds)).max(1)
    }

    /// The long query's step: `--season-step`, raised so that `--history` fits in one query,
    /// and rounded up to a whole number of recent steps (each long value is held for it).
    pub fn effective_season_step_seconds(&self) -> i64 {
        let step = self.effective_step_seconds();
        let wanted = self
            .season_step_seconds
            .max(step_to_fit(self.history_seconds))
            .max(step);
        (wanted + step - 1) / step * step
    }

    /// The lead time in recent steps (rounded up, at least one).
    pub fn lead_steps(&self) -> usize {
        self.horizon_steps(self.lead_seconds)
    }

    /// Refuses settings that would make the exported peak meaningless; run at start-up.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_quantile(self.quantile).map_err(|e| anyhow::anyhow!("--quantile: {e}"))?;
        if self.max_concurrent_fits == 0 {
            anyhow::bail!("--max-concurrent-fits must be at least 1");
        }
        let step = self.effective_step_seconds();
        if self.step_seconds <= 0 || self.season_step_seconds <= 0 {
            anyhow::bail!("--step and --season-step must be positive");
        }
        if self.lead_seconds < step {
            anyhow::bail!(
                "--lead ({}s) must be at least the query step ({step}s): the peak is taken over whole steps",
                self.lead_seconds
            );
        }
        if self.recent_seconds < step || self.history_seconds < 0 {
            anyhow::bail!("--recent must be at least one step and --history not negative");
        }
        if self.horizon_seconds > self.recent_seconds {
            anyhow::bail!("--horizon must not exceed --recent (the bucket models fit the recent history)");
        }
        Ok(())
    }

    /// Horizon in query steps (rounded up, at least one).
    pub fn horizon_steps(&self, horizon_seconds: i64) -> usize {
        let step = self.effective_step_seconds();
        usize::try_from((horizon_seconds + step - 1) / step).unwrap_or(1).max(1)
    }
}

/// A quantile the peak forecaster can serve: strictly between 0 and 1.
pub fn check_quantile(q: f64) -> Result<(), String> {
    match q > 0.0 && q < 1.0 {
        true => Ok(()),
        false => Err(format!("the quantile must be strictly between 0 and 1, got {q}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn step_is_raised_so_each_query_fits() {
        let mut c = Config::default();
        assert_eq!(c.effective_step_seconds(), 15);
        assert_eq!(c.effective_season_step_seconds(), 300);
        assert_eq!(c.lead_steps(), 10);
        c.recent_seconds = 7 * 86_400;
        let step = c.effective_step_seconds();
        assert_eq!(step, 55);
        assert!(c.recent_seconds / step <= MAX_POINTS_PER_QUERY);
        // A season step below the query step is raised to it, and to whole query steps.
        c.season_step_seconds = 20;
        assert_eq!(c.effective_season_step_seconds(), 55);
        c.recent_seconds = 3600;
        c.history_seconds = 365 * 86_400;
        let season = c.effective_season_step_seconds();
        assert!(
            c.history_seconds / season <= MAX_POINTS_PER_QUERY && season % 15 == 0,
            "{season}"
        );
    }

    #[test]
    fn quantile_and_lead_are_validated() {
        assert!(Config::default().validate().is_ok());
        for q in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            let c = Config {
                quantile: q,
                ..Config::default()
            };
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("--quantile") && e.contains("between 0 and 1"), "{e}");
        }
        let c = Config {
            lead_seconds: 10,
            ..Config::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("--lead (10s) must be at least the query step (15s)"), "{e}");
        let c = Config {
            horizon_seconds: 2 * 86_400,
            ..Config::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn peak_config_is_parsed_and_typos_refused() {
        let c = PeakConfig::from_json(r#"{"trend_steps": 6}"#).unwrap();
        assert_eq!((c.trend_steps, c.level_steps), (6, PeakConfig::default().level_steps));
        let e = PeakConfig::from_json(r#"{"trend": 6}"#).unwrap_err();
        assert!(e.contains("not a peak forecaster configuration"), "{e}");
    }

    #[test]
    fn clap_defaults_match_default() {
        use clap::Parser as _;
        let parsed = Config::try_parse_from(["predictor-service"]).unwrap();
        let d = Config::default();
        assert_eq!(
            (parsed.prometheus_timeout, parsed.refresh, parsed.retrain),
            (d.prometheus_timeout, d.refresh, d.retrain)
        );
        assert_eq!(
            (parsed.lead_seconds, parsed.step_seconds),
            (d.lead_seconds, d.step_seconds)
        );
        assert_eq!(parsed.http.request_timeout, d.http.request_timeout);
        assert_eq!(
            (parsed.max_concurrent_fits, parsed.retrain_min_interval),
            (d.max_concurrent_fits, d.retrain_min_interval)
        );
    }

    #[test]
    fn limits_are_read_from_flags_and_refused_when_meaningless() {
        use clap::Parser as _;
        let c = Config::try_parse_from([
            "predictor-service",
            "--max-concurrent-fits",
            "3",
            "--retrain-min-interval",
            "2m",
        ])
        .unwrap();
        assert_eq!(c.max_concurrent_fits, 3);
        assert_eq!(c.retrain_min_interval, Duration::from_secs(120));
        assert!(c.validate().is_ok());
        for bad in [["--max-concurrent-fits", "-1"], ["--retrain-min-interval", "60"]] {
            assert!(
                Config::try_parse_from(["predictor-service", bad[0], bad[1]]).is_err(),
                "{bad:?}"
            );
        }
        let none = Config {
            max_concurrent_fits: 0,
            ..Config::default()
        };
        assert!(
            none.validate()
                .unwrap_err()
                .to_string()
                .contains("--max-concurrent-fits")
        );
    }

    #[test]
    fn horizon_rounds_up_to_whole_steps() {
        let c = Config::default();
        assert_eq!(c.horizon_steps(300), 20);
        assert_eq!(c.horizon_steps(301), 21);
        assert_eq!(c.horizon_steps(1), 1);
    }
}
