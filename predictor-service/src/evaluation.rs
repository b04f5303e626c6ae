//! Trace evaluation behind `predictor-service backtest`: score every model on a trace and
//! check what the per-series selection would have achieved.
//!
//! The last 30% of a trace is the evaluation window (up to 200 origins). The "selected" model
//! of a trace is what [`select`] picks from the data *before* the first evaluation origin,
//! exactly as the service would, and is then scored on the evaluation window like every
//! other model. Picking the winner on the evaluation window itself would make the selected
//! score the per-trace minimum by construction and prove nothing.

use serde::Serialize;

use forecast::backtest::{BacktestConfig, ModelScore, backtest_at, origins};
use forecast::series::Resampled;
use forecast::{ModelKind, Result, SelectConfig, select};

/// The models the target of issue 10 compares the selection with: the selected model's
/// median MASE must be at least 10% below the best of these.
pub const PEERS: [ModelKind; 4] = [
    ModelKind::LastValue,
    ModelKind::SeasonalNaive,
    ModelKind::Linear,
    ModelKind::HoltWinters,
];

/// Evaluation window and the selection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalConfig {
    /// Origins of the evaluation window.
    pub backtest: BacktestConfig,
    /// How the service selects (run on the data before the window).
    pub select: SelectConfig,
    /// Models scored on the window (the service's candidates plus any opt-in ones).
    pub models: Vec<ModelKind>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            backtest: BacktestConfig {
                max_origins: 200,
                eval_fraction: 0.3,
                interval_warmup: 20,
                ..BacktestConfig::default()
            },
            select: SelectConfig::default(),
            models: ModelKind::ALL.to_vec(),
        }
    }
}

impl EvalConfig {
    /// The default evaluation with `extra` models (e.g. the opt-in `mstl`) scored and
    /// offered to the selection as well.
    pub fn with_extra_models(extra: &[ModelKind]) -> Self {
        let mut cfg = Self::default();
        for m in extra {
            if !cfg.models.contains(m) {
                cfg.models.push(*m);
                cfg.select.candidates.push(*m);
            }
        }
        cfg
    }
}

/// Scores of all models on one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceReport {
    /// Trace name (file path).
    pub trace: String,
    /// Points after resampling.
    pub points: usize,
    /// Points filled by interpolation.
    pub filled: usize,
    /// Step of the regular grid.
    pub step_seconds: i64,
    /// Horizon in steps (the requested horizon rounded up to whole steps).
    pub horizon_steps: usize,
    /// Scores of every model on the evaluation window.
    pub scores: Vec<ModelScore>,
    /// The model selection picked from the data before the window.
    pub selected: Option<ModelKind>,
    /// True when the selection fell back to the last value.
    pub selected_fallback: bool,
    /// Lowest MASE on the evaluation window (hindsight, for comparison only).
    pub best: Option<ModelKind>,
}

impl TraceReport {
    /// Evaluation score of the selected model.
    pub fn selected_score(&self) -> Option<&ModelScore> {
        self.scores.iter().find(|s| Some(s.model) == self.selected)
    }
}

/// A horizon in whole steps, rounded up (a 15-minute horizon on hourly data is one step).
pub fn horizon_steps(horizon_seconds: i64, step_seconds: i64) -> usize {
    let steps = (horizon_seconds.max(1) + step_seconds - 1) / step_seconds.max(1);
    steps.max(1) as usize
}

/// Scores every model on `data` and runs the selection on the data before the window.
pub fn evaluate_trace(name: &str, data: &Resampled, horizon_seconds: i64, cfg: &EvalConfig) -> Result<TraceReport> {
    let series = &data.series;
    let h = horizon_steps(horizon_seconds, series.step_seconds());
    let at = origins(series.len(), h, &cfg.backtest);
    let scores: Vec<ModelScore> = backtest_at(series, &cfg.models, h, &at, &cfg.backtest)
        .into_iter()
        .map(|r| r.score)
        .collect();
    let (selected, selected_fallback) = match at.first() {
        Some(&first) => {
            let f = select(&series.prefix(first), h, &cfg.select)?;
            (Some(f.model), f.fallback)
        }
        None => (None, false),
    };
    let best = scores
        .iter()
        .filter_map(|s| s.mase.map(|m| (m, s.model)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, m)| m);
    Ok(TraceReport {
        trace: name.to_owned(),
        points: series.len(),
        filled: data.filled,
        step_seconds: series.step_seconds(),
        horizon_steps: h,
        scores,
        selected,
        selected_fallback,
        best,
    })
}

/// Medians over traces for one model (or for the selection).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    /// Model name, or `selected`.
    pub model: String,
    /// Traces where the model has a MASE.
    pub traces: usize,
    /// Median MASE over those traces.
    pub median_mase: Option<f64>,
    /// Median sMAPE over those traces.
    pub median_smape: Option<f64>,
    /// Mean coverage of the 90% interval.
    pub mean_coverage: Option<f64>,
}

/// Summary rows: one per model scored (in `ModelKind` order), then the selection.
pub fn summarize(reports: &[TraceReport]) -> Vec<ModelSummary> {
    let mut models: Vec<ModelKind> = reports.iter().flat_map(|r| r.scores.iter().map(|s| s.model)).collect();
    models.sort();
    models.dedup();
    let mut rows: Vec<ModelSummary> = models
        .iter()
        .map(|&m| {
            let scores = reports.iter().filter_map(|r| r.scores.iter().find(|s| s.model == m));
            summary_row(m.as_str(), scores)
        })
        .collect();
    rows.push(summary_row(
        "selected",
        reports.iter().filter_map(TraceReport::selected_score),
    ));
    rows
}

/// The target's figure: the selection's median MASE over the best (lowest) median MASE of
/// the [`PEERS`], with that peer. `None` when either is missing.
pub fn ratio_to_best_peer(rows: &[ModelSummary]) -> Option<(f64, String)> {
    let selected = rows.iter().find(|r| r.model == "selected")?.median_mase?;
    let (best, name) = rows
        .iter()
        .filter(|r| PEERS.iter().any(|p| p.as_str() == r.model))
        .filter_map(|r| r.median_mase.map(|m| (m, r.model.clone())))
        .min_by(|a, b| a.0.total_cmp(&b.0))?;
    (best > 0.0).then(|| (selected / best, name))
}

fn summary_row<'a>(name: &str, scores: impl Iterator<Item = &'a ModelScore>) -> ModelSummary {
    let scores: Vec<&ModelScore> = scores.filter(|s| s.mase.is_some()).collect();
    let coverage: Vec<f64> = scores.iter().filter_map(|s| s.coverage).collect();
    ModelSummary {
        model: name.to_owned(),
        traces: scores.len(),
        median_mase: median(scores.iter().filter_map(|s| s.mase).collect()),
        median_smape: median(scores.iter().filter_map(|s| s.smape).collect()),
        mean_coverage: (!coverage.is_empty()).then(|| coverage.iter().sum::<f64>() / coverage.len() as f64),
    }
}

/// Median of a sample (mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use forecast::testdata::daily_sine;

    #[test]
    fn horizon_rounds_up_to_whole_steps() {
        assert_eq!(horizon_steps(900, 300), 3);
        assert_eq!(horizon_steps(900, 600), 2);
        assert_eq!(horizon_steps(900, 3600), 1);
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), Some(2.5));
    }

    #[test]
    fn trace_evaluation_scores_all_models_and_selects_from_the_past() {
        let series = daily_sine(300, 5 * 288, 40.0, 0.0, 15.0, 1.0, 4);
        let data = Resampled {
            series,
            filled: 0,
            merged: 0,
        };
        let r = evaluate_trace("synthetic", &data, 3600, &EvalConfig::default()).unwrap();
        assert_eq!(r.scores.len(), ModelKind::ALL.len());
        // 432 candidate origins thinned to every third one
        assert!(r.scores.iter().all(|s| s.origins == 145), "{:?}", r.scores);
        let selected = r.selected_score().unwrap().mase.unwrap();
        let last = r.scores[0].mase.unwrap();
        assert!(selected < last, "selected {selected} vs last value {last}");
        let summary = summarize(&[r]);
        assert_eq!(summary.len(), ModelKind::ALL.len() + 1);
        assert_eq!(summary[ModelKind::ALL.len()].median_mase, Some(selected));
        let names: Vec<&str> = summary.iter().map(|r| r.model.as_str()).collect();
        for peer in PEERS {
            assert!(names.contains(&peer.as_str()), "{peer} missing from {names:?}");
        }
        let (ratio, _) = ratio_to_best_peer(&summary).unwrap();
        assert!(ratio > 0.0 && ratio.is_finite());
    }
}
