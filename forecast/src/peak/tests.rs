//! The peak forecaster on series whose answer is known.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::testdata::Rng;

fn small(candidates: Vec<PeakModel>) -> PeakConfig {
    PeakConfig {
        lead_steps: 4,
        calibration_samples: 400,
        sample_every: 1,
        recalibrate_every: 5,
        min_errors: 20,
        selection_half_life: 200.0,
        candidates,
        bucket_steps: 1,
        period_buckets: 96,
        periods_kept: 3,
        ..PeakConfig::default()
    }
}

#[test]
fn nothing_is_served_before_calibration_and_a_flat_series_is_its_value() {
    let mut f = PeakForecaster::new(small(PeakModel::ALL.to_vec()));
    for _ in 0..10 {
        f.push(3.0);
    }
    assert!(f.forecast().is_none(), "10 samples measure no error");
    for _ in 0..100 {
        f.push(3.0);
    }
    let p = f.forecast().unwrap();
    assert!((p.peak - 3.0).abs() < 1e-9 && (p.point - 3.0).abs() < 1e-9, "{p:?}");
    assert_eq!(p.coverage, Some(1.0));
}

#[test]
fn a_ramp_is_served_by_the_trend_and_covered() {
    // Arrange: a steady climb with a little noise
    let mut rng = Rng::new(3);
    let ramp: Vec<f64> = (0..600)
        .map(|i| 10.0 + 0.05 * f64::from(i) + 0.01 * rng.normal())
        .collect();
    // Act
    let f = PeakForecaster::from_history(small(PeakModel::ALL.to_vec()), &ramp);
    // Assert: the peak four samples ahead is about 0.2 above the last sample
    let p = f.forecast().unwrap();
    assert_eq!(p.model, PeakModel::Trend);
    let last = ramp[599];
    assert!(p.point > last + 0.15 && p.point < last + 0.25, "{p:?}, last {last}");
    assert!(p.coverage.unwrap() > 0.8, "{p:?}");
}

#[test]
fn coverage_is_near_the_quantile_on_a_random_walk() {
    let mut rng = Rng::new(11);
    let mut x = 500.0;
    let walk: Vec<f64> = (0..6000)
        .map(|_| {
            x += rng.normal();
            x
        })
        .collect();
    let f = PeakForecaster::from_history(small(vec![PeakModel::LastValue]), &walk);
    let p = f.forecast().unwrap();
    let coverage = p.coverage.unwrap();
    assert!((0.85..=0.95).contains(&coverage), "coverage {coverage}");
    assert!(p.peak > p.point, "a walk needs headroom: {p:?}");
}

/// A day of 96 samples: low, then a step up at sample 60 that lasts 20 samples.
fn daily_step(days: usize) -> Vec<f64> {
    let mut rng = Rng::new(5);
    (0..days * 96)
        .map(|i| if (60..80).contains(&(i % 96)) { 20.0 } else { 5.0 } + 0.1 * rng.normal())
        .collect()
}

#[test]
fn the_seasonal_profile_sees_a_daily_step_before_it_comes() {
    // Arrange: four days, cut two samples before the fifth day's step
    let mut history = daily_step(5);
    history.truncate(4 * 96 + 58);
    // Act
    let seasonal = PeakForecaster::from_history(small(PeakModel::ALL.to_vec()), &history);
    let blind = PeakForecaster::from_history(small(vec![PeakModel::LastValue, PeakModel::Trend]), &history);
    // Assert: with the profile the forecast covers the step; without it, it stays near 5
    let s = seasonal.forecast().unwrap();
    let b = blind.forecast().unwrap();
    assert_eq!(s.model, PeakModel::Seasonal, "{s:?}");
    assert!(s.peak > 18.0, "{s:?}");
    assert!(
        b.peak < 10.0 || b.peak > 100.0,
        "without seasons nothing foresees the step: {b:?}"
    );
}
