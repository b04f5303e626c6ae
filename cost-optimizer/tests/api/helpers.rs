//! Usage with known shapes in a real Prometheus, and the cost optimizer started on port 0.
//!
//! Two services share one Prometheus: `user-service` idles (flat CPU) and `catalog-service`
//! idles the same way until a burst that began ten minutes before the history ends and lasts
//! until now. Each runs two instances, so replicas are counted and usage summed as in
//! production. Two hours of history are backfilled with promtool (the newest sample a minute
//! old), and a small exporter in the test continues the same series live, scraped every
//! second, so that "now" has fresh samples as it would in production.

use std::time::{Duration, Instant};

use cost_optimizer::Config;
use serde_json::Value;
use service_kit::testing::{self, PrometheusServer};

/// CPU cores per instance while idle (two instances: 0.1 cores in all).
pub(crate) const IDLE_CORES: f64 = 0.05;
/// CPU cores per instance during the burst (two instances: 1.5 cores in all).
pub(crate) const BURST_CORES: f64 = 0.75;
/// The burst began this long before the backfilled history ends.
const BURST_BEFORE_END: f64 = 600.0;
/// Resident memory per instance of the idle service.
pub(crate) const IDLE_MEMORY_BYTES: f64 = 100.0 * 1024.0 * 1024.0;
/// Resident memory per instance of the bursting service.
pub(crate) const BURST_MEMORY_BYTES: f64 = 150.0 * 1024.0 * 1024.0;
/// History backfilled: longer than the usage window (1 h) and the predictor's history.
const HISTORY_SECONDS: f64 = 2.0 * 3600.0;
/// A 15 s scrape, as in production.
const STEP: f64 = 15.0;
/// The newest backfilled sample is this old: promtool writes history, not the head block.
const DATA_AGE_SECONDS: f64 = 60.0;
/// The `rate()` window the tests use. Between the backfilled history and the first live scrape
/// there is a minute without samples, which a `[1m]` window at "now" would nearly miss;
/// three minutes span the gap.
pub(crate) const RATE_WINDOW: Duration = Duration::from_secs(180);
/// The scrape job of the live exporter; the backfilled series carry the same label so that
/// history and live samples form one series per instance.
const JOB: &str = "usage";

const INSTANCES: [(&str, &str); 4] = [
    ("user-service", "a"),
    ("user-service", "b"),
    ("catalog-service", "a"),
    ("catalog-service", "b"),
];

/// The usage every series follows, as functions of unix time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shapes {
    /// When the CPU counters were 0.
    origin: f64,
    /// When the catalog's burst began.
    pub(crate) burst_start: f64,
}

impl Shapes {
    fn new(now: f64) -> Self {
        let end = now - DATA_AGE_SECONDS;
        Self {
            origin: end - HISTORY_SECONDS - 3600.0,
            burst_start: end - BURST_BEFORE_END,
        }
    }

    /// CPU seconds consumed by one instance up to `t`: a piecewise-linear counter.
    fn cpu_seconds(&self, service: &str, t: f64) -> f64 {
        let burst = if service == "catalog-service" {
            (BURST_CORES - IDLE_CORES) * (t - self.burst_start).max(0.0)
        } else {
            0.0
        };
        IDLE_CORES * (t - self.origin) + burst
    }

    fn memory_bytes(service: &str) -> f64 {
        if service == "catalog-service" {
            BURST_MEMORY_BYTES
        } else {
            IDLE_MEMORY_BYTES
        }
    }

    /// `sum(rate(cpu[RATE_WINDOW]))` at `t` for the service, by hand: the counter's average slope
    /// over the window, summed over both instances.
    pub(crate) fn total_rate(&self, service: &str, t: f64) -> f64 {
        let w = RATE_WINDOW.as_secs_f64();
        2.0 * (self.cpu_seconds(service, t) - self.cpu_seconds(service, t - w)) / w
    }

    /// The samples of every series at `t`, with timestamps when `at` is given (OpenMetrics).
    fn samples(&self, t: f64, at: Option<f64>) -> [String; 3] {
        let ts = at.map(|t| format!(" {t:.3}")).unwrap_or_default();
        let mut out = [String::new(), String::new(), String::new()];
        for (service, instance) in INSTANCES {
            let labels = format!("{{service=\"{service}\",instance=\"{instance}\",job=\"{JOB}\"}}");
            let cpu = self.cpu_seconds(service, t);
            let memory = Self::memory_bytes(service);
            let started = self.origin;
            out[0].push_str(&format!("process_cpu_seconds_total{labels} {cpu:.6}{ts}\n"));
            out[1].push_str(&format!("process_resident_memory_bytes{labels} {memory}{ts}\n"));
            out[2].push_str(&format!("process_start_time_seconds{labels} {started}{ts}\n"));
        }
        out
    }
}

const FAMILIES: [(&str, &str, &str); 3] = [
    ("process_cpu_seconds", "process_cpu_seconds_total", "counter"),
    (
        "process_resident_memory_bytes",
        "process_resident_memory_bytes",
        "gauge",
    ),
    ("process_start_time_seconds", "process_start_time_seconds", "gauge"),
];

/// OpenMetrics text of the history, grouped by family as the format requires.
fn backfill(shapes: &Shapes, now: f64) -> String {
    let end = now - DATA_AGE_SECONDS;
    let steps = (HISTORY_SECONDS / STEP) as usize;
    let times: Vec<f64> = (0..=steps).map(|i| end - (steps - i) as f64 * STEP).collect();
    let per_time: Vec<[String; 3]> = times.iter().map(|&t| shapes.samples(t, Some(t))).collect();
    let mut om = String::new();
    for (f, (family, _, kind)) in FAMILIES.iter().enumerate() {
        om.push_str(&format!("# TYPE {family} {kind}\n"));
        // Samples of one series must be in time order; interleaving series is fine.
        for lines in &per_time {
            om.push_str(&lines[f]);
        }
    }
    om.push_str("# EOF\n");
    om
}

/// The same series now, in the Prometheus text format, for the live scrape.
async fn exposition(axum::extract::State(shapes): axum::extract::State<Shapes>) -> String {
    let lines = shapes.samples(unix_now(), None);
    let mut text = String::new();
    for (f, (_, sample, kind)) in FAMILIES.iter().enumerate() {
        text.push_str(&format!("# TYPE {sample} {kind}\n"));
        text.push_str(&lines[f]);
    }
    text
}

/// Seconds since the epoch, with milliseconds.
pub(crate) fn unix_now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

/// A Prometheus with the history and the live exporter it scrapes.
pub(crate) struct Usage {
    /// The Prometheus (stopped on drop).
    pub(crate) prometheus: PrometheusServer,
    /// The shapes its data follows.
    pub(crate) shapes: Shapes,
}

/// Starts the exporter and Prometheus, and waits for the first live scrape.
pub(crate) async fn start_usage() -> Usage {
    let now = unix_now().floor();
    let shapes = Shapes::new(now);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let exporter = axum::Router::new()
        .route("/metrics", axum::routing::get(exposition))
        .with_state(shapes);
    tokio::spawn(async move { axum::serve(listener, exporter).await });
    let config = format!(
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: {JOB}\n    scrape_interval: 1s\n    \
         honor_labels: true\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n"
    );
    let history = backfill(&shapes, now);
    // Starting Prometheus blocks for seconds; keep the runtime free to serve the exporter.
    let prometheus = tokio::task::spawn_blocking(move || PrometheusServer::start(&config, Some(&history)))
        .await
        .unwrap();
    let url = format!("{}/api/v1/query?query=up{{job=\"{JOB}\"}}", prometheus.url());
    eventually(Duration::from_secs(15), "a live scrape", || {
        let url = url.clone();
        async move {
            let body: Value = reqwest::get(&url)
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            (body["data"]["result"][0]["value"][1] == "1")
                .then_some(())
                .ok_or_else(|| body.to_string())
        }
    })
    .await;
    Usage { prometheus, shapes }
}

/// The cost optimizer's configuration for tests: no background refresh (tests call the API).
pub(crate) fn config(prometheus_url: &str, predictor_url: &str) -> Config {
    Config {
        port: 0,
        prometheus_url: prometheus_url.to_owned(),
        predictor_url: predictor_url.to_owned(),
        rate_window: RATE_WINDOW,
        metrics_refresh: Duration::ZERO,
        ..Config::with_defaults()
    }
}

/// A running cost optimizer.
pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
}

impl TestApp {
    /// GET `path`; returns the status and the JSON body.
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// GET `path`, which must answer with a problem document.
    pub(crate) async fn problem(&self, path: &str) -> (u16, Value) {
        let resp = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        testing::problem_of(resp).await
    }

    /// The `/metrics` text.
    pub(crate) async fn metrics(&self) -> String {
        let resp = self.client.get(format!("{}/metrics", self.base)).send().await.unwrap();
        resp.text().await.unwrap()
    }
}

pub(crate) async fn spawn_app(config: Config) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        service_kit::telemetry::init(service_kit::telemetry::LogFormat::Text, "debug");
    }
    let server = cost_optimizer::build(config).await.expect("build cost-optimizer");
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    TestApp {
        base,
        client: reqwest::Client::new(),
    }
}

/// A URL where nothing listens.
pub(crate) fn closed_url() -> String {
    format!("http://127.0.0.1:{}", testing::free_port())
}

/// Polls `probe` until it returns `Some`, or panics after `within`.
pub(crate) async fn eventually<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + within;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => panic!("{what} not reached within {within:?}: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The value of `name{service="..."}` in a `/metrics` text.
#[track_caller]
pub(crate) fn gauge(metrics: &str, name: &str, service: &str) -> f64 {
    let prefix = format!("{name}{{service=\"{service}\"}} ");
    let line = metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in:\n{metrics}"));
    line.trim().parse().unwrap()
}

/// `|a - b| <= tol * |b|`, with a message.
#[track_caller]
pub(crate) fn assert_close(actual: f64, expected: f64, rel_tol: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= rel_tol * expected.abs().max(1e-12),
        "{what}: {actual} is not within {:.1} % of {expected}",
        rel_tol * 100.0
    );
}
