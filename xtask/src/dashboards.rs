//! `dashboards`: the Grafana dashboards are valid JSON with a unique uid, a title and panels,
//! and every query has an expression and uses the provisioned datasource (uid `prometheus`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::docs;

pub(crate) const DIR: &str = "monitoring/grafana/dashboards";

/// (file name, text) of every dashboard, in name order.
pub(crate) fn load(root: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root.join(DIR)).with_context(|| format!("failed to list {DIR}"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            files.push((name, docs::read(&path)?));
        }
    }
    files.sort();
    Ok(files)
}

pub(crate) fn run(root: &Path) -> Result<Vec<String>> {
    check(&load(root)?)
}

pub(crate) fn check(files: &[(String, String)]) -> Result<Vec<String>> {
    if files.is_empty() {
        bail!("no dashboards in {DIR}");
    }
    let mut uids = BTreeMap::new();
    let mut out = Vec::new();
    for (name, text) in files {
        let d: Value = serde_json::from_str(text).with_context(|| format!("{DIR}/{name} is not valid JSON"))?;
        for key in ["uid", "title", "panels"] {
            if d.get(key).is_none() {
                bail!("{DIR}/{name}: no '{key}'");
            }
        }
        let uid = d["uid"].to_string();
        if let Some(other) = uids.insert(uid.clone(), name.clone()) {
            bail!("{DIR}/{name}: uid {uid} also used by {other}");
        }
        let panels = d["panels"].as_array().map(Vec::as_slice).unwrap_or_default();
        for p in panels {
            let title = p["title"].as_str().unwrap_or("?");
            for t in p["targets"].as_array().into_iter().flatten() {
                if t["expr"].as_str().is_none_or(str::is_empty) {
                    bail!("{name}: panel '{title}' has a target without expr");
                }
                if t["datasource"]["uid"] != "prometheus" {
                    bail!("{name}: panel '{title}' does not use the provisioned datasource uid 'prometheus'");
                }
            }
        }
        out.push(format!("ok: {DIR}/{name} ({} panels)", panels.len()));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_dashboards_pass_and_a_broken_one_fails() {
        // Arrange
        let mut files = load(&crate::root()).unwrap();
        // Act / Assert
        assert_eq!(check(&files).unwrap().len(), files.len());
        let (name, text) = files[0].clone();
        files.push(("copy.json".into(), text.clone()));
        let e = check(&files).unwrap_err().to_string();
        assert!(e.contains("also used by") && e.contains(&name), "{e}");
        files.pop();
        let mut d: Value = serde_json::from_str(&text).unwrap();
        let panel = d["panels"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|p| p["targets"].is_array())
            .unwrap();
        panel["targets"][0]["datasource"]["uid"] = "other".into();
        files[0].1 = d.to_string();
        let e = check(&files).unwrap_err().to_string();
        assert!(e.contains("does not use the provisioned datasource"), "{e}");
    }
}
