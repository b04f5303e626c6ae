//! The state requests read: [`AppState`] (what handlers get, built by `startup`) and, per
//! service, the latest prediction, the trained model and the history it came from. The
//! refresh loop is the only writer; handlers take a read lock for the time of an `Arc`
//! clone, so `/predict` costs a map lookup and never waits on a fit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::Notify;

use forecast::Series;
use forecast::training::Trained;

use crate::capacity::Observed;
use crate::config::Config;
use crate::limits::{FitSlots, RetrainLimiter};
use crate::prediction::Prediction;
use crate::targets::Target;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// Predictions and models, written by the refresh loop.
    pub shared: Arc<Shared>,
    /// The configuration (horizon and step, for `?horizon=`).
    pub config: Arc<Config>,
    /// The fits requests may run at once.
    pub fits: FitSlots,
    /// When each service may be retrained again.
    pub retrains: Arc<RetrainLimiter>,
}

impl AppState {
    /// The state over `shared`, with the limits `config` sets.
    pub fn new(shared: Arc<Shared>, config: Arc<Config>) -> Self {
        Self {
            fits: FitSlots::new(config.max_concurrent_fits),
            retrains: Arc::new(RetrainLimiter::new(config.retrain_min_interval)),
            shared,
            config,
        }
    }
}

/// What is known about one forecast service.
#[derive(Debug, Clone)]
pub struct ServiceEntry {
    /// Its queries and labels.
    pub target: Target,
    /// The answer of `/predict/{service}` at the configured horizon.
    pub prediction: Arc<Prediction>,
    /// The last prediction computed from a successful refresh.
    pub last_good: Option<Arc<Prediction>>,
    /// The last model selection, if one ran.
    pub trained: Option<Trained>,
    /// The history of the last successful refresh (for other horizons).
    pub history: Option<Arc<Series>>,
    /// Replicas and request at the last successful refresh.
    pub observed: Observed,
    /// Why the last refresh failed, while it keeps failing.
    pub stale_reason: Option<String>,
    /// Set by `POST /models/{service}/retrain`, cleared by the next training.
    pub retrain_requested: bool,
}

/// Shared between the refresh loop and the handlers.
#[derive(Debug)]
pub struct Shared {
    entries: RwLock<BTreeMap<String, ServiceEntry>>,
    prometheus_answered: AtomicBool,
    /// Wakes the refresh loop early (a retrain request).
    pub wake: Notify,
}

impl Shared {
    /// State for `targets`, each with an empty "first refresh pending" prediction.
    pub fn new(targets: Vec<Target>, horizon_seconds: i64) -> Self {
        let now = chrono::Utc::now();
        let entries = targets
            .into_iter()
            .map(|target| {
                let reason = "no forecast yet: the first refresh has not finished".to_owned();
                let prediction = Arc::new(Prediction::empty(&target.service, horizon_seconds, reason, now));
                let entry = ServiceEntry {
                    target,
                    prediction,
                    last_good: None,
                    trained: None,
                    history: None,
                    observed: Observed::default(),
                    stale_reason: None,
                    retrain_requested: false,
                };
                (entry.target.service.clone(), entry)
            })
            .collect();
        Self {
            entries: RwLock::new(entries),
            prometheus_answered: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    /// Read access. A writer that panicked leaves whole values behind (each is replaced in
    /// one assignment), so a poisoned lock is still safe to read.
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, ServiceEntry>> {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write access (the refresh loop and retrain requests).
    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, ServiceEntry>> {
        self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One service's entry, cloned out of the lock.
    pub fn entry(&self, service: &str) -> Option<ServiceEntry> {
        self.read().get(service).cloned()
    }

    /// One service's current prediction.
    pub fn prediction(&self, service: &str) -> Option<Arc<Prediction>> {
        self.read().get(service).map(|e| Arc::clone(&e.prediction))
    }

    /// Whether Prometheus has answered at least once since start-up.
    pub fn prometheus_answered(&self) -> bool {
        self.prometheus_answered.load(Ordering::Relaxed)
    }

    /// Records that Prometheus answered.
    pub fn mark_prometheus_answered(&self) {
        self.prometheus_answered.store(true, Ordering::Relaxed);
    }

    /// Whether `service` is among those forecast.
    pub fn knows(&self, service: &str) -> bool {
        self.read().contains_key(service)
    }

    /// Asks for a retrain of `service` at the next refresh; false for an unknown service.
    pub fn request_retrain(&self, service: &str) -> bool {
        let found = match self.write().get_mut(service) {
            Some(e) => {
                e.retrain_requested = true;
                true
            }
            None => false,
        };
        if found {
            self.wake.notify_one();
        }
        found
    }
}
