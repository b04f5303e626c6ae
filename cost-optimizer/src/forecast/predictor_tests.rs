//! The adapter sees only the past, answers with the requested length, and memoizes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// Six hours at 15 s: an hourly wave around 4 pods, then from `spike_at` a jump to 40.
fn series(spike_at: usize) -> Vec<f64> {
    (0..1440)
        .map(|i| {
            let wave = 4.0 + (i as f64 * std::f64::consts::TAU / 240.0).sin() + 0.1 * ((i * 7919) % 13) as f64;
            if i >= spike_at { 40.0 } else { wave }
        })
        .collect()
}

fn ask(f: &mut PredictorForecaster, values: &[f64], now: usize, horizon: usize) -> Option<ForecastPath> {
    f.forecast(&ForecastRequest {
        history: &values[..=now],
        now_step: now,
        step_seconds: 15.0,
        horizon_steps: horizon,
    })
}

#[test]
fn a_late_spike_is_not_anticipated_and_the_path_has_the_requested_length() {
    // Arrange: the same past, one future with a spike right after the decision, one without
    let (spiky, calm) = (series(1400), series(usize::MAX));
    let (mut a, mut b) = (
        PredictorForecaster::new(PredictorConfig::default()),
        PredictorForecaster::new(PredictorConfig::default()),
    );
    // Act: decide at the last step before the spike
    let p = ask(&mut a, &spiky, 1399, 20).expect("six hours are enough to select a model");
    let q = ask(&mut b, &calm, 1399, 20).unwrap();
    // Assert
    assert_eq!((p.mean.len(), p.upper.len()), (20, 20));
    assert_eq!(p, q, "the future must not change the forecast");
    assert!(p.max_upper(20) < 10.0, "anticipated the spike: {:?}", p.upper);
    assert!(p.mean.iter().zip(&p.upper).all(|(m, u)| m <= u));
    assert_eq!(a.selections(), 1);
}

#[test]
fn short_history_gives_none_and_each_bucket_is_fitted_once() {
    let values = series(usize::MAX);
    let mut f = PredictorForecaster::new(PredictorConfig::default());
    // Under one bucket of history there is nothing to fit; under ~2.5 h no backtest can run.
    assert!(ask(&mut f, &values, 10, 20).is_none());
    assert!(ask(&mut f, &values, 300, 20).is_none());
    let first = ask(&mut f, &values, 1200, 20).unwrap();
    let runs = f.selections();
    // Same bucket: the memo answers, one step further on and re-anchored on the new scrape.
    let later = ask(&mut f, &values, 1201, 20).unwrap();
    assert_eq!(f.selections(), runs);
    let shift = later.mean[0] - first.mean[1];
    assert!(
        first.mean[1..19]
            .iter()
            .zip(&later.mean[..18])
            .all(|(a, b)| (b - a - shift).abs() < 1e-9)
    );
    assert!(f.model().is_some());
}
