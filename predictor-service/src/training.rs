//! Forecasts at a horizon other than the configured one, for `GET /predict?horizon=`. The
//! training itself (model selection, refresh) is the `forecast` crate's.

use chrono::Utc;

pub use forecast::training::{Trained, refresh, train};

use crate::prediction::Prediction;
use crate::state::ServiceEntry;

/// The prediction of `entry` at another horizon than the configured one: the serving model
/// is backtested again on the stored history at that horizon (its bands depend on it).
/// CPU-bound: call it from `spawn_blocking`.
pub fn predict_at(entry: &ServiceEntry, horizon_seconds: i64, horizon_steps: usize) -> Prediction {
    let now = Utc::now();
    let service = entry.target.service.as_str();
    let (Some(history), Some(model)) = (&entry.history, entry.prediction.model) else {
        let reason = entry
            .prediction
            .fallback_reason
            .clone()
            .unwrap_or_else(|| "no history to forecast from".into());
        return Prediction::empty(service, horizon_seconds, reason, now);
    };
    let prediction = match train(history, horizon_steps, &[model]) {
        // The lead-time peak does not depend on the horizon: the HPA's value stays in view
        // (from the last good prediction: the staleness below is added once).
        Ok((_, f)) => Prediction::from_forecast(service, horizon_seconds, &f, entry.observed, now)
            .with_peak_of(entry.last_good.as_deref().unwrap_or(&entry.prediction)),
        Err(e) => Prediction::empty(service, horizon_seconds, format!("forecast failed: {e}"), now),
    };
    match &entry.stale_reason {
        Some(reason) => prediction.stale(reason),
        None => prediction,
    }
}
