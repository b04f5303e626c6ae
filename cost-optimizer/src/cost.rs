//! Cost formulas: what a service costs, how much of it is idle, how efficient it is, and which
//! tier it should run on.
//!
//! Charging follows OpenCost's allocation: each resource is charged at max(request, usage), since
//! a request reserves capacity whether used or not and usage above the request still consumes
//! the node. The unused part of the request is the idle cost. Usage here is the service total
//! (sum over pods) because that is what a Prometheus `sum by (service)` query returns; charging
//! max(total request, total usage) equals charging each pod when pods are evenly loaded.

use serde::Serialize;

use crate::Result;
use crate::pricing::{CostModel, HOURS_PER_DAY, HOURS_PER_MONTH, Pricing};
use crate::tiers::Tier;

/// An amount of CPU (cores) and memory (GiB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Resources {
    /// CPU in cores.
    pub cpu_cores: f64,
    /// Memory in GiB.
    pub memory_gib: f64,
}

impl Resources {
    /// The requests of `replicas` pods of `tier`.
    pub fn of_tier(tier: &Tier, replicas: u32) -> Self {
        let n = f64::from(replicas);
        Self {
            cpu_cores: tier.cpu_cores * n,
            memory_gib: tier.memory_gib() * n,
        }
    }
}

/// A cost split by resource, in USD over some period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CostSplit {
    /// CPU part.
    pub cpu: f64,
    /// Memory part.
    pub memory: f64,
    /// cpu + memory.
    pub total: f64,
}

impl CostSplit {
    fn new(cpu: f64, memory: f64) -> Self {
        Self {
            cpu,
            memory,
            total: cpu + memory,
        }
    }

    fn scale(self, k: f64) -> Self {
        Self::new(self.cpu * k, self.memory * k)
    }

    fn add(self, o: Self) -> Self {
        Self::new(self.cpu + o.cpu, self.memory + o.memory)
    }
}

/// The same cost per hour, day (24 h) and month (730 h).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CostPeriods {
    /// USD per hour.
    pub hourly: CostSplit,
    /// USD per day.
    pub daily: CostSplit,
    /// USD per month.
    pub monthly: CostSplit,
}

impl CostPeriods {
    /// Extends an hourly cost to a day and a month.
    pub fn from_hourly(hourly: CostSplit) -> Self {
        Self {
            hourly,
            daily: hourly.scale(HOURS_PER_DAY),
            monthly: hourly.scale(HOURS_PER_MONTH),
        }
    }

    fn add(self, o: Self) -> Self {
        Self::from_hourly(self.hourly.add(o.hourly))
    }
}

/// Hourly cost charged at max(request, usage) per resource.
pub fn hourly_cost(pricing: &Pricing, request: Resources, usage: Resources) -> CostSplit {
    CostSplit::new(
        request.cpu_cores.max(usage.cpu_cores) * pricing.cpu_core_hour,
        request.memory_gib.max(usage.memory_gib) * pricing.memory_gib_hour,
    )
}

/// Hourly cost of the requested but unused resources (zero where usage exceeds the request).
pub fn idle_hourly_cost(pricing: &Pricing, request: Resources, usage: Resources) -> CostSplit {
    CostSplit::new(
        (request.cpu_cores - usage.cpu_cores).max(0.0) * pricing.cpu_core_hour,
        (request.memory_gib - usage.memory_gib).max(0.0) * pricing.memory_gib_hour,
    )
}

/// Usage over an observation window, totals over all pods of the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsageStats {
    /// Mean usage; used for cost and efficiency.
    pub mean: Resources,
    /// 95th percentile; used for right-sizing so that peaks still fit.
    pub p95: Resources,
}

/// usage / request per resource; `None` when nothing is requested (zero replicas).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Efficiency {
    /// Mean CPU usage over CPU request.
    pub cpu: Option<f64>,
    /// Mean memory usage over memory request.
    pub memory: Option<f64>,
}

/// The smallest tier that holds the p95 usage per pod at the CPU target, and what moving costs.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RightSizing {
    /// Tier the service runs on now.
    pub current_tier: String,
    /// Recommended tier (the largest when nothing fits).
    pub recommended_tier: String,
    /// False when even the largest tier cannot hold p95 at the target: add replicas instead.
    pub fits: bool,
    /// CPU request per pod needed: p95 CPU per pod / target utilization.
    pub needed_cpu_cores_per_pod: f64,
    /// Memory request per pod needed: p95 memory per pod (memory is not compressible, so no
    /// utilization target applies).
    pub needed_memory_mib_per_pod: f64,
    /// Monthly cost on the recommended tier at the same replicas and usage.
    pub monthly_cost_after: f64,
    /// Current monthly cost minus `monthly_cost_after` (negative: upsizing costs more).
    pub monthly_saving: f64,
}

/// Cost analysis of one service (`GET /cost-analysis/{service}`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CostAnalysis {
    /// Service name.
    pub service: String,
    /// Tier of its pods.
    pub tier: Tier,
    /// Running replicas.
    pub replicas: u32,
    /// Total requests (tier x replicas).
    pub requests: Resources,
    /// Observed usage.
    pub usage: UsageStats,
    /// Charged cost, at max(request, mean usage).
    pub cost: CostPeriods,
    /// Unused part of the requests.
    pub idle: CostPeriods,
    /// Mean usage over request.
    pub efficiency: Efficiency,
    /// Tier recommendation.
    pub right_sizing: RightSizing,
}

/// Analyses one service from its replica count and observed usage.
pub fn analyze(model: &CostModel, service: &str, replicas: u32, usage: UsageStats) -> Result<CostAnalysis> {
    let (policy, tier) = model.service(service)?;
    let p = &model.pricing;
    let requests = Resources::of_tier(tier, replicas);
    let cost = CostPeriods::from_hourly(hourly_cost(p, requests, usage.mean));
    let idle = CostPeriods::from_hourly(idle_hourly_cost(p, requests, usage.mean));
    let ratio = |u: f64, r: f64| (r > 0.0).then(|| u / r);
    let efficiency = Efficiency {
        cpu: ratio(usage.mean.cpu_cores, requests.cpu_cores),
        memory: ratio(usage.mean.memory_gib, requests.memory_gib),
    };
    // Per-pod needs assume at least one pod: a scaled-to-zero service still needs a size.
    let pods = f64::from(replicas.max(1));
    let needed_cpu = usage.p95.cpu_cores / pods / policy.target_cpu_utilization;
    let needed_mib = usage.p95.memory_gib / pods * 1024.0;
    let (rec, fits) = match model.tiers.smallest_fitting(needed_cpu, needed_mib) {
        Some(t) => (t, true),
        None => (model.tiers.largest().unwrap_or(tier), false),
    };
    let after = hourly_cost(p, Resources::of_tier(rec, replicas), usage.mean).total * HOURS_PER_MONTH;
    let right_sizing = RightSizing {
        current_tier: tier.name.clone(),
        recommended_tier: rec.name.clone(),
        fits,
        needed_cpu_cores_per_pod: needed_cpu,
        needed_memory_mib_per_pod: needed_mib,
        monthly_cost_after: after,
        monthly_saving: cost.monthly.total - after,
    };
    Ok(CostAnalysis {
        service: service.to_owned(),
        tier: tier.clone(),
        replicas,
        requests,
        usage,
        cost,
        idle,
        efficiency,
        right_sizing,
    })
}

/// Sums over services (`GET /cost-analysis/all`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CostTotals {
    /// Total charged cost.
    pub cost: CostPeriods,
    /// Total idle cost.
    pub idle: CostPeriods,
    /// Total monthly saving if every recommendation were applied.
    pub monthly_saving: f64,
}

/// Adds up analyses.
pub fn totals(analyses: &[CostAnalysis]) -> CostTotals {
    analyses.iter().fold(CostTotals::default(), |acc, a| CostTotals {
        cost: acc.cost.add(a.cost),
        idle: acc.idle.add(a.idle),
        monthly_saving: acc.monthly_saving + a.right_sizing.monthly_saving,
    })
}

/// Mean of samples, `None` when empty.
pub fn mean(samples: &[f64]) -> Option<f64> {
    (!samples.is_empty()).then(|| samples.iter().sum::<f64>() / samples.len() as f64)
}

/// Nearest-rank percentile (`q` in 0..=1) of samples, `None` when empty. Nearest-rank never
/// reports a value that was not observed, which keeps right-sizing explainable.
pub fn percentile(samples: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize;
    v.get(rank.saturating_sub(1)).copied()
}

#[cfg(test)]
#[path = "cost_tests.rs"]
mod tests;
