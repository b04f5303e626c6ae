//! Rolling-origin evaluation. At each origin `o` a model is fitted on `series[..o]` only and
//! forecasts `series[o..o + h]`; errors are `actual - forecast`.
//!
//! Origins are spread evenly over the last `eval_fraction` of the series, at most
//! `max_origins` of them, so the cost is bounded whatever the history length (24 origins by
//! default: 1,000 one-week series stay under a minute). Metrics are pooled over all origins
//! and all steps 1..h (the M4 convention): MAE, sMAPE (percent), and MASE = MAE / the mean,
//! over origins, of the in-sample one-step naive MAE of that origin's history. The 90%
//! coverage is measured online: the interval at origin `k` is built from the errors of the
//! origins before `k` only (after `interval_warmup` of them), then checked against `k`.

use serde::Serialize;

use super::interval::error_bands;
use super::models::ensemble::combine;
use super::{Model, ModelKind, Series};

/// How origins are placed and intervals scored.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestConfig {
    /// Upper bound on the number of origins.
    pub max_origins: usize,
    /// Share of the series (at its end) over which origins are spread.
    pub eval_fraction: f64,
    /// History every origin must have.
    pub min_train: usize,
    /// Nominal level of the prediction interval (0.9 for 90%).
    pub level: f64,
    /// Origins whose errors are collected before coverage starts being counted.
    pub interval_warmup: usize,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        Self {
            max_origins: 24,
            eval_fraction: 1.0 / 3.0,
            min_train: 30,
            level: 0.9,
            interval_warmup: 8,
        }
    }
}

/// The scores of one model; metrics are `None` when the model failed at some origin (a model
/// that cannot forecast every origin is not compared on a subset) or when the scale is zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelScore {
    /// The model.
    pub model: ModelKind,
    /// Origins evaluated.
    pub origins: usize,
    /// Mean absolute error over all origins and steps.
    pub mae: Option<f64>,
    /// Symmetric mean absolute percentage error, in percent (0..200).
    pub smape: Option<f64>,
    /// MAE relative to the in-sample one-step naive MAE; below 1 beats a one-step random walk.
    pub mase: Option<f64>,
    /// Share of actual values inside the online interval, when enough origins existed.
    pub coverage: Option<f64>,
    /// Why the model has no scores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Scores plus the raw errors (`errors[origin][step]`), which the interval is built from.
#[derive(Debug, Clone)]
pub struct ModelBacktest {
    /// The scores.
    pub score: ModelScore,
    /// `actual - forecast` per origin and step; empty when the model failed.
    pub errors: Vec<Vec<f64>>,
}

/// Origins (history lengths) for a series of `n` points, oldest first; empty when there is
/// no room for even one.
pub fn origins(n: usize, horizon_steps: usize, cfg: &BacktestConfig) -> Vec<usize> {
    if horizon_steps == 0 || cfg.max_origins == 0 || n < cfg.min_train + horizon_steps {
        return Vec::new();
    }
    let last = n - horizon_steps;
    let window = (n as f64 * cfg.eval_fraction) as usize;
    let first = cfg.min_train.max(last.saturating_sub(window)).max(1);
    if first > last {
        return Vec::new();
    }
    let stride = (last - first + 1).div_ceil(cfg.max_origins).max(1);
    let mut out: Vec<usize> = (0..cfg.max_origins)
        .map_while(|k| last.checked_sub(k * stride).filter(|o| *o >= first))
        .collect();
    out.reverse();
    out
}

/// Backtests every model in `models` at the origins of [`origins`].
pub fn backtest(
    series: &Series,
    models: &[ModelKind],
    horizon_steps: usize,
    cfg: &BacktestConfig,
) -> Vec<ModelBacktest> {
    backtest_at(
        series,
        models,
        horizon_steps,
        &origins(series.len(), horizon_steps, cfg),
        cfg,
    )
}

/// Backtests every model at the given origins (each must leave `horizon_steps` values).
pub fn backtest_at(
    series: &Series,
    models: &[ModelKind],
    horizon_steps: usize,
    at: &[usize],
    cfg: &BacktestConfig,
) -> Vec<ModelBacktest> {
    let values = series.values();
    let at: Vec<usize> = at
        .iter()
        .copied()
        .filter(|o| *o >= 1 && o + horizon_steps <= values.len())
        .collect();
    let mut errors: Vec<Vec<Vec<f64>>> = vec![Vec::with_capacity(at.len()); models.len()];
    let mut failure: Vec<Option<String>> = vec![None; models.len()];
    let mut smape = vec![0.0; models.len()];
    // The ensemble combines its members' paths at each origin instead of refitting them, so
    // members are fitted once per origin even when they are not scored themselves.
    let wants_ensemble = models.contains(&ModelKind::Ensemble);
    let mut base: Vec<ModelKind> = models.iter().copied().filter(|m| *m != ModelKind::Ensemble).collect();
    if wants_ensemble {
        for m in ModelKind::ENSEMBLE_MEMBERS {
            if !base.contains(&m) {
                base.push(m);
            }
        }
    }
    for &o in &at {
        // One copy of the past per origin, shared by all models: the future is not in it.
        let history = series.prefix(o);
        let actual = &values[o..o + horizon_steps];
        let paths: Vec<(ModelKind, std::result::Result<Vec<f64>, String>)> = base
            .iter()
            .map(|&m| {
                // A scored model that already failed is not scored on a subset; skip its fit
                // unless the ensemble needs it.
                let scored_failed = models
                    .iter()
                    .position(|x| *x == m)
                    .is_some_and(|i| failure[i].is_some());
                let needed = wants_ensemble && ModelKind::ENSEMBLE_MEMBERS.contains(&m);
                if scored_failed && !needed {
                    return (m, Err("failed earlier".to_owned()));
                }
                (m, m.fit_predict(&history, horizon_steps).map_err(|e| e.to_string()))
            })
            .collect();
        for (i, model) in models.iter().enumerate() {
            if failure[i].is_some() {
                continue;
            }
            let path = if *model == ModelKind::Ensemble {
                let members: Vec<&[f64]> = paths
                    .iter()
                    .filter(|(m, _)| ModelKind::ENSEMBLE_MEMBERS.contains(m))
                    .filter_map(|(_, p)| p.as_ref().ok().map(Vec::as_slice))
                    .collect();
                combine(&members).ok_or_else(|| "too few ensemble members could forecast".to_owned())
            } else {
                paths.iter().find(|(m, _)| m == model).map_or_else(
                    || Err("not fitted".to_owned()),
                    |(_, p)| p.clone().map_err(|e| e.to_string()),
                )
            };
            match path {
                Ok(path) => {
                    smape[i] += path.iter().zip(actual).map(|(f, a)| smape_term(*f, *a)).sum::<f64>();
                    errors[i].push(actual.iter().zip(&path).map(|(a, f)| a - f).collect());
                }
                Err(e) => failure[i] = Some(format!("origin {o}: {e}")),
            }
        }
    }
    let scale = naive_scale(values, &at);
    models
        .iter()
        .zip(errors)
        .zip(failure)
        .zip(smape)
        .map(|(((&model, errors), failure), smape)| {
            let cells = (at.len() * horizon_steps) as f64;
            let ok = failure.is_none() && !at.is_empty();
            let mae = ok.then(|| errors.iter().flatten().map(|e| e.abs()).sum::<f64>() / cells);
            let score = ModelScore {
                model,
                origins: at.len(),
                mae,
                smape: ok.then(|| smape / cells),
                mase: mae.zip(scale).map(|(m, s)| m / s),
                coverage: if ok { online_coverage(&errors, cfg) } else { None },
                error: failure.or_else(|| (!ok).then(|| "no origin to evaluate".to_owned())),
            };
            let errors = if ok { errors } else { Vec::new() };
            ModelBacktest { score, errors }
        })
        .collect()
}

/// One sMAPE term in percent; zero when forecast and actual are both zero.
fn smape_term(forecast: f64, actual: f64) -> f64 {
    let denom = forecast.abs() + actual.abs();
    if denom > 0.0 {
        200.0 * (actual - forecast).abs() / denom
    } else {
        0.0
    }
}

/// Mean over origins of the in-sample one-step naive MAE of `values[..o]`; `None` when it is
/// zero (a flat history, where MASE is undefined).
fn naive_scale(values: &[f64], at: &[usize]) -> Option<f64> {
    let mut cum = Vec::with_capacity(values.len());
    let mut acc = 0.0;
    cum.push(0.0);
    for w in values.windows(2) {
        acc += (w[1] - w[0]).abs();
        cum.push(acc);
    }
    let scales: Vec<f64> = at
        .iter()
        .filter(|o| **o >= 2)
        .map(|&o| cum[o - 1] / (o - 1) as f64)
        .collect();
    let mean = scales.iter().sum::<f64>() / scales.len().max(1) as f64;
    (mean > 1e-12).then_some(mean)
}

/// Coverage of intervals built, at each origin, from the errors of the origins before it.
fn online_coverage(errors: &[Vec<f64>], cfg: &BacktestConfig) -> Option<f64> {
    let warmup = cfg.interval_warmup.max(1);
    let (mut hits, mut total) = (0usize, 0usize);
    for k in warmup..errors.len() {
        let Some(bands) = error_bands(&errors[..k], cfg.level) else {
            continue;
        };
        for (e, (lo, hi)) in errors[k].iter().zip(&bands) {
            total += 1;
            hits += usize::from(*lo <= *e && *e <= *hi);
        }
    }
    (total > 0).then(|| hits as f64 / total as f64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testdata::Rng;

    #[test]
    fn origins_are_bounded_spread_and_leave_the_horizon() {
        let cfg = BacktestConfig::default();
        let o = origins(10_080, 15, &cfg);
        assert_eq!(o.len(), 24);
        assert_eq!(*o.last().unwrap(), 10_080 - 15);
        assert!(o[0] >= 10_080 - 15 - 3360);
        assert!(o.windows(2).all(|w| w[0] < w[1]));
        assert!(origins(40, 15, &cfg).is_empty());
    }

    #[test]
    fn interval_coverage_is_near_nominal_on_noise() {
        // Arrange: white noise around a level, 300 origins, 3-step horizon
        let mut rng = Rng::new(42);
        let values = (0..3000).map(|_| 50.0 + 2.0 * rng.normal()).collect();
        let s = Series::new(0, 300, values).unwrap();
        let cfg = BacktestConfig {
            max_origins: 300,
            eval_fraction: 0.5,
            interval_warmup: 20,
            ..Default::default()
        };
        // Act
        let results = backtest(&s, &[ModelKind::LastValue, ModelKind::Seasonal], 3, &cfg);
        // Assert
        for r in results {
            let cov = r.score.coverage.unwrap();
            assert!((0.80..=0.97).contains(&cov), "{}: coverage {cov}", r.score.model);
        }
    }

    #[test]
    fn no_model_anticipates_a_late_spike() {
        // Arrange: 3 days of a mild daily cycle at 5-minute steps, then a +100 spike in the
        // last 3 points that nothing in the past announces
        let mut rng = Rng::new(9);
        let n = 3 * 288;
        let mut values: Vec<f64> = (0..n)
            .map(|i| 10.0 + 2.0 * (i as f64 / 288.0 * std::f64::consts::TAU).sin() + 0.3 * rng.normal())
            .collect();
        values[n - 3..].iter_mut().for_each(|v| *v += 100.0);
        let s = Series::new(1_700_006_400, 300, values).unwrap();
        // Act: origin right before the spike
        let results = backtest_at(&s, &ModelKind::ALL, 3, &[n - 3], &BacktestConfig::default());
        // Assert: every error is about the full spike, i.e. the forecast stayed near normal
        for r in results {
            assert!(r.score.error.is_none(), "{:?}", r.score.error);
            for e in &r.errors[0] {
                assert!(*e > 90.0, "{} anticipated the spike: error {e}", r.score.model);
            }
        }
    }

    #[test]
    fn ensemble_errors_are_the_median_of_its_members_paths() {
        // Arrange: a daily cycle, two origins
        let s = crate::testdata::daily_sine(300, 4 * 288, 30.0, 0.0, 8.0, 0.5, 3);
        let at = [3 * 288, 3 * 288 + 50];
        let mut models = ModelKind::ENSEMBLE_MEMBERS.to_vec();
        models.push(ModelKind::Ensemble);
        // Act
        let results = backtest_at(&s, &models, 4, &at, &BacktestConfig::default());
        // Assert: actual - median(paths) = median(actual - path), per origin and step
        let ens = &results[models.len() - 1].errors;
        for (k, row) in ens.iter().enumerate() {
            for (h, e) in row.iter().enumerate() {
                let members: Vec<f64> = results[..models.len() - 1].iter().map(|r| r.errors[k][h]).collect();
                let refs: Vec<&[f64]> = members.iter().map(std::slice::from_ref).collect();
                let median = combine(&refs).unwrap()[0];
                assert!((e - median).abs() < 1e-9, "origin {k} step {h}: {e} vs {median}");
            }
        }
        // And the ensemble's own refit gives the same path as the backtest's combination.
        let path = ModelKind::Ensemble.fit_predict(&s.prefix(at[0]), 4).unwrap();
        let actual = &s.values()[at[0]..at[0] + 4];
        for (h, (a, f)) in actual.iter().zip(&path).enumerate() {
            assert!((a - f - ens[0][h]).abs() < 1e-9);
        }
    }

    #[test]
    fn failing_model_gets_no_scores_and_flat_series_no_mase() {
        let s = Series::new(0, 300, vec![5.0; 200]).unwrap();
        let results = backtest(
            &s,
            &[ModelKind::LastValue, ModelKind::SeasonalNaive],
            3,
            &BacktestConfig::default(),
        );
        assert_eq!(results[0].score.mae, Some(0.0));
        assert_eq!(results[0].score.mase, None, "naive scale is zero");
        assert!(results[1].score.mae.is_none() && results[1].score.error.is_some());
    }
}
