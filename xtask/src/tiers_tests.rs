//! Tests of the `tiers` check: the repository's files pass, and each file broken on purpose
//! fails naming the file and the field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::docs::parse_docs;

/// The repository's own files, with the raw k8s/ manifests standing in for kustomize's output.
fn repo() -> Inputs {
    let root = crate::root();
    let mut rendered = Vec::new();
    for f in [
        "30-user-service",
        "30-catalog-service",
        "30-order-service",
        "30-order-worker",
    ] {
        rendered.extend(docs::docs(&root.join(format!("k8s/{f}.yaml"))).unwrap());
    }
    for f in ["30-predictor-service", "30-cost-optimizer", "20-postgres"] {
        rendered.extend(docs::docs(&root.join(format!("k8s/{f}.yaml"))).unwrap());
    }
    Inputs {
        platform: Platform::parse(&docs::read(&root.join(TIERS_FILE)).unwrap()).unwrap(),
        rendered: ("k8s.yaml".into(), rendered),
        recording: docs::yaml(&root.join(RECORDING_FILE)).unwrap(),
        native: docs::json(&root.join(NATIVE_FILE)).unwrap(),
    }
}

fn deployment<'a>(inputs: &'a mut Inputs, name: &str) -> &'a mut Value {
    inputs
        .rendered
        .1
        .iter_mut()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name)
        .unwrap()
}

#[test]
fn the_repository_agrees_with_its_tier_file() {
    // Arrange
    let inputs = repo();
    // Act
    let out = check(&inputs).unwrap();
    // Assert
    assert!(out[0].contains("of 6 Deployments"), "{out:?}");
    assert_eq!(out.len(), 4);
}

#[test]
fn a_k8s_request_other_than_the_tier_fails_naming_deployment_and_field() {
    let mut inputs = repo();
    deployment(&mut inputs, "order-service")["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] =
        "400m".into();
    let e = check(&inputs).unwrap_err().to_string();
    assert!(e.contains("Deployment order-service"), "{e}");
    assert!(e.contains("requests.cpu is 0.4 cores"), "{e}");
    assert!(e.contains("tier medium with 0.5 cores"), "{e}");
}

#[test]
fn a_memory_request_other_than_the_tier_fails() {
    let mut inputs = repo();
    deployment(&mut inputs, "cost-optimizer")["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] =
        "256Mi".into();
    let e = check(&inputs).unwrap_err().to_string();
    assert!(
        e.contains("Deployment cost-optimizer") && e.contains("requests.memory is 256 MiB"),
        "{e}"
    );
}

#[test]
fn a_recording_rule_with_another_request_fails() {
    let mut inputs = repo();
    let text = docs::read(&crate::root().join(RECORDING_FILE))
        .unwrap()
        .replace("vector(0.1)", "vector(0.2)");
    inputs.recording = parse_docs(&text, "t").unwrap().remove(0);
    let e = check(&inputs).unwrap_err().to_string();
    assert!(e.contains(RECORDING_FILE), "{e}");
    assert!(
        e.contains(r#"service="cost-optimizer""#) && e.contains("vector(0.2)"),
        "{e}"
    );
}

#[test]
fn a_missing_recording_rule_and_an_unsized_deployment_fail() {
    let mut inputs = repo();
    inputs.platform.workloads.insert("mailer".into(), "micro".into());
    let e = check(&inputs).unwrap_err().to_string();
    assert!(e.contains("no service:cpu_request_cores:tier rule for mailer"), "{e}");

    let mut inputs = repo();
    inputs.platform.workloads.clear();
    let e = check(&inputs).unwrap_err().to_string();
    assert!(e.contains("Deployment order-worker has no tier"), "{e}");
}

#[test]
fn hpa_bounds_and_native_policy_follow_the_tier_file() {
    let mut inputs = repo();
    inputs.platform.services.get_mut("order-service").unwrap().max_replicas = 30;
    let e = check(&inputs).unwrap_err().to_string();
    assert!(
        e.contains("HorizontalPodAutoscaler/order-service spec.maxReplicas is 20"),
        "{e}"
    );

    let mut inputs = repo();
    inputs.native["services"]["user-service"]["tier"] = "medium".into();
    let e = check(&inputs).unwrap_err().to_string();
    assert!(e.contains("services.user-service.tier is \"medium\""), "{e}");
}

#[test]
fn the_generated_rules_are_the_committed_ones() {
    // Arrange
    let inputs = repo();
    // Act
    let rules = rules_yaml(&inputs.platform).join("\n");
    // Assert: the same rules, whatever their order in the file
    let generated = parse_docs(&format!("rules:\n{rules}"), "generated").unwrap().remove(0);
    let mut want: Vec<_> = inputs.recording["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["rules"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["record"] == TIER_RULE)
                .cloned()
        })
        .collect();
    let mut got = generated["rules"].as_array().unwrap().clone();
    let key = |r: &Value| r["labels"]["service"].as_str().unwrap().to_owned();
    want.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(got, want);
}

#[test]
fn a_policy_naming_an_unknown_tier_is_refused() {
    let e = Platform::parse(r#"{"tiers": [], "services": {}, "workloads": {"w": "huge"}}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("w names tier \"huge\""), "{e}");
}
