//! `metric-names`: every PromQL expression the deployment files hold (recording and alerting
//! rules, dashboards, adapter rules, ScaledObjects, analysis templates) uses only metrics listed
//! in monitoring/metrics.txt or recording rules; HPAs read names the Prometheus Adapter serves;
//! and each listed metric that a crate of ours owns is still found in that crate's source.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::docs::{self, name_of};
use crate::{adapter, dashboards, promql};

const METRICS_FILE: &str = "monitoring/metrics.txt";
const RULES_DIR: &str = "monitoring/prometheus/rules";

/// One line of monitoring/metrics.txt.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    owner: String,
    flags: BTreeSet<String>,
}

/// What the check reads, parsed.
pub(crate) struct Inputs {
    pub(crate) listed: BTreeMap<String, Listed>,
    /// (file name, parsed) of each rule file.
    pub(crate) rules: Vec<(String, Value)>,
    /// (file name, parsed) of each dashboard.
    pub(crate) dashboards: Vec<(String, Value)>,
    pub(crate) adapter: Value,
    /// (file name, documents) of each rendered manifest.
    pub(crate) rendered: Vec<(String, Vec<Value>)>,
    /// The concatenated Rust sources of each crate named as an owner (absent: not ours).
    pub(crate) sources: BTreeMap<String, String>,
}

pub(crate) fn parse_listed(text: &str) -> BTreeMap<String, Listed> {
    let mut listed = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<_> = line.split('#').next().unwrap_or("").split_whitespace().collect();
        if let [name, owner, flags @ ..] = words.as_slice() {
            let flags = flags.iter().map(|f| (*f).to_owned()).collect();
            listed.insert(
                (*name).to_owned(),
                Listed {
                    owner: (*owner).to_owned(),
                    flags,
                },
            );
        }
    }
    listed
}

fn rust_sources(dir: &Path, out: &mut String) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            rust_sources(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&path)?));
            out.push('\n');
        }
    }
    Ok(())
}

impl Inputs {
    pub(crate) fn load(root: &Path, rendered: &[PathBuf]) -> Result<Self> {
        let listed = parse_listed(&docs::read(&root.join(METRICS_FILE))?);
        let mut rule_files: Vec<_> = std::fs::read_dir(root.join(RULES_DIR))
            .with_context(|| format!("failed to list {RULES_DIR}"))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        rule_files.retain(|p| p.extension().is_some_and(|e| e == "yml"));
        rule_files.sort();
        let mut rules = Vec::new();
        for p in rule_files {
            let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
            rules.push((name, docs::yaml(&p)?));
        }
        let mut dashboards = Vec::new();
        for (name, text) in dashboards::load(root)? {
            let v = serde_json::from_str(&text).with_context(|| format!("{name} is not valid JSON"))?;
            dashboards.push((name, v));
        }
        let mut docs_of = Vec::new();
        for path in rendered {
            docs_of.push((path.display().to_string(), docs::docs(path)?));
        }
        let mut sources = BTreeMap::new();
        for info in listed.values() {
            let src = root.join(&info.owner).join("src");
            if src.is_dir() && !sources.contains_key(&info.owner) {
                let mut text = String::new();
                rust_sources(&src, &mut text)?;
                sources.insert(info.owner.clone(), text);
            }
        }
        Ok(Self {
            listed,
            rules,
            dashboards,
            adapter: docs::yaml(&root.join(adapter::PLAIN))?,
            rendered: docs_of,
            sources,
        })
    }

    fn adapter_rules(&self) -> impl Iterator<Item = &Value> {
        let rules = self.adapter["rules"].as_array().into_iter().flatten();
        rules.chain(self.adapter["externalRules"].as_array().into_iter().flatten())
    }

    /// (where, expression) for every PromQL expression.
    fn uses(&self) -> Vec<(String, String)> {
        let mut uses = Vec::new();
        let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
        for (file, doc) in &self.rules {
            for g in doc["groups"].as_array().into_iter().flatten() {
                for r in g["rules"].as_array().into_iter().flatten() {
                    let what = r["record"].as_str().or(r["alert"].as_str()).unwrap_or("?");
                    uses.push((format!("{file}: {what}"), s(&r["expr"])));
                }
            }
        }
        for (file, d) in &self.dashboards {
            for p in d["panels"].as_array().into_iter().flatten() {
                for t in p["targets"].as_array().into_iter().flatten() {
                    uses.push((format!("{file}: {}", p["title"].as_str().unwrap_or("?")), s(&t["expr"])));
                }
            }
        }
        for r in self.adapter_rules() {
            uses.push(("adapter rules: seriesQuery".into(), s(&r["seriesQuery"])));
            uses.push(("adapter rules: metricsQuery".into(), s(&r["metricsQuery"])));
        }
        for (path, docs) in &self.rendered {
            for d in docs {
                if d["kind"] == "ScaledObject" {
                    for t in d["spec"]["triggers"].as_array().into_iter().flatten() {
                        if t["type"] == "prometheus" {
                            uses.push((format!("{path}: {}", name_of(d)), s(&t["metadata"]["query"])));
                        }
                    }
                }
                if d["kind"] == "AnalysisTemplate" {
                    for m in d["spec"]["metrics"].as_array().into_iter().flatten() {
                        if let Some(q) = m["provider"]["prometheus"]["query"].as_str() {
                            uses.push((format!("{path}: {}", name_of(d)), q.to_owned()));
                        }
                    }
                }
            }
        }
        uses
    }
}

pub(crate) fn run(root: &Path, rendered: &[PathBuf]) -> Result<Vec<String>> {
    check(&Inputs::load(root, rendered)?)
}

pub(crate) fn check(inputs: &Inputs) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut allowed = BTreeSet::new();
    for (_, doc) in &inputs.rules {
        for g in doc["groups"].as_array().into_iter().flatten() {
            for r in g["rules"].as_array().into_iter().flatten() {
                if let Some(name) = r["record"].as_str() {
                    allowed.insert(name.to_owned());
                }
            }
        }
    }
    for (name, info) in &inputs.listed {
        allowed.insert(name.clone());
        if info.flags.contains("histogram") {
            for suffix in ["bucket", "sum", "count"] {
                allowed.insert(format!("{name}_{suffix}"));
            }
        }
    }
    let uses = inputs.uses();
    for (place, expr) in &uses {
        if let Some(n) = promql::metric_names(expr).into_iter().find(|n| !allowed.contains(n)) {
            bail!("{place}: metric '{n}' is neither in {METRICS_FILE} nor a recording rule");
        }
    }
    out.push(format!(
        "ok: {} PromQL expressions use only listed metrics or recording rules",
        uses.len()
    ));

    // HPAs read adapter-served names, not raw series.
    let mut exposed = BTreeSet::new();
    for r in inputs.adapter_rules() {
        let Some(name) = r["name"]["as"].as_str() else {
            bail!("adapter rules: every rule must give name.as, so HPAs can be checked against it");
        };
        exposed.insert(name);
    }
    let mut hpas = 0;
    for (path, docs) in &inputs.rendered {
        for d in docs.iter().filter(|d| d["kind"] == "HorizontalPodAutoscaler") {
            for m in d["spec"]["metrics"].as_array().into_iter().flatten() {
                let Some(key) = custom_metric_key(m) else { continue };
                let n = m[key]["metric"]["name"].as_str().unwrap_or("?");
                if !exposed.contains(n) {
                    bail!(
                        "{path}: {} reads custom metric '{n}', which no Prometheus Adapter rule serves",
                        name_of(d)
                    );
                }
                hpas += 1;
            }
        }
    }
    out.push(format!(
        "ok: {hpas} HPA custom metrics are served by the Prometheus Adapter rules"
    ));

    // The code must still export what is listed (a rename in a crate fails here).
    let mut pending_found = Vec::new();
    for (name, info) in &inputs.listed {
        let Some(src) = inputs.sources.get(&info.owner) else {
            continue; // not a crate of ours (prometheus, kube-state-metrics)
        };
        let found = src.contains(&format!("\"{name}\""));
        if info.flags.contains("pending") {
            if found {
                pending_found.push(name);
            }
        } else if !found {
            bail!(
                "metric '{name}' is listed for {0} but {0}/src no longer mentions it; update {METRICS_FILE} \
                 and every dashboard, rule and HPA that uses it",
                info.owner
            );
        }
    }
    out.push("ok: every listed metric not marked pending is exported by its crate".into());
    for name in pending_found {
        let owner = &inputs.listed[name].owner;
        out.push(format!(
            "note: '{name}' now appears in {owner}/src: drop its 'pending' mark in {METRICS_FILE}"
        ));
    }
    Ok(out)
}

/// The key holding an Object, External or Pods metric (`object`, ...), or `None` for others.
pub(crate) fn custom_metric_key(m: &Value) -> Option<&'static str> {
    match m["type"].as_str()? {
        "Object" => Some("object"),
        "External" => Some("external"),
        "Pods" => Some("pods"),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn repo() -> Inputs {
        let root = crate::root();
        let mut rendered: Vec<PathBuf> = ["30-order-service", "30-user-service", "keda/scaledobject-order-worker"]
            .iter()
            .map(|f| root.join(format!("k8s/{f}.yaml")))
            .collect();
        rendered.push(root.join("k8s/gitops/canary/analysistemplate-error-rate.yaml"));
        Inputs::load(&root, &rendered).unwrap()
    }

    #[test]
    fn the_repository_uses_only_listed_metrics() {
        let out = check(&repo()).unwrap();
        assert!(out[1].contains("HPA custom metrics"), "{out:?}");
    }

    #[test]
    fn an_unlisted_metric_in_a_rule_fails_naming_the_rule() {
        let mut inputs = repo();
        inputs.rules[0].1["groups"][0]["rules"][0]["expr"] = "sum(rate(http_requets_total[1m]))".into();
        let e = check(&inputs).unwrap_err().to_string();
        assert!(
            e.contains("metric 'http_requets_total' is neither in monitoring/metrics.txt"),
            "{e}"
        );
        assert!(e.starts_with(&inputs.rules[0].0), "{e}");
    }

    #[test]
    fn an_hpa_reading_an_unserved_metric_and_a_renamed_export_fail() {
        let mut inputs = repo();
        let hpa = inputs.rendered[0]
            .1
            .iter_mut()
            .find(|d| d["kind"] == "HorizontalPodAutoscaler")
            .unwrap();
        hpa["spec"]["metrics"][0]["object"]["metric"]["name"] = "predicted_load".into();
        let e = check(&inputs).unwrap_err().to_string();
        assert!(e.contains("reads custom metric 'predicted_load'"), "{e}");

        let mut inputs = repo();
        let src = inputs.sources.get_mut("order-service").unwrap();
        *src = src.replace("\"order_queue_depth\"", "\"order_queue_length\"");
        let e = check(&inputs).unwrap_err().to_string();
        assert!(
            e.contains("metric 'order_queue_depth' is listed for order-service"),
            "{e}"
        );
    }
}
