//! The refresh loop: every refresh interval, per service, read the demand history (the
//! recent window at the query step and the long one at the season step, see `peak`),
//! replicas and request from Prometheus, then, in `spawn_blocking` so that fits never hold up
//! the request threads: run the lead-time peak forecaster over the stitched history (what the
//! HPA's series export), and refit the serving bucket model (cheap) or re-run the model
//! selection (at the retrain interval, on request, or while the last one was a fallback) on
//! the recent window. Services refresh concurrently, so one slow query delays only its own
//! service.
//!
//! On failure the last prediction keeps being served with `fallback: true` and the reason;
//! a service that never had data gets an empty prediction saying why.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use forecast::{ModelKind, Series};
use service_kit::prometheus::{self, PromError, Prometheus, sum_series};

use crate::capacity::Observed;
use crate::config::Config;
use crate::metrics;
use crate::peak::{PeakPrediction, peak_config, stitch};
use crate::prediction::Prediction;
use crate::state::Shared;
use crate::targets::{CpuRequest, Target};
use crate::training::{self, Trained};

/// One refresh's demand history: the recent window at the query step, and the long history
/// before it at the season step (empty when `--history` does not reach past `--recent`).
struct History {
    points: Vec<(i64, f64)>,
    coarse: Vec<(i64, f64)>,
}

/// What the loop needs; cheap to clone into tasks.
#[derive(Clone)]
pub struct Worker {
    /// Shared state it writes.
    pub shared: Arc<Shared>,
    /// Prometheus client.
    pub prometheus: Prometheus,
    /// The configuration (intervals, horizon, history).
    pub config: Arc<Config>,
}

impl Worker {
    /// Runs forever: refresh all, then sleep until the next interval or a retrain request.
    pub async fn run(self) {
        let interval = self.config.refresh.max(Duration::from_secs(1));
        loop {
            self.refresh_all().await;
            tokio::select! {
                () = tokio::time::sleep(interval) => {},
                () = self.shared.wake.notified() => {},
            }
        }
    }

    /// Refreshes every service concurrently and waits for all of them.
    pub async fn refresh_all(&self) {
        let targets: Vec<Target> = self.shared.read().values().map(|e| e.target.clone()).collect();
        let mut tasks = tokio::task::JoinSet::new();
        for target in targets {
            let worker = self.clone();
            tasks.spawn(async move { worker.refresh_one(&target).await });
        }
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error.message = %e, "refresh task failed");
            }
        }
    }

    async fn refresh_one(&self, target: &Target) {
        match self.observe(target).await {
            Ok((history, observed)) => {
                self.shared.mark_prometheus_answered();
                self.forecast(target, history, observed).await;
            }
            Err(e) => self.mark_failed(target, &e),
        }
    }

    /// Reads the demand history (recent and long), the replicas and the request.
    async fn observe(&self, target: &Target) -> Result<(History, Observed), PromError> {
        let end = Utc::now().timestamp();
        let recent_start = end - self.config.recent_seconds;
        let step = self.config.effective_step_seconds();
        let points = self.demand(target, recent_start, end, step).await?;
        let coarse = self.long_history(target, recent_start).await;
        let replicas = self.instant(&target.replicas_query).await?;
        let request_cores = match &target.cpu_request {
            CpuRequest::Cores(c) => Some(*c),
            CpuRequest::Query(q) => self.instant(q).await?,
        };
        let observed = Observed {
            current_cores: points.last().map(|p| p.1),
            replicas,
            request_cores,
        };
        Ok((History { points, coarse }, observed))
    }

    /// The long history before `recent_start`, at the season step. Its failure (a week is
    /// the heaviest query) costs the seasonal seed, not the refresh: the forecaster still
    /// serves from the recent window.
    async fn long_history(&self, target: &Target, recent_start: i64) -> Vec<(i64, f64)> {
        let start = recent_start - (self.config.history_seconds - self.config.recent_seconds);
        if start >= recent_start {
            return Vec::new();
        }
        let step = self.config.effective_season_step_seconds();
        match self.demand(target, start, recent_start, step).await {
            Ok(points) => points,
            Err(e) => {
                tracing::warn!(service = %target.service, error.message = %e, "long history query failed; no seasonal seed this refresh");
                Vec::new()
            }
        }
    }

    /// The demand from `start` to `end` every `step` seconds, all series summed (queries
    /// aggregate already; summing is the only reading that keeps "total demand" true when an
    /// override does not), non-finite samples dropped.
    async fn demand(&self, target: &Target, start: i64, end: i64, step: i64) -> Result<Vec<(i64, f64)>, PromError> {
        let series = self
            .prometheus
            .range(&target.demand_query, start as f64, end as f64, step as f64)
            .await?;
        Ok(sum_series(&series)
            .into_iter()
            .map(|(t, v)| (t.round() as i64, v))
            .collect())
    }

    /// An instant query at Prometheus's current time, summed over series; `None` when it
    /// matches nothing.
    async fn instant(&self, query: &str) -> Result<Option<f64>, PromError> {
        let series: Vec<prometheus::Series> = self.prometheus.instant(query, None).await?;
        Ok(sum_series(&series).last().map(|p| p.1))
    }

    async fn forecast(&self, target: &Target, history: History, observed: Observed) {
        let History { points, coarse } = history;
        let horizon = self.config.horizon_seconds;
        let service = target.service.as_str();
        let step = self.config.effective_step_seconds();
        let series = match Series::resample(&points, Some(step)) {
            Ok(r) => Arc::new(r.series),
            Err(e) => {
                let days = self.config.recent_seconds as f64 / 86_400.0;
                let reason = format!("no data: the demand query matched nothing in the last {days:.2} days ({e})");
                self.store(
                    target,
                    Prediction::empty(service, horizon, reason, Utc::now()),
                    None,
                    None,
                    observed,
                );
                return;
            }
        };
        let previous = self.shared.entry(service);
        let trained = previous.as_ref().and_then(|e| e.trained.clone());
        let due = previous.as_ref().is_none_or(|e| e.retrain_requested) || self.retrain_due(trained.as_ref());
        let h = self.config.horizon_steps(horizon);
        let history = Arc::clone(&series);
        let peak_config = peak_config(&self.config, target.quantile);
        let lead_seconds = self.config.lead_seconds;
        let outcome = tokio::task::spawn_blocking(move || {
            let values = stitch(&coarse, history.start(), history.values(), history.step_seconds());
            let seasonal = values.len().saturating_sub(history.len());
            let peak = PeakPrediction::compute(&values, seasonal, peak_config, lead_seconds, observed);
            // A refit that fails or diverges on the new data triggers a fresh selection.
            if let Some(t) = trained.filter(|_| !due)
                && let Ok(f) = training::refresh(&t, &history)
            {
                return Ok((None, f, peak));
            }
            training::train(&history, h, &ModelKind::ALL).map(|(t, f)| (Some(t), f, peak))
        })
        .await;
        match outcome {
            Ok(Ok((new_model, forecast, peak))) => {
                if let Some(t) = &new_model {
                    metrics::record_training(target, t);
                    tracing::info!(service, model = %t.model, fallback = t.fallback, seconds = t.training_seconds, "model selected");
                }
                let prediction =
                    Prediction::from_forecast(service, horizon, &forecast, observed, Utc::now()).with_peak(peak);
                self.store(target, prediction, new_model, Some(series), observed);
            }
            Ok(Err(e)) => self.mark_failed(target, &format!("forecast failed: {e}")),
            Err(e) => self.mark_failed(target, &format!("forecast task failed: {e}")),
        }
    }

    /// Due when never trained, when the last selection was a fallback (more history may
    /// have arrived), or when the retrain interval has passed.
    fn retrain_due(&self, trained: Option<&Trained>) -> bool {
        trained.is_none_or(|t| {
            // A clock that went back makes the age negative: not due.
            let age = (Utc::now() - t.last_trained).to_std().unwrap_or(Duration::ZERO);
            t.fallback || age >= self.config.retrain
        })
    }

    fn store(
        &self,
        target: &Target,
        prediction: Prediction,
        trained: Option<Trained>,
        history: Option<Arc<Series>>,
        observed: Observed,
    ) {
        let mut entries = self.shared.write();
        let Some(entry) = entries.get_mut(&target.service) else {
            return;
        };
        metrics::publish(target, &prediction, &entry.prediction);
        let prediction = Arc::new(prediction);
        entry.last_good = Some(Arc::clone(&prediction));
        entry.prediction = prediction;
        if let Some(t) = trained {
            entry.trained = Some(t);
            entry.retrain_requested = false;
        }
        entry.history = history;
        entry.observed = observed;
        entry.stale_reason = None;
    }

    /// Keeps the last good values, flagged, or says that nothing is known and why.
    fn mark_failed(&self, target: &Target, error: &dyn std::fmt::Display) {
        let reason = match self.shared.prometheus_answered() {
            true => format!("refresh failed, serving the last values: {error}"),
            false => format!("prometheus has not answered since start-up: {error}"),
        };
        tracing::warn!(service = %target.service, error.message = %error, "refresh failed");
        let mut entries = self.shared.write();
        let Some(entry) = entries.get_mut(&target.service) else {
            return;
        };
        // Built from the last good prediction, so reasons do not pile up refresh after refresh.
        let prediction = match &entry.last_good {
            Some(p) => p.as_ref().clone().stale(&reason),
            None => Prediction::empty(&target.service, self.config.horizon_seconds, reason.clone(), Utc::now()),
        };
        metrics::publish(target, &prediction, &entry.prediction);
        entry.prediction = Arc::new(prediction);
        entry.stale_reason = Some(reason);
    }
}
