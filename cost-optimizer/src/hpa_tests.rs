//! The HPA against the worked examples of kubernetes.io "Horizontal Pod Autoscaling".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn docs_formula_double_and_halve() {
    // "if the current metric value is 200m, and the desired value is 100m, the number of
    // replicas will be doubled ... If the current value is instead 50m, you'll halve"
    assert_eq!(desired_replicas(3, 200.0, 100.0, 0.1), 6);
    assert_eq!(desired_replicas(4, 50.0, 100.0, 0.1), 2);
    // ceil: 3 * 150 / 100 = 4.5 -> 5
    assert_eq!(desired_replicas(3, 150.0, 100.0, 0.1), 5);
}

#[test]
fn docs_tolerance_skips_small_changes() {
    // Ratio 1.1 and 0.9 are within the default 0.1 tolerance; 1.11 is not.
    assert_eq!(desired_replicas(10, 110.0, 100.0, 0.1), 10);
    assert_eq!(desired_replicas(10, 90.0, 100.0, 0.1), 10);
    assert_eq!(desired_replicas(10, 111.0, 100.0, 0.1), 12);
    assert_eq!(average_value_proposal(10, 10.5, 1.0, 0.1), 10);
    assert_eq!(average_value_proposal(10, 12.5, 1.0, 0.1), 13);
}

#[test]
fn unready_pods_count_as_idle_on_scale_up() {
    // 4 pods, 2 ready at 100 % of a 0.5 target: ratio 2 over ready pods, but counting the
    // 2 starting pods at 0 % gives exactly 1.0: nothing more is asked for.
    assert_eq!(utilization_proposal(4, 2, 1.0, 0.5, 0.1), 4);
    // Demand 3 cores: over 4 pods ratio 1.5 -> 6.
    assert_eq!(utilization_proposal(4, 2, 3.0, 0.5, 0.1), 6);
    // All ready: plain formula; no ready pod: no change.
    assert_eq!(utilization_proposal(4, 4, 3.0, 0.5, 0.1), 6);
    assert_eq!(utilization_proposal(4, 0, 3.0, 0.5, 0.1), 4);
}

#[test]
fn largest_proposal_wins_and_bounds_clamp() {
    let mut hpa = Hpa::new(HpaSpec::with_defaults(2, 10));
    assert_eq!(hpa.reconcile(0.0, 4, &[3, 6, 5]), 6);
    // 1000 proposed but max is 10 (and +100 % of 6 = 12 allows it).
    assert_eq!(hpa.reconcile(15.0, 6, &[1000]), 10);
    // Out of bounds replicas are fixed at once.
    let mut hpa = Hpa::new(HpaSpec::with_defaults(2, 10));
    assert_eq!(hpa.reconcile(0.0, 1, &[1]), 2);
    assert_eq!(hpa.reconcile(0.0, 0, &[5]), 0);
}

#[test]
fn docs_default_scale_up_is_max_of_100_percent_and_4_pods_per_15s() {
    let mut hpa = Hpa::new(HpaSpec::with_defaults(1, 100));
    // From 1: +4 pods beats +100 %.
    assert_eq!(hpa.reconcile(0.0, 1, &[40]), 5);
    // Same period (t within 15 s): the period started at 1, so nothing more.
    assert_eq!(hpa.reconcile(10.0, 5, &[40]), 5);
    // Next period starts at 5: +100 % = 10 beats +4 = 9.
    assert_eq!(hpa.reconcile(15.0, 5, &[40]), 10);
    assert_eq!(hpa.reconcile(30.0, 10, &[40]), 20);
    assert_eq!(hpa.reconcile(45.0, 20, &[40]), 40);
}

#[test]
fn docs_scale_down_stabilization_keeps_the_highest_recommendation_for_300s() {
    let mut hpa = Hpa::new(HpaSpec::with_defaults(1, 20));
    assert_eq!(hpa.reconcile(0.0, 10, &[10]), 10);
    // Load drops at t=15: recommendation 2, but 10 was recommended within the window.
    let mut t = 15.0;
    while t < 300.0 {
        assert_eq!(hpa.reconcile(t, 10, &[2]), 10, "at {t}");
        t += 15.0;
    }
    // At t=300 the recommendation from t=0 falls out (window is (now-300, now]).
    assert_eq!(hpa.reconcile(300.0, 10, &[2]), 2);
}

#[test]
fn stabilization_follows_the_window_maximum_down_in_steps() {
    let mut hpa = Hpa::new(HpaSpec::with_defaults(1, 20));
    hpa.reconcile(0.0, 10, &[10]);
    hpa.reconcile(100.0, 10, &[6]);
    // At 300 the 10 expires but the 6 from t=100 is still inside the window.
    assert_eq!(hpa.reconcile(300.0, 10, &[2]), 6);
    assert_eq!(hpa.reconcile(400.0, 6, &[2]), 2);
}

#[test]
fn docs_scale_down_policies_percent_rounds_like_the_controller() {
    // kubernetes.io example: Pods 4 / 60 s and Percent 10 / 60 s, selectPolicy Max. "if there
    // are 80 replicas ... during the first step 8 replicas will be reduced. In the next
    // iteration when the number of replicas is 72, 10% of the pods is 7.2 but the number is
    // rounded up to 8."
    let mut spec = HpaSpec::with_defaults(1, 100);
    spec.scale_down = ScalingRules {
        stabilization_window_seconds: 0.0,
        select_policy: SelectPolicy::Max,
        policies: vec![
            ScalingPolicy {
                kind: ScalingPolicyType::Pods,
                value: 4,
                period_seconds: 60.0,
            },
            ScalingPolicy {
                kind: ScalingPolicyType::Percent,
                value: 10,
                period_seconds: 60.0,
            },
        ],
    };
    let mut hpa = Hpa::new(spec);
    assert_eq!(hpa.reconcile(0.0, 80, &[10]), 72);
    // Within the same 60 s period nothing more may go.
    assert_eq!(hpa.reconcile(30.0, 72, &[10]), 72);
    assert_eq!(hpa.reconcile(60.0, 72, &[10]), 64);
    // Below 40 replicas the 4-pod policy allows more than 10 %.
    let mut hpa2 = Hpa::new(hpa.spec().clone());
    assert_eq!(hpa2.reconcile(0.0, 30, &[10]), 26);
}

#[test]
fn the_deployed_behaviour_is_read_from_the_config_file() {
    // Arrange: the file every HPA in k8s/ is checked against (check-deploy.sh)
    let spec = HpaSpec::deployed(1, 50).unwrap();
    // Assert: scale-up is limited per 60 s, not per 15 s as the defaults
    assert!(spec.scale_up.policies.iter().all(|p| p.period_seconds == 60.0));
    assert_eq!(spec.scale_down.select_policy, SelectPolicy::Min);
    assert_eq!(spec.scale_down.stabilization_window_seconds, 300.0);
    // Act: 2 pods asked to go to 20; +100 % or +4 per minute (Max): 6, then 12 a minute later
    let mut hpa = Hpa::new(spec);
    assert_eq!(hpa.reconcile(0.0, 2, &[20]), 6);
    assert_eq!(hpa.reconcile(15.0, 6, &[20]), 6, "the minute's budget is spent");
    assert_eq!(hpa.reconcile(60.0, 6, &[20]), 12);
}

#[test]
fn select_policy_min_takes_the_smaller_change() {
    let mut spec = HpaSpec::with_defaults(1, 100);
    spec.scale_up.select_policy = SelectPolicy::Min;
    // +100 % of 10 is 20, +4 pods is 14: Min keeps 14.
    assert_eq!(Hpa::new(spec).reconcile(0.0, 10, &[40]), 14);
}
