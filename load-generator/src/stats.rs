//! What a run measured: per-endpoint HDR latency histograms and outcome counts, run counters, and
//! the ledger of orders the run created.
//!
//! One [`Recorder`] sits behind a mutex shared by all request tasks. For the shop scenarios a
//! record is a few hundred nanoseconds, far below one request's cost, so the lock is not the
//! bottleneck. The fast `--url` path records into a [`LocalStats`] per connection task instead and
//! merges it into the recorder once a second, so it takes no shared lock per request.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use uuid::Uuid;

/// Largest latency the histograms hold, in microseconds (one hour); longer ones are clamped.
const MAX_MICROS: u64 = 3_600_000_000;

/// How one HTTP request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response with this status.
    Status(u16),
    /// No response within the request timeout.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// Any other transport failure (reset, malformed response, body read error).
    Transport,
}

impl Outcome {
    /// Whether this counts as a failure: any non-2xx status or transport failure.
    pub fn is_error(self) -> bool {
        !matches!(self, Outcome::Status(200..=299))
    }

    /// Label used in the error breakdown: the status code or the failure kind.
    pub fn label(self) -> String {
        match self {
            Outcome::Status(code) => code.to_string(),
            Outcome::Timeout => "timeout".to_owned(),
            Outcome::Connect => "connect".to_owned(),
            Outcome::Transport => "transport".to_owned(),
        }
    }

    /// Classifies a reqwest error.
    pub fn from_reqwest(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            Outcome::Timeout
        } else if error.is_connect() {
            Outcome::Connect
        } else {
            Outcome::Transport
        }
    }
}

/// Latencies and outcomes for one endpoint (or for all of them).
#[derive(Debug, Clone)]
pub struct EndpointStats {
    /// Latencies in microseconds, measured from when each request was due.
    pub latency: Histogram<u64>,
    /// Requests that ended with an error, by [`Outcome::label`].
    pub errors: BTreeMap<String, u64>,
}

impl EndpointStats {
    /// Requests recorded.
    pub fn count(&self) -> u64 {
        self.latency.len()
    }

    /// Requests that ended in error.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn record(&mut self, outcome: Outcome, latency: Duration) {
        self.latency.saturating_record(micros(latency));
        if outcome.is_error() {
            *self.errors.entry(outcome.label()).or_default() += 1;
        }
    }

    fn merge(&mut self, local: &LocalStats) {
        // Both histograms come from the same template, so adding cannot run out of range.
        if let Err(error) = self.latency.add(&local.latency) {
            tracing::warn!(error.message = %error, "cannot merge latencies");
        }
        for (outcome, count) in &local.errors {
            *self.errors.entry(outcome.label()).or_default() += count;
        }
    }
}

fn micros(latency: Duration) -> u64 {
    u64::try_from(latency.as_micros())
        .unwrap_or(MAX_MICROS)
        .clamp(1, MAX_MICROS)
}

/// One task's measurements since its last merge: recording takes no lock and, once every kind of
/// outcome has been seen, allocates nothing.
#[derive(Debug, Clone)]
pub struct LocalStats {
    latency: Histogram<u64>,
    /// Errors by outcome; a handful of kinds at most, so a list beats a map.
    errors: Vec<(Outcome, u64)>,
    /// Actions held back because every connection was busy at their due time.
    pub held_back: u64,
}

impl LocalStats {
    /// Records one request.
    pub fn record(&mut self, outcome: Outcome, latency: Duration) {
        self.latency.saturating_record(micros(latency));
        if outcome.is_error() {
            match self.errors.iter_mut().find(|(o, _)| *o == outcome) {
                Some((_, count)) => *count += 1,
                None => self.errors.push((outcome, 1)),
            }
        }
    }

    /// Requests recorded since the last merge.
    pub fn count(&self) -> u64 {
        self.latency.len()
    }
}

/// Counters of the open-loop driver.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunCounters {
    /// Actions whose due time came during the run.
    pub scheduled: u64,
    /// Actions that found the in-flight cap full when due, and so started late (their latency
    /// still counts from the due time).
    pub held_back: u64,
    /// Actions due but never started because the run was stopped while they waited for the cap.
    pub not_started: u64,
    /// Actions still in flight when the drain grace period ran out; their outcomes are unknown.
    pub abandoned: u64,
}

/// Orders this run placed, so an end-to-end check can match them against stock.
#[derive(Debug, Clone, Default)]
pub struct OrderLedger {
    /// Ids of orders answered with 201.
    pub created: Vec<Uuid>,
    /// Quantity ordered per product, over created orders.
    pub quantity_by_product: BTreeMap<Uuid, u64>,
    /// Order requests whose fate is unknown (timeout, transport failure, 5xx): they may or may not
    /// exist, so their quantities are kept apart.
    pub uncertain: u64,
    /// Quantity per product over uncertain order requests.
    pub uncertain_quantity_by_product: BTreeMap<Uuid, u64>,
}

/// Everything a run measures.
#[derive(Debug, Clone)]
pub struct Recorder {
    template: Histogram<u64>,
    /// Per endpoint route template, e.g. `GET /products/{id}`.
    pub endpoints: BTreeMap<String, EndpointStats>,
    /// All requests together.
    pub total: EndpointStats,
    /// Driver counters.
    pub run: RunCounters,
    /// Orders placed.
    pub orders: OrderLedger,
}

impl Recorder {
    /// An empty recorder; histograms keep three significant digits from 1 µs to one hour.
    pub fn new() -> anyhow::Result<Self> {
        let template = Histogram::new_with_bounds(1, MAX_MICROS, 3)?;
        let total = EndpointStats {
            latency: template.clone(),
            errors: BTreeMap::new(),
        };
        Ok(Self {
            template,
            endpoints: BTreeMap::new(),
            total,
            run: RunCounters::default(),
            orders: OrderLedger::default(),
        })
    }

    /// Empty per-task stats shaped like this recorder's histograms.
    pub fn local(&self) -> LocalStats {
        LocalStats {
            latency: self.template.clone(),
            errors: Vec::new(),
            held_back: 0,
        }
    }

    /// Adds `local` (requests to `endpoint`) to the totals and empties it, keeping its allocations.
    pub fn merge(&mut self, endpoint: &str, local: &mut LocalStats) {
        self.with_endpoint(endpoint, |stats| stats.merge(local));
        self.total.merge(local);
        self.run.held_back += local.held_back;
        local.latency.reset();
        local.errors.clear();
        local.held_back = 0;
    }

    /// Records one request to `endpoint`.
    pub fn record(&mut self, endpoint: &str, outcome: Outcome, latency: Duration) {
        self.with_endpoint(endpoint, |stats| stats.record(outcome, latency));
        self.total.record(outcome, latency);
    }

    fn with_endpoint(&mut self, endpoint: &str, f: impl FnOnce(&mut EndpointStats)) {
        // Looked up first so the common case does not allocate the key.
        let stats = match self.endpoints.get_mut(endpoint) {
            Some(stats) => stats,
            None => self
                .endpoints
                .entry(endpoint.to_owned())
                .or_insert_with(|| EndpointStats {
                    latency: self.template.clone(),
                    errors: BTreeMap::new(),
                }),
        };
        f(stats);
    }

    /// Records the answer to an order request carrying `items` (product id, quantity).
    pub fn record_order(&mut self, outcome: Outcome, order_id: Option<Uuid>, items: &[(Uuid, u32)]) {
        let uncertain = matches!(outcome, Outcome::Timeout | Outcome::Transport | Outcome::Status(500..));
        let created = matches!(outcome, Outcome::Status(200..=299));
        let ledger = &mut self.orders;
        let target = if created {
            if let Some(id) = order_id {
                ledger.created.push(id);
            }
            &mut ledger.quantity_by_product
        } else if uncertain {
            ledger.uncertain += 1;
            &mut ledger.uncertain_quantity_by_product
        } else {
            return;
        };
        for (product, quantity) in items {
            *target.entry(*product).or_default() += u64::from(*quantity);
        }
    }
}

/// The recorder as shared between tasks.
pub type SharedRecorder = Arc<Mutex<Recorder>>;

/// Locks the recorder. A panic while holding the lock cannot leave a histogram half-written in a
/// way that matters for a report, so a poisoned lock is used as is.
pub fn lock(recorder: &SharedRecorder) -> MutexGuard<'_, Recorder> {
    recorder.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_per_endpoint_and_total() {
        let mut r = Recorder::new().unwrap();
        r.record("GET /a", Outcome::Status(200), Duration::from_millis(10));
        r.record("GET /a", Outcome::Status(503), Duration::from_millis(30));
        r.record("GET /b", Outcome::Timeout, Duration::from_secs(2));
        assert_eq!(r.endpoints["GET /a"].count(), 2);
        assert_eq!(r.endpoints["GET /a"].errors["503"], 1);
        assert_eq!(r.endpoints["GET /b"].errors["timeout"], 1);
        assert_eq!(r.total.count(), 3);
        assert_eq!(r.total.error_count(), 2);
        assert!(r.total.latency.max() >= 1_999_000);
    }

    #[test]
    fn merging_local_stats_adds_them_up_and_empties_them() {
        // Arrange: two tasks' stats and one request recorded directly.
        let mut r = Recorder::new().unwrap();
        r.record("GET /", Outcome::Status(200), Duration::from_millis(1));
        let (mut a, mut b) = (r.local(), r.local());
        a.record(Outcome::Status(200), Duration::from_millis(2));
        a.record(Outcome::Status(500), Duration::from_millis(3));
        a.held_back = 1;
        b.record(Outcome::Status(500), Duration::from_millis(40));
        b.record(Outcome::Transport, Duration::from_millis(50));
        b.held_back = 2;

        // Act
        r.merge("GET /", &mut a);
        r.merge("GET /", &mut b);

        // Assert
        let get = &r.endpoints["GET /"];
        assert_eq!(get.count(), 5);
        assert_eq!(get.errors["500"], 2);
        assert_eq!(get.errors["transport"], 1);
        assert_eq!(r.total.count(), 5);
        assert_eq!(r.total.error_count(), 3);
        assert!(get.latency.max() >= 49_900 && get.latency.min() <= 1_001);
        assert_eq!(r.run.held_back, 3);
        assert_eq!((a.count(), b.count(), a.held_back), (0, 0, 0));
        r.merge("GET /", &mut a);
        assert_eq!(r.total.count(), 5);
    }

    #[test]
    fn order_ledger_separates_created_from_uncertain() {
        let mut r = Recorder::new().unwrap();
        let (p, q) = (Uuid::new_v4(), Uuid::new_v4());
        let id = Uuid::new_v4();
        r.record_order(Outcome::Status(201), Some(id), &[(p, 2), (q, 1)]);
        r.record_order(Outcome::Status(201), Some(Uuid::new_v4()), &[(p, 3)]);
        r.record_order(Outcome::Status(409), None, &[(p, 7)]);
        r.record_order(Outcome::Timeout, None, &[(q, 4)]);
        assert_eq!(r.orders.created.len(), 2);
        assert_eq!(r.orders.created[0], id);
        assert_eq!(r.orders.quantity_by_product[&p], 5);
        assert_eq!(r.orders.quantity_by_product[&q], 1);
        assert_eq!(r.orders.uncertain, 1);
        assert_eq!(r.orders.uncertain_quantity_by_product[&q], 4);
    }

    #[test]
    fn outcome_labels_and_errors() {
        assert!(!Outcome::Status(201).is_error());
        assert!(Outcome::Status(404).is_error());
        assert!(Outcome::Connect.is_error());
        assert_eq!(Outcome::Status(409).label(), "409");
    }
}
