//! The forecaster seam. Scaling policies depend only on [`Forecaster`]: the predictor
//! service's models plug in behind an adapter ([`predictor`], the simulator's default), and
//! this crate ships two small ones: a last-value-with-trend model to compare against and an
//! oracle for tests.

use serde::Serialize;

pub mod predictor;

pub use predictor::{PredictorConfig, PredictorForecaster};

/// A forecast over `horizon` steps: `mean[h]` and `upper[h]` are for the step `now_step + h`
/// (index 0 is the step being decided).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ForecastPath {
    /// Expected value per step.
    pub mean: Vec<f64>,
    /// Upper bound of the prediction interval per step (same length as `mean`).
    pub upper: Vec<f64>,
}

impl ForecastPath {
    /// Largest mean within the first `steps` steps (0 when empty).
    pub fn max_mean(&self, steps: usize) -> f64 {
        max_prefix(&self.mean, steps)
    }

    /// Largest upper bound within the first `steps` steps (0 when empty).
    pub fn max_upper(&self, steps: usize) -> f64 {
        max_prefix(&self.upper, steps)
    }
}

fn max_prefix(v: &[f64], steps: usize) -> f64 {
    v.iter().take(steps.max(1)).copied().fold(0.0, f64::max)
}

/// What a forecaster is asked.
#[derive(Debug, Clone, Copy)]
pub struct ForecastRequest<'a> {
    /// Observations known at the decision step (the last one is the newest scrape), oldest
    /// first, bounded by the caller. Never includes data from after the decision.
    pub history: &'a [f64],
    /// Absolute index of the decision step in the caller's series (lets an oracle look it up,
    /// and a model align its buckets and memoize per step; it never reads the future by it).
    pub now_step: usize,
    /// Spacing of the series in seconds.
    pub step_seconds: f64,
    /// Number of future steps wanted.
    pub horizon_steps: usize,
}

/// A forecasting model. `&mut self` lets a model cache its fit between calls.
pub trait Forecaster {
    /// Short name for reports.
    fn name(&self) -> &str;
    /// The forecast, or `None` when the model cannot answer (too little history, failed fit):
    /// callers then fall back to the current value and say so.
    fn forecast(&mut self, request: &ForecastRequest<'_>) -> Option<ForecastPath>;
}

/// Last value plus the recent linear trend, with an interval from the fit's residuals.
/// Cheap (O(window) per call) and honest about uncertainty; it knows nothing of seasons.
#[derive(Debug, Clone)]
pub struct LastValueTrend {
    /// Points fitted (the most recent ones).
    pub window: usize,
    /// z-score of the upper bound (1.64: one-sided 95 %).
    pub z: f64,
    /// Fraction of the fitted slope carried forward; damping keeps a short burst from being
    /// extrapolated into a runaway.
    pub damping: f64,
}

impl Default for LastValueTrend {
    fn default() -> Self {
        Self {
            window: 20,
            z: 1.64,
            damping: 0.5,
        }
    }
}

impl Forecaster for LastValueTrend {
    fn name(&self) -> &str {
        "last-value-trend"
    }

    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<ForecastPath> {
        let h = req.history;
        let w = &h[h.len().saturating_sub(self.window)..];
        if w.len() < 4 {
            return None;
        }
        // Least squares on x = 0..n-1, centred so the sums stay small.
        let n = w.len() as f64;
        let x_mean = (n - 1.0) / 2.0;
        let y_mean = w.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, y) in w.iter().enumerate() {
            let dx = i as f64 - x_mean;
            sxy += dx * (y - y_mean);
            sxx += dx * dx;
        }
        let slope = sxy / sxx;
        let fitted_end = y_mean + slope * (n - 1.0 - x_mean);
        let sse: f64 = w
            .iter()
            .enumerate()
            .map(|(i, y)| (y - (y_mean + slope * (i as f64 - x_mean))).powi(2))
            .sum();
        let sigma = (sse / (n - 2.0)).sqrt();
        // Anchor on the last observation rather than the fit: after a jump the fit lags.
        let last = w.last().copied().unwrap_or(fitted_end);
        let level = last.max(fitted_end);
        let mut path = ForecastPath::default();
        for step in 1..=req.horizon_steps {
            let s = step as f64;
            let mean = (level + self.damping * slope * s).max(0.0);
            path.mean.push(mean);
            path.upper.push(mean + self.z * sigma * (1.0 + s / n).sqrt());
        }
        Some(path)
    }
}

/// Knows the future: returns the true series as both mean and upper. Only for tests and for
/// bounding what any forecaster could achieve.
#[derive(Debug, Clone)]
pub struct Oracle {
    series: Vec<f64>,
}

impl Oracle {
    /// An oracle over the series the simulator replays.
    pub fn new(series: Vec<f64>) -> Self {
        Self { series }
    }
}

impl Forecaster for Oracle {
    fn name(&self) -> &str {
        "oracle"
    }

    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<ForecastPath> {
        let end = (req.now_step + req.horizon_steps).min(self.series.len());
        let future = self.series.get(req.now_step..end)?.to_vec();
        Some(ForecastPath {
            mean: future.clone(),
            upper: future,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ask(f: &mut dyn Forecaster, history: &[f64], horizon: usize) -> Option<ForecastPath> {
        f.forecast(&ForecastRequest {
            history,
            now_step: history.len(),
            step_seconds: 15.0,
            horizon_steps: horizon,
        })
    }

    #[test]
    fn trend_extrapolates_a_ramp_damped() {
        let ramp: Vec<f64> = (0..20).map(f64::from).collect();
        let p = ask(&mut LastValueTrend::default(), &ramp, 4).unwrap();
        assert_eq!(p.mean.len(), 4);
        // last 19, slope 1 damped to 0.5: 19.5, 20, 20.5, 21; a perfect line has no residuals.
        assert!((p.mean[0] - 19.5).abs() < 1e-9 && (p.mean[3] - 21.0).abs() < 1e-9);
        assert!((p.upper[3] - p.mean[3]).abs() < 1e-9);
        assert_eq!(p.max_mean(2), 20.0);
    }

    #[test]
    fn noise_widens_the_interval_and_short_history_gives_none() {
        let noisy: Vec<f64> = (0..20).map(|i| if i % 2 == 0 { 9.0 } else { 11.0 }).collect();
        let p = ask(&mut LastValueTrend::default(), &noisy, 3).unwrap();
        assert!(p.upper[0] > p.mean[0] + 1.0);
        assert!(p.upper[2] > p.upper[0]);
        assert!(ask(&mut LastValueTrend::default(), &[1.0, 2.0], 3).is_none());
    }

    #[test]
    fn oracle_returns_the_future_only() {
        let mut o = Oracle::new(vec![1.0, 2.0, 3.0, 4.0]);
        let p = ask(&mut o, &[1.0, 2.0], 5).unwrap();
        assert_eq!(p.mean, vec![3.0, 4.0]);
        assert_eq!(p.max_upper(1), 3.0);
    }
}
