//! Reading the files the checks look at: YAML (one or many documents) and JSON, both as
//! `serde_json::Value` so one set of accessors serves both, and Kubernetes quantities.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

/// A file's text, with the path in the error.
pub(crate) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}

/// Every non-empty YAML document of `text` (`what` names it in errors).
pub(crate) fn parse_docs(text: &str, what: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for doc in yaml_serde::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).with_context(|| format!("{what} is not valid YAML"))?;
        let empty = v.is_null() || v.as_object().is_some_and(|m| m.is_empty());
        if !empty {
            out.push(v);
        }
    }
    Ok(out)
}

/// Every non-empty YAML document of a file.
pub(crate) fn docs(path: &Path) -> Result<Vec<Value>> {
    parse_docs(&read(path)?, &path.display().to_string())
}

/// A single-document YAML file.
pub(crate) fn yaml(path: &Path) -> Result<Value> {
    let text = read(path)?;
    yaml_serde::from_str(&text).with_context(|| format!("{} is not valid YAML", path.display()))
}

/// A JSON file.
pub(crate) fn json(path: &Path) -> Result<Value> {
    let text = read(path)?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// `Kind/name` of a Kubernetes object, for messages.
pub(crate) fn name_of(doc: &Value) -> String {
    let kind = doc["kind"].as_str().unwrap_or("?");
    let name = doc["metadata"]["name"].as_str().unwrap_or("?");
    format!("{kind}/{name}")
}

/// A CPU quantity (`500m`, `"1"`, `2`, `0.5`) in cores.
pub(crate) fn cpu_cores(q: &Value) -> Result<f64> {
    let s = match q {
        Value::Number(n) => return n.as_f64().context("CPU quantity out of range"),
        Value::String(s) => s.as_str(),
        other => bail!("CPU quantity {other} is neither a number nor a string"),
    };
    let parsed = match s.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().map(|v| v / 1000.0),
        None => s.parse::<f64>(),
    };
    parsed.with_context(|| format!("CPU quantity {s:?} is not understood"))
}

/// A memory quantity (`256Mi`, `1Gi`, `512M`, bytes) in MiB.
pub(crate) fn memory_mib(q: &Value) -> Result<f64> {
    const MIB: f64 = 1024.0 * 1024.0;
    let s = match q {
        Value::Number(n) => return Ok(n.as_f64().context("memory quantity out of range")? / MIB),
        Value::String(s) => s.as_str(),
        other => bail!("memory quantity {other} is neither a number nor a string"),
    };
    let units: [(&str, f64); 8] = [
        ("Ki", 1024.0),
        ("Mi", MIB),
        ("Gi", MIB * 1024.0),
        ("Ti", MIB * MIB),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    let (digits, factor) = units
        .iter()
        .find_map(|(u, f)| s.strip_suffix(u).map(|d| (d, *f)))
        .unwrap_or((s, 1.0));
    let v: f64 = digits
        .parse()
        .with_context(|| format!("memory quantity {s:?} is not understood"))?;
    Ok(v * factor / MIB)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_are_read_in_cores_and_mib() {
        assert_eq!(cpu_cores(&json!("250m")).unwrap(), 0.25);
        assert_eq!(cpu_cores(&json!("1")).unwrap(), 1.0);
        assert_eq!(cpu_cores(&json!(2)).unwrap(), 2.0);
        assert!(cpu_cores(&json!("lots")).is_err());
        assert_eq!(memory_mib(&json!("256Mi")).unwrap(), 256.0);
        assert_eq!(memory_mib(&json!("1Gi")).unwrap(), 1024.0);
    }

    #[test]
    fn empty_documents_are_skipped() {
        let d = parse_docs("---\n---\na: 1\n---\n{}\n", "t").unwrap();
        assert_eq!(d, vec![json!({"a": 1})]);
    }
}
