//! The forecasting models behind one trait, and [`ModelKind`], the closed set the service
//! chooses from (it names models in JSON, metrics labels and the CLI).
//!
//! Every model is refitted from scratch on each call: fits take milliseconds, and a stateless
//! `fit_predict` is what makes the rolling-origin backtest honest (a model cannot keep
//! anything from a later origin).

mod baseline;
pub(crate) mod ensemble;
mod holt_winters;
mod linear;
mod mstl;
pub(crate) mod period;
mod seasonal;
mod smoothing;

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

pub use baseline::{LastValue, SeasonalNaive};
pub use holt_winters::HoltWinters;
pub use linear::Linear;
pub use mstl::Mstl;
pub use seasonal::Seasonal;

use super::{ForecastError, Result, Series};

/// A forecaster: fits on `history` and returns `horizon_steps` values, one per step after the
/// last value of `history`.
pub trait Model: Send + Sync {
    /// Stable snake_case name (JSON, metric label).
    fn name(&self) -> &'static str;

    /// Fits on `history` and forecasts the next `horizon_steps` values.
    fn fit_predict(&self, history: &Series, horizon_steps: usize) -> Result<Vec<f64>>;
}

/// The candidate models, in order of simplicity (ties go to the simpler one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Repeats the last value.
    LastValue,
    /// Same time yesterday; needs a day of history.
    SeasonalNaive,
    /// Linear regression on the design features, forecast recursively.
    Linear,
    /// Daily/weekly seasonal profile plus damped Holt trend.
    Seasonal,
    /// Additive Holt-Winters with the period detected in the series.
    HoltWinters,
    /// Per-step median of the paths of [`ModelKind::ENSEMBLE_MEMBERS`].
    Ensemble,
    /// MSTL with an AutoETS trend (augurs); opt-in, see [`ModelKind::OPT_IN`].
    Mstl,
}

impl ModelKind {
    /// Every model the service chooses from by default, simplest first.
    pub const ALL: [ModelKind; 6] = [
        ModelKind::LastValue,
        ModelKind::SeasonalNaive,
        ModelKind::Linear,
        ModelKind::Seasonal,
        ModelKind::HoltWinters,
        ModelKind::Ensemble,
    ];

    /// Models that exist but are too slow for the default candidates (named explicitly, e.g.
    /// `predictor-service backtest --model mstl`).
    pub const OPT_IN: [ModelKind; 1] = [ModelKind::Mstl];

    /// The models whose paths the ensemble combines.
    pub const ENSEMBLE_MEMBERS: [ModelKind; 4] = [
        ModelKind::LastValue,
        ModelKind::Linear,
        ModelKind::Seasonal,
        ModelKind::HoltWinters,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::LastValue => "last_value",
            ModelKind::SeasonalNaive => "seasonal_naive",
            ModelKind::Linear => "linear",
            ModelKind::Seasonal => "seasonal",
            ModelKind::HoltWinters => "holt_winters",
            ModelKind::Ensemble => "ensemble",
            ModelKind::Mstl => "mstl",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelKind {
    type Err = ForecastError;

    fn from_str(s: &str) -> Result<Self> {
        ModelKind::ALL
            .into_iter()
            .chain(ModelKind::OPT_IN)
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ForecastError::InvalidInput(format!("unknown model {s:?}")))
    }
}

impl Model for ModelKind {
    fn name(&self) -> &'static str {
        self.as_str()
    }

    /// Checks the common preconditions once, then runs the model with its default settings.
    fn fit_predict(&self, history: &Series, horizon_steps: usize) -> Result<Vec<f64>> {
        if history.is_empty() {
            return Err(ForecastError::NoData);
        }
        if horizon_steps == 0 {
            return Err(ForecastError::InvalidInput("horizon must be at least one step".into()));
        }
        let path = match self {
            ModelKind::LastValue => LastValue.fit_predict(history, horizon_steps),
            ModelKind::SeasonalNaive => SeasonalNaive.fit_predict(history, horizon_steps),
            ModelKind::Linear => Linear::default().fit_predict(history, horizon_steps),
            ModelKind::Seasonal => Seasonal::default().fit_predict(history, horizon_steps),
            ModelKind::HoltWinters => HoltWinters::default().fit_predict(history, horizon_steps),
            ModelKind::Mstl => Mstl::default().fit_predict(history, horizon_steps),
            ModelKind::Ensemble => {
                // Members that cannot forecast this history are left out, exactly as the
                // backtest leaves them out at an origin.
                let paths: Vec<Vec<f64>> = ModelKind::ENSEMBLE_MEMBERS
                    .iter()
                    .filter_map(|m| m.fit_predict(history, horizon_steps).ok())
                    .collect();
                let refs: Vec<&[f64]> = paths.iter().map(Vec::as_slice).collect();
                ensemble::combine(&refs)
                    .ok_or_else(|| ForecastError::Fit("too few ensemble members could forecast".into()))
            }
        }?;
        if path.len() != horizon_steps || path.iter().any(|v| !v.is_finite()) {
            return Err(ForecastError::Fit(format!("{self} produced a non-finite path")));
        }
        Ok(path)
    }
}

/// Steps in one period of `period_seconds` (e.g. a day), when the series resolves at least
/// two steps per period.
pub(crate) fn steps_per(period_seconds: i64, step_seconds: i64) -> Option<usize> {
    let steps = (period_seconds as f64 / step_seconds as f64).round() as usize;
    (steps >= 2).then_some(steps)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testdata::daily_sine;

    #[test]
    fn names_round_trip() {
        for m in ModelKind::ALL.into_iter().chain(ModelKind::OPT_IN) {
            assert_eq!(m.as_str().parse::<ModelKind>().unwrap(), m);
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{m}\""));
        }
        assert!("arima".parse::<ModelKind>().is_err());
    }

    #[test]
    fn every_model_refuses_empty_history_and_zero_horizon() {
        let empty = Series::new(0, 60, vec![]).unwrap();
        let some = daily_sine(300, 600, 10.0, 0.0, 1.0, 0.1, 1);
        for m in ModelKind::ALL {
            assert!(matches!(m.fit_predict(&empty, 3), Err(ForecastError::NoData)));
            assert!(m.fit_predict(&some, 0).is_err());
        }
    }
}
