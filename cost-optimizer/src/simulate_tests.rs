//! Simulator sanity: a step in demand, a perfect forecaster, and no peeking at the future.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::forecast::{ForecastRequest, LastValueTrend, Oracle, Outlook, Peak};
use forecast::peak::PeakConfig;
use forecast::trace::Interpolation;

fn trace(values: Vec<f64>) -> Trace {
    Trace {
        name: "t".into(),
        source_step_seconds: 15.0,
        step_seconds: 15.0,
        interpolation: Interpolation::Linear,
        values,
    }
}

/// 2 pods of demand for an hour, then 8 for an hour.
fn step_up() -> Trace {
    trace((0..480).map(|i| if i < 240 { 2.0 } else { 8.0 }).collect())
}

fn run_with(t: &Trace, p: Strategy, oracle: bool) -> PolicyResult {
    let make: &ForecasterFactory<'_> = if oracle {
        &|d: &[f64]| Box::new(Oracle::new(d.to_vec())) as Box<dyn Forecaster>
    } else {
        &|_: &[f64]| Box::new(LastValueTrend::default()) as Box<dyn Forecaster>
    };
    simulate(t, &SimConfig::default(), &[p], make, true)
        .unwrap()
        .results
        .remove(0)
}

#[test]
fn constant_demand_never_scales_or_falls_short() {
    let t = trace(vec![3.5; 240]);
    for p in Strategy::ALL {
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
    let r = run_with(&step_up(), Strategy::Reactive, false);
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
    let reactive = run_with(&t, Strategy::Reactive, false);
    let predictive = run_with(&t, Strategy::Predictive, true);
    let cost_aware = run_with(&t, Strategy::CostAware, true);
    assert!(predictive.underprovisioned_minutes < reactive.underprovisioned_minutes);
    // The lead (150 s) covers the start-up delay (60 s): the rule is never short.
    assert_eq!(cost_aware.underprovisioned_minutes, 0.0);
    assert_eq!(predictive.forecast_fallbacks, 0);
}

/// Two days of a daily cycle (2 to 8 pods) with steps on top: at a fixed minute of every
/// hour demand jumps by 3 pods for ten minutes. 15 s steps.
fn cycle_with_steps() -> Trace {
    let day = 5760.0;
    trace(
        (0..2 * 5760)
            .map(|i| {
                let phase = f64::from(i) / day * std::f64::consts::TAU;
                let minute = (i % 240) / 4;
                let step = if (30..40).contains(&minute) { 3.0 } else { 0.0 };
                5.0 - 3.0 * phase.cos() + step
            })
            .collect(),
    )
}

fn predictive_vs_reactive(make: &ForecasterFactory<'_>) -> (PolicyResult, PolicyResult) {
    let t = cycle_with_steps();
    let policies = [Strategy::Reactive, Strategy::Predictive];
    let mut r = simulate(&t, &SimConfig::default(), &policies, make, false)
        .unwrap()
        .results;
    let predictive = r.remove(1);
    (r.remove(0), predictive)
}

#[test]
fn the_predictors_forecaster_beats_reactive_on_a_cycle_with_steps() {
    // Arrange: the forecaster the service runs, at its default quantile
    let make = |_: &[f64]| Box::new(Peak::new(PeakConfig::default())) as Box<dyn Forecaster>;
    // Act
    let (reactive, predictive) = predictive_vs_reactive(&make);
    // Assert: fewer minutes short, for a modest price, and calibrated near its quantile
    assert!(
        predictive.underprovisioned_minutes < 0.75 * reactive.underprovisioned_minutes,
        "predictive {} vs reactive {} min",
        predictive.underprovisioned_minutes,
        reactive.underprovisioned_minutes
    );
    assert!(
        predictive.pod_hours < 1.3 * reactive.pod_hours,
        "{} vs {}",
        predictive.pod_hours,
        reactive.pod_hours
    );
    let coverage = predictive.forecast_coverage.unwrap();
    assert!((0.8..=1.0).contains(&coverage), "coverage {coverage}");
    assert!(predictive.forecast_fallbacks < 200, "{}", predictive.forecast_fallbacks);
}

/// Answers the current observation whatever it is asked: a forecast path that is broken.
struct Constant;

impl Forecaster for Constant {
    fn name(&self) -> &str {
        "constant"
    }
    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<Outlook> {
        let _ = req;
        Some(Outlook { peak: 1.0, point: 1.0 })
    }
}

#[test]
fn a_broken_forecast_path_gains_nothing_over_reactive() {
    // The test above must fail when the forecast carries no information.
    let make = |_: &[f64]| Box::new(Constant) as Box<dyn Forecaster>;
    let (reactive, predictive) = predictive_vs_reactive(&make);
    assert!(
        predictive.underprovisioned_minutes >= 0.9 * reactive.underprovisioned_minutes,
        "predictive {} vs reactive {} min",
        predictive.underprovisioned_minutes,
        reactive.underprovisioned_minutes
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
    fn forecast(&mut self, req: &ForecastRequest<'_>) -> Option<Outlook> {
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
    let r = simulate(&t, &SimConfig::default(), &[Strategy::CostAware], &make, false).unwrap();
    // Every step asked once and fell back to current usage.
    assert_eq!(r.results[0].forecast_fallbacks, 600);
}

#[test]
fn policy_names_round_trip() {
    for p in Strategy::ALL {
        assert_eq!(p.name().parse::<Strategy>().unwrap(), p);
    }
    assert!("proactive".parse::<Strategy>().is_err());
}
