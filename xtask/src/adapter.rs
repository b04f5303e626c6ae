//! `adapter-drift`: the Prometheus Adapter rules are kept once as a plain file for local runs
//! (monitoring/prometheus-adapter/rules.yaml) and once inside the ConfigMap k8s/ applies; the
//! two must hold the same rules.

use std::path::Path;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::docs;

pub(crate) const PLAIN: &str = "monitoring/prometheus-adapter/rules.yaml";
const CONFIGMAP: &str = "k8s/50-prometheus-adapter-rules.yaml";

pub(crate) fn run(root: &Path) -> Result<Vec<String>> {
    let plain = docs::yaml(&root.join(PLAIN))?;
    let cms = docs::docs(&root.join(CONFIGMAP))?;
    check(&plain, &cms)
}

pub(crate) fn check(plain: &Value, configmap_docs: &[Value]) -> Result<Vec<String>> {
    let cms: Vec<_> = configmap_docs.iter().filter(|d| d["kind"] == "ConfigMap").collect();
    let Some(text) = cms
        .first()
        .and_then(|c| c["data"]["config.yaml"].as_str())
        .filter(|_| cms.len() == 1)
    else {
        bail!("{CONFIGMAP}: expected one ConfigMap with data.config.yaml");
    };
    let mirrored: Value = yaml_serde::from_str(text)?;
    if &mirrored != plain {
        bail!(
            "Prometheus Adapter rules drifted: {CONFIGMAP} (data.config.yaml) differs from {PLAIN}; \
             copy the plain file into the ConfigMap"
        );
    }
    Ok(vec![format!("ok: k8s adapter ConfigMap == {PLAIN}")])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_configmap_mirrors_the_plain_rules_and_a_drift_fails() {
        // Arrange
        let root = crate::root();
        let plain = docs::yaml(&root.join(PLAIN)).unwrap();
        let mut cms = docs::docs(&root.join(CONFIGMAP)).unwrap();
        // Act / Assert: as committed
        assert!(check(&plain, &cms).is_ok());
        // A rule edited in the ConfigMap only.
        let text = cms[0]["data"]["config.yaml"].as_str().unwrap().replacen(
            "predicted_cpu_utilization{namespace",
            "forecast{namespace",
            1,
        );
        cms[0]["data"]["config.yaml"] = text.into();
        let e = check(&plain, &cms).unwrap_err().to_string();
        assert!(e.contains("drifted") && e.contains("data.config.yaml"), "{e}");
    }
}
