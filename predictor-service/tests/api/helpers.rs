//! Starts the predictor on port 0 against a given Prometheus, and builds the backfill.
//!
//! Tests run in one process and share one metrics recorder, so each test forecasts services
//! of its own: their series cannot overwrite one another.

use std::time::{Duration, Instant};

use predictor_service::Config;
use serde_json::Value;

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GETs `path`, asserting 200, and returns the JSON body.
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        resp.json().await.unwrap()
    }

    /// Polls `path` until `done` holds for its JSON body; panics with the last body after
    /// `timeout`. Every answer on the way must be a 200.
    pub(crate) async fn wait_for(&self, path: &str, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let body = self.get_json(path).await;
            if done(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "condition not met on {path} in {timeout:?}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub(crate) async fn metrics(&self) -> String {
        let resp = self.get("/metrics").await;
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    }
}

/// Starts the predictor forecasting `services` from the Prometheus at `prometheus_url`,
/// refreshing every second over three hours of recent history (the backfill's length) and a
/// day of long history.
pub(crate) async fn spawn_app(prometheus_url: &str, services: &[&str]) -> TestApp {
    spawn_app_with(prometheus_url, services, None).await
}

/// [`spawn_app`] with a `--service-config` file.
pub(crate) async fn spawn_app_with(
    prometheus_url: &str,
    services: &[&str],
    service_config: Option<std::path::PathBuf>,
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        service_kit::telemetry::init(service_kit::telemetry::LogFormat::Text, "debug");
    }
    let config = Config {
        port: 0,
        prometheus_url: prometheus_url.to_owned(),
        prometheus_timeout: Duration::from_secs(2),
        services: services.iter().map(|s| (*s).to_owned()).collect(),
        recent_seconds: 3 * 3600,
        history_seconds: 86_400,
        refresh: Duration::from_secs(1),
        retrain: Duration::from_secs(300),
        service_config,
        auth: service_kit::auth::AuthArgs::with_secret(service_kit::testing::AUTH_SECRET),
        ..Config::default()
    };
    let server = predictor_service::build(config).await.expect("build predictor-service");
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    TestApp {
        base,
        client: reqwest::Client::new(),
    }
}

/// Demand of the backfilled service in cores at `t` seconds after the start of the ramp:
/// from 0.2 to 0.6 cores over three hours.
pub(crate) fn ramp_cores(t: f64) -> f64 {
    0.2 + 0.4 * t / RAMP_SECONDS
}

/// Length of the backfilled ramp.
pub(crate) const RAMP_SECONDS: f64 = 3.0 * 3600.0;

/// OpenMetrics text for `service`: two processes, each using half of [`ramp_cores`], scraped
/// every 15 seconds for three hours up to `end` (Unix seconds). The CPU counter is the
/// integral of the demand, so `rate()` gives the ramp back.
pub(crate) fn backfill(service: &str, end: i64) -> String {
    let start = end - RAMP_SECONDS as i64;
    let mut cpu = String::from("# TYPE process_cpu_seconds_total counter\n");
    let mut started = String::from("# TYPE process_start_time_seconds gauge\n");
    for instance in ["a", "b"] {
        for ts in (start..=end).step_by(15) {
            let t = (ts - start) as f64;
            // Integral of half the ramp: 0.5 * (0.2 t + 0.2 t^2 / RAMP).
            let counter = 0.5 * (0.2 * t + 0.2 * t * t / RAMP_SECONDS);
            let labels = format!("{{service=\"{service}\",instance=\"{instance}\"}}");
            cpu.push_str(&format!("process_cpu_seconds_total{labels} {counter} {ts}\n"));
            started.push_str(&format!("process_start_time_seconds{labels} {start} {ts}\n"));
        }
    }
    format!("{cpu}{started}# EOF\n")
}

/// A Prometheus config with nothing to scrape: the tests' data is all backfilled.
pub(crate) const PROMETHEUS_CONFIG: &str = "global:\n  scrape_interval: 15s\nscrape_configs: []\n";

/// A `--service-config` file whose demand query uses `irate` instead of the default `rate`.
///
/// The backfill must end in the past, so at query time the last minute holds no samples;
/// `rate` then extrapolates over a half-empty window and the last points sag towards half
/// the true rate, an artefact of stopped data that a live scrape never shows. `irate` takes
/// the last two samples and keeps the ramp's true end value.
pub(crate) fn irate_service_config(service: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("predictor-test-{}.json", std::process::id()));
    let text = serde_json::json!({
        service: {"demand_query": "sum(irate(process_cpu_seconds_total{service=\"{service}\"}[1m]))"}
    });
    std::fs::write(&path, text.to_string()).unwrap();
    path
}

/// OpenMetrics text for `service`: two processes sharing `demand(i)` cores over the `i`-th
/// 15-second interval of the `seconds` up to `end`. The counter sums the intervals, so an
/// `irate` demand query gives `demand` back exactly.
pub(crate) fn backfill_demand(service: &str, end: i64, seconds: i64, demand: impl Fn(usize) -> f64) -> String {
    let start = end - seconds;
    let mut cpu = String::from("# TYPE process_cpu_seconds_total counter\n");
    let mut started = String::from("# TYPE process_start_time_seconds gauge\n");
    for instance in ["a", "b"] {
        let mut counter = 0.0;
        for (i, ts) in (start..=end).step_by(15).enumerate() {
            if i > 0 {
                counter += 0.5 * demand(i) * 15.0;
            }
            let labels = format!("{{service=\"{service}\",instance=\"{instance}\"}}");
            cpu.push_str(&format!("process_cpu_seconds_total{labels} {counter} {ts}\n"));
            started.push_str(&format!("process_start_time_seconds{labels} {start} {ts}\n"));
        }
    }
    format!("{cpu}{started}")
}

/// Several backfills in one file (each from [`backfill_demand`]).
pub(crate) fn openmetrics(parts: &[String]) -> String {
    // A family may appear only once in OpenMetrics: merge the families of every part.
    let mut cpu = String::new();
    let mut started = String::new();
    for part in parts {
        for line in part.lines().filter(|l| !l.starts_with('#')) {
            let family = match line.starts_with("process_cpu_seconds_total") {
                true => &mut cpu,
                false => &mut started,
            };
            family.push_str(line);
            family.push('\n');
        }
    }
    format!("# TYPE process_cpu_seconds_total counter\n{cpu}# TYPE process_start_time_seconds gauge\n{started}# EOF\n")
}

/// Writes a `--service-config` file named after `name` and returns its path.
pub(crate) fn service_config_file(name: &str, config: &Value) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("predictor-test-{name}-{}.json", std::process::id()));
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// The value of the series `name{labels}` in a `/metrics` text, if exported.
pub(crate) fn metric_value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}
