//! Turning a [`Recorder`] into output: the live progress line, the final table, and the JSON
//! summary. All of it is plain formatting over numbers, so it is tested without a run.

use crate::stats::{EndpointStats, Recorder, RunCounters};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use uuid::Uuid;

/// Figures for one endpoint (or the total) in the summary. Latencies are milliseconds from the due time.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointSummary {
    /// Route template such as `GET /products/{id}`, or `total`.
    pub endpoint: String,
    /// Requests completed (successfully or not).
    pub count: u64,
    /// Requests that ended in error.
    pub errors: u64,
    /// Errors by status code or failure kind.
    pub errors_by_status: BTreeMap<String, u64>,
    /// Completed requests per second of run time.
    pub rate: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest latency.
    pub max_ms: f64,
}

impl EndpointSummary {
    fn new(endpoint: &str, stats: &EndpointStats, elapsed_secs: f64) -> Self {
        let h = &stats.latency;
        let ms = |micros: u64| micros as f64 / 1000.0;
        let empty = h.is_empty();
        let q = |quantile: f64| if empty { 0.0 } else { ms(h.value_at_quantile(quantile)) };
        Self {
            endpoint: endpoint.to_owned(),
            count: stats.count(),
            errors: stats.error_count(),
            errors_by_status: stats.errors.clone(),
            rate: if elapsed_secs > 0.0 {
                stats.count() as f64 / elapsed_secs
            } else {
                0.0
            },
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: if empty { 0.0 } else { ms(h.max()) },
        }
    }
}

/// Orders the run placed, for the end-to-end stock check.
#[derive(Debug, Clone, Serialize)]
pub struct OrderSummary {
    /// Orders answered with 201.
    pub created: u64,
    /// Their ids.
    pub created_ids: Vec<Uuid>,
    /// Quantity ordered per product id over created orders.
    pub quantity_by_product: BTreeMap<Uuid, u64>,
    /// Order requests with an unknown fate (timeout, transport failure, 5xx).
    pub uncertain: u64,
    /// Quantity per product id over uncertain order requests.
    pub uncertain_quantity_by_product: BTreeMap<Uuid, u64>,
}

/// The whole result of a run; `--json` writes it as is.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The traffic shape, described.
    pub shape: String,
    /// The scenario, described.
    pub scenario: String,
    /// Seconds the run actually lasted (shorter than planned after Ctrl-C).
    pub elapsed_secs: f64,
    /// Whether Ctrl-C cut the run short.
    pub interrupted: bool,
    /// Actions due, held back by the in-flight cap, never started and abandoned.
    pub actions: ActionCounts,
    /// Per endpoint, sorted by route.
    pub endpoints: Vec<EndpointSummary>,
    /// All endpoints together.
    pub total: EndpointSummary,
    /// Errors over completed requests (0 when there were none).
    pub error_rate: f64,
    /// Orders placed.
    pub orders: OrderSummary,
}

/// [`RunCounters`] in serialisable form.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ActionCounts {
    /// Actions whose due time came during the run.
    pub scheduled: u64,
    /// Actions that started late because the in-flight cap was full.
    pub held_back: u64,
    /// Actions never started because the run stopped first.
    pub not_started: u64,
    /// Actions still in flight when the drain grace period ended.
    pub abandoned: u64,
}

impl From<RunCounters> for ActionCounts {
    fn from(c: RunCounters) -> Self {
        Self {
            scheduled: c.scheduled,
            held_back: c.held_back,
            not_started: c.not_started,
            abandoned: c.abandoned,
        }
    }
}

impl Summary {
    /// Builds the summary of a run that lasted `elapsed_secs`.
    pub fn new(recorder: &Recorder, shape: String, scenario: String, elapsed_secs: f64, interrupted: bool) -> Self {
        let endpoints: Vec<EndpointSummary> = recorder
            .endpoints
            .iter()
            .map(|(name, stats)| EndpointSummary::new(name, stats, elapsed_secs))
            .collect();
        let total = EndpointSummary::new("total", &recorder.total, elapsed_secs);
        let error_rate = if total.count > 0 {
            total.errors as f64 / total.count as f64
        } else {
            0.0
        };
        let orders = &recorder.orders;
        Self {
            shape,
            scenario,
            elapsed_secs,
            interrupted,
            actions: recorder.run.into(),
            endpoints,
            total,
            error_rate,
            orders: OrderSummary {
                created: orders.created.len() as u64,
                created_ids: orders.created.clone(),
                quantity_by_product: orders.quantity_by_product.clone(),
                uncertain: orders.uncertain,
                uncertain_quantity_by_product: orders.uncertain_quantity_by_product.clone(),
            },
        }
    }

    /// The final table: one row per endpoint, then the total, then the run counters.
    pub fn table(&self) -> String {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::NOTHING).set_header([
            "endpoint",
            "count",
            "errors",
            "rate/s",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "errors by status",
        ]);
        for (i, column) in table.column_iter_mut().enumerate() {
            column.set_padding((0, 2));
            if (1..=8).contains(&i) {
                column.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
        for row in self.endpoints.iter().chain(std::iter::once(&self.total)) {
            table.add_row([
                row.endpoint.clone(),
                row.count.to_string(),
                row.errors.to_string(),
                format!("{:.1}", row.rate),
                format_ms(row.p50_ms),
                format_ms(row.p90_ms),
                format_ms(row.p99_ms),
                format_ms(row.p999_ms),
                format_ms(row.max_ms),
                format_errors(&row.errors_by_status),
            ]);
        }
        let mut out = format!("{}\n", table.trim_fmt());
        let a = &self.actions;
        let _ = writeln!(
            out,
            "{:.1}s{}: {} actions due, {} held back by the in-flight cap, {} not started, {} abandoned; \
             error rate {:.2}%; orders created {} (uncertain {})",
            self.elapsed_secs,
            if self.interrupted { " (interrupted)" } else { "" },
            a.scheduled,
            a.held_back,
            a.not_started,
            a.abandoned,
            self.error_rate * 100.0,
            self.orders.created,
            self.orders.uncertain,
        );
        out
    }
}

/// One progress line: elapsed, target and achieved rate, latency so far, errors.
pub fn progress_line(elapsed: f64, target_rate: f64, achieved_rate: f64, recorder: &Recorder) -> String {
    let h = &recorder.total.latency;
    let (p50, p99) = if h.is_empty() {
        (0.0, 0.0)
    } else {
        (h.value_at_quantile(0.5) as f64, h.value_at_quantile(0.99) as f64)
    };
    let mut line = format!(
        "{elapsed:6.1}s  target {target_rate:7.1}/s  achieved {achieved_rate:7.1}/s  p50 {}  p99 {}  requests {}  errors {}",
        format_ms(p50 / 1000.0),
        format_ms(p99 / 1000.0),
        recorder.total.count(),
        recorder.total.error_count(),
    );
    if recorder.run.held_back > 0 {
        let _ = write!(line, "  held back {}", recorder.run.held_back);
    }
    line
}

/// A latency for humans: three significant figures, in ms below ten seconds, then in s.
pub fn format_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1}s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0}ms")
    } else if ms >= 10.0 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.2}ms")
    }
}

/// `409:3 timeout:1`, or `-` when there were none.
pub fn format_errors(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        return "-".to_owned();
    }
    errors
        .iter()
        .map(|(label, n)| format!("{label}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Outcome;
    use std::time::Duration;

    #[test]
    fn formats_latencies() {
        assert_eq!(format_ms(0.4567), "0.46ms");
        assert_eq!(format_ms(12.345), "12.3ms");
        assert_eq!(format_ms(512.4), "512ms");
        assert_eq!(format_ms(12_500.0), "12.5s");
    }

    #[test]
    fn formats_errors() {
        let mut errors = BTreeMap::new();
        assert_eq!(format_errors(&errors), "-");
        errors.insert("409".to_owned(), 3);
        errors.insert("timeout".to_owned(), 1);
        assert_eq!(format_errors(&errors), "409:3 timeout:1");
    }

    fn sample() -> Summary {
        let mut r = Recorder::new().unwrap();
        for i in 1..=100u64 {
            r.record("GET /products/{id}", Outcome::Status(200), Duration::from_millis(i));
        }
        r.record("POST /orders", Outcome::Status(409), Duration::from_millis(5));
        r.run.scheduled = 101;
        Summary::new(&r, "steady 10/s".into(), "browse".into(), 10.0, false)
    }

    #[test]
    fn summary_has_percentiles_rates_and_error_rate() {
        let s = sample();
        let get = &s.endpoints[0];
        assert_eq!(get.endpoint, "GET /products/{id}");
        assert_eq!(get.count, 100);
        assert!((get.rate - 10.0).abs() < 1e-9);
        assert!((get.p50_ms - 50.0).abs() < 0.1, "{}", get.p50_ms);
        assert!((get.p99_ms - 99.0).abs() < 0.1, "{}", get.p99_ms);
        assert!((get.max_ms - 100.0).abs() < 0.1, "{}", get.max_ms);
        assert_eq!(s.total.count, 101);
        assert!((s.error_rate - 1.0 / 101.0).abs() < 1e-12);
    }

    #[test]
    fn table_lists_every_endpoint_and_the_total() {
        let table = sample().table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert!(lines[0].starts_with("endpoint"));
        assert!(
            lines[1].starts_with("GET /products/{id}") && lines[1].ends_with(" -"),
            "{table}"
        );
        assert!(
            lines[2].starts_with("POST /orders") && lines[2].ends_with("409:1"),
            "{table}"
        );
        assert!(lines[3].starts_with("total"));
        assert!(lines[4].contains("101 actions due"));
    }

    #[test]
    fn summary_serialises() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["total"]["count"], 101);
        assert_eq!(json["orders"]["created"], 0);
    }
}
