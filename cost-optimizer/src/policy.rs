//! Per-service scaling policy: pod size, replica bounds, CPU target, scale-down stabilization and
//! an optional hourly budget. The defaults are read from `config/tiers.json`, which the HPA
//! manifests are checked against (`cargo xtask tiers`), so the optimizer's advice and the
//! cluster's behaviour agree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How one service may scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePolicy {
    /// Pod size (a name from the tier catalog).
    pub tier: String,
    /// Lower replica bound (at least 1: scale-to-zero is KEDA's job, not this rule's).
    pub min_replicas: u32,
    /// Upper replica bound.
    pub max_replicas: u32,
    /// Target CPU utilization as a fraction of the pod's CPU request (0.7 = 70 %).
    pub target_cpu_utilization: f64,
    /// How long the forecast must stay low before a scale-down, in seconds (HPA default 300).
    #[serde(default = "default_stabilization")]
    pub scale_down_stabilization_seconds: u64,
    /// Optional cap on the service's hourly cost in USD; the only thing that may block a scale-up.
    #[serde(default)]
    pub hourly_budget_usd: Option<f64>,
}

fn default_stabilization() -> u64 {
    300
}

impl ServicePolicy {
    /// A policy with the HPA's default stabilization and no budget.
    pub fn new(tier: &str, min_replicas: u32, max_replicas: u32, target_cpu_utilization: f64) -> Self {
        Self {
            tier: tier.to_owned(),
            min_replicas,
            max_replicas,
            target_cpu_utilization,
            scale_down_stabilization_seconds: default_stabilization(),
            hourly_budget_usd: None,
        }
    }

    /// Checks bounds: 1 <= min <= max, 0 < target <= 1, budget non-negative.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::InvalidConfig(m));
        if self.min_replicas == 0 || self.min_replicas > self.max_replicas {
            return fail(format!(
                "replicas need 1 <= min ({}) <= max ({})",
                self.min_replicas, self.max_replicas
            ));
        }
        let t = self.target_cpu_utilization;
        if !(t > 0.0 && t <= 1.0) {
            return fail(format!("target_cpu_utilization must be in (0, 1], got {t}"));
        }
        if let Some(b) = self.hourly_budget_usd
            && !(b.is_finite() && b >= 0.0)
        {
            return fail(format!("hourly_budget_usd must be non-negative, got {b}"));
        }
        Ok(())
    }
}

/// Policies by service name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct PolicySet {
    services: BTreeMap<String, ServicePolicy>,
}

impl PolicySet {
    /// The policies of `services`, unchecked (see [`PolicySet::insert`]). The default set,
    /// the services of `config/tiers.json`, is made in `tiers`, which reads that file.
    pub fn new(services: BTreeMap<String, ServicePolicy>) -> Self {
        Self { services }
    }

    /// Adds or replaces one service's policy after validating it.
    pub fn insert(&mut self, service: String, policy: ServicePolicy) -> Result<()> {
        policy.validate()?;
        self.services.insert(service, policy);
        Ok(())
    }

    /// The policy of a service, if configured.
    pub fn get(&self, service: &str) -> Option<&ServicePolicy> {
        self.services.get(service)
    }

    /// All services in name order (stable output for `/cost-analysis/all`).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ServicePolicy)> {
        self.services.iter().map(|(k, v)| (k.as_str(), v))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_the_platform_and_are_valid() {
        let set = PolicySet::default();
        let names: Vec<_> = set.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "catalog-service",
                "cost-optimizer",
                "order-service",
                "predictor-service",
                "user-service"
            ]
        );
        for (_, p) in set.iter() {
            p.validate().unwrap();
            assert_eq!(p.scale_down_stabilization_seconds, 300);
        }
        // The numbers of the original design, now read from config/tiers.json.
        let order = set.get("order-service").unwrap();
        assert_eq!(
            (order.tier.as_str(), order.min_replicas, order.max_replicas),
            ("medium", 2, 20)
        );
        assert_eq!(set.get("predictor-service").unwrap().target_cpu_utilization, 0.8);
        assert_eq!(
            set.get("cost-optimizer").unwrap(),
            &ServicePolicy::new("micro", 1, 2, 0.8)
        );
    }

    #[test]
    fn validation_rejects_bad_bounds() {
        let mut set = PolicySet::default();
        assert!(set.insert("x".into(), ServicePolicy::new("small", 0, 3, 0.7)).is_err());
        assert!(set.insert("x".into(), ServicePolicy::new("small", 4, 3, 0.7)).is_err());
        assert!(set.insert("x".into(), ServicePolicy::new("small", 1, 3, 1.5)).is_err());
        assert!(set.insert("x".into(), ServicePolicy::new("small", 1, 3, 0.0)).is_err());
        let mut p = ServicePolicy::new("small", 1, 3, 0.5);
        p.hourly_budget_usd = Some(-1.0);
        assert!(set.insert("x".into(), p).is_err());
        assert!(set.get("x").is_none());
    }
}
