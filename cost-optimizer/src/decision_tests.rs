//! Edge cases of the decision rule: bounds, tolerance, stabilization, budget cap, fallback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

// medium pods (0.5 core) at a 70 % target: one pod serves 0.35 cores.
fn policy() -> ServicePolicy {
    ServicePolicy::new("medium", 2, 20, 0.7)
}

fn medium() -> Tier {
    Tier::new("medium", 0.5, 512.0)
}

fn forecast(upper: f64, window: Option<f64>) -> Option<DemandForecast> {
    Some(DemandForecast {
        mean_cores: upper * 0.8,
        upper_cores: upper,
        window_upper_cores: window,
        confidence: None,
    })
}

fn input(current: u32, f: Option<DemandForecast>) -> DecisionInput {
    DecisionInput {
        current_replicas: current,
        current_cpu_cores: Some(1.0),
        forecast: f,
        ..Default::default()
    }
}

fn run(p: &ServicePolicy, i: &DecisionInput) -> ScalingDecision {
    decide("order-service", p, &medium(), &Pricing::default(), i)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn scales_up_to_the_upper_bound_and_prices_it() {
    // 2.1 cores / 0.35 = 6 replicas; ratio at 4 is 1.5.
    let d = run(&policy(), &input(4, forecast(2.1, None)));
    assert_eq!((d.action, d.recommended_replicas), (Action::ScaleUp, 6));
    assert_eq!(d.slo_risk, SloRisk::Low);
    assert!(!d.fallback);
    assert!(close(d.predicted_utilization.unwrap(), 2.1 / 2.0));
    // Usage (1 core) is below the request, so requests are charged: 0.017924 USD per pod-hour.
    assert!(close(d.cost_per_hour_now, 4.0 * 0.017924));
    assert!(close(d.cost_per_hour_after, 6.0 * 0.017924));
    assert!(close(d.impact.per_hour, 0.035848));
    assert!(close(d.impact.per_month, 26.16904));
    assert!(close(d.confidence, 0.8));
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["action"], "scale_up");
    assert_eq!(json["slo_risk"], "low");
    assert!(d.reasoning.len() >= 4);
}

#[test]
fn holds_within_the_ten_percent_tolerance() {
    // 1.5 / (0.35 * 4) = 1.071: inside 1 +/- 0.1 although ceil would ask for 5.
    let d = run(&policy(), &input(4, forecast(1.5, None)));
    assert_eq!(
        (d.action, d.recommended_replicas, d.outcome.needed_replicas),
        (Action::Hold, 4, 5)
    );
    assert_eq!(d.outcome.reason, Reason::WithinTolerance);
    // 1.55 / 1.4 = 1.107 is outside.
    let d = run(&policy(), &input(4, forecast(1.55, None)));
    assert_eq!((d.action, d.recommended_replicas), (Action::ScaleUp, 5));
}

#[test]
fn clamps_to_bounds() {
    let d = run(&policy(), &input(10, forecast(100.0, None)));
    assert_eq!((d.action, d.recommended_replicas), (Action::ScaleUp, 20));
    assert_eq!(d.slo_risk, SloRisk::High, "100 cores on 10 requested");
    let d = run(&policy(), &input(3, forecast(0.01, Some(0.01))));
    assert_eq!((d.action, d.recommended_replicas), (Action::ScaleDown, 2));
    // Out-of-bounds replicas move inside even when the demand would say otherwise.
    let d = run(&policy(), &input(25, forecast(100.0, None)));
    assert_eq!(
        (d.action, d.recommended_replicas, d.outcome.reason),
        (Action::ScaleDown, 20, Reason::OutOfBounds)
    );
    let d = run(&policy(), &input(1, forecast(0.0, None)));
    assert_eq!((d.action, d.recommended_replicas), (Action::ScaleUp, 2));
}

#[test]
fn scale_down_waits_for_the_whole_window() {
    // Now 0.7 cores (2 replicas) but the window's upper bound 2.1 needs 6: hold.
    let d = run(&policy(), &input(6, forecast(0.7, Some(2.1))));
    assert_eq!(
        (d.action, d.recommended_replicas, d.outcome.reason),
        (Action::Hold, 6, Reason::Stabilizing)
    );
    // Window needs 5: partial scale-down to 5, not to 2.
    let d = run(&policy(), &input(6, forecast(0.7, Some(1.75))));
    assert_eq!((d.action, d.recommended_replicas), (Action::ScaleDown, 5));
    assert!(d.impact.per_hour < 0.0);
    // Window as low as now: all the way.
    let d = run(&policy(), &input(6, forecast(0.7, Some(0.7))));
    assert_eq!(
        (d.action, d.recommended_replicas, d.outcome.reason),
        (Action::ScaleDown, 2, Reason::Demand)
    );
}

#[test]
fn budget_caps_a_scale_up_and_flags_the_slo() {
    let mut p = policy();
    // 5 pods cost 0.08962 USD/h, 6 cost 0.107544.
    p.hourly_budget_usd = Some(0.09);
    let d = run(&p, &input(4, forecast(2.1, None)));
    assert_eq!(
        (d.action, d.recommended_replicas, d.outcome.needed_replicas),
        (Action::ScaleUp, 5, 6)
    );
    assert_eq!(d.slo_risk, SloRisk::High);
    assert!(
        d.reasoning.iter().any(|s| s.contains("SLO is at risk")),
        "{:?}",
        d.reasoning
    );
    // Already at the cap: hold, never a forced scale-down.
    let d = run(&p, &input(5, forecast(2.1, None)));
    assert_eq!((d.action, d.recommended_replicas), (Action::Hold, 5));
    // A budget above the cost does not interfere.
    p.hourly_budget_usd = Some(1.0);
    let d = run(&p, &input(4, forecast(2.1, None)));
    assert_eq!((d.recommended_replicas, d.slo_risk), (6, SloRisk::Low));
}

#[test]
fn falls_back_to_current_usage_and_says_so() {
    let mut i = input(4, None);
    i.current_cpu_cores = Some(2.1);
    i.unavailable_reason = Some("predictor unreachable".into());
    let d = run(&policy(), &i);
    assert_eq!((d.action, d.recommended_replicas), (Action::ScaleUp, 6));
    assert!(d.fallback);
    assert_eq!(d.outcome.source, DemandSource::CurrentUsage);
    assert_eq!((d.slo_risk, d.confidence), (SloRisk::Medium, 0.5));
    assert!(d.reasoning[0].contains("falls back") && d.reasoning[0].contains("predictor unreachable"));
}

#[test]
fn without_any_data_it_holds() {
    let i = DecisionInput {
        current_replicas: 4,
        ..Default::default()
    };
    let d = run(&policy(), &i);
    assert_eq!(
        (d.action, d.recommended_replicas, d.slo_risk, d.confidence),
        (Action::Hold, 4, SloRisk::High, 0.0)
    );
    assert_eq!(d.predicted_utilization, None);
}

#[test]
fn unknown_service_is_an_error() {
    let m = CostModel::default();
    assert!(decide_for(&m, "nope", &input(2, None)).is_err());
    assert_eq!(
        decide_for(&m, "order-service", &input(4, forecast(2.1, None)))
            .unwrap()
            .recommended_replicas,
        6
    );
}
