//! MSTL decomposition with an AutoETS trend, from Grafana's `augurs`: the seasonal periods
//! are the detected one (see [`super::period`]) plus the day when the history holds enough
//! of it, the seasonal components are extended as they are and the seasonally adjusted
//! series is forecast by the AutoETS model augurs selects (non-seasonal, by AICc).
//!
//! It is not in [`super::ModelKind::ALL`]: on the shared traces it costs tens of
//! milliseconds per fit (LOESS over every point plus a Nelder-Mead search per ETS candidate),
//! which a backtest of a few hundred origins per trace and a five-minute retrain of
//! a thousand series cannot afford; `predictor-service backtest --model mstl` scores it.

use augurs::ets::AutoETS;
use augurs::ets::trend::AutoETSTrendModel;
use augurs::mstl::MSTLModel;
use augurs::{Fit as _, Predict as _};

use super::{Model, period::detect, steps_per};
use crate::{ForecastError, Result, Series};

/// MSTL + AutoETS. See the module docs.
#[derive(Debug, Clone, Copy)]
pub struct Mstl {
    /// Most recent points fitted (LOESS is O(n) per inner pass, ETS O(n) per candidate).
    pub max_train: usize,
}

impl Default for Mstl {
    fn default() -> Self {
        Self { max_train: 2_000 }
    }
}

impl Model for Mstl {
    fn name(&self) -> &'static str {
        "mstl"
    }

    fn fit_predict(&self, history: &Series, horizon_steps: usize) -> Result<Vec<f64>> {
        let values = history.values();
        let y = &values[values.len().saturating_sub(self.max_train)..];
        let mut periods: Vec<usize> = detect(y, history.step_seconds()).map(|p| p.steps).into_iter().collect();
        if let Some(day) =
            steps_per(86_400, history.step_seconds()).filter(|d| y.len() >= 2 * d && !periods.contains(d))
        {
            periods.push(day);
        }
        periods.retain(|p| y.len() >= 2 * p);
        let trend = AutoETSTrendModel::from(AutoETS::non_seasonal());
        let fit_error = |e: String| ForecastError::Fit(format!("mstl: {e}"));
        if periods.is_empty() {
            // No season: MSTL would refuse; the trend model alone is the answer.
            let fitted = AutoETS::non_seasonal().fit(y).map_err(|e| fit_error(e.to_string()))?;
            let f = fitted
                .predict(horizon_steps, None)
                .map_err(|e| fit_error(e.to_string()))?;
            return Ok(f.point);
        }
        let fitted = MSTLModel::new(periods, trend)
            .fit(y)
            .map_err(|e| fit_error(e.to_string()))?;
        let f = fitted
            .predict(horizon_steps, None)
            .map_err(|e| fit_error(e.to_string()))?;
        Ok(f.point)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::models::LastValue;
    use crate::testdata::{daily_sine, mae};

    #[test]
    fn follows_a_daily_cycle_better_than_last_value() {
        let full = daily_sine(300, 4 * 288, 50.0, 0.0, 10.0, 0.5, 11);
        let h = 24;
        let history = full.prefix(full.len() - h);
        let actual = &full.values()[full.len() - h..];
        let m = Mstl::default().fit_predict(&history, h).unwrap();
        let last = LastValue.fit_predict(&history, h).unwrap();
        let (e_m, e_l) = (mae(&m, actual), mae(&last, actual));
        assert!(e_m < e_l / 2.0, "mstl {e_m}, last value {e_l}");
    }
}
