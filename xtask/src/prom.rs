//! `prom-k8s-config`: Debian's promtool is built without Kubernetes service discovery, so it
//! rejects `kubernetes_sd_configs` outright. This checks those blocks, then writes a copy with
//! them replaced by static targets (and rule_files made absolute, in-pod credential files
//! replaced by a placeholder) for promtool to check everything else.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::docs;

const SD_KEYS: &[&str] = &[
    "role",
    "namespaces",
    "selectors",
    "api_server",
    "kubeconfig_file",
    "attach_metadata",
    "basic_auth",
    "authorization",
    "oauth2",
    "tls_config",
    "proxy_url",
    "follow_redirects",
];
const SD_ROLES: &[&str] = &["node", "pod", "service", "endpoints", "endpointslice", "ingress"];

pub(crate) fn run(src: &Path, out: &Path) -> Result<Vec<String>> {
    let mut cfg = docs::yaml(src)?;
    let placeholder = out.with_extension("placeholder");
    std::fs::write(&placeholder, "").with_context(|| format!("failed to write {}", placeholder.display()))?;
    let dir = src.parent().unwrap_or(Path::new(".")).canonicalize()?;
    rewrite(
        &mut cfg,
        &src.display().to_string(),
        &dir,
        &placeholder.display().to_string(),
    )?;
    std::fs::write(out, yaml_serde::to_string(&cfg)?).with_context(|| format!("failed to write {}", out.display()))?;
    Ok(vec![format!(
        "ok: {}: kubernetes_sd_configs blocks are well-formed (promtool checks the rest)",
        src.display()
    )])
}

/// Checks and replaces the SD blocks of `cfg` in place.
pub(crate) fn rewrite(cfg: &mut Value, src: &str, dir: &Path, placeholder: &str) -> Result<()> {
    for job in cfg["scrape_configs"].as_array_mut().into_iter().flatten() {
        let Some(obj) = job.as_object_mut() else { continue };
        let Some(sds) = obj.remove("kubernetes_sd_configs") else {
            continue;
        };
        let name = obj.get("job_name").and_then(Value::as_str).unwrap_or("?").to_owned();
        for sd in sds.as_array().into_iter().flatten() {
            let unknown: Vec<_> = sd
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .filter(|k| !SD_KEYS.contains(k))
                .collect();
            if !unknown.is_empty() {
                bail!("{src}: job {name}: unknown kubernetes_sd_configs fields {unknown:?}");
            }
            if !sd["role"].as_str().is_some_and(|r| SD_ROLES.contains(&r)) {
                bail!("{src}: job {name}: kubernetes_sd_configs role must be one of {SD_ROLES:?}");
            }
            let ns = &sd["namespaces"];
            let ns_ok = ns.is_null()
                || ns.as_object().is_some_and(|m| {
                    m.keys().all(|k| k == "names" || k == "own_namespace") && m.get("names").is_none_or(Value::is_array)
                });
            if !ns_ok {
                bail!("{src}: job {name}: kubernetes_sd_configs.namespaces takes names (a list) and own_namespace");
            }
        }
        obj.insert("static_configs".into(), json!([{"targets": ["127.0.0.1:9"]}]));
    }
    in_pod_files(cfg, placeholder);
    let rules: Vec<Value> = cfg["rule_files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|r| dir.join(r).display().to_string().into())
        .collect();
    cfg["rule_files"] = rules.into();
    Ok(())
}

/// Service-account files exist only inside a pod; promtool insists they exist.
fn in_pod_files(node: &mut Value, placeholder: &str) {
    match node {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                let file_key = matches!(k.as_str(), "credentials_file" | "ca_file" | "bearer_token_file");
                if file_key && v.as_str().is_some_and(|s| s.starts_with("/var/run/secrets/")) {
                    *v = placeholder.into();
                } else {
                    in_pod_files(v, placeholder);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| in_pod_files(v, placeholder)),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SRC: &str = "monitoring/prometheus/prometheus.k8s.yml";

    #[test]
    fn the_repository_config_is_rewritten_for_promtool() {
        // Arrange
        let root = crate::root();
        let mut cfg = docs::yaml(&root.join(SRC)).unwrap();
        // Act
        rewrite(&mut cfg, SRC, Path::new("/abs"), "/tmp/p").unwrap();
        // Assert
        let text = yaml_serde::to_string(&cfg).unwrap();
        assert!(
            !text.contains("kubernetes_sd_configs") && !text.contains("/var/run/secrets/"),
            "{text}"
        );
        assert_eq!(cfg["rule_files"][0], "/abs/rules/*.yml");
    }

    #[test]
    fn a_bad_role_or_an_unknown_field_fails_naming_the_job() {
        let mut cfg = json!({"scrape_configs": [{"job_name": "pods", "kubernetes_sd_configs": [{"role": "pods"}]}]});
        let e = rewrite(&mut cfg, SRC, Path::new("/"), "p").unwrap_err().to_string();
        assert!(e.contains("job pods: kubernetes_sd_configs role must be one of"), "{e}");
        let mut cfg = json!({"scrape_configs": [{"job_name": "pods", "kubernetes_sd_configs": [{"role": "pod", "namespace": []}]}]});
        let e = rewrite(&mut cfg, SRC, Path::new("/"), "p").unwrap_err().to_string();
        assert!(
            e.contains("unknown kubernetes_sd_configs fields [\"namespace\"]"),
            "{e}"
        );
    }
}
