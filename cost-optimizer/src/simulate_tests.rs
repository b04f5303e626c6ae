//! Simulator sanity: a step in demand, a perfect forecaster, and no peeking at the future.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::forecast::{ForecastPath, ForecastRequest, LastValueTrend, Oracle, PredictorConfig, PredictorForecaster};

fn trace(values: Vec<f64>) -> Trace {
    Trace {
        name: "t".into(),
        source_step_seconds: 15.0,
        step_seconds: 15.0,
        values,
    }
}

/// 2 pods of demand for an hour, then 8 for an hour.
fn step_up() -> Trace {
    trace((0..480).map(|i| if i < 240 { 2.0 } else { 8.0 }).collect())
}

fn run_with(t: &Trace, p: PolicyKind, oracle: bool) -> PolicyResult {
    let make: &ForecasterFactory<'_> = if oracle {
        &|d: &[f64]| Box::new(Oracle::new(d.to_vec())) as Box<dyn Forecaster>
    } else {
        &|_: &[f64]| Box::new(LastValueTrend::default()) as Box<dyn Forecaster>
    };
    simulate(t, &SimConfig::default(), &[p], make, true).results.remove(0)
}

#[test]
fn constant_demand_never_scales_or_falls_short() {
    let t = trace(vec![3.5; 240]);
    for p in PolicyKind::ALL {
        let r = run_with(&t, p, false);
        assert_eq!(r.scaling_events, 0, "{p:?}");
        assert_eq!(r.underprovisioned_minutes, 0.0, "{p:?}");
        // ceil(3.5 / 0.7) = 5 pods for one hour.
        assert!((r.pod_hours - 5.0).abs() < 1e-9, "{p:?} {}", r.pod_hours);
        assert!((r.cost_usd - 5.0 * 0.017924).abs() < 1e-9);
    }
}

#[test]
fn reactive_is_short_for_at_least_the_startup_delay_after_a_step() {
    let r = run_with(&step_up(), PolicyKind::Reactive, false);
    // The step is seen one scrape later, then pods need 60 s: at least 60 s short.
    assert!(r.underprovisioned_minutes >= 1.0, "{}", r.underprovisioned_minutes);
    assert!(
        r.peak_shortfall_pods > 4.0,
        "demand 8 on ~3 pods: {}",
        r.peak_shortfall_pods
    );
    assert!(r.scaling_events >= 1);
    // It ends with enough pods: ceil(8 / 0.7) = 12.
    assert_eq!(r.ready_series.last().copied(), Some(12.0));
}

#[test]
fn a_perfect_forecaster_reduces_under_provisioning() {
    let t = step_up();
    let reactive = run_with(&t, PolicyKind::Reactive, false);
    let predictive = run_with(&t, PolicyKind::Predictive, true);
    let cost_aware = run_with(&t, PolicyKind::CostAware, true);
    assert!(predictive.underprovisioned_minutes < reactive.underprovisioned_minutes);
    // The lead (120 s) covers the start-up delay (60 s): the rule is never short.
    assert_eq!(cost_aware.underprovisioned_minutes, 0.0);
    assert_eq!(predictive.forecast_fallbacks, 0);
}

#[test]
fn the_predictors_models_beat_reactive_on_periodic_demand() {
    // Arrange: two days of an hourly pulse from 2 to 9 pods (up in 3 minutes, 20 minutes
    // high); a ramp that steep outruns a reactive HPA, which waits for the rate window and the
    // start-up delay, while the pulse repeats at the same minute of every hour.
    let wave = (0..11_520).map(|i| {
        let minute = (i % 240) as f64 / 4.0;
        2.0 + 7.0 * (minute / 3.0).min(1.0) * f64::from(u8::from(minute < 20.0))
    });
    let t = trace(wave.collect());
    let make = |_: &[f64]| Box::new(PredictorForecaster::new(PredictorConfig::default())) as Box<dyn Forecaster>;
    // Act
    let r = simulate(
        &t,
        &SimConfig::default(),
        &[PolicyKind::Reactive, PolicyKind::Predictive],
        &make,
        false,
    );
    // Assert
    let (reactive, predictive) = (&r.results[0], &r.results[1]);
    assert!(
        predictive.underprovisioned_minutes < reactive.underprovisioned_minutes,
        "predictive {} vs reactive {} min",
        predictive.underprovisioned_minutes,
        reactive.underprovisioned_minutes
    );
    // Only the first hours, before a backtest can run, go without a forecast.
    assert!(
        predictive.forecast_fallbacks < 1_000,
        "{}",
        predictive.forecast_fallbacks
    );
}

/// Panics if it is ever shown an observation of the spike before the spike happens.
struct Spy {
    spike_at: usize,
    calls: usize,
}

impl Forecaster for Spy {
    fn name(&self) -> &str {
        "spy"
    }
    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<ForecastPath> {
        self.calls += 1;
        assert!(req.history.len() <= SimConfig::default().history_steps);
        if req.now_step <= self.spike_at {
            assert!(
                req.history.iter().all(|&v| v < 50.0),
                "future leaked at step {}",
                req.now_step
            );
        }
        None
    }
}

#[test]
fn forecasts_see_only_the_past() {
    let mut v = vec![1.0; 600];
    v[300] = 100.0;
    let t = trace(v);
    let make = |_: &[f64]| {
        Box::new(Spy {
            spike_at: 300,
            calls: 0,
        }) as Box<dyn Forecaster>
    };
    let r = simulate(&t, &SimConfig::default(), &[PolicyKind::CostAware], &make, false);
    // Every step asked once and fell back to current usage.
    assert_eq!(r.results[0].forecast_fallbacks, 600);
}

#[test]
fn policy_names_round_trip() {
    for p in PolicyKind::ALL {
        assert_eq!(p.name().parse::<PolicyKind>().unwrap(), p);
    }
    assert!("proactive".parse::<PolicyKind>().is_err());
}
