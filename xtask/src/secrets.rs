//! `secrets`: no password, key or token is committed in docker-compose.yml or k8s/. They
//! come from files that are generated and never committed: `.env` for compose (`make
//! compose-env`) and `k8s/secrets/*.env` for the Secrets of k8s/secrets/ (`make k8s-secrets`).
//!
//! A committed value fails when it is:
//! - an environment variable (a mapping key, a k8s `name`/`value` pair, a compose `KEY=value`
//!   list item) whose name says PASSWORD, PASSWD, SECRET, TOKEN or KEY, with a value that is not
//!   only a `${VAR}` (compose) or `$(VAR)` (Kubernetes) reference; a `${VAR:-default}` is a
//!   literal default, and `*_FILE` names hold paths;
//! - the password of a `scheme://user:password@` URL anywhere, unless it is such a reference
//!   (an empty password, as the Redis `probe` user's, is no secret);
//! - a Redis password in exec-form arguments: `>password` (ACL) or `--requirepass` followed
//!   by a literal, or `requirepass VALUE` in any text;
//! - a Secret with `data` or `stringData`, or a kustomize `secretGenerator` with `literals`.
//!
//! Alongside: the postgres-init ConfigMap carries deploy/postgres-init.sh unchanged; compose reads
//! only variables scripts/compose-env.sh writes; and, given the Secrets k8s/secrets/ renders
//! (`--generated`, built by check-deploy.sh from throwaway values), every Secret key the
//! rendered manifests read exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use anyhow::{Context, Result, bail};
use regex::Regex;
use serde_json::Value;

use crate::docs;

const COMPOSE: &str = "docker-compose.yml";
const COMPOSE_ENV: &str = "scripts/compose-env.sh";
const INIT_SCRIPT: &str = "deploy/postgres-init.sh";
const INIT_CONFIGMAP: &str = "k8s/20-postgres.yaml";
const INIT_KEY: &str = "10-roles.sh";

/// Words that make a variable name a secret's.
const SECRET_WORDS: &[&str] = &["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY"];

#[allow(clippy::expect_used, reason = "constant patterns, exercised by the tests")]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid pattern")
}

/// A whole value that only refers to a variable: compose `${VAR}` / `${VAR:?message}` /
/// `${VAR?message}`, or Kubernetes `$(VAR)`. Not `${VAR:-default}`: the default is literal.
static REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}|\$\([A-Za-z_][A-Za-z0-9_]*\))$"));
/// The password of `scheme://user:password@`: a reference or a run of URL characters.
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| re(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@'"]*:(\$\{[^}]*\}|\$\([^)]*\)|[^\s@/'"]*)@"#));
static REQUIREPASS: LazyLock<Regex> = LazyLock::new(|| re(r"requirepass\s+(\S+)"));
/// A compose `environment` list item.
static ENV_ITEM: LazyLock<Regex> = LazyLock::new(|| re(r"^([A-Z][A-Z0-9_]*)=(.*)$"));
static ENV_NAME: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Z][A-Z0-9_]*$"));

pub(crate) fn run(root: &Path, generated: Option<&Path>, rendered: &[PathBuf]) -> Result<Vec<String>> {
    let mut files = vec![root.join(COMPOSE)];
    k8s_files(&root.join("k8s"), &mut files)?;
    let mut findings = Vec::new();
    for f in &files {
        let name = f.strip_prefix(root).unwrap_or(f).display().to_string();
        for (i, d) in docs::docs(f)?.iter().enumerate() {
            findings.extend(scan(&name, i, d));
        }
    }
    if !findings.is_empty() {
        bail!(
            "committed secrets (generate them: make compose-env / make k8s-secrets):\n  {}",
            findings.join("\n  ")
        );
    }
    let mut out = vec![format!(
        "ok: no literal password, key or token in {COMPOSE} and {} files of k8s/",
        files.len() - 1
    )];
    out.push(init_drift(
        &docs::read(&root.join(INIT_SCRIPT))?,
        &docs::docs(&root.join(INIT_CONFIGMAP))?,
    )?);
    out.push(compose_vars(
        &docs::docs(&root.join(COMPOSE))?,
        &docs::read(&root.join(COMPOSE_ENV))?,
    )?);
    if let Some(generated) = generated {
        let secrets = docs::docs(generated)?;
        let mut manifests = Vec::new();
        for r in rendered {
            manifests.extend(docs::docs(r)?);
        }
        out.push(references(&secrets, &manifests)?);
    }
    Ok(out)
}

/// Every YAML file and kustomization under `dir`, recursively, sorted.
fn k8s_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if p.is_dir() {
            k8s_files(&p, out)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization" {
            out.push(p);
        }
    }
    Ok(())
}

/// Every committed secret in one document, as `file: where: what`.
pub(crate) fn scan(file: &str, index: usize, doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let at = |what: &str| format!("{file} (document {}): {what}", index + 1);
    match doc["kind"].as_str() {
        Some("Secret") => {
            for field in ["data", "stringData"] {
                if doc[field].as_object().is_some_and(|m| !m.is_empty()) {
                    found.push(at(&format!(
                        "{} carries {field}; generate it from k8s/secrets/ instead",
                        docs::name_of(doc)
                    )));
                }
            }
        }
        Some("Kustomization") => {
            for g in doc["secretGenerator"].as_array().into_iter().flatten() {
                if g["literals"].as_array().is_some_and(|l| !l.is_empty()) {
                    found.push(at(&format!(
                        "secretGenerator {} has literals; read a generated, uncommitted file instead",
                        g["name"].as_str().unwrap_or("?")
                    )));
                }
            }
        }
        _ => {}
    }
    walk(doc, "", &mut |path, what| found.push(at(&format!("{path}: {what}"))));
    found
}

/// Visits every value under `v`, reporting each literal secret to `report(path, what)`.
fn walk(v: &Value, path: &str, report: &mut dyn FnMut(&str, String)) {
    match v {
        Value::Object(m) => {
            // A Kubernetes env entry: the name is in one field, the value in another.
            if let (Some(name), Some(value)) = (m.get("name").and_then(Value::as_str), m.get("value")) {
                check_env(name, value, &format!("{path}.{name}"), report);
            }
            for (k, child) in m {
                let here = format!("{path}.{k}");
                if !child.is_object() && !child.is_array() {
                    check_env(k, child, &here, report);
                }
                walk(child, &here, report);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let here = format!("{path}[{i}]");
                if let Some(s) = item.as_str() {
                    if let Some(c) = ENV_ITEM.captures(s) {
                        check_env(&c[1], &Value::String(c[2].to_owned()), &here, report);
                    }
                    if let Some(pass) = s.strip_prefix('>')
                        && !s.contains(char::is_whitespace)
                        && !REFERENCE.is_match(pass)
                    {
                        report(&here, "a literal Redis ACL password (>...)".into());
                    }
                    if s == "--requirepass"
                        && let Some(next) = items.get(i + 1).and_then(Value::as_str)
                        && !REFERENCE.is_match(next)
                    {
                        report(&here, "a literal --requirepass".into());
                    }
                }
                walk(item, &here, report);
            }
        }
        Value::String(s) => {
            for c in URL_PASSWORD.captures_iter(s) {
                let pass = &c[1];
                if !pass.is_empty() && !REFERENCE.is_match(pass) {
                    report(path, "a URL with a literal password".into());
                }
            }
            for c in REQUIREPASS.captures_iter(s) {
                if !REFERENCE.is_match(&c[1]) {
                    report(path, "a literal requirepass".into());
                }
            }
        }
        _ => {}
    }
}

/// Reports `name: value` when the name is a secret's and the value a literal.
fn check_env(name: &str, value: &Value, path: &str, report: &mut dyn FnMut(&str, String)) {
    if !is_secret_name(name) {
        return;
    }
    let literal = match value {
        Value::String(s) => !s.is_empty() && !REFERENCE.is_match(s),
        Value::Null | Value::Object(_) | Value::Array(_) => false,
        Value::Bool(_) | Value::Number(_) => true,
    };
    if literal {
        report(
            path,
            format!("{name} has a literal value; use a ${{VAR}} or $(VAR) reference"),
        );
    }
}

/// An environment variable name that says it holds a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    ENV_NAME.is_match(name) && !name.ends_with("_FILE") && SECRET_WORDS.iter().any(|w| name.contains(w))
}

/// The postgres-init ConfigMap carries deploy/postgres-init.sh unchanged.
pub(crate) fn init_drift(script: &str, configmap_docs: &[Value]) -> Result<String> {
    let cm = configmap_docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "postgres-init");
    let Some(text) = cm.and_then(|c| c["data"][INIT_KEY].as_str()) else {
        bail!("{INIT_CONFIGMAP}: no ConfigMap postgres-init with data.{INIT_KEY}");
    };
    if text != script {
        bail!(
            "{INIT_CONFIGMAP}: ConfigMap postgres-init data.{INIT_KEY} differs from {INIT_SCRIPT}; \
             copy the script into the ConfigMap"
        );
    }
    Ok(format!("ok: {INIT_CONFIGMAP} postgres-init == {INIT_SCRIPT}"))
}

/// Every `${VAR}` docker-compose.yml reads is one scripts/compose-env.sh writes.
pub(crate) fn compose_vars(compose: &[Value], script: &str) -> Result<String> {
    let mut strings = Vec::new();
    collect_strings(compose, &mut strings);
    let var = re(r"\$\{([A-Za-z_][A-Za-z0-9_]*)");
    let used: BTreeSet<&str> = strings
        .iter()
        .flat_map(|s| var.captures_iter(s))
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let written: BTreeSet<&str> = re(r"(?m)^([A-Z][A-Z0-9_]*)=")
        .captures_iter(script)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let missing: Vec<_> = used.difference(&written).collect();
    if !missing.is_empty() {
        bail!("{COMPOSE} reads {missing:?}, which {COMPOSE_ENV} does not write");
    }
    Ok(format!(
        "ok: {COMPOSE} reads {} variables, all written by {COMPOSE_ENV}",
        used.len()
    ))
}

/// Every string value under `values` (comments are not values).
fn collect_strings<'a>(values: &'a [Value], out: &mut Vec<&'a str>) {
    for v in values {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(items) => collect_strings(items, out),
            Value::Object(m) => {
                for child in m.values() {
                    collect_strings(std::slice::from_ref(child), out);
                }
            }
            _ => {}
        }
    }
}

/// Every Secret key the manifests read (`secretKeyRef`, `envFrom.secretRef`, KEDA's
/// `secretTargetRef`) is among the generated Secrets.
pub(crate) fn references(generated: &[Value], manifests: &[Value]) -> Result<String> {
    let mut keys: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in generated.iter().filter(|d| d["kind"] == "Secret") {
        let name = s["metadata"]["name"].as_str().unwrap_or_default();
        let entry = keys.entry(name).or_default();
        for field in ["data", "stringData"] {
            entry.extend(s[field].as_object().into_iter().flatten().map(|(k, _)| k.as_str()));
        }
    }
    let mut refs = Vec::new();
    for d in manifests {
        collect_refs(d, &docs::name_of(d), &mut refs);
    }
    for (owner, name, key) in &refs {
        let Some(have) = keys.get(name.as_str()) else {
            bail!("{owner} reads Secret {name}, which k8s/secrets/ does not generate");
        };
        if let Some(key) = key
            && !have.contains(key.as_str())
        {
            bail!("{owner} reads key {key} of Secret {name}, which k8s/secrets/ does not generate");
        }
    }
    Ok(format!(
        "ok: the {} Secret references of the manifests are all generated by k8s/secrets/ ({:?})",
        refs.len(),
        keys.keys().collect::<Vec<_>>()
    ))
}

/// (owner, Secret name, key) of every Secret reference under `v`.
fn collect_refs(v: &Value, owner: &str, out: &mut Vec<(String, String, Option<String>)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let name = child["name"].as_str().map(str::to_owned);
                match (k.as_str(), name) {
                    ("secretKeyRef", Some(name)) => {
                        out.push((owner.to_owned(), name, child["key"].as_str().map(str::to_owned)));
                    }
                    ("secretRef", Some(name)) => out.push((owner.to_owned(), name, None)),
                    ("secretTargetRef", _) => {
                        for t in child.as_array().into_iter().flatten() {
                            if let Some(name) = t["name"].as_str() {
                                out.push((owner.to_owned(), name.to_owned(), t["key"].as_str().map(str::to_owned)));
                            }
                        }
                    }
                    _ => {}
                }
                collect_refs(child, owner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, owner, out)),
        _ => {}
    }
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
