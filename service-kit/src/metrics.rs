//! The Prometheus recorder, the `/metrics` handler, the HTTP metrics middleware and
//! process CPU and memory gauges read from `/proc`.
//!
//! Every series carries a `service` label set explicitly (not as a global label),
//! because tests run several services in one process and share one recorder.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: fine below 100 ms where the shop lives, coarse above.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once and returns its handle. Every histogram
/// whose name ends in `_seconds` is rendered with buckets, so Prometheus can aggregate
/// it across pods (summaries cannot be).
pub fn recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only when another recorder is installed; ours still renders, empty.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// Renders the Prometheus text format, process metrics included.
pub async fn render(State(service): State<&'static str>) -> Response {
    let handle = recorder();
    handle.run_upkeep();
    let mut body = handle.render();
    body.push_str(&process_metrics_text(service));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Middleware: counts requests and records their latency by method, matched route
/// and status. Unmatched paths are labelled `unmatched` so ids never become labels.
pub async fn track_http(State(service): State<&'static str>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    let key = SeriesKey {
        service,
        method,
        route,
        status: response.status().as_u16(),
    };
    let elapsed = start.elapsed().as_secs_f64();
    HTTP_SERIES.with_borrow_mut(|series| {
        let (requests, duration) = series.entry(key).or_insert_with_key(SeriesKey::register);
        requests.increment(1);
        duration.record(elapsed);
    });
    response
}

/// The labels of one HTTP series. Looking a series up in the recorder builds its
/// labels as strings and hashes them; keeping the handles per thread makes that a
/// one-time cost per series and thread (a few hundred at most: routes x statuses).
struct SeriesKey {
    service: &'static str,
    method: axum::http::Method,
    route: Option<MatchedPath>,
    status: u16,
}

impl SeriesKey {
    fn route(&self) -> &str {
        self.route.as_ref().map_or("unmatched", MatchedPath::as_str)
    }

    fn register(&self) -> (metrics::Counter, metrics::Histogram) {
        let labels = [
            ("service", self.service.to_owned()),
            ("method", self.method.to_string()),
            ("route", self.route().to_owned()),
            ("status", self.status.to_string()),
        ];
        (
            metrics::counter!("http_requests_total", &labels),
            metrics::histogram!("http_request_duration_seconds", &labels),
        )
    }
}

// By hand: `MatchedPath` has neither `Eq` nor `Hash`; its text is what matters.
impl PartialEq for SeriesKey {
    fn eq(&self, other: &Self) -> bool {
        self.service == other.service
            && self.method == other.method
            && self.status == other.status
            && self.route() == other.route()
    }
}

impl Eq for SeriesKey {}

impl std::hash::Hash for SeriesKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.service, &self.method, self.route(), self.status).hash(state);
    }
}

thread_local! {
    static HTTP_SERIES: std::cell::RefCell<HashMap<SeriesKey, (metrics::Counter, metrics::Histogram)>> =
        std::cell::RefCell::new(HashMap::new());
}

/// Linux reports CPU times in /proc in USER_HZ, which the kernel ABI fixes at 100.
const USER_HZ: f64 = 100.0;

/// CPU, memory, threads and open files of this process from `/proc`, in the
/// Prometheus text format. Written by hand rather than through the recorder because
/// `metrics` counters are integers and CPU seconds need fractions for `rate()`.
/// Missing files (not Linux) leave series out rather than wrong.
pub fn process_metrics_text(service: &str) -> String {
    let mut out = String::new();
    let mut put = |name: &str, kind: &str, help: &str, value: f64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{service=\"{service}\"}} {value}\n"
        ));
    };
    if let Some(stat) = ProcStat::read() {
        let cpu = (stat.utime + stat.stime) as f64 / USER_HZ;
        put(
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            cpu,
        );
        put(
            "process_threads",
            "gauge",
            "Number of OS threads in the process.",
            stat.threads as f64,
        );
        if let Some(boot) = boot_time() {
            let start = boot + stat.start_ticks as f64 / USER_HZ;
            put(
                "process_start_time_seconds",
                "gauge",
                "Start time of the process since unix epoch in seconds.",
                start,
            );
        }
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(kb) = status_kb(&status, "VmRSS:") {
            put(
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
                kb * 1024.0,
            );
        }
        if let Some(kb) = status_kb(&status, "VmSize:") {
            put(
                "process_virtual_memory_bytes",
                "gauge",
                "Virtual memory size in bytes.",
                kb * 1024.0,
            );
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        put(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            dir.count() as f64,
        );
    }
    out
}

struct ProcStat {
    utime: u64,
    stime: u64,
    threads: u64,
    start_ticks: u64,
}

impl ProcStat {
    fn read() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    /// The command name may contain spaces and parentheses, so fields are counted
    /// from the last `)`; after it, field 3 (state) comes first.
    fn parse(stat: &str) -> Option<Self> {
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        Some(Self {
            utime: field(14)?,
            stime: field(15)?,
            threads: field(20)?,
            start_ticks: field(22)?,
        })
    }
}

fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
}

fn status_kb(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_fields_are_counted_after_the_command_name() {
        let line = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 12345 1000 200";
        let s = ProcStat::parse(line).unwrap_or_else(|| panic!("parse failed"));
        assert_eq!((s.utime, s.stime, s.threads, s.start_ticks), (250, 50, 7, 12345));
    }

    #[test]
    fn process_text_has_cpu_counter_with_service_label() {
        let text = process_metrics_text("demo");
        assert!(text.contains("# TYPE process_cpu_seconds_total counter"), "{text}");
        assert!(
            text.contains("process_resident_memory_bytes{service=\"demo\"}"),
            "{text}"
        );
    }

    #[test]
    fn status_values_are_read_in_kib() {
        assert_eq!(status_kb("Name: x\nVmRSS:\t  2048 kB\n", "VmRSS:"), Some(2048.0));
    }
}
