//! The forecaster seam of the simulator. Scaling policies depend only on [`Forecaster`]: the
//! default is the predictor's own lead-time peak forecaster ([`Peak`], the code and the
//! quantile the service exports as `predicted_cpu_cores`), and two references bound it: a
//! last-value-with-trend model and an [`Oracle`] that knows the future.

use ::forecast::peak::{PeakConfig, PeakForecaster};
use serde::Serialize;

/// What a forecaster tells a policy at one step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outlook {
    /// Demand capacity should cover over the lead time: for the predictor, the peak at its
    /// serving quantile (what the HPA's `AverageValue` metric receives).
    pub peak: f64,
    /// Point forecast of that peak.
    pub point: f64,
}

/// What a forecaster is asked.
#[derive(Debug, Clone, Copy)]
pub struct ForecastRequest<'a> {
    /// Observations known at the decision step (the last one is the newest scrape), oldest
    /// first, bounded by the caller. Never includes data from after the decision.
    pub history: &'a [f64],
    /// Absolute index of the decision step in the caller's series (lets an oracle look it up
    /// and an online model memoize per step; it never reads the future by it).
    pub now_step: usize,
    /// Spacing of the series in seconds.
    pub step_seconds: f64,
    /// Steps ahead the peak is wanted over.
    pub lead_steps: usize,
}

/// A forecasting model. `&mut self` lets a model keep state between calls.
pub trait Forecaster {
    /// Short name for reports.
    fn name(&self) -> &str;
    /// The outlook, or `None` when the model cannot answer yet (too little history): the
    /// policy then acts on current usage alone and counts a fallback.
    fn forecast(&mut self, request: &ForecastRequest<'_>) -> Option<Outlook>;
    /// Share of served peaks that the observed peak over the lead time did not exceed, when
    /// the model measures it.
    fn coverage(&self) -> Option<f64> {
        None
    }
}

/// The predictor's peak forecaster, fed one observation per step. Every policy on a trace
/// asks about the same steps in order, so each step's answer is memoized: the first policy
/// drives the model, the others read.
#[derive(Debug, Clone)]
pub struct Peak {
    model: PeakForecaster,
    memo: Vec<Option<Outlook>>,
    /// Observations pushed so far, for the coverage count.
    seen: Vec<f64>,
}

impl Peak {
    /// A forecaster with these settings (its `lead_steps` is replaced by the request's).
    pub fn new(config: PeakConfig) -> Self {
        Self {
            model: PeakForecaster::new(config),
            memo: Vec::new(),
            seen: Vec::new(),
        }
    }
}

impl Forecaster for Peak {
    fn name(&self) -> &str {
        "predictor"
    }

    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<Outlook> {
        if let Some(known) = self.memo.get(req.now_step) {
            return *known;
        }
        if self.model.config().lead_steps != req.lead_steps {
            let config = PeakConfig {
                lead_steps: req.lead_steps,
                ..self.model.config().clone()
            };
            *self = Self::new(config);
        }
        // Push every observation from the first unseen step up to now; the history's last
        // value is step `now_step`.
        let first_in_history = (req.now_step + 1).saturating_sub(req.history.len());
        while self.memo.len() <= req.now_step {
            let step = self.memo.len();
            let value = step
                .checked_sub(first_in_history)
                .and_then(|i| req.history.get(i))
                .copied()
                .unwrap_or(0.0);
            self.model.push(value);
            self.seen.push(value);
            self.memo.push(self.model.forecast().map(|f| Outlook {
                peak: f.peak,
                point: f.point,
            }));
        }
        self.memo.get(req.now_step).copied().flatten()
    }

    fn coverage(&self) -> Option<f64> {
        let lead = self.model.config().lead_steps.max(1);
        let (mut hits, mut total) = (0usize, 0usize);
        for (s, o) in self.memo.iter().enumerate() {
            let (Some(o), Some(future)) = (o, self.seen.get(s + 1..=s + lead)) else {
                continue;
            };
            total += 1;
            hits += usize::from(future.iter().copied().fold(f64::NEG_INFINITY, f64::max) <= o.peak + 1e-9);
        }
        (total > 0).then(|| hits as f64 / total as f64)
    }
}

/// Last value plus the recent linear trend, damped. Cheap and knows nothing of seasons; kept
/// as the reference a forecaster must beat.
#[derive(Debug, Clone)]
pub struct LastValueTrend {
    /// Points fitted (the most recent ones).
    pub window: usize,
    /// Fraction of the fitted slope carried forward; damping keeps a short burst from being
    /// extrapolated into a runaway.
    pub damping: f64,
}

impl Default for LastValueTrend {
    fn default() -> Self {
        Self {
            window: 20,
            damping: 0.5,
        }
    }
}

impl Forecaster for LastValueTrend {
    fn name(&self) -> &str {
        "last-value-trend"
    }

    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<Outlook> {
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
        // Anchor on the last observation rather than the fit: after a jump the fit lags.
        let last = w.last().copied().unwrap_or(fitted_end);
        let level = last.max(fitted_end);
        let peak = (1..=req.lead_steps.max(1))
            .map(|s| (level + self.damping * slope * s as f64).max(0.0))
            .fold(0.0, f64::max);
        Some(Outlook { peak, point: peak })
    }
}

/// Knows the future: the true peak over the lead time. Only for tests and for bounding what
/// any forecaster could achieve.
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

    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<Outlook> {
        let end = (req.now_step + req.lead_steps.max(1)).min(self.series.len());
        let peak = self
            .series
            .get(req.now_step..end)?
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        peak.is_finite().then_some(Outlook { peak, point: peak })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ask(f: &mut dyn Forecaster, history: &[f64], lead: usize) -> Option<Outlook> {
        f.forecast(&ForecastRequest {
            history,
            now_step: history.len() - 1,
            step_seconds: 15.0,
            lead_steps: lead,
        })
    }

    #[test]
    fn trend_extrapolates_a_ramp_damped() {
        let ramp: Vec<f64> = (0..20).map(f64::from).collect();
        let o = ask(&mut LastValueTrend::default(), &ramp, 4).unwrap();
        // last 19, slope 1 damped to 0.5: the peak four steps ahead is 21.
        assert!((o.peak - 21.0).abs() < 1e-9, "{o:?}");
        assert!(ask(&mut LastValueTrend::default(), &[1.0, 2.0], 3).is_none());
    }

    #[test]
    fn oracle_returns_the_future_peak_only() {
        let mut o = Oracle::new(vec![1.0, 5.0, 3.0, 4.0]);
        assert_eq!(ask(&mut o, &[1.0, 5.0, 3.0], 2).unwrap().peak, 4.0);
        assert_eq!(ask(&mut o, &[1.0], 2).unwrap().peak, 5.0);
    }

    #[test]
    fn peak_memoizes_and_measures_its_coverage() {
        // Arrange: a noisy level the model calibrates on
        let values: Vec<f64> = (0..2000).map(|i| 10.0 + f64::from(i % 7) * 0.3).collect();
        let mut p = Peak::new(PeakConfig::default());
        // Act: ask at every step, then again at an old one
        let answers: Vec<_> = (0..values.len()).map(|i| ask(&mut p, &values[..=i], 10)).collect();
        let again = ask(&mut p, &values[..=1500], 10);
        // Assert
        assert!(answers[5].is_none(), "nothing before calibration");
        let last = answers.last().unwrap().unwrap();
        assert!(last.peak >= last.point && last.peak <= 12.0, "{last:?}");
        assert_eq!(again, answers[1500]);
        let coverage = p.coverage().unwrap();
        assert!(coverage > 0.8, "{coverage}");
    }
}
