//! Unit prices and the optional pricing file.
//!
//! Defaults are OpenCost's published on-demand defaults so that numbers are comparable with an
//! OpenCost install. The pricing file (JSON) may override prices, tiers and service policies;
//! every key is optional so that a file holding only `{"cpu_core_hour": 0.04}` is valid.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::policy::{PolicySet, ServicePolicy};
use crate::tiers::{Tier, TierCatalog};
use crate::{Error, Result};

/// OpenCost's default on-demand price of one vCPU for one hour, in USD.
pub const DEFAULT_CPU_CORE_HOUR_USD: f64 = 0.031611;
/// OpenCost's default on-demand price of one GiB of RAM for one hour, in USD.
pub const DEFAULT_MEMORY_GIB_HOUR_USD: f64 = 0.004237;
/// Hours in a day.
pub const HOURS_PER_DAY: f64 = 24.0;
/// Hours in a month: 365 * 24 / 12, the convention OpenCost and cloud price sheets use.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Unit prices, in USD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Pricing {
    /// Price of one CPU core for one hour.
    pub cpu_core_hour: f64,
    /// Price of one GiB of memory for one hour.
    pub memory_gib_hour: f64,
}

impl Default for Pricing {
    fn default() -> Self {
        Self {
            cpu_core_hour: DEFAULT_CPU_CORE_HOUR_USD,
            memory_gib_hour: DEFAULT_MEMORY_GIB_HOUR_USD,
        }
    }
}

impl Pricing {
    /// Applies flag or environment overrides on top of file or default prices.
    pub fn with_overrides(self, cpu_core_hour: Option<f64>, memory_gib_hour: Option<f64>) -> Result<Self> {
        let p = Self {
            cpu_core_hour: cpu_core_hour.unwrap_or(self.cpu_core_hour),
            memory_gib_hour: memory_gib_hour.unwrap_or(self.memory_gib_hour),
        };
        p.validate()?;
        Ok(p)
    }

    /// Prices must be finite and non-negative (zero is allowed for free memory, say).
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("cpu_core_hour", self.cpu_core_hour),
            ("memory_gib_hour", self.memory_gib_hour),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::InvalidConfig(format!(
                    "{name} must be a non-negative number, got {v}"
                )));
            }
        }
        Ok(())
    }

    /// Hourly price of one pod that is charged for `cpu_cores` and `memory_gib`.
    pub fn hourly(&self, cpu_cores: f64, memory_gib: f64) -> f64 {
        cpu_cores * self.cpu_core_hour + memory_gib * self.memory_gib_hour
    }

    /// Hourly price of one pod of this tier at its requests.
    pub fn tier_hourly(&self, tier: &Tier) -> f64 {
        self.hourly(tier.cpu_cores, tier.memory_gib())
    }
}

/// The pricing file as written on disk: every section optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CostModelFile {
    #[serde(default)]
    pricing: Option<Pricing>,
    #[serde(default)]
    tiers: Option<TierCatalog>,
    /// Replaces the default policy of the named services and adds new ones.
    #[serde(default)]
    services: BTreeMap<String, ServicePolicy>,
    /// Tiers of unpriced workloads, as in `config/tiers.json` (so that file is a pricing file
    /// too); only checked to name known tiers.
    #[serde(default)]
    workloads: BTreeMap<String, String>,
}

/// Everything the optimizer needs to price and decide: prices, tiers and per-service policies.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CostModel {
    /// Unit prices.
    pub pricing: Pricing,
    /// Pod sizes on offer.
    pub tiers: TierCatalog,
    /// Per-service scaling policies.
    pub policies: PolicySet,
}

impl CostModel {
    /// Parses a pricing file's JSON on top of the defaults and checks that every policy's tier
    /// exists.
    pub fn from_json(json: &str) -> Result<Self> {
        let file: CostModelFile = serde_json::from_str(json)?;
        let mut model = Self::default();
        if let Some(p) = file.pricing {
            p.validate()?;
            model.pricing = p;
        }
        if let Some(t) = file.tiers {
            model.tiers = t;
        }
        for (name, policy) in file.services {
            model.policies.insert(name, policy)?;
        }
        for tier in file.workloads.values() {
            model.tiers.get(tier)?;
        }
        model.validate()?;
        Ok(model)
    }

    /// Reads the pricing file when a path is given, else returns the defaults.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else { return Ok(Self::default()) };
        let json = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&json)
    }

    /// Every policy must name a known tier: found at load time rather than at the first request.
    pub fn validate(&self) -> Result<()> {
        self.pricing.validate()?;
        for (_, policy) in self.policies.iter() {
            self.tiers.get(&policy.tier)?;
        }
        Ok(())
    }

    /// The policy and tier of one service, or [`Error::UnknownService`].
    pub fn service(&self, name: &str) -> Result<(&ServicePolicy, &Tier)> {
        let policy = self
            .policies
            .get(name)
            .ok_or_else(|| Error::UnknownService(name.to_owned()))?;
        Ok((policy, self.tiers.get(&policy.tier)?))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_opencost_prices() {
        let p = Pricing::default();
        assert_eq!(p.cpu_core_hour, 0.031611);
        assert_eq!(p.memory_gib_hour, 0.004237);
        // medium = 0.5 core + 0.5 GiB = 0.0158055 + 0.0021185 = 0.017924 USD/h
        let medium = Tier::new("medium", 0.5, 512.0);
        assert!((p.tier_hourly(&medium) - 0.017924).abs() < 1e-12);
    }

    #[test]
    fn overrides_win_and_are_validated() {
        let p = Pricing::default().with_overrides(Some(0.05), None).unwrap();
        assert_eq!(p.cpu_core_hour, 0.05);
        assert_eq!(p.memory_gib_hour, DEFAULT_MEMORY_GIB_HOUR_USD);
        assert!(Pricing::default().with_overrides(Some(-1.0), None).is_err());
    }

    #[test]
    fn partial_file_keeps_defaults() {
        let m = CostModel::from_json(r#"{"pricing": {"cpu_core_hour": 0.04}}"#).unwrap();
        assert_eq!(m.pricing.cpu_core_hour, 0.04);
        assert_eq!(m.pricing.memory_gib_hour, DEFAULT_MEMORY_GIB_HOUR_USD);
        assert_eq!(m.tiers, TierCatalog::default());
        assert!(m.service("order-service").is_ok());
    }

    #[test]
    fn file_can_add_services_and_tiers() {
        let json = r#"{
            "tiers": [{"name": "huge", "cpu_cores": 8, "memory_mib": 8192},
                      {"name": "micro", "cpu_cores": 0.1, "memory_mib": 128},
                      {"name": "small", "cpu_cores": 0.25, "memory_mib": 256},
                      {"name": "medium", "cpu_cores": 0.5, "memory_mib": 512}],
            "services": {"search": {"tier": "huge", "min_replicas": 1, "max_replicas": 3,
                         "target_cpu_utilization": 0.6, "scale_down_stabilization_seconds": 120}}
        }"#;
        let m = CostModel::from_json(json).unwrap();
        let (policy, tier) = m.service("search").unwrap();
        assert_eq!(tier.cpu_cores, 8.0);
        assert_eq!(policy.hourly_budget_usd, None);
        // The default services name tiers that the replaced catalog lacks.
        let bad = r#"{"tiers": [{"name": "huge", "cpu_cores": 8, "memory_mib": 8192}]}"#;
        assert!(matches!(CostModel::from_json(bad), Err(Error::UnknownTier(_))));
    }

    #[test]
    fn the_platform_file_is_a_pricing_file_giving_the_defaults() {
        let m = CostModel::from_json(crate::tiers::PLATFORM_JSON).unwrap();
        assert_eq!(m.tiers, TierCatalog::default());
        assert_eq!(m.policies, PolicySet::default());
    }

    #[test]
    fn unknown_keys_and_services_are_errors() {
        assert!(CostModel::from_json(r#"{"pricng": {}}"#).is_err());
        assert!(matches!(
            CostModel::default().service("nope"),
            Err(Error::UnknownService(_))
        ));
    }
}
