//! Pod sizes ("tiers"): the CPU and memory a pod requests. Right-sizing picks among them, and a
//! policy names one per service, so the catalog is ordered from smallest to largest.
//!
//! The tiers and the services' policies are written down once, in `config/tiers.json`, which is
//! compiled in as the defaults ([`Platform::builtin`]). The k8s requests, HPA bounds and the
//! `service:cpu_request_cores:tier` recording rules are checked against that file by
//! `cargo xtask tiers`, so changing a size there and not in `k8s/` fails the deploy checks.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::policy::{PolicySet, ServicePolicy};
use crate::{Error, Result};

/// `config/tiers.json`, the one source of truth for tiers and policies.
pub const PLATFORM_JSON: &str = include_str!("../../config/tiers.json");

/// The content of `config/tiers.json`: the tiers on offer, each service's policy, and the
/// workloads that have a tier but no cost policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Pod sizes on offer.
    pub tiers: TierCatalog,
    /// Scaling policy of each service the optimizer prices.
    pub services: BTreeMap<String, ServicePolicy>,
    /// Tier of each workload that is sized but not priced (order-worker, which KEDA scales).
    #[serde(default)]
    pub workloads: BTreeMap<String, String>,
}

impl Default for PolicySet {
    /// The services of `config/tiers.json`. The order service carries the load spikes
    /// (checkout), so it gets the widest range; the predictor and optimizer are internal and
    /// stay small.
    fn default() -> Self {
        PolicySet::new(Platform::builtin().services.clone())
    }
}

impl Platform {
    /// Parses and validates a platform file: policies in range, every tier named exists.
    pub fn from_json(json: &str) -> Result<Self> {
        let p: Self = serde_json::from_str(json)?;
        for policy in p.services.values() {
            policy.validate()?;
            p.tiers.get(&policy.tier)?;
        }
        for tier in p.workloads.values() {
            p.tiers.get(tier)?;
        }
        Ok(p)
    }

    /// The compiled-in `config/tiers.json`.
    pub fn builtin() -> &'static Self {
        static BUILTIN: LazyLock<Platform> = LazyLock::new(|| {
            #[allow(clippy::expect_used, reason = "a compiled-in constant; a unit test parses it")]
            Platform::from_json(PLATFORM_JSON).expect("config/tiers.json is valid")
        });
        &BUILTIN
    }
}

/// One pod size: what each replica requests from the scheduler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tier {
    /// Name used by policies and the API (`micro`, `small`, ...).
    pub name: String,
    /// CPU request per pod, in cores.
    pub cpu_cores: f64,
    /// Memory request per pod, in MiB.
    pub memory_mib: f64,
}

impl Tier {
    /// Builds a tier; see [`TierCatalog::new`] for validation.
    pub fn new(name: &str, cpu_cores: f64, memory_mib: f64) -> Self {
        Self {
            name: name.to_owned(),
            cpu_cores,
            memory_mib,
        }
    }

    /// Memory request in GiB, the unit prices are quoted in.
    pub fn memory_gib(&self) -> f64 {
        self.memory_mib / 1024.0
    }
}

/// The tiers on offer, sorted by CPU then memory so "smallest that fits" is a linear scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierCatalog {
    tiers: Vec<Tier>,
}

impl Default for TierCatalog {
    /// The tiers of `config/tiers.json`: micro to xlarge, memory doubling with CPU.
    fn default() -> Self {
        Platform::builtin().tiers.clone()
    }
}

impl TierCatalog {
    /// Validates and sorts the tiers: names unique, sizes positive and finite, at least one tier.
    pub fn new(mut tiers: Vec<Tier>) -> Result<Self> {
        if tiers.is_empty() {
            return Err(Error::InvalidConfig("tier catalog is empty".into()));
        }
        for (i, t) in tiers.iter().enumerate() {
            let sane = |v: f64| v.is_finite() && v > 0.0;
            if !sane(t.cpu_cores) || !sane(t.memory_mib) {
                return Err(Error::InvalidConfig(format!(
                    "tier {:?} must have positive sizes",
                    t.name
                )));
            }
            if tiers[..i].iter().any(|o| o.name == t.name) {
                return Err(Error::InvalidConfig(format!("tier {:?} is defined twice", t.name)));
            }
        }
        tiers.sort_by(|a, b| {
            a.cpu_cores
                .total_cmp(&b.cpu_cores)
                .then(a.memory_mib.total_cmp(&b.memory_mib))
        });
        Ok(Self { tiers })
    }

    /// All tiers, smallest first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The tier with this name.
    pub fn get(&self, name: &str) -> Result<&Tier> {
        self.tiers
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| Error::UnknownTier(name.to_owned()))
    }

    /// The smallest tier whose requests hold `cpu_cores` and `memory_mib` per pod, or `None`
    /// when even the largest is too small.
    pub fn smallest_fitting(&self, cpu_cores: f64, memory_mib: f64) -> Option<&Tier> {
        self.tiers
            .iter()
            .find(|t| t.cpu_cores >= cpu_cores && t.memory_mib >= memory_mib)
    }

    /// The largest tier, the fallback when nothing fits (`None` only for an empty catalog,
    /// which `new` refuses).
    pub fn largest(&self) -> Option<&Tier> {
        self.tiers.last()
    }
}

impl<'de> Deserialize<'de> for TierCatalog {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let tiers = Vec::<Tier>::deserialize(d)?;
        Self::new(tiers).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_is_sorted_and_complete() {
        let c = TierCatalog::default();
        let names: Vec<_> = c.tiers().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["micro", "small", "medium", "large", "xlarge"]);
        assert_eq!(c.get("large").unwrap().cpu_cores, 1.0);
        assert!((c.get("small").unwrap().memory_gib() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn builtin_file_holds_the_design_sizes_and_every_policy_names_a_tier() {
        let p = Platform::from_json(PLATFORM_JSON).unwrap();
        let sizes: Vec<_> = p.tiers.tiers().iter().map(|t| (t.cpu_cores, t.memory_mib)).collect();
        assert_eq!(
            sizes,
            [(0.1, 128.0), (0.25, 256.0), (0.5, 512.0), (1.0, 1024.0), (2.0, 2048.0)]
        );
        assert_eq!(p.workloads["order-worker"], "medium");
        assert_eq!(p.services.len(), 5);
    }

    #[test]
    fn platform_file_with_an_unknown_tier_is_refused() {
        let json = r#"{"tiers": [{"name": "small", "cpu_cores": 0.25, "memory_mib": 256}],
            "services": {}, "workloads": {"order-worker": "medium"}}"#;
        assert!(matches!(Platform::from_json(json), Err(Error::UnknownTier(_))));
    }

    #[test]
    fn smallest_fitting_takes_both_resources_into_account() {
        let c = TierCatalog::default();
        assert_eq!(c.smallest_fitting(0.2, 100.0).unwrap().name, "small");
        // CPU fits micro but memory needs medium.
        assert_eq!(c.smallest_fitting(0.05, 400.0).unwrap().name, "medium");
        assert!(c.smallest_fitting(3.0, 10.0).is_none());
    }

    #[test]
    fn rejects_duplicates_and_nonsense() {
        assert!(TierCatalog::new(vec![]).is_err());
        assert!(TierCatalog::new(vec![Tier::new("a", 1.0, 1.0), Tier::new("a", 2.0, 2.0)]).is_err());
        assert!(TierCatalog::new(vec![Tier::new("a", -1.0, 1.0)]).is_err());
        let c = TierCatalog::new(vec![Tier::new("big", 4.0, 1.0), Tier::new("tiny", 0.1, 1.0)]).unwrap();
        assert_eq!(c.tiers()[0].name, "tiny");
        assert_eq!(c.largest().unwrap().name, "big");
    }
}
