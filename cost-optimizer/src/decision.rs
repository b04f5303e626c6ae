//! The scaling-decision rule (`GET /scaling-decision/{service}` and the simulator's cost-aware
//! policy). Deterministic, in this order:
//!
//! 1. Demand = the forecast's upper bound over the lead time; without a forecast, current usage
//!    (the answer says so). With neither, hold.
//! 2. Needed = ceil(demand / (CPU request per pod x target)), clamped to [min, max]. Replicas
//!    outside the bounds are brought inside first.
//! 3. If demand / (current x request x target) is within 1 +/- 0.1 (the HPA's tolerance), hold.
//! 4. Scale up to needed. Cost never blocks it, except an hourly budget cap: then the largest
//!    affordable count (never below current) is taken and the SLO risk is high.
//! 5. Scale down only to the count that also holds the upper bound over the whole
//!    stabilization window; if that is not below current, hold.
//!
//! [`rule`] computes only numbers (the simulator calls it every 15 s); [`decide`] adds costs,
//! risk, confidence and the reasoning sentences.

use serde::Serialize;

use crate::Result;
use crate::hpa::{ceil_u32, within_tolerance};
use crate::policy::ServicePolicy;
use crate::pricing::{CostModel, Pricing};
use crate::tiers::Tier;

mod explain;

/// The HPA's default tolerance; the rule uses the same so that it never fights the HPA.
pub const TOLERANCE: f64 = 0.1;

/// Forecast demand summarised for the rule, in cores (service total).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DemandForecast {
    /// Largest mean over the lead time.
    pub mean_cores: f64,
    /// Largest upper bound over the lead time: what scale-ups provision for.
    pub upper_cores: f64,
    /// Largest upper bound over the scale-down stabilization window; `None` uses `upper_cores`.
    pub window_upper_cores: Option<f64>,
    /// Model confidence in [0, 1] when the predictor reports one (e.g. from its backtest error).
    pub confidence: Option<f64>,
}

/// What the caller observed. Missing data is `None`, never a made-up zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// Replicas running now.
    pub current_replicas: u32,
    /// Current total CPU usage in cores (Prometheus); `None` when unreachable.
    pub current_cpu_cores: Option<f64>,
    /// Current total memory usage in GiB, for charging max(request, usage).
    pub current_memory_gib: Option<f64>,
    /// The forecast; `None` when the predictor is unreachable or has no model yet.
    pub forecast: Option<DemandForecast>,
    /// Why data is missing ("predictor unreachable: connection refused"), quoted in reasoning.
    pub unavailable_reason: Option<String>,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Add replicas.
    ScaleUp,
    /// Remove replicas.
    ScaleDown,
    /// Keep the replicas.
    Hold,
}

/// Where the demand figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DemandSource {
    /// The forecast's upper bound.
    Forecast,
    /// Current usage, because no forecast was available.
    CurrentUsage,
    /// Nothing was available.
    None,
}

/// Why the recommendation is what it is; drives the reasoning sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No demand data at all.
    NoData,
    /// Current replicas were outside [min, max].
    OutOfBounds,
    /// Within the tolerance band.
    WithinTolerance,
    /// Needed more replicas.
    Demand,
    /// A scale-up was capped by the hourly budget.
    BudgetCapped,
    /// A scale-down was refused or reduced by the window's upper bound.
    Stabilizing,
    /// Needed equals current after rounding.
    Steady,
}

/// The numeric outcome of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RuleOutcome {
    /// What to do.
    pub action: Action,
    /// Replicas to run.
    pub recommended_replicas: u32,
    /// ceil(demand / per-pod capacity at target), clamped to the bounds.
    pub needed_replicas: u32,
    /// Demand used (cores); NaN without demand data (`source: none`), which JSON carries as
    /// `null`, so the contract says so.
    #[schema(value_type = Option<f64>)]
    pub demand_cores: f64,
    /// Where the demand came from.
    pub source: DemandSource,
    /// Main reason.
    pub reason: Reason,
}

/// The rule without costs (see the module docs). `hourly_cost(n)` prices n replicas and is only
/// consulted when the policy has a budget.
pub fn rule(
    policy: &ServicePolicy,
    cpu_per_pod: f64,
    input: &DecisionInput,
    hourly_cost: impl Fn(u32) -> f64,
) -> RuleOutcome {
    let current = input.current_replicas;
    let (demand, window, source) = match (input.forecast, input.current_cpu_cores) {
        (Some(f), _) => (
            f.upper_cores,
            f.window_upper_cores.unwrap_or(f.upper_cores).max(f.upper_cores),
            DemandSource::Forecast,
        ),
        (None, Some(u)) => (u, u, DemandSource::CurrentUsage),
        (None, None) => (f64::NAN, f64::NAN, DemandSource::None),
    };
    let per_pod = cpu_per_pod * policy.target_cpu_utilization;
    let replicas_for = |d: f64| ceil_u32(d / per_pod).clamp(policy.min_replicas, policy.max_replicas);
    let out = |action, recommended, needed, reason| RuleOutcome {
        action,
        recommended_replicas: recommended,
        needed_replicas: needed,
        demand_cores: demand,
        source,
        reason,
    };
    let bounded = current.clamp(policy.min_replicas, policy.max_replicas);
    if source == DemandSource::None {
        let action = direction(current, bounded);
        return out(
            action,
            bounded,
            bounded,
            if action == Action::Hold {
                Reason::NoData
            } else {
                Reason::OutOfBounds
            },
        );
    }
    let needed = replicas_for(demand);
    if bounded != current {
        return out(direction(current, bounded), bounded, needed, Reason::OutOfBounds);
    }
    let ratio = demand / (per_pod * f64::from(current));
    if within_tolerance(ratio, TOLERANCE) {
        return out(Action::Hold, current, needed, Reason::WithinTolerance);
    }
    if needed > current {
        if let Some(budget) = policy.hourly_budget_usd
            && hourly_cost(needed) > budget
        {
            // Largest affordable count, but a budget never forces a scale-down.
            let affordable = (current..needed)
                .rev()
                .find(|&n| hourly_cost(n) <= budget)
                .unwrap_or(current);
            return out(direction(current, affordable), affordable, needed, Reason::BudgetCapped);
        }
        return out(Action::ScaleUp, needed, needed, Reason::Demand);
    }
    if needed < current {
        let safe = needed.max(replicas_for(window));
        if safe >= current {
            return out(Action::Hold, current, needed, Reason::Stabilizing);
        }
        let reason = if safe > needed {
            Reason::Stabilizing
        } else {
            Reason::Demand
        };
        return out(Action::ScaleDown, safe, needed, reason);
    }
    out(Action::Hold, current, needed, Reason::Steady)
}

fn direction(from: u32, to: u32) -> Action {
    match to.cmp(&from) {
        std::cmp::Ordering::Greater => Action::ScaleUp,
        std::cmp::Ordering::Less => Action::ScaleDown,
        std::cmp::Ordering::Equal => Action::Hold,
    }
}

/// SLO risk of the recommendation. High: the demand upper bound exceeds the CPU requested at the
/// recommended replicas, a budget capped the scale-up, or there was no data. Medium: utilization
/// above target beyond the tolerance (typically pinned at max replicas), or no forecast (current
/// usage cannot see a ramp coming). Low otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SloRisk {
    /// Capacity holds the upper bound with the target's headroom.
    Low,
    /// Headroom is thin or the decision is blind to the future.
    Medium,
    /// Demand is expected to exceed the requested CPU.
    High,
}

/// A cost difference over three periods, in USD (positive: costs more).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CostImpact {
    /// Per hour.
    pub per_hour: f64,
    /// Per day.
    pub per_day: f64,
    /// Per month (730 h).
    pub per_month: f64,
}

/// The inputs echoed back so that a decision can be replayed and audited.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DecisionInputs {
    /// What the caller observed.
    pub observed: DecisionInput,
    /// Pod tier.
    pub tier: Tier,
    /// The policy applied.
    pub policy: ServicePolicy,
    /// Unit prices applied.
    pub pricing: Pricing,
}

/// The answer of `GET /scaling-decision/{service}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScalingDecision {
    /// Service name.
    pub service: String,
    /// What to do.
    pub action: Action,
    /// Replicas now.
    pub current_replicas: u32,
    /// Replicas recommended.
    pub recommended_replicas: u32,
    /// Demand / CPU requested at current replicas (`None` without data or replicas).
    pub predicted_utilization: Option<f64>,
    /// Demand / CPU requested at recommended replicas.
    pub predicted_utilization_after: Option<f64>,
    /// The policy's target.
    pub target_utilization: f64,
    /// Cost per hour now (USD).
    pub cost_per_hour_now: f64,
    /// Cost per hour after (USD).
    pub cost_per_hour_after: f64,
    /// after - now.
    pub impact: CostImpact,
    /// See [`SloRisk`].
    pub slo_risk: SloRisk,
    /// 0..1: the model's own when given, else mean / upper of the forecast (a narrow interval is
    /// confident), 0.5 on the current-usage fallback, 0 without data.
    pub confidence: f64,
    /// True when the forecast was missing and current usage was used.
    pub fallback: bool,
    /// The numeric outcome, including the demand and its source.
    pub outcome: RuleOutcome,
    /// The inputs used.
    pub inputs: DecisionInputs,
    /// Plain sentences explaining the decision.
    pub reasoning: Vec<String>,
}

/// Applies the rule for a known policy and tier and explains it.
pub fn decide(
    service: &str,
    policy: &ServicePolicy,
    tier: &Tier,
    pricing: &Pricing,
    input: &DecisionInput,
) -> ScalingDecision {
    explain::explain(service, policy, tier, pricing, input)
}

/// Looks up the service in the model, then [`decide`]; unknown service is an error (HTTP 404).
pub fn decide_for(model: &CostModel, service: &str, input: &DecisionInput) -> Result<ScalingDecision> {
    let (policy, tier) = model.service(service)?;
    Ok(decide(service, policy, tier, &model.pricing, input))
}

#[cfg(test)]
#[path = "decision_tests.rs"]
mod tests;
