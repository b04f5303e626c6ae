//! The k8s/ folder's layout and the Argo CD view of it: `apply-f-layout` (`kubectl apply -f k8s`
//! and `-k k8s` apply the same files), `argo-overlay` (a kustomization rendering k8s/ as the Argo
//! CD Application does) and the JSON-lines feeds of the model and schema validators that stay
//! in node and Python (`argocd-json`, `crd-json`).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::docs;

/// Kinds deploy/validate-argocd.js validates.
pub(crate) const ARGOCD_KINDS: &[&str] = &["Application", "AppProject"];
/// Kinds deploy/crd_schemas.py validates against their CRD schemas.
pub(crate) const CRD_KINDS: &[&str] = &["ScaledObject", "TriggerAuthentication", "Rollout", "AnalysisTemplate"];

pub(crate) fn apply_f_layout(root: &Path) -> Result<Vec<String>> {
    let k8s = root.join("k8s");
    let k = docs::yaml(&k8s.join("Kustomization"))?;
    let listed: BTreeSet<String> = k["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    let mut present = BTreeSet::new();
    for entry in std::fs::read_dir(&k8s).context("failed to list k8s")? {
        let path = entry?.path();
        if path.is_file()
            && path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            present.insert(path.file_name().unwrap_or_default().to_string_lossy().into_owned());
        }
    }
    if listed != present {
        let only_listed: Vec<_> = listed.difference(&present).collect();
        let only_present: Vec<_> = present.difference(&listed).collect();
        bail!(
            "k8s/Kustomization resources and k8s/*.yaml differ: only listed {only_listed:?}, only present {only_present:?}"
        );
    }
    for name in &present {
        for d in docs::docs(&k8s.join(name))? {
            if d.get("apiVersion").is_none() || d.get("kind").is_none() {
                bail!("k8s/{name}: a document without apiVersion/kind would break `kubectl apply -f k8s`");
            }
        }
    }
    Ok(vec![format!(
        "ok: `kubectl apply -f k8s` and `-k k8s` apply the same {} files",
        present.len()
    )])
}

/// `to` relative to the directory `from` (both absolute after canonicalisation).
fn relative(to: &Path, from: &Path) -> Result<PathBuf> {
    let to = to.canonicalize().with_context(|| format!("no {}", to.display()))?;
    let from = from.canonicalize().with_context(|| format!("no {}", from.display()))?;
    let (t, f): (Vec<Component>, Vec<Component>) = (to.components().collect(), from.components().collect());
    let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    Ok(out)
}

/// The kustomization Argo CD renders: k8s/ with the Application's kustomize patches.
pub(crate) fn overlay(application_docs: &[Value], resource: &str) -> Result<Value> {
    let apps: Vec<_> = application_docs.iter().filter(|d| d["kind"] == "Application").collect();
    let [app] = apps.as_slice() else {
        bail!("k8s/gitops/application.yaml: expected one Application");
    };
    let sources = match app["spec"]["sources"].as_array() {
        Some(s) => s.clone(),
        None => vec![app["spec"]["source"].clone()],
    };
    let Some(base) = sources.iter().find(|s| s["path"] == "k8s") else {
        bail!("the Application has no source with path k8s");
    };
    let patches = base["kustomize"]["patches"].as_array().cloned().unwrap_or_default();
    Ok(json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [resource],
        "patches": patches,
    }))
}

pub(crate) fn argo_overlay(root: &Path, outdir: &Path) -> Result<Vec<String>> {
    let app = docs::docs(&root.join("k8s/gitops/application.yaml"))?;
    std::fs::create_dir_all(outdir).with_context(|| format!("failed to create {}", outdir.display()))?;
    let rel = relative(&root.join("k8s"), outdir)?;
    let k = overlay(&app, &rel.to_string_lossy())?;
    let file = outdir.join("kustomization.yaml");
    std::fs::write(&file, yaml_serde::to_string(&k)?).with_context(|| format!("failed to write {}", file.display()))?;
    Ok(vec![format!(
        "wrote {} (k8s/ as the Argo CD Application renders it)",
        file.display()
    )])
}

/// One `{"file", "doc"}` JSON line per document of one of `kinds`.
pub(crate) fn json_lines(paths: &[PathBuf], kinds: &[&str]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for path in paths {
        for d in docs::docs(path)? {
            if kinds.iter().any(|k| d["kind"] == *k) {
                out.push(json!({"file": path.display().to_string(), "doc": d}).to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_layout_passes_and_an_unlisted_file_fails() {
        // Arrange: a copy of k8s/ with one file the Kustomization does not list
        let root = crate::root();
        assert!(apply_f_layout(&root).is_ok());
        let tmp = std::env::temp_dir().join(format!("xtask-layout-{}", std::process::id()));
        std::fs::create_dir_all(tmp.join("k8s")).unwrap();
        std::fs::copy(root.join("k8s/Kustomization"), tmp.join("k8s/Kustomization")).unwrap();
        for e in std::fs::read_dir(root.join("k8s")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                std::fs::copy(&p, tmp.join("k8s").join(p.file_name().unwrap())).unwrap();
            }
        }
        std::fs::write(tmp.join("k8s/60-extra.yaml"), "apiVersion: v1\nkind: ConfigMap\n").unwrap();
        // Act
        let e = apply_f_layout(&tmp).unwrap_err().to_string();
        std::fs::remove_dir_all(&tmp).unwrap();
        // Assert
        assert!(e.contains("only present [\"60-extra.yaml\"]"), "{e}");
    }

    #[test]
    fn the_overlay_carries_the_application_patches() {
        let app = docs::docs(&crate::root().join("k8s/gitops/application.yaml")).unwrap();
        let k = overlay(&app, "../k8s").unwrap();
        assert_eq!(k["resources"][0], "../k8s");
        assert_eq!(k["patches"][0]["target"]["name"], "order-service");
        assert!(
            overlay(&[], "k8s")
                .unwrap_err()
                .to_string()
                .contains("expected one Application")
        );
    }

    #[test]
    fn json_lines_carry_only_the_kinds_asked_for() {
        let root = crate::root();
        let files = [
            root.join("k8s/gitops/application.yaml"),
            root.join("k8s/gitops/appproject.yaml"),
        ];
        let lines = json_lines(&files, &["AppProject"]).unwrap();
        assert_eq!(lines.len(), 1);
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["doc"]["kind"], "AppProject");
        assert!(v["file"].as_str().unwrap().ends_with("appproject.yaml"));
    }

    #[test]
    fn relative_paths_climb_to_the_common_parent() {
        let root = crate::root();
        assert_eq!(
            relative(&root.join("k8s"), &root.join("xtask/src")).unwrap(),
            Path::new("../../k8s")
        );
    }
}
