//! Training and refreshing one series' forecast, synchronously (a service runs it in
//! `spawn_blocking`). Training is the full model selection; a refresh refits the chosen model
//! on the newest history and reuses the error bands measured at training, which is what keeps
//! a 15-second refresh cheap while the backtest runs only every retrain interval.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backtest::ModelScore;
use crate::interval::apply;
use crate::{Forecast, Model as _, ModelKind, Result, SelectConfig, Series, plausible, select};

/// The outcome of the last model selection for one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trained {
    /// The chosen model.
    pub model: ModelKind,
    /// Backtest scores of every candidate.
    pub scores: Vec<ModelScore>,
    /// True when no model could be backtested and the last value serves.
    pub fallback: bool,
    /// Why the fallback was taken.
    pub fallback_reason: Option<String>,
    /// Points of history the selection saw.
    pub samples: usize,
    /// When the selection ran.
    pub last_trained: DateTime<Utc>,
    /// How long it took, in seconds.
    pub training_seconds: f64,
    /// Horizon in steps the bands were measured for.
    #[serde(skip)]
    pub horizon_steps: usize,
    /// Per-step `(lower, upper)` offsets of the interval around the path.
    #[serde(skip)]
    pub bands: Vec<(f64, f64)>,
}

/// Selects a model on `history` (backtest of every candidate) and forecasts with it;
/// `select` itself passes over a model whose final forecast is implausible.
pub fn train(history: &Series, horizon_steps: usize, candidates: &[ModelKind]) -> Result<(Trained, Forecast)> {
    let started = Instant::now();
    let cfg = SelectConfig {
        candidates: candidates.to_vec(),
        ..SelectConfig::default()
    };
    let forecast = select(history, horizon_steps, &cfg)?;
    let bands = forecast
        .path
        .iter()
        .zip(forecast.lower.iter().zip(&forecast.upper))
        .map(|(p, (l, u))| (l - p, u - p))
        .collect();
    let trained = Trained {
        model: forecast.model,
        scores: forecast.scores.clone(),
        fallback: forecast.fallback,
        fallback_reason: forecast.fallback_reason.clone(),
        samples: forecast.samples,
        last_trained: Utc::now(),
        training_seconds: started.elapsed().as_secs_f64(),
        horizon_steps,
        bands,
    };
    Ok((trained, forecast))
}

/// Refits the trained model on the newest `history` and puts the trained bands around it.
pub fn refresh(trained: &Trained, history: &Series) -> Result<Forecast> {
    let path = trained.model.fit_predict(history, trained.horizon_steps)?;
    if !plausible(&path, history) {
        return Err(crate::ForecastError::Fit(format!(
            "{} diverged on the new history",
            trained.model
        )));
    }
    let (lower, upper) = apply(&path, &trained.bands);
    Ok(Forecast {
        model: trained.model,
        start: history.timestamp(history.len()),
        step_seconds: history.step_seconds(),
        path,
        lower,
        upper,
        level: SelectConfig::default().backtest.level,
        interval_samples: trained.bands.len(),
        scores: trained.scores.clone(),
        fallback: trained.fallback,
        fallback_reason: trained.fallback_reason.clone(),
        samples: history.len(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ramp(n: usize) -> Series {
        Series::new(0, 15, (0..n).map(|i| 0.2 + 0.001 * i as f64).collect()).unwrap()
    }

    #[test]
    fn refresh_reuses_bands_and_follows_new_data() {
        // Arrange
        let (trained, first) = train(&ramp(400), 20, &ModelKind::ALL).unwrap();
        // Act: ten more points arrive
        let next = refresh(&trained, &ramp(410)).unwrap();
        // Assert
        assert!(!trained.fallback);
        assert_eq!(next.model, trained.model);
        assert_eq!(next.path.len(), 20);
        assert!(next.path[0] > first.path[0], "{} vs {}", next.path[0], first.path[0]);
        let width = |f: &Forecast| f.upper[5] - f.lower[5];
        assert!((width(&next) - width(&first)).abs() < 1e-9);
    }
}
