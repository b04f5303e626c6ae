//! The simulation loop for one policy on one trace. Pods are kept as a vector of ready times in
//! creation order: new pods are always the last to become ready, so "ready count" is a binary
//! search and "remove unready first" is a truncate.

use super::*;
use crate::decision::{DecisionInput, DemandForecast, TOLERANCE, rule};
use crate::forecast::ForecastRequest;
use crate::hpa::{average_value_proposal, ceil_u32, utilization_proposal};
use crate::policy::ServicePolicy;

/// What the HPA reads at each step: the mean demand over the rate window before the last
/// scrape that is at least `scrape_lag` old. Before the first full window it is the mean of
/// what exists.
fn observe(demand: &[f64], c: &SimConfig) -> Vec<f64> {
    let scrape = c.steps(c.scrape_interval_seconds);
    let window = c.steps(c.rate_window_seconds);
    let lag = (c.scrape_lag_seconds / c.step_seconds).round() as usize;
    let mut prefix = Vec::with_capacity(demand.len() + 1);
    prefix.push(0.0);
    for d in demand {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + d);
    }
    (0..demand.len())
        .map(|i| {
            let s = i.saturating_sub(lag) / scrape * scrape;
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
    policy: Strategy,
    mut hpa: Hpa,
    forecaster: &mut dyn Forecaster,
    keep_series: bool,
) -> PolicyResult {
    let step = c.step_seconds;
    let observed = observe(demand, c);
    let lead = c.steps(c.lead_seconds);
    let stab = c.steps(hpa.spec().scale_down.stabilization_window_seconds);
    // The served peaks of the last stabilization window: the rule scales down only to what
    // they all allow, as the HPA keeps its highest recommendation of that window.
    let mut recent_peaks: std::collections::VecDeque<(usize, f64)> = std::collections::VecDeque::new();
    let target = c.target_utilization;
    let rule_policy = ServicePolicy {
        scale_down_stabilization_seconds: hpa.spec().scale_down.stabilization_window_seconds as u64,
        ..ServicePolicy::new("sim", c.min_replicas, c.max_replicas, target)
    };
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
        forecast_coverage: None,
        ready_series: Vec::new(),
    };
    let (mut pod_seconds, mut under_steps, mut unserved, mut total) = (0.0, 0usize, 0.0, 0.0);
    for (i, &d) in demand.iter().enumerate() {
        let t = i as f64 * step;
        let ready = pods.partition_point(|&at| at <= t) as u32;
        let obs = observed[i];
        let outlook = if policy == Strategy::Reactive {
            None
        } else {
            let history = &observed[(i + 1).saturating_sub(c.history_steps)..=i];
            let req = ForecastRequest {
                history,
                now_step: i,
                step_seconds: step,
                lead_steps: lead,
            };
            let outlook = forecaster.forecast(&req);
            r.forecast_fallbacks += u32::from(outlook.is_none());
            outlook
        };
        let cpu = utilization_proposal(spec, ready, obs, target, TOLERANCE);
        let next = match (policy, &outlook) {
            (Strategy::Reactive, _) | (Strategy::Predictive, None) => hpa.reconcile(t, spec, &[cpu]),
            (Strategy::Predictive, Some(o)) => {
                // The AverageValue target: the forecast total over the target per pod, whatever
                // is ready; CPU utilisation stays as the reactive safety net.
                let predicted = average_value_proposal(spec, o.peak, target, TOLERANCE);
                hpa.reconcile(t, spec, &[cpu, predicted])
            }
            (Strategy::CostAware, _) => {
                if let Some(o) = &outlook {
                    while recent_peaks.back().is_some_and(|(_, p)| *p <= o.peak) {
                        recent_peaks.pop_back();
                    }
                    recent_peaks.push_back((i, o.peak));
                }
                while recent_peaks.front().is_some_and(|(j, _)| j + stab <= i) {
                    recent_peaks.pop_front();
                }
                let forecast = outlook.as_ref().map(|o| DemandForecast {
                    mean_cores: o.point,
                    upper_cores: o.peak,
                    window_upper_cores: recent_peaks.front().map(|(_, p)| *p),
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
