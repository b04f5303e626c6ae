//! `tiers`: the one source of truth for pod sizes and scaling policies is `config/tiers.json`
//! (cost-optimizer compiles it in as its defaults). This check holds everything else that
//! repeats those numbers to it: each Deployment's CPU and memory request, each HPA's replica
//! bounds, the `service:cpu_request_cores:tier` recording rules (utilisation is computed against
//! them) and the native setup's policy file, which may differ in `min_replicas` only (one
//! process per service runs natively).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use crate::docs::{self, cpu_cores, memory_mib, name_of};

/// The source of truth.
pub(crate) const TIERS_FILE: &str = "config/tiers.json";
/// The native setup's pricing file (scripts/up-monitoring.sh passes it to cost-optimizer).
pub(crate) const NATIVE_FILE: &str = "config/native-cost-policy.json";
/// The recording rules file holding the per-service CPU requests.
pub(crate) const RECORDING_FILE: &str = "monitoring/prometheus/rules/recording.yml";
const TIER_RULE: &str = "service:cpu_request_cores:tier";

/// One pod size.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Tier {
    pub(crate) name: String,
    pub(crate) cpu_cores: f64,
    pub(crate) memory_mib: f64,
}

/// The fields of a policy this check compares (cost-optimizer parses the rest strictly).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Policy {
    pub(crate) tier: String,
    pub(crate) min_replicas: u64,
    pub(crate) max_replicas: u64,
    pub(crate) target_cpu_utilization: f64,
}

/// `config/tiers.json`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Platform {
    pub(crate) tiers: Vec<Tier>,
    pub(crate) services: BTreeMap<String, Policy>,
    #[serde(default)]
    pub(crate) workloads: BTreeMap<String, String>,
}

impl Platform {
    pub(crate) fn parse(json: &str) -> Result<Self> {
        let p: Self = serde_json::from_str(json).with_context(|| format!("{TIERS_FILE} is not valid"))?;
        for (name, tier) in p.tier_names() {
            if !p.tiers.iter().any(|t| t.name == tier) {
                bail!("{TIERS_FILE}: {name} names tier {tier:?}, which the file's tiers lack");
            }
        }
        Ok(p)
    }

    /// (workload, tier name) of every service and workload, in name order.
    fn tier_names(&self) -> Vec<(&str, &str)> {
        let services = self.services.iter().map(|(n, p)| (n.as_str(), p.tier.as_str()));
        let workloads = self.workloads.iter().map(|(n, t)| (n.as_str(), t.as_str()));
        let mut all: Vec<_> = services.chain(workloads).collect();
        all.sort();
        all
    }

    /// The tier of a service or workload.
    pub(crate) fn tier_of(&self, workload: &str) -> Option<&Tier> {
        let name = match self.services.get(workload) {
            Some(p) => &p.tier,
            None => self.workloads.get(workload)?,
        };
        self.tiers.iter().find(|t| &t.name == name)
    }
}

/// What the check reads, parsed.
pub(crate) struct Inputs {
    pub(crate) platform: Platform,
    /// (file name, documents) of the rendered manifests.
    pub(crate) rendered: (String, Vec<Value>),
    pub(crate) recording: Value,
    pub(crate) native: Value,
}

pub(crate) fn run(root: &Path, rendered: &Path) -> Result<Vec<String>> {
    let inputs = Inputs {
        platform: Platform::parse(&docs::read(&root.join(TIERS_FILE))?)?,
        rendered: (rendered.display().to_string(), docs::docs(rendered)?),
        recording: docs::yaml(&root.join(RECORDING_FILE))?,
        native: docs::json(&root.join(NATIVE_FILE))?,
    };
    check(&inputs)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

pub(crate) fn check(inputs: &Inputs) -> Result<Vec<String>> {
    let p = &inputs.platform;
    Ok(vec![
        requests(p, &inputs.rendered)?,
        recording_rules(p, &inputs.recording)?,
        hpa_bounds(p, &inputs.rendered)?,
        native_policy(p, &inputs.native)?,
    ])
}

/// Every Deployment requests exactly its tier.
fn requests(p: &Platform, (file, docs): &(String, Vec<Value>)) -> Result<String> {
    let mut seen = 0;
    for d in docs.iter().filter(|d| d["kind"] == "Deployment") {
        let name = d["metadata"]["name"].as_str().unwrap_or("?");
        let Some(tier) = p.tier_of(name) else {
            bail!(
                "{file}: Deployment {name} has no tier in {TIERS_FILE} (add it under services or \
                 workloads)"
            );
        };
        let requests = &d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"];
        let at = "spec.template.spec.containers[0].resources.requests";
        let cpu = cpu_cores(&requests["cpu"]).with_context(|| format!("{file}: Deployment {name} {at}.cpu"))?;
        if !close(cpu, tier.cpu_cores) {
            bail!(
                "{file}: Deployment {name} {at}.cpu is {cpu} cores but {TIERS_FILE} gives it tier {} \
                 with {} cores: utilisation and cost would be computed against the wrong request",
                tier.name,
                tier.cpu_cores
            );
        }
        let mem = memory_mib(&requests["memory"]).with_context(|| format!("{file}: Deployment {name} {at}.memory"))?;
        if !close(mem, tier.memory_mib) {
            bail!(
                "{file}: Deployment {name} {at}.memory is {mem} MiB but {TIERS_FILE} gives it tier {} \
                 with {} MiB",
                tier.name,
                tier.memory_mib
            );
        }
        seen += 1;
    }
    Ok(format!(
        "ok: CPU and memory requests of {seen} Deployments match their tiers in {TIERS_FILE}"
    ))
}

/// The recording rules hold each service's tier CPU, for every sized workload and no other.
fn recording_rules(p: &Platform, recording: &Value) -> Result<String> {
    let number = Regex::new(r"^\s*vector\(\s*([0-9.]+)\s*\)\s*$")?;
    let mut recorded = BTreeMap::new();
    for g in recording["groups"].as_array().into_iter().flatten() {
        for r in g["rules"].as_array().into_iter().flatten() {
            if r["record"] != TIER_RULE {
                continue;
            }
            let Some(service) = r["labels"]["service"].as_str() else {
                bail!("{RECORDING_FILE}: a {TIER_RULE} rule has no labels.service");
            };
            let expr = r["expr"].as_str().unwrap_or("");
            let Some(v) = number.captures(expr).and_then(|c| c[1].parse::<f64>().ok()) else {
                bail!("{RECORDING_FILE}: {TIER_RULE}{{service={service:?}}} expr {expr:?} is not vector(<cores>)");
            };
            if recorded.insert(service.to_owned(), v).is_some() {
                bail!("{RECORDING_FILE}: {TIER_RULE}{{service={service:?}}} is recorded twice");
            }
        }
    }
    for (name, _) in p.tier_names() {
        let tier = p.tier_of(name).context("tier checked at parse")?;
        match recorded.remove(name) {
            None => bail!(
                "{RECORDING_FILE}: no {TIER_RULE} rule for {name} (tier {} in {TIERS_FILE}; \
                 `cargo xtask tier-rules` prints them)",
                tier.name
            ),
            Some(v) if !close(v, tier.cpu_cores) => bail!(
                "{RECORDING_FILE}: {TIER_RULE}{{service={name:?}}} expr is vector({v}) but {TIERS_FILE} \
                 gives {name} tier {} with {} cores: utilisation would be computed against the wrong request \
                 (`cargo xtask tier-rules` prints the rules for {TIERS_FILE})",
                tier.name,
                tier.cpu_cores
            ),
            Some(_) => {}
        }
    }
    if let Some(extra) = recorded.keys().next() {
        bail!("{RECORDING_FILE}: {TIER_RULE}{{service={extra:?}}} is for a workload {TIERS_FILE} does not size");
    }
    Ok(format!(
        "ok: {RECORDING_FILE} {TIER_RULE} rules match the tiers in {TIERS_FILE}"
    ))
}

/// The `service:cpu_request_cores:tier` rules for `config/tiers.json`, as recording.yml holds
/// them (indented for its `platform-tiers` group): what to paste when the check fails.
pub(crate) fn rules_yaml(p: &Platform) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _) in p.tier_names() {
        if let Some(tier) = p.tier_of(name) {
            out.push(format!("      - record: {TIER_RULE}"));
            out.push(format!("        expr: vector({})", tier.cpu_cores));
            out.push(format!("        labels: {{ service: {name} }}"));
        }
    }
    out
}

pub(crate) fn run_rules(root: &Path) -> Result<Vec<String>> {
    Ok(rules_yaml(&Platform::parse(&docs::read(&root.join(TIERS_FILE))?)?))
}

/// Each HPA's replica bounds are its service's policy.
fn hpa_bounds(p: &Platform, (file, docs): &(String, Vec<Value>)) -> Result<String> {
    let mut seen = 0;
    for d in docs.iter().filter(|d| d["kind"] == "HorizontalPodAutoscaler") {
        let hpa = name_of(d);
        let target = d["spec"]["scaleTargetRef"]["name"].as_str().unwrap_or("?");
        let Some(policy) = p.services.get(target) else {
            bail!("{file}: {hpa} scales {target}, which has no policy under services in {TIERS_FILE}");
        };
        for (field, want) in [
            ("minReplicas", policy.min_replicas),
            ("maxReplicas", policy.max_replicas),
        ] {
            let got = &d["spec"][field];
            if got.as_u64() != Some(want) {
                bail!("{file}: {hpa} spec.{field} is {got} but {TIERS_FILE} services.{target} says {want}");
            }
        }
        seen += 1;
    }
    Ok(format!(
        "ok: replica bounds of {seen} HPAs match the policies in {TIERS_FILE}"
    ))
}

/// The native policy file only lowers `min_replicas`; it names no tiers of its own.
fn native_policy(p: &Platform, native: &Value) -> Result<String> {
    let Some(top) = native.as_object() else {
        bail!("{NATIVE_FILE}: not a JSON object");
    };
    if let Some(key) = top.keys().find(|k| k.as_str() != "services") {
        bail!("{NATIVE_FILE}: {key} belongs in {TIERS_FILE} (the native file overrides services only)");
    }
    let services: BTreeMap<String, Policy> =
        serde_json::from_value(native["services"].clone()).with_context(|| format!("{NATIVE_FILE}: services"))?;
    for (name, got) in &services {
        let Some(want) = p.services.get(name) else {
            bail!("{NATIVE_FILE}: services.{name} has no policy in {TIERS_FILE}");
        };
        if got.tier != want.tier {
            bail!(
                "{NATIVE_FILE}: services.{name}.tier is {:?} but {TIERS_FILE} says {:?}",
                got.tier,
                want.tier
            );
        }
        if got.max_replicas != want.max_replicas {
            bail!(
                "{NATIVE_FILE}: services.{name}.max_replicas is {} but {TIERS_FILE} says {}",
                got.max_replicas,
                want.max_replicas
            );
        }
        if !close(got.target_cpu_utilization, want.target_cpu_utilization) {
            bail!(
                "{NATIVE_FILE}: services.{name}.target_cpu_utilization is {} but {TIERS_FILE} says {}",
                got.target_cpu_utilization,
                want.target_cpu_utilization
            );
        }
    }
    Ok(format!(
        "ok: {NATIVE_FILE} differs from {TIERS_FILE} in min_replicas only ({} services)",
        services.len()
    ))
}

#[cfg(test)]
#[path = "tiers_tests.rs"]
mod tests;
