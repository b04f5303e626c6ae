//! What the HPA reads: per service, the peak demand over the lead time at the service's
//! quantile, from [`forecast::peak::PeakForecaster`], the same forecaster `cost-optimizer
//! simulate` evaluates, at the same 15-second step. It is exported as `predicted_cpu_cores`
//! and, as percent of the CPU the current replicas request, `predicted_cpu_utilization`.
//! Pure functions; the refresh loop calls [`PeakPrediction::compute`] in `spawn_blocking`.
//!
//! History long enough for seasons: Prometheus' `query_range` returns at most 11,000 points
//! per series, so a week at 15 s cannot come in one query. The refresh loop asks twice: the
//! recent history (`--recent`, 24 h) at the 15 s step, and the long history (`--history`,
//! 7 d) at `--season-step` (5 min). [`stitch`] feeds the forecaster the long history first,
//! only its part before the recent window, each value held for its 5 minutes at the 15 s
//! step, then the recent samples. The coarse part seeds the seasonal profile (the forecaster
//! keeps 7 daily periods of 5-minute buckets, and one held value fills exactly one bucket).
//! The errors the forecaster measures on held values (flat, then a jump) are not those of
//! 15 s data; they leave its calibration ring (1,440 kept errors, one every 4 samples: 24 h)
//! once a full recent window has followed them, which is why `--recent` defaults to 24 h
//! rather than less. The selection's loss average (half-life 12 h) has also mostly forgotten
//! them by then.
//!
//! A fresh service with an hour of data has no coarse part: the forecaster calibrates on the
//! recent samples alone (30 errors kept one every 4 samples, after the lead time: about 35
//! to 45 minutes) and until then the service falls back, as it does when anything else is
//! missing: `predictor_fallback` is 1 and the exported value is the last observed demand
//! (what the simulator's policy acts on when the forecaster has no answer), never a number
//! nobody measured.

use forecast::peak::{PeakConfig, PeakForecaster, PeakModel};
use serde::Serialize;

use crate::capacity::{Observed, capacity_unknown, utilization};
use crate::config::Config;

/// The forecaster's settings for one service: the configured lead time and the service's
/// quantile, and a seasonal profile whose bucket is one long-history step (so that a held
/// value fills one bucket) and whose period is a day. The rest come from `--peak-config`,
/// or are `PeakConfig`'s defaults, the simulator's.
pub fn peak_config(config: &Config, quantile: f64) -> PeakConfig {
    let step = config.effective_step_seconds().max(1);
    let season = config.effective_season_step_seconds().max(step);
    PeakConfig {
        lead_steps: config.lead_steps(),
        quantile,
        bucket_steps: usize::try_from(season / step).unwrap_or(1).max(1),
        period_buckets: usize::try_from(86_400 / season).unwrap_or(0),
        ..config.peak_config.clone().unwrap_or_default()
    }
}

/// The forecaster's input: the coarse points (`(timestamp, value)`, any order) before
/// `recent_start`, each held at the `step` grid that ends one step before `recent_start`
/// (so the two parts join without a gap or an overlap), then the `recent` samples, which
/// start at `recent_start`. A grid slot takes the newest coarse value at or before it, so a
/// missing coarse point holds the one before it and the seasonal phase stays true.
pub fn stitch(coarse: &[(i64, f64)], recent_start: i64, recent: &[f64], step: i64) -> Vec<f64> {
    let step = step.max(1);
    let mut before: Vec<(i64, f64)> = coarse
        .iter()
        .copied()
        .filter(|(t, v)| *t < recent_start && v.is_finite())
        .collect();
    before.sort_by_key(|p| p.0);
    let mut out = Vec::new();
    if let Some(&(first, _)) = before.first() {
        // Slots at recent_start - k * step, ..., recent_start - step; the first is not
        // before the first coarse point, so every slot has a value to hold.
        let slots = (recent_start - first) / step;
        out.reserve(usize::try_from(slots).unwrap_or(0) + recent.len());
        let mut next = 0;
        let mut held = None;
        for k in (1..=slots).rev() {
            let t = recent_start - k * step;
            while let Some(&(ts, v)) = before.get(next)
                && ts <= t
            {
                held = Some(v);
                next += 1;
            }
            if let Some(v) = held {
                out.push(v);
            }
        }
    }
    out.extend_from_slice(recent);
    out
}

/// The peak forecast served to the HPA; part of the JSON of `GET /predict/{service}` as
/// `peak`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PeakPrediction {
    /// Lead time the peak is taken over.
    pub lead_seconds: i64,
    /// Quantile served.
    pub quantile: f64,
    /// The candidate serving (none in fallback).
    pub model: Option<PeakModel>,
    /// What `predicted_cpu_cores` exports: the peak at the quantile, or in fallback the last
    /// observed demand.
    pub peak_cores: Option<f64>,
    /// Point forecast of the peak (none in fallback).
    pub point_cores: Option<f64>,
    /// `peak_cores` in percent of (replicas x request per pod): `predicted_cpu_utilization`.
    pub peak_utilization: Option<f64>,
    /// Share of the serving candidate's resolved quantile forecasts that covered the peak
    /// that followed (measured, not assumed).
    pub coverage: Option<f64>,
    /// Errors the quantile was measured from.
    pub errors: usize,
    /// Samples the forecaster was fed.
    pub samples: usize,
    /// Of those, the held values of the long history.
    pub seasonal_samples: usize,
    /// True when `peak_cores` is not a calibrated forecast on fresh data.
    pub fallback: bool,
    /// Why `fallback` is set.
    pub fallback_reason: Option<String>,
}

impl PeakPrediction {
    /// Feeds `values` (the output of [`stitch`], of which the first `seasonal_samples` are
    /// held long-history values) to a new forecaster and reads its forecast. CPU-bound (a
    /// week of 15 s samples is 40,320 pushes): call it from `spawn_blocking`.
    pub fn compute(
        values: &[f64],
        seasonal_samples: usize,
        config: PeakConfig,
        lead_seconds: i64,
        observed: Observed,
    ) -> Self {
        let quantile = config.quantile;
        let min_samples = config.lead_steps + config.min_errors * config.sample_every.max(1);
        let forecaster = PeakForecaster::from_history(config, values);
        let base = Self {
            samples: forecaster.samples(),
            seasonal_samples,
            fallback_reason: None,
            ..Self::empty(lead_seconds, quantile, String::new())
        };
        let mut p = match forecaster.forecast() {
            Some(f) => Self {
                model: Some(f.model),
                peak_cores: Some(f.peak),
                point_cores: Some(f.point),
                coverage: f.coverage,
                errors: f.errors,
                fallback: false,
                ..base
            },
            None => Self {
                peak_cores: values.last().copied().filter(|v| v.is_finite()),
                fallback_reason: Some(format!(
                    "peak forecaster not calibrated yet ({} samples; it needs about {min_samples}): serving the last observed demand",
                    values.len()
                )),
                ..base
            },
        };
        p.peak_utilization = p
            .peak_cores
            .and_then(|c| utilization(c, observed.replicas, observed.request_cores));
        if p.peak_cores.is_some() && p.peak_utilization.is_none() {
            p.mark_fallback(capacity_unknown(observed));
        }
        p
    }

    /// Nothing to forecast from: no numbers, and why.
    pub fn empty(lead_seconds: i64, quantile: f64, reason: String) -> Self {
        Self {
            lead_seconds,
            quantile,
            model: None,
            peak_cores: None,
            point_cores: None,
            peak_utilization: None,
            coverage: None,
            errors: 0,
            samples: 0,
            seasonal_samples: 0,
            fallback: true,
            fallback_reason: Some(reason),
        }
    }

    /// Sets `fallback`, putting `why` first in the reason.
    pub fn mark_fallback(&mut self, why: &str) {
        self.fallback = true;
        self.fallback_reason = Some(match self.fallback_reason.take() {
            Some(r) if !r.is_empty() => format!("{why}; {r}"),
            _ => why.to_owned(),
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn coarse_values_are_held_before_the_recent_samples() {
        // Arrange: 1-minute coarse points at 0, 60, 120 (and one inside the recent window,
        // which must be ignored), 15 s steps, the recent window starting at 180
        let coarse = [(120, 3.0), (0, 1.0), (60, 2.0), (180, 99.0)];
        // Act
        let v = stitch(&coarse, 180, &[10.0, 11.0], 15);
        // Assert: each coarse value four times, then the recent samples
        assert_eq!(
            v,
            [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 10.0, 11.0]
        );
    }

    #[test]
    fn a_missing_coarse_point_holds_the_previous_one_and_the_grid_ends_at_the_recent_start() {
        // The point at 60 is missing; the recent window starts off the coarse grid (at 170),
        // so the held grid is 170 - 15 k: 5, 20, ..., 155.
        let v = stitch(&[(0, 1.0), (120, 3.0)], 170, &[5.0], 15);
        let expected: Vec<f64> = (1..=11)
            .rev()
            .map(|k| if 170 - 15 * k < 120 { 1.0 } else { 3.0 })
            .chain([5.0])
            .collect();
        assert_eq!(v, expected);
        assert_eq!(v.len(), 12);
    }

    #[test]
    fn without_coarse_history_only_the_recent_samples_are_fed() {
        assert_eq!(stitch(&[], 100, &[1.0, 2.0], 15), [1.0, 2.0]);
        assert_eq!(stitch(&[(100, 7.0), (200, 8.0)], 100, &[1.0], 15), [1.0]);
        assert_eq!(stitch(&[(0, 7.0)], 100, &[], 15).len(), 6);
    }

    #[test]
    fn default_config_matches_the_simulator_forecaster() {
        let c = peak_config(&Config::default(), 0.95);
        let d = PeakConfig::default();
        assert_eq!((c.lead_steps, c.quantile), (10, 0.95));
        assert_eq!((c.bucket_steps, c.period_buckets), (d.bucket_steps, d.period_buckets));
        let custom = Config {
            peak_config: Some(PeakConfig {
                trend_steps: 7,
                quantile: 0.5,
                ..PeakConfig::default()
            }),
            ..Config::default()
        };
        let c = peak_config(&custom, 0.95);
        assert_eq!((c.trend_steps, c.quantile), (7, 0.95), "the service's quantile wins");
    }

    fn observed() -> Observed {
        Observed {
            current_cores: None,
            replicas: Some(2.0),
            request_cores: Some(0.5),
        }
    }

    #[test]
    fn short_history_falls_back_to_the_last_value_then_calibrates() {
        let cfg = || peak_config(&Config::default(), 0.9);
        let ramp: Vec<f64> = (0..400).map(|i| 0.2 + f64::from(i) * 0.001).collect();
        // An hour's first 20 minutes: not calibrated, the last value is served, flagged
        let early = PeakPrediction::compute(&ramp[..80], 0, cfg(), 150, observed());
        assert!(early.fallback && early.model.is_none(), "{early:?}");
        assert_eq!(early.peak_cores, Some(ramp[79]));
        assert!(early.fallback_reason.unwrap().contains("not calibrated"));
        // 100 minutes: calibrated, and on a ramp at or above the last value
        let p = PeakPrediction::compute(&ramp, 0, cfg(), 150, observed());
        assert!(!p.fallback, "{p:?}");
        let peak = p.peak_cores.unwrap();
        assert!(peak >= ramp[399], "{p:?}");
        assert!((p.peak_utilization.unwrap() - peak / 1.0 * 100.0).abs() < 1e-9);
        assert!(p.coverage.is_some() && p.errors >= 30, "{p:?}");
    }

    #[test]
    fn unknown_capacity_keeps_cores_and_flags_the_fallback() {
        let flat = vec![1.0; 400];
        let p = PeakPrediction::compute(&flat, 0, peak_config(&Config::default(), 0.9), 150, Observed::default());
        assert!(p.peak_cores.is_some() && p.peak_utilization.is_none() && p.fallback);
        assert!(p.fallback_reason.unwrap().contains("replicas unknown"));
    }
}
