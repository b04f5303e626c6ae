//! Autoscaler checks: `autoscaling-conflicts` (each workload has one autoscaler, and no Rollout
//! takes over a workload an autoscaler scales) and `hpa-behavior` (every HPA scales with the
//! behaviour `cost-optimizer simulate` replays and reads the forecast the one right way).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde_json::Value;

use crate::docs::{self, cpu_cores, name_of};
use crate::metrics::custom_metric_key;

/// The HPA behaviour `cost-optimizer simulate` replays.
pub(crate) const BEHAVIOR_FILE: &str = "config/hpa-behavior.json";
const FORECAST_METRIC: &str = "predicted_cpu_cores";

/// (file name, documents) of each rendered manifest.
pub(crate) type Rendered = Vec<(String, Vec<Value>)>;

fn load(paths: &[PathBuf]) -> Result<Rendered> {
    paths
        .iter()
        .map(|p| Ok((p.display().to_string(), docs::docs(p)?)))
        .collect()
}

pub(crate) fn run_conflicts(paths: &[PathBuf]) -> Result<Vec<String>> {
    conflicts(&load(paths)?)
}

pub(crate) fn conflicts(rendered: &Rendered) -> Result<Vec<String>> {
    // (namespace, kind, name) of the scaled workload -> owners
    let mut scalers: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    let mut rollouts = BTreeMap::new();
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    for (path, docs) in rendered {
        for d in docs {
            let ns = s(&d["metadata"]["namespace"]);
            let owner = format!("{path}: {}", name_of(d));
            let r = &d["spec"]["scaleTargetRef"];
            let target = match d["kind"].as_str() {
                Some("HorizontalPodAutoscaler") => (ns, s(&r["kind"]), s(&r["name"])),
                Some("ScaledObject") => {
                    let kind = r["kind"].as_str().unwrap_or("Deployment").to_owned();
                    (ns, kind, s(&r["name"]))
                }
                Some("Rollout") if d["spec"].get("workloadRef").is_some() => {
                    let w = &d["spec"]["workloadRef"];
                    rollouts.insert((ns, s(&w["kind"]), s(&w["name"])), owner);
                    continue;
                }
                _ => continue,
            };
            scalers.entry(target).or_default().push(owner);
        }
    }
    for (target, owners) in &scalers {
        let (_, kind, name) = target;
        if owners.len() > 1 {
            bail!(
                "{kind}/{name} is scaled by more than one autoscaler: {}",
                owners.join("; ")
            );
        }
        if let Some(rollout) = rollouts.get(target) {
            bail!(
                "{kind}/{name} is scaled by {} but {rollout} takes it over (workloadRef): scale the Rollout instead",
                owners[0]
            );
        }
    }
    Ok(vec![format!(
        "ok: {} scale targets, each with exactly one autoscaler",
        scalers.len()
    )])
}

/// (field path, got, want) for every leaf where `got` and `want` differ.
fn differences(at: &str, got: &Value, want: &Value, out: &mut Vec<(String, Value, Value)>) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let extra = g.keys().filter(|k| !w.contains_key(*k));
            for k in w.keys().chain(extra) {
                let (gv, wv) = (g.get(k).unwrap_or(&Value::Null), w.get(k).unwrap_or(&Value::Null));
                differences(&format!("{at}.{k}"), gv, wv, out);
            }
        }
        (Value::Array(g), Value::Array(w)) if g.len() != w.len() => out.push((
            at.to_owned(),
            format!("{} entries", g.len()).into(),
            format!("{} entries", w.len()).into(),
        )),
        (Value::Array(g), Value::Array(w)) => {
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                differences(&format!("{at}[{i}]"), gv, wv, out);
            }
        }
        _ if got != want => out.push((at.to_owned(), got.clone(), want.clone())),
        _ => {}
    }
}

fn ns_of(d: &Value) -> String {
    d["metadata"]["namespace"].as_str().unwrap_or("").to_owned()
}

pub(crate) fn run_behavior(root: &Path, args: &[String]) -> Result<Vec<String>> {
    let want = docs::json(&root.join(BEHAVIOR_FILE))?;
    let mut rendered = Vec::new();
    for arg in args {
        let (label, file) = arg.split_once('=').unwrap_or((arg, arg));
        rendered.push((label.to_owned(), docs::docs(Path::new(file))?));
    }
    behavior(&want, &rendered)
}

pub(crate) fn behavior(want: &Value, rendered: &Rendered) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (path, all) in rendered {
        let (mut hpas, mut forecasts) = (0, 0);
        let deployments: BTreeMap<_, _> = all
            .iter()
            .filter(|d| d["kind"] == "Deployment")
            .map(|d| ((ns_of(d), d["metadata"]["name"].as_str().unwrap_or("").to_owned()), d))
            .collect();
        for d in all.iter().filter(|d| d["kind"] == "HorizontalPodAutoscaler") {
            let hpa = format!("{path}: {}", name_of(d));
            let mut diffs = Vec::new();
            differences("spec.behavior", &d["spec"]["behavior"], want, &mut diffs);
            if let Some((field, got, exp)) = diffs.first() {
                let got = if got.is_null() {
                    "missing".to_owned()
                } else {
                    got.to_string()
                };
                bail!(
                    "{hpa}: {field} is {got} but {BEHAVIOR_FILE} says {exp}; `cost-optimizer simulate` \
                     replays that file, so change both or neither"
                );
            }
            hpas += 1;
            let metrics = d["spec"]["metrics"].as_array().map(Vec::as_slice).unwrap_or_default();
            let cpu = metrics
                .iter()
                .map(|m| &m["resource"])
                .find(|r| r["name"] == "cpu" && r["target"]["type"] == "Utilization");
            for (i, m) in metrics.iter().enumerate() {
                let Some(key) = custom_metric_key(m) else { continue };
                let spec = &m[key];
                let name = spec["metric"]["name"].as_str().unwrap_or("?");
                if !name.starts_with("predicted_") {
                    continue;
                }
                let at = format!("spec.metrics[{i}]");
                if key != "object" || name != FORECAST_METRIC {
                    bail!(
                        "{hpa}: {at} reads the forecast as {} metric '{name}'; read it as the Object metric \
                         '{FORECAST_METRIC}' of the Deployment (the forecast demand in cores)",
                        m["type"].as_str().unwrap_or("?")
                    );
                }
                let target = &spec["target"];
                if target["type"] != "AverageValue" || target.get("averageValue").is_none() {
                    bail!(
                        "{hpa}: {at} ({FORECAST_METRIC}) has target type {}; it must be AverageValue with an \
                         averageValue: a Value target is multiplied by the ready pods and discounts the \
                         forecast while new pods start",
                        target["type"]
                    );
                }
                let Some(cpu) = cpu else {
                    bail!("{hpa}: reads the forecast but has no CPU Utilization metric as the reactive safety net");
                };
                let obj = &spec["describedObject"];
                let key = (ns_of(d), obj["name"].as_str().unwrap_or("").to_owned());
                let dep = deployments.get(&key).filter(|_| obj["kind"] == "Deployment");
                let Some(dep) = dep else {
                    bail!(
                        "{hpa}: {at}.object.describedObject {}/{} is not a Deployment in {path}; the adapter \
                         attaches the forecast to the Deployment",
                        obj["kind"].as_str().unwrap_or("?"),
                        obj["name"].as_str().unwrap_or("?")
                    );
                };
                let request =
                    cpu_cores(&dep["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"])?;
                let share = cpu["target"]["averageUtilization"].as_f64().unwrap_or(0.0) / 100.0;
                let expected = request * share;
                let got = cpu_cores(&target["averageValue"])?;
                if (got - expected).abs() > 1e-6 {
                    bail!(
                        "{hpa}: {at}.object.target.averageValue is {} but {:.0}% of the {request}-core request \
                         is {}m (the same per-pod aim as the CPU metric)",
                        target["averageValue"]
                            .as_str()
                            .map_or(target["averageValue"].to_string(), str::to_owned),
                        share * 100.0,
                        (expected * 1000.0).round()
                    );
                }
                forecasts += 1;
            }
        }
        if hpas == 0 {
            bail!("{path}: no HorizontalPodAutoscaler found to check");
        }
        out.push(format!(
            "ok: {path}: {hpas} HPAs scale with the behaviour in {BEHAVIOR_FILE}; {forecasts} read \
             {FORECAST_METRIC} with an AverageValue target at their CPU target's share of the request"
        ));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rendered(files: &[&str]) -> Rendered {
        let root = crate::root();
        load(&files.iter().map(|f| root.join(f)).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn one_autoscaler_per_workload_and_a_second_one_fails() {
        // Arrange
        let mut r = rendered(&[
            "k8s/30-order-service.yaml",
            "k8s/30-order-worker.yaml",
            "k8s/keda/scaledobject-order-worker.yaml",
        ]);
        // Act / Assert
        assert!(conflicts(&r).is_ok());
        let mut hpa = r[0]
            .1
            .iter()
            .find(|d| d["kind"] == "HorizontalPodAutoscaler")
            .unwrap()
            .clone();
        hpa["spec"]["scaleTargetRef"]["name"] = "order-worker".into();
        r[1].1.push(hpa);
        let e = conflicts(&r).unwrap_err().to_string();
        assert!(
            e.contains("Deployment/order-worker is scaled by more than one autoscaler"),
            "{e}"
        );
    }

    #[test]
    fn a_rollout_taking_over_an_hpa_scaled_deployment_fails() {
        let r = rendered(&[
            "k8s/30-order-service.yaml",
            "k8s/gitops/canary/rollout-order-service.yaml",
        ]);
        let e = conflicts(&r).unwrap_err().to_string();
        assert!(e.contains("takes it over (workloadRef)"), "{e}");
    }

    #[test]
    fn hpas_follow_the_behaviour_file_and_the_forecast_target() {
        // Arrange
        let want = docs::json(&crate::root().join(BEHAVIOR_FILE)).unwrap();
        let mut r = rendered(&["k8s/30-catalog-service.yaml"]);
        // Act / Assert
        assert!(behavior(&want, &r).unwrap()[0].contains("1 HPAs"));
        let hpa = r[0]
            .1
            .iter_mut()
            .find(|d| d["kind"] == "HorizontalPodAutoscaler")
            .unwrap();
        hpa["spec"]["metrics"][0]["object"]["target"]["averageValue"] = "200m".into();
        let e = behavior(&want, &r).unwrap_err().to_string();
        assert!(
            e.contains("averageValue is 200m but 70% of the 0.25-core request is 175m"),
            "{e}"
        );
        let hpa = r[0]
            .1
            .iter_mut()
            .find(|d| d["kind"] == "HorizontalPodAutoscaler")
            .unwrap();
        hpa["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"] = 60.into();
        let e = behavior(&want, &r).unwrap_err().to_string();
        assert!(
            e.contains("spec.behavior.scaleUp.stabilizationWindowSeconds is 60 but"),
            "{e}"
        );
    }
}
