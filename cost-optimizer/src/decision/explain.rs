//! Turns a [`RuleOutcome`] into the full answer: costs before and after, SLO risk, confidence and
//! the reasoning sentences. Kept apart from the rule so the simulator's hot loop allocates nothing.

use super::*;
use crate::cost::{Resources, hourly_cost};
use crate::pricing::{HOURS_PER_DAY, HOURS_PER_MONTH};

pub(super) fn explain(
    service: &str,
    policy: &ServicePolicy,
    tier: &Tier,
    pricing: &Pricing,
    input: &DecisionInput,
) -> ScalingDecision {
    let usage = Resources {
        cpu_cores: input.current_cpu_cores.unwrap_or(0.0),
        memory_gib: input.current_memory_gib.unwrap_or(0.0),
    };
    let cost = |n: u32| hourly_cost(pricing, Resources::of_tier(tier, n), usage).total;
    let o = rule(policy, tier.cpu_cores, input, cost);
    let util = |n: u32| {
        let cap = f64::from(n) * tier.cpu_cores;
        (o.source != DemandSource::None && cap > 0.0).then(|| o.demand_cores / cap)
    };
    let (now, after) = (cost(input.current_replicas), cost(o.recommended_replicas));
    let delta = after - now;
    let after_util = util(o.recommended_replicas);
    let target = policy.target_cpu_utilization;
    let slo_risk = match (o.source, after_util) {
        (DemandSource::None, _) => SloRisk::High,
        _ if o.reason == Reason::BudgetCapped => SloRisk::High,
        (_, Some(u)) if u > 1.0 => SloRisk::High,
        (_, Some(u)) if u > target * (1.0 + TOLERANCE) => SloRisk::Medium,
        (DemandSource::CurrentUsage, _) => SloRisk::Medium,
        _ => SloRisk::Low,
    };
    let confidence = match (o.source, input.forecast) {
        (DemandSource::Forecast, Some(f)) => f
            .confidence
            .unwrap_or(if f.upper_cores > 0.0 {
                f.mean_cores / f.upper_cores
            } else {
                1.0
            })
            .clamp(0.0, 1.0),
        (DemandSource::CurrentUsage, _) => 0.5,
        _ => 0.0,
    };
    let reasoning = sentences(policy, tier, input, &o, now, after, slo_risk);
    ScalingDecision {
        service: service.to_owned(),
        action: o.action,
        current_replicas: input.current_replicas,
        recommended_replicas: o.recommended_replicas,
        predicted_utilization: util(input.current_replicas),
        predicted_utilization_after: after_util,
        target_utilization: target,
        cost_per_hour_now: now,
        cost_per_hour_after: after,
        impact: CostImpact {
            per_hour: delta,
            per_day: delta * HOURS_PER_DAY,
            per_month: delta * HOURS_PER_MONTH,
        },
        slo_risk,
        confidence,
        fallback: o.source != DemandSource::Forecast,
        outcome: o,
        inputs: DecisionInputs {
            observed: input.clone(),
            tier: tier.clone(),
            policy: policy.clone(),
            pricing: *pricing,
        },
        reasoning,
    }
}

fn sentences(
    p: &ServicePolicy,
    tier: &Tier,
    input: &DecisionInput,
    o: &RuleOutcome,
    now: f64,
    after: f64,
    risk: SloRisk,
) -> Vec<String> {
    let mut s = Vec::new();
    let why = input
        .unavailable_reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let (cur, rec, d) = (input.current_replicas, o.recommended_replicas, o.demand_cores);
    match (o.source, input.forecast) {
        (DemandSource::Forecast, Some(f)) => s.push(format!(
            "The forecast's upper bound is {d:.3} cores (mean {:.3} cores) over the lead time.",
            f.mean_cores
        )),
        (DemandSource::CurrentUsage, _) => {
            s.push(format!("No forecast is available{why}, so the decision falls back to current usage of {d:.3} cores and cannot anticipate a ramp."))
        }
        _ => s.push(format!("Neither a forecast nor current usage is available{why}, so no demand-based change is made.")),
    }
    let per_pod = tier.cpu_cores * p.target_cpu_utilization;
    if o.source != DemandSource::None {
        s.push(format!(
            "Each {} pod requests {} cores; at the {:.0} % target one pod serves {per_pod:.3} cores, so {} replicas are needed within the bounds {} to {}.",
            tier.name, tier.cpu_cores, p.target_cpu_utilization * 100.0, o.needed_replicas, p.min_replicas, p.max_replicas
        ));
    }
    match o.reason {
        Reason::NoData => {}
        Reason::OutOfBounds => s.push(format!("{cur} replicas are outside the bounds {} to {}, so the count moves to {rec}.", p.min_replicas, p.max_replicas)),
        Reason::WithinTolerance => s.push(format!(
            "At {cur} replicas utilization would be {:.0} % of the target, within the {:.0} % tolerance, so nothing changes.",
            d / (per_pod * f64::from(cur)) * 100.0, TOLERANCE * 100.0
        )),
        Reason::Demand => s.push(format!("Demand calls for {rec} replicas instead of {cur}.")),
        Reason::BudgetCapped => s.push(format!(
            "The hourly budget of {:.4} USD allows at most {rec} of the {} replicas needed, so the SLO is at risk.",
            p.hourly_budget_usd.unwrap_or(0.0), o.needed_replicas
        )),
        Reason::Stabilizing => s.push(format!(
            "The forecast's upper bound over the {} s stabilization window keeps {rec} replicas, so the scale-down is {}.",
            p.scale_down_stabilization_seconds,
            if rec == cur { "deferred" } else { "partial" }
        )),
        Reason::Steady => s.push(format!("{cur} replicas already match the demand after rounding.")),
    }
    if rec != cur {
        s.push(format!(
            "Going from {cur} to {rec} replicas changes cost by {:+.4} USD per hour ({:+.2} USD per month).",
            after - now,
            (after - now) * HOURS_PER_MONTH
        ));
    } else {
        s.push(format!("Cost stays at {now:.4} USD per hour."));
    }
    s.push(format!(
        "SLO risk is {}.",
        match risk {
            SloRisk::Low => "low: capacity holds the upper bound with the target's headroom",
            SloRisk::Medium => "medium: headroom is thin or the decision cannot see ahead",
            SloRisk::High => "high: demand may exceed the CPU requested",
        }
    ));
    s
}
