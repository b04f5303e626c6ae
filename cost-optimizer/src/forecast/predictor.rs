//! The predictor service's models behind [`Forecaster`], run the way the service runs them:
//! a full model selection (`training::train`, a rolling-origin backtest of every candidate)
//! at a bounded cadence, and between selections a refit of the chosen model on the newest
//! history with the error bands measured at selection (`training::refresh`).
//!
//! The simulator's history is at 15 s, but the predictor's models were tuned on 1-5 minute
//! steps (their feature windows, the linear model's 1,500-point cap, the cost of a fit), so
//! the history is averaged into buckets of `model_step_seconds` first. Buckets are aligned on
//! the absolute step index and only complete ones are used: the model is refitted once per
//! bucket and never sees a value from after the decision. Its path starts at the bucket being
//! decided, and each 15 s step reads the bucket it falls in.
//!
//! Every policy on a trace asks the same questions (the observed history does not depend on
//! the policy), so the path of each bucket is memoized: the second policy costs nothing.
//!
//! Series timestamps are seconds since the trace's start, not wall-clock time. The models'
//! time-of-day features are sine/cosine pairs and their seasonal profiles are indexed by
//! phase, so a constant offset only relabels them.

use ::forecast::training::{Trained, refresh, train};
use ::forecast::{Forecast, ModelKind, Series};

use super::{ForecastPath, ForecastRequest, Forecaster};

/// How the predictor's models are run inside the simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictorConfig {
    /// Step of the series the models see, in seconds (a multiple of the simulator's step).
    pub model_step_seconds: f64,
    /// Simulated time between two model selections, in seconds (6 h: a selection costs
    /// about 30 refits, and hourly ones took `simulate` past its one-minute budget); while the
    /// selection falls back (too little history to backtest) it runs again at every bucket.
    pub reselect_seconds: f64,
    /// Models to choose from.
    pub candidates: Vec<ModelKind>,
}

impl Default for PredictorConfig {
    fn default() -> Self {
        Self {
            model_step_seconds: 300.0,
            reselect_seconds: 6.0 * 3600.0,
            candidates: ModelKind::ALL.to_vec(),
        }
    }
}

/// A model's path in buckets: index 0 is the bucket holding the decision step.
#[derive(Debug, Clone)]
enum Memo {
    Unknown,
    NoForecast,
    Path { mean: Vec<f64>, upper: Vec<f64> },
}

/// The predictor's model selection and refresh as a [`Forecaster`]. One instance serves one
/// series (it memoizes by step index).
#[derive(Debug, Clone)]
pub struct PredictorForecaster {
    config: PredictorConfig,
    trained: Option<Trained>,
    /// Bucket index at which `trained` was selected.
    trained_at: usize,
    /// Horizon in buckets the memo and the bands were computed for.
    horizon: usize,
    memo: Vec<Memo>,
    /// Selections run, for tests and reports.
    selections: usize,
}

impl PredictorForecaster {
    /// A forecaster with the given settings.
    pub fn new(config: PredictorConfig) -> Self {
        Self {
            config,
            trained: None,
            trained_at: 0,
            horizon: 0,
            memo: Vec::new(),
            selections: 0,
        }
    }

    /// Number of model selections (backtests) run so far.
    pub fn selections(&self) -> usize {
        self.selections
    }

    /// The model serving now, once one was selected.
    pub fn model(&self) -> Option<ModelKind> {
        self.trained.as_ref().map(|t| t.model)
    }

    /// Simulator steps per bucket (at least one).
    fn bucket_steps(&self, step_seconds: f64) -> usize {
        (self.config.model_step_seconds / step_seconds).round().max(1.0) as usize
    }

    /// Forecasts bucket `current` from the complete buckets in `req.history`.
    fn fit(&mut self, req: &ForecastRequest<'_>, k: usize, current: usize) -> Memo {
        let first_abs = (req.now_step + 1).saturating_sub(req.history.len());
        let first_bucket = first_abs.div_ceil(k);
        if current <= first_bucket {
            return Memo::NoForecast;
        }
        let values: Vec<f64> = (first_bucket..current)
            .map(|b| {
                let lo = b * k - first_abs;
                req.history[lo..lo + k].iter().sum::<f64>() / k as f64
            })
            .collect();
        let step = (k as f64 * req.step_seconds).round() as i64;
        let Ok(series) = Series::new(first_bucket as i64 * step, step, values) else {
            return Memo::NoForecast;
        };
        let reselect = (self.config.reselect_seconds / step as f64).round().max(1.0) as usize;
        let due = self
            .trained
            .as_ref()
            .is_none_or(|t| t.fallback || current >= self.trained_at + reselect);
        let refreshed = match &self.trained {
            Some(t) if !due => refresh(t, &series).ok(),
            _ => None,
        };
        // A refit that fails or diverges on the new history is replaced by a new selection,
        // as the service does at its next retrain.
        let forecast = match refreshed {
            Some(f) => f,
            None => match train(&series, self.horizon, &self.config.candidates) {
                Ok((trained, f)) => {
                    self.selections += 1;
                    self.trained = Some(trained);
                    self.trained_at = current;
                    f
                }
                Err(_) => return Memo::NoForecast,
            },
        };
        memo_of(&forecast)
    }
}

/// The service answers "no forecast" for a last-value fallback (the HTTP client maps
/// `fallback: true` to none), so the simulator does the same and the policy says so.
fn memo_of(f: &Forecast) -> Memo {
    if f.fallback {
        return Memo::NoForecast;
    }
    Memo::Path {
        mean: f.path.clone(),
        upper: f.upper.clone(),
    }
}

impl Forecaster for PredictorForecaster {
    fn name(&self) -> &str {
        "predictor"
    }

    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<ForecastPath> {
        if req.horizon_steps == 0 {
            return None;
        }
        let k = self.bucket_steps(req.step_seconds);
        // Buckets 0..current are complete at the decision step; `current` holds it.
        let current = (req.now_step + 1) / k;
        // The last step asked for is at most this many buckets after `current`.
        let horizon = (k + req.horizon_steps).saturating_sub(2) / k + 1;
        if horizon != self.horizon {
            self.horizon = horizon;
            self.memo.clear();
            self.trained = None;
        }
        if self.memo.len() <= current {
            self.memo.resize(current + 1, Memo::Unknown);
        }
        if matches!(self.memo[current], Memo::Unknown) {
            self.memo[current] = self.fit(req, k, current);
        }
        let Memo::Path { mean, upper } = &self.memo[current] else {
            return None;
        };
        // The model's newest input is up to one bucket old, so its path is anchored on the
        // newest observation: the model gives the change ahead, the scrape gives the level.
        // Without this, a ramp inside the bucket is seen a bucket late.
        let shift = req
            .history
            .last()
            .map_or(0.0, |last| last - mean.first().copied().unwrap_or(*last));
        let mut path = ForecastPath::default();
        for h in 0..req.horizon_steps {
            let i = ((req.now_step + h) / k).saturating_sub(current);
            path.mean.push((mean.get(i)? + shift).max(0.0));
            path.upper.push((upper.get(i)? + shift).max(0.0));
        }
        Some(path)
    }
}

#[cfg(test)]
#[path = "predictor_tests.rs"]
mod tests;
