//! The simulation loop for one policy on one trace. Pods are kept as a vector of ready times in
//! creation order: new pods are always the last to become ready, so "ready count" is a binary
//! search and "remove unready first" is a truncate.

use super::*;
use crate::decision::{DecisionInput, DemandForecast, TOLERANCE, rule};
use crate::forecast::ForecastRequest;
use crate::hpa::{average_value_proposal, ceil_u32, utilization_proposal};
use crate::policy::ServicePolicy;

/// Prometheus' view of the demand at each step: the mean over the rate window before the last
/// scrape at or before the step. Before the first full window it is the mean of what exists.
fn observe(demand: &[f64], c: &SimConfig) -> Vec<f64> {
    let scrape = c.steps(c.scrape_interval_seconds);
    let window = c.steps(c.rate_window_seconds);
    let mut prefix = Vec::with_capacity(demand.len() + 1);
    prefix.push(0.0);
    for d in demand {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + d);
    }
    (0..demand.len())
        .map(|i| {
            let s = i / scrape * scrape;
            let lo = s.saturating_sub(window);
            if s == lo {
                demand.first().copied().unwrap_or(0.0)
            } else {
                (prefix[s] - prefix[lo]) / (s - lo) as f64
            }
        })
        .collect()
}

pub(super) fn run(
    demand: &[f64],
    c: &SimConfig,
    policy: PolicyKind,
    forecaster: &mut dyn Forecaster,
    keep_series: bool,
) -> PolicyResult {
    let step = c.step_seconds;
    let observed = observe(demand, c);
    let (lead, stab) = (c.steps(c.lead_seconds), c.steps(c.scale_down_stabilization_seconds));
    let target = c.target_utilization;
    let rule_policy = ServicePolicy {
        scale_down_stabilization_seconds: c.scale_down_stabilization_seconds as u64,
        ..ServicePolicy::new("sim", c.min_replicas, c.max_replicas, target)
    };
    let mut hpa = new_hpa(c);
    // Warm start: the service begins right-sized and ready, so that the first minutes measure
    // policies rather than a cold start none of them would face in production.
    let first = demand.first().copied().unwrap_or(0.0);
    let mut spec = ceil_u32(first / target).clamp(c.min_replicas, c.max_replicas);
    let mut pods: Vec<f64> = vec![f64::NEG_INFINITY; spec as usize];
    let mut r = PolicyResult {
        policy,
        pod_hours: 0.0,
        cost_usd: 0.0,
        underprovisioned_minutes: 0.0,
        underprovisioned_time_share: 0.0,
        unserved_demand_share: 0.0,
        peak_shortfall_pods: 0.0,
        scaling_events: 0,
        forecast_fallbacks: 0,
        ready_series: Vec::new(),
    };
    let (mut pod_seconds, mut under_steps, mut unserved, mut total) = (0.0, 0usize, 0.0, 0.0);
    for (i, &d) in demand.iter().enumerate() {
        let t = i as f64 * step;
        let ready = pods.partition_point(|&at| at <= t) as u32;
        let obs = observed[i];
        let path = if policy == PolicyKind::Reactive {
            None
        } else {
            let history = &observed[(i + 1).saturating_sub(c.history_steps)..=i];
            let req = ForecastRequest {
                history,
                now_step: i,
                step_seconds: step,
                horizon_steps: lead.max(stab),
            };
            let path = forecaster.forecast(&req);
            r.forecast_fallbacks += u32::from(path.is_none());
            path
        };
        let cpu = utilization_proposal(spec, ready, obs, target, TOLERANCE);
        let next = match (policy, &path) {
            (PolicyKind::Reactive, _) | (PolicyKind::Predictive, None) => hpa.reconcile(t, spec, &[cpu]),
            (PolicyKind::Predictive, Some(p)) => {
                let predicted = average_value_proposal(spec, p.max_mean(lead), target, TOLERANCE);
                hpa.reconcile(t, spec, &[cpu, predicted])
            }
            (PolicyKind::CostAware, _) => {
                let forecast = path.as_ref().map(|p| DemandForecast {
                    mean_cores: p.max_mean(lead),
                    upper_cores: p.max_upper(lead),
                    window_upper_cores: Some(p.max_upper(stab)),
                    confidence: None,
                });
                let input = DecisionInput {
                    current_replicas: spec,
                    current_cpu_cores: Some(obs),
                    forecast,
                    ..Default::default()
                };
                rule(&rule_policy, 1.0, &input, |_| 0.0).recommended_replicas
            }
        };
        if next != spec {
            r.scaling_events += 1;
            pods.resize(next as usize, t + c.startup_delay_seconds);
            spec = next;
        }
        let ready = pods.partition_point(|&at| at <= t) as f64;
        pod_seconds += pods.len() as f64 * step;
        total += d * step;
        let short = d - ready;
        if short > 1e-9 {
            under_steps += 1;
            unserved += short * step;
            r.peak_shortfall_pods = r.peak_shortfall_pods.max(short);
        }
        if keep_series {
            r.ready_series.push(ready);
        }
    }
    r.pod_hours = pod_seconds / 3600.0;
    r.cost_usd = r.pod_hours * c.pod_hour_usd;
    r.underprovisioned_minutes = under_steps as f64 * step / 60.0;
    r.underprovisioned_time_share = under_steps as f64 / demand.len().max(1) as f64;
    r.unserved_demand_share = if total > 0.0 { unserved / total } else { 0.0 };
    r
}
