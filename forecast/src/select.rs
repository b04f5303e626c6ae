//! Per-series model choice: backtest every candidate on the series' own history, keep the
//! lowest MASE among the models that beat last value by more than the backtest's noise,
//! refit it on the whole history, and put the measured error bands around its forecast.
//!
//! The noise test is a paired comparison at the same origins: per origin, the mean absolute
//! error of last value minus that of the candidate; the candidate qualifies only when the
//! mean of these differences exceeds `min_advantage_se` standard errors. A few tens of
//! origins rank close models almost at random, and a model picked on luck then does worse
//! than last value on the next day; requiring a clear advantage makes the choice never
//! worse than the simple baseline except by chance the test bounds.
//!
//! All candidates share the origins and hence the MASE scale, so ranking by MASE is ranking
//! by MAE; ranking by MAE also works on a flat history, where MASE is undefined. Ties go to
//! the simpler model. When no backtest can run (history too short) or no candidate could be
//! scored, the forecast is the last value with `fallback = true`; with no value at all the
//! answer is [`ForecastError::NoData`], never an invented number.

use serde::Serialize;

use super::backtest::{BacktestConfig, ModelScore, backtest};
use super::interval::{apply, error_bands, naive_errors};
use super::{ForecastError, Model, ModelKind, Result, Series};

/// What to choose from and how to backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectConfig {
    /// Origin placement and interval level.
    pub backtest: BacktestConfig,
    /// Models to choose from (the `POST /forecast` "model" field narrows this to one).
    pub candidates: Vec<ModelKind>,
    /// Fewer origins than this and the history counts as too short to choose from.
    pub min_origins: usize,
    /// Standard errors by which a model's mean per-origin improvement over last value must
    /// exceed zero for it to replace last value (when last value is a candidate).
    pub min_advantage_se: f64,
}

impl Default for SelectConfig {
    fn default() -> Self {
        Self {
            backtest: BacktestConfig::default(),
            candidates: ModelKind::ALL.to_vec(),
            min_origins: 5,
            min_advantage_se: 1.0,
        }
    }
}

/// A forecast with its bounds and the evidence behind the choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Forecast {
    /// The model that produced `path`.
    pub model: ModelKind,
    /// Unix time of `path[0]` (one step after the last observed value).
    pub start: i64,
    /// Seconds between forecast steps (the history's step).
    pub step_seconds: i64,
    /// The point forecast, one value per step.
    pub path: Vec<f64>,
    /// Lower bound of the interval per step.
    pub lower: Vec<f64>,
    /// Upper bound of the interval per step.
    pub upper: Vec<f64>,
    /// Nominal level of the interval (0.9 for 90%).
    pub level: f64,
    /// Errors per step the bounds were measured from; 0 means there was nothing to measure and
    /// the bounds equal the path.
    pub interval_samples: usize,
    /// Backtest scores of every candidate (empty when no backtest could run).
    pub scores: Vec<ModelScore>,
    /// True when the model is the last-value fallback rather than a backtested choice.
    pub fallback: bool,
    /// Why the fallback was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
    /// Points of history used.
    pub samples: usize,
}

impl Forecast {
    /// Peak of the point forecast over the horizon (what capacity must cover).
    pub fn peak(&self) -> f64 {
        self.path.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// Peak of the upper bound over the horizon.
    pub fn peak_upper(&self) -> f64 {
        self.upper.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// Backtest score of the model that produced the forecast, when it was backtested.
    pub fn score(&self) -> Option<&ModelScore> {
        self.scores.iter().find(|s| s.model == self.model)
    }
}

/// Chooses a model for `history` by backtest and forecasts `horizon_steps` ahead.
pub fn select(history: &Series, horizon_steps: usize, cfg: &SelectConfig) -> Result<Forecast> {
    if history.is_empty() {
        return Err(ForecastError::NoData);
    }
    if horizon_steps == 0 {
        return Err(ForecastError::InvalidInput("horizon must be at least one step".into()));
    }
    let results = backtest(history, &cfg.candidates, horizon_steps, &cfg.backtest);
    let origins = results.first().map_or(0, |r| r.score.origins);
    let scores: Vec<ModelScore> = results.iter().map(|r| r.score.clone()).collect();
    if origins < cfg.min_origins {
        let reason = format!(
            "history too short to backtest: {} points give {origins} origins, need {}",
            history.len(),
            cfg.min_origins
        );
        return Ok(fallback(history, horizon_steps, cfg, scores, reason));
    }
    let baseline = results
        .iter()
        .find(|r| r.score.model == ModelKind::LastValue && r.score.mae.is_some());
    let qualifies = |r: &&super::backtest::ModelBacktest| match baseline {
        Some(b) if r.score.model != ModelKind::LastValue => beats_baseline(&b.errors, &r.errors, cfg.min_advantage_se),
        _ => true,
    };
    // Strict `<` over candidates in ModelKind order keeps the simpler model on ties.
    let mut ranked: Vec<_> = results
        .iter()
        .filter(|r| r.score.mae.is_some())
        .filter(qualifies)
        .collect();
    ranked.sort_by(|a, b| {
        let key = |r: &&super::backtest::ModelBacktest| r.score.mae.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b)).then(a.score.model.cmp(&b.score.model))
    });
    for best in ranked {
        // The winner is refitted on the whole history; if that fit fails the next one serves.
        let Ok(path) = best.score.model.fit_predict(history, horizon_steps) else {
            continue;
        };
        if !plausible(&path, history) {
            tracing::warn!(model = %best.score.model, "implausible forecast, the next model serves");
            continue;
        }
        let bands = error_bands(&best.errors, cfg.backtest.level).unwrap_or_default();
        let (lower, upper) = if bands.is_empty() {
            (path.clone(), path.clone())
        } else {
            apply(&path, &bands)
        };
        return Ok(Forecast {
            model: best.score.model,
            start: history.timestamp(history.len()),
            step_seconds: history.step_seconds(),
            path,
            lower,
            upper,
            level: cfg.backtest.level,
            interval_samples: best.errors.len(),
            scores,
            fallback: false,
            fallback_reason: None,
            samples: history.len(),
        });
    }
    let reason = "no candidate model could be scored".to_owned();
    Ok(fallback(history, horizon_steps, cfg, scores, reason))
}

/// True when `candidate` improves on `baseline` (errors per origin and step, same origins)
/// by more than `min_se` standard errors of the mean per-origin difference in MAE.
pub fn beats_baseline(baseline: &[Vec<f64>], candidate: &[Vec<f64>], min_se: f64) -> bool {
    let mae = |row: &Vec<f64>| row.iter().map(|e| e.abs()).sum::<f64>() / row.len().max(1) as f64;
    let d: Vec<f64> = baseline.iter().zip(candidate).map(|(b, c)| mae(b) - mae(c)).collect();
    let n = d.len();
    if n < 2 || n != baseline.len() || n != candidate.len() {
        return false;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    mean > 0.0 && mean > min_se * se
}

/// A recursive forecast can diverge (a regression on nearly collinear lags of a smooth ramp
/// fits in-sample and explodes out of it); the backtest ranks models by their errors on
/// earlier origins, not on this final refit. A path that leaves the history's range by more
/// than twice its span is refused, so the next model serves instead of an absurd number.
pub fn plausible(path: &[f64], history: &Series) -> bool {
    let values = history.values();
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    let margin = 2.0 * (hi - lo) + 1e-9 + 0.1 * hi.abs().max(lo.abs());
    path.iter()
        .all(|v| v.is_finite() && *v >= lo - margin && *v <= hi + margin)
}

/// The last value, with bounds from the changes a last-value forecast would have seen in the
/// history itself (when there are at least a few), and `fallback = true`.
fn fallback(
    history: &Series,
    horizon_steps: usize,
    cfg: &SelectConfig,
    scores: Vec<ModelScore>,
    reason: String,
) -> Forecast {
    let last = history.last().unwrap_or(0.0);
    let path = vec![last; horizon_steps];
    let errors = naive_errors(history.values(), horizon_steps, 200);
    // Fewer than 10 changes would give a band from two or three numbers: report none.
    let bands = (errors.len() >= 10)
        .then(|| error_bands(&errors, cfg.backtest.level))
        .flatten();
    let (lower, upper, samples) = match bands {
        Some(b) => {
            let (l, u) = apply(&path, &b);
            (l, u, errors.len())
        }
        None => (path.clone(), path.clone(), 0),
    };
    Forecast {
        model: ModelKind::LastValue,
        start: history.timestamp(history.len()),
        step_seconds: history.step_seconds(),
        path,
        lower,
        upper,
        level: cfg.backtest.level,
        interval_samples: samples,
        scores,
        fallback: true,
        fallback_reason: Some(reason),
        samples: history.len(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testdata::daily_sine;

    #[test]
    fn diverging_paths_are_implausible() {
        let h = Series::new(0, 60, (0..100).map(|i| 0.2 + 0.001 * f64::from(i)).collect()).unwrap();
        assert!(plausible(&[0.31, 0.32], &h));
        assert!(!plausible(&[0.31, 1e70], &h));
        assert!(!plausible(&[f64::NAN], &h));
        assert!(!plausible(&[-1.0], &h));
    }

    #[test]
    fn seasonal_series_picks_a_model_better_than_last_value() {
        // Arrange: 4 days at 5-minute steps, strong daily cycle, 1-hour horizon
        let s = daily_sine(300, 4 * 288, 50.0, 0.0, 20.0, 0.5, 2);
        // Act
        let f = select(&s, 12, &SelectConfig::default()).unwrap();
        // Assert
        assert!(!f.fallback);
        assert_ne!(f.model, ModelKind::LastValue);
        assert_eq!(f.scores.len(), ModelKind::ALL.len());
        assert_eq!((f.path.len(), f.lower.len(), f.upper.len()), (12, 12, 12));
        assert!(f.lower.iter().zip(&f.upper).all(|(l, u)| l <= u));
        assert!(f.interval_samples >= 5);
        assert_eq!(f.start, s.timestamp(s.len()));
    }

    #[test]
    fn white_noise_and_random_walk_keep_last_value() {
        // Noise around a level: smoothing models score a little better than last value in
        // expectation, but a random walk has nothing to beat it with; both must keep the
        // simple baseline unless the advantage is clear.
        for seed in 1..=4 {
            let mut rng = crate::testdata::Rng::new(seed);
            let mut level = 100.0;
            let walk: Vec<f64> = (0..2000)
                .map(|_| {
                    level += rng.normal();
                    level
                })
                .collect();
            let s = Series::new(1_700_000_000, 300, walk).unwrap();
            let f = select(&s, 3, &SelectConfig::default()).unwrap();
            assert_eq!(
                f.model,
                ModelKind::LastValue,
                "random walk, seed {seed}: {:?}",
                f.scores
            );
        }
    }

    #[test]
    fn paired_test_needs_a_clear_advantage() {
        let base: Vec<Vec<f64>> = (0..20).map(|i| vec![1.0 + 0.1 * f64::from(i % 3)]).collect();
        let same: Vec<Vec<f64>> = base.clone();
        let better: Vec<Vec<f64>> = base.iter().map(|r| vec![r[0] * 0.8]).collect();
        let noisy: Vec<Vec<f64>> = (0..20).map(|i| vec![if i % 2 == 0 { 0.2 } else { 2.0 }]).collect();
        assert!(!beats_baseline(&base, &same, 1.5));
        assert!(beats_baseline(&base, &better, 1.5));
        assert!(!beats_baseline(&base, &noisy, 1.5));
    }

    #[test]
    fn short_history_falls_back_to_last_value_and_says_so() {
        let s = Series::new(0, 60, vec![3.0, 4.0, 5.0]).unwrap();
        let f = select(&s, 5, &SelectConfig::default()).unwrap();
        assert!(f.fallback && f.fallback_reason.is_some());
        assert_eq!((f.model, f.path.clone()), (ModelKind::LastValue, vec![5.0; 5]));
        assert_eq!(f.interval_samples, 0, "three points measure no width");
    }

    #[test]
    fn no_data_is_an_explicit_error() {
        let s = Series::new(0, 60, vec![]).unwrap();
        assert!(matches!(
            select(&s, 5, &SelectConfig::default()),
            Err(ForecastError::NoData)
        ));
    }
}
