//! The answer of `GET /predict/{service}` and the arithmetic behind it: a forecast of total
//! demand in cores becomes percent of the CPU requested per pod, averaged over the current
//! replicas (the unit of the HPA's CPU target). Pure functions, no I/O.
//!
//! The top-level numbers are the bucket models' forecast at `--horizon` (what the cost
//! optimizer reads as mean and upper bound, and what `?horizon=` recomputes); `peak` is the
//! lead-time peak at the service's quantile, the value the HPA's series carry.

use chrono::{DateTime, Utc};
use serde::Serialize;

use forecast::{Forecast, ModelKind};

use crate::capacity::{Observed, capacity_unknown, utilization};
use crate::peak::PeakPrediction;

/// The largest value of a path (the peak over the horizon), `None` for an empty path. Demand
/// cannot be negative, so neither can the peak (a falling trend or a wide lower bound may
/// dip below zero).
pub fn peak(path: &[f64]) -> Option<f64> {
    path.iter()
        .copied()
        .filter(|v| v.is_finite())
        .reduce(f64::max)
        .map(|v| v.max(0.0))
}

/// One service's prediction; the fields are the public JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Prediction {
    /// The forecast service.
    pub service: String,
    /// Horizon the peak is taken over.
    pub horizon_seconds: i64,
    /// Peak forecast demand over the horizon, in percent of (replicas x request per pod).
    pub predicted_utilization: Option<f64>,
    /// The same for the peak of the interval's lower bound.
    pub lower_utilization: Option<f64>,
    /// The same for the peak of the interval's upper bound.
    pub upper_utilization: Option<f64>,
    /// Peak forecast demand over the horizon, in cores.
    pub predicted_cores: Option<f64>,
    /// Peak of the interval's upper bound, in cores.
    pub predicted_cores_upper: Option<f64>,
    /// Latest observed demand, in cores.
    pub current_cores: Option<f64>,
    /// Latest observed demand in percent of (replicas x request per pod).
    pub current_utilization: Option<f64>,
    /// Current replicas.
    pub replicas: Option<u32>,
    /// CPU request per pod, in cores.
    pub cpu_request_cores: Option<f64>,
    /// The model that produced the forecast.
    pub model: Option<ModelKind>,
    /// The model's backtest MASE at this horizon (none for a fallback).
    pub backtest_mase: Option<f64>,
    /// True when the numbers are not a backtested model's forecast on fresh data.
    pub fallback: bool,
    /// Why `fallback` is set.
    pub fallback_reason: Option<String>,
    /// Points of history the forecast used.
    pub samples: usize,
    /// The lead-time peak the HPA's series export (`predicted_cpu_cores`,
    /// `predicted_cpu_utilization`); none before any history was read.
    pub peak: Option<PeakPrediction>,
    /// When the prediction was computed.
    pub generated_at: DateTime<Utc>,
}

impl Prediction {
    /// A prediction with no numbers: nothing is known yet, and `reason` says why.
    pub fn empty(service: &str, horizon_seconds: i64, reason: String, now: DateTime<Utc>) -> Self {
        Self {
            service: service.to_owned(),
            horizon_seconds,
            predicted_utilization: None,
            lower_utilization: None,
            upper_utilization: None,
            predicted_cores: None,
            predicted_cores_upper: None,
            current_cores: None,
            current_utilization: None,
            replicas: None,
            cpu_request_cores: None,
            model: None,
            backtest_mase: None,
            fallback: true,
            fallback_reason: Some(reason),
            samples: 0,
            peak: None,
            generated_at: now,
        }
    }

    /// Turns a forecast of total demand and what was observed into the public answer. A
    /// forecast on unknown capacity keeps its cores but gets no utilization, and is flagged.
    pub fn from_forecast(
        service: &str,
        horizon_seconds: i64,
        forecast: &Forecast,
        observed: Observed,
        now: DateTime<Utc>,
    ) -> Self {
        let util = |cores: Option<f64>| cores.and_then(|c| utilization(c, observed.replicas, observed.request_cores));
        let predicted = peak(&forecast.path);
        let upper = peak(&forecast.upper);
        let mut fallback = forecast.fallback;
        let mut reason = forecast.fallback_reason.clone();
        if util(predicted).is_none() && predicted.is_some() {
            fallback = true;
            let why = capacity_unknown(observed);
            reason = Some(reason.map_or_else(|| why.to_owned(), |r| format!("{r}; {why}")));
        }
        Self {
            service: service.to_owned(),
            horizon_seconds,
            predicted_utilization: util(predicted),
            lower_utilization: util(peak(&forecast.lower)),
            upper_utilization: util(upper),
            predicted_cores: predicted,
            predicted_cores_upper: upper,
            current_cores: observed.current_cores,
            current_utilization: util(observed.current_cores),
            replicas: observed
                .replicas
                .map(|r| r.round().clamp(0.0, f64::from(u32::MAX)) as u32),
            cpu_request_cores: observed.request_cores,
            model: Some(forecast.model),
            backtest_mase: if forecast.fallback {
                None
            } else {
                forecast.score().and_then(|s| s.mase)
            },
            fallback,
            fallback_reason: reason,
            samples: forecast.samples,
            peak: None,
            generated_at: now,
        }
    }

    /// The same with the lead-time peak attached.
    pub fn with_peak(mut self, peak: PeakPrediction) -> Self {
        self.peak = Some(peak);
        self
    }

    /// The same with `other`'s lead-time peak (and its staleness) attached.
    pub fn with_peak_of(mut self, other: &Prediction) -> Self {
        self.peak = other.peak.clone();
        self
    }

    /// Whether the value the HPA reads is a fallback: no calibrated peak on fresh data.
    pub fn hpa_fallback(&self) -> bool {
        self.peak.as_ref().is_none_or(|p| p.fallback)
    }

    /// The same values, marked as stale because the latest refresh failed.
    pub fn stale(mut self, reason: &str) -> Self {
        if let Some(p) = &mut self.peak {
            p.mark_fallback(reason);
        }
        self.fallback = true;
        self.fallback_reason = Some(match self.fallback_reason.take() {
            Some(r) if !r.is_empty() => format!("{reason}; {r}"),
            _ => reason.to_owned(),
        });
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use forecast::{SelectConfig, Series, select};

    #[test]
    fn peak_ignores_non_finite_and_empty_is_none() {
        assert_eq!(peak(&[1.0, 3.0, 2.0]), Some(3.0));
        assert_eq!(peak(&[]), None);
        assert_eq!(peak(&[-0.2, -0.1]), Some(0.0));
    }

    #[test]
    fn forecast_becomes_peak_utilization_with_bounds() {
        // Arrange: a short history falls back to the last value, 0.4 cores
        let s = Series::new(0, 15, vec![0.2, 0.3, 0.4]).unwrap();
        let f = select(&s, 4, &SelectConfig::default()).unwrap();
        let observed = Observed {
            current_cores: Some(0.4),
            replicas: Some(2.0),
            request_cores: Some(0.25),
        };
        // Act
        let p = Prediction::from_forecast("x", 60, &f, observed, Utc::now());
        // Assert
        assert!((p.predicted_utilization.unwrap() - 80.0).abs() < 1e-9);
        assert!((p.current_utilization.unwrap() - 80.0).abs() < 1e-9);
        assert_eq!((p.replicas, p.predicted_cores), (Some(2), Some(0.4)));
        assert!(p.fallback && p.backtest_mase.is_none());
        assert!(p.lower_utilization.unwrap() <= p.upper_utilization.unwrap());
    }

    #[test]
    fn unknown_replicas_keep_cores_but_no_utilization() {
        let s = Series::new(0, 15, vec![0.5]).unwrap();
        let f = select(&s, 2, &SelectConfig::default()).unwrap();
        let p = Prediction::from_forecast("x", 30, &f, Observed::default(), Utc::now());
        assert_eq!((p.predicted_cores, p.predicted_utilization), (Some(0.5), None));
        assert!(p.fallback_reason.unwrap().contains("replicas unknown"));
        let stale = Prediction::empty("x", 30, "a".into(), Utc::now()).stale("b");
        assert_eq!(stale.fallback_reason.as_deref(), Some("b; a"));
    }
}
