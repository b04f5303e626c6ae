//! Tests of the `secrets` check: the repository's files pass, and compose and k8s snippets with
//! a password written in on purpose fail, naming the file and the field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::docs::parse_docs;

/// The findings of one YAML snippet.
fn findings(yaml: &str) -> Vec<String> {
    parse_docs(yaml, "t")
        .unwrap()
        .iter()
        .enumerate()
        .flat_map(|(i, d)| scan("snippet.yaml", i, d))
        .collect()
}

#[test]
fn the_repository_files_pass() {
    let lines = run(&crate::root(), None, &[]).unwrap();
    assert!(lines[0].starts_with("ok: no literal password"), "{lines:?}");
    assert_eq!(lines.len(), 3, "{lines:?}");
}

#[test]
fn compose_references_pass_and_literals_fail() {
    // Arrange
    let good = r#"
services:
  postgres:
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?run make compose-env}
      POSTGRES_PASSWORD_FILE: /run/secrets/postgres
  user-service:
    environment:
      DATABASE_URL: postgres://users:${USERS_DB_PASSWORD:?run make compose-env}@postgres:5432/users
      REDIS_URL: redis://users:${USERS_REDIS_PASSWORD}@redis:6379
      PROMETHEUS_URL: http://prometheus:9090
  redis:
    command: [redis-server, --user, users, "on", ">${USERS_REDIS_PASSWORD:?x}", --requirepass, "${R:?x}"]
    healthcheck:
      test: [CMD, redis-cli, -u, "redis://probe:@127.0.0.1:6379", ping]
"#;
    let bad = r#"
services:
  postgres:
    environment:
      POSTGRES_PASSWORD: postgres
  user-service:
    environment:
      - DATABASE_URL=postgres://postgres:postgres@postgres:5432/users
      - AUTH_SECRET=abc
  grafana:
    environment:
      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:-admin}
  redis:
    command: [redis-server, --user, users, "on", ">hunter2", --requirepass, hunter2]
  cache:
    command: redis-server --requirepass hunter2
"#;
    // Act
    let ok = findings(good);
    let found = findings(bad);
    // Assert
    assert!(ok.is_empty(), "{ok:?}");
    let expect = [
        ".services.postgres.environment.POSTGRES_PASSWORD: POSTGRES_PASSWORD has a literal value",
        ".services.user-service.environment[0]: a URL with a literal password",
        ".services.user-service.environment[1]: AUTH_SECRET has a literal value",
        "GF_SECURITY_ADMIN_PASSWORD: GF_SECURITY_ADMIN_PASSWORD has a literal value",
        ".services.redis.command[4]: a literal Redis ACL password",
        ".services.redis.command[5]: a literal --requirepass",
        ".services.cache.command: a literal requirepass",
    ];
    for e in expect {
        assert!(found.iter().any(|f| f.contains(e)), "no {e:?} in {found:#?}");
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    assert!(found[0].starts_with("snippet.yaml (document 1): "), "{found:?}");
}

#[test]
fn k8s_references_pass_and_literals_fail() {
    // Arrange
    let good = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: user-service}
spec:
  template:
    spec:
      containers:
        - name: user-service
          args: ["--user", "keda", "on", ">$(KEDA_REDIS_PASSWORD)"]
          env:
            - name: USERS_DB_PASSWORD
              valueFrom: {secretKeyRef: {name: postgres, key: USERS_DB_PASSWORD}}
            - name: DATABASE_URL
              value: postgres://users:$(USERS_DB_PASSWORD)@postgres:5432/users
            - name: AUTH_SECRET
              valueFrom: {secretKeyRef: {name: auth, key: AUTH_SECRET}}
---
apiVersion: v1
kind: Secret
metadata: {name: filled-elsewhere}
type: Opaque
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
secretGenerator:
  - name: postgres
    envs: [postgres.env]
"#;
    let bad = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: user-service}
spec:
  template:
    spec:
      containers:
        - name: user-service
          args: ["--user", "keda", "on", ">s3cret"]
          env:
            - name: DATABASE_URL
              value: postgres://users:s3cret@postgres:5432/users
            - name: API_TOKEN
              value: abc
---
apiVersion: v1
kind: Secret
metadata: {name: postgres}
stringData:
  password: change-me-in-production
---
apiVersion: v1
kind: ConfigMap
metadata: {name: platform-config}
data:
  AUTH_SECRET: "0123"
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
secretGenerator:
  - name: auth
    literals: [AUTH_SECRET=0123]
"#;
    // Act
    let ok = findings(good);
    let found = findings(bad);
    // Assert
    assert!(ok.is_empty(), "{ok:?}");
    let expect = [
        "(document 1): .spec.template.spec.containers[0].args[3]: a literal Redis ACL password",
        "(document 1): .spec.template.spec.containers[0].env[0].value: a URL with a literal password",
        "(document 1): .spec.template.spec.containers[0].env[1].API_TOKEN: API_TOKEN has a literal value",
        "(document 2): Secret/postgres carries stringData",
        "(document 3): .data.AUTH_SECRET: AUTH_SECRET has a literal value",
        "(document 4): secretGenerator auth has literals",
        "(document 4): .secretGenerator[0].literals[0]: AUTH_SECRET has a literal value",
    ];
    for e in expect {
        assert!(found.iter().any(|f| f.contains(e)), "no {e:?} in {found:#?}");
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn secret_names_are_upper_case_variables_with_a_secret_word() {
    for name in [
        "POSTGRES_PASSWORD",
        "AUTH_SECRET",
        "API_TOKEN",
        "STRIPE_KEY",
        "GF_SECURITY_ADMIN_PASSWORD",
    ] {
        assert!(is_secret_name(name), "{name}");
    }
    for name in ["key", "password", "POSTGRES_PASSWORD_FILE", "REDIS_URL", "PORT"] {
        assert!(!is_secret_name(name), "{name}");
    }
}

#[test]
fn the_init_configmap_must_carry_the_script_unchanged() {
    // Arrange
    let root = crate::root();
    let script = docs::read(&root.join(INIT_SCRIPT)).unwrap();
    let mut cms = docs::docs(&root.join(INIT_CONFIGMAP)).unwrap();
    assert!(init_drift(&script, &cms).is_ok());
    let i = cms.iter().position(|d| d["kind"] == "ConfigMap").unwrap();
    let edited = cms[i]["data"][INIT_KEY]
        .as_str()
        .unwrap()
        .replace("REVOKE ALL", "-- REVOKE ALL");
    cms[i]["data"][INIT_KEY] = edited.into();
    // Act
    let e = init_drift(&script, &cms).unwrap_err().to_string();
    // Assert
    assert!(e.contains("differs from deploy/postgres-init.sh"), "{e}");
}

#[test]
fn compose_may_read_only_what_compose_env_writes() {
    let script = "#!/bin/sh\ncat <<ENV\nA_PASSWORD=$(random 24)\nAUTH_SECRET=$(random 32)\nENV\n";
    let compose = |text: &str| parse_docs(text, "compose").unwrap();
    let good = compose("# ${IN_A_COMMENT}\nx: ${A_PASSWORD:?run make compose-env}\ny: [\"${AUTH_SECRET}\"]\n");
    assert!(compose_vars(&good, script).is_ok());
    let e = compose_vars(&compose("x: ${B_PASSWORD:?run make compose-env}\n"), script)
        .unwrap_err()
        .to_string();
    assert!(e.contains("B_PASSWORD"), "{e}");
}

#[test]
fn every_secret_reference_must_be_generated() {
    // Arrange
    let generated = vec![
        json!({"kind": "Secret", "metadata": {"name": "postgres"}, "data": {"USERS_DB_PASSWORD": "eA=="}}),
        json!({"kind": "Secret", "metadata": {"name": "redis"}, "data": {"KEDA_REDIS_PASSWORD": "eA=="}}),
    ];
    let deployment = |key: &str| {
        json!({"kind": "Deployment", "metadata": {"name": "user-service"}, "spec": {"template": {"spec": {
            "containers": [{"env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "postgres", "key": key}}}]}]
        }}}})
    };
    let auth = json!({"kind": "TriggerAuthentication", "metadata": {"name": "redis-keda"}, "spec": {
        "secretTargetRef": [{"parameter": "password", "name": "redis", "key": "KEDA_REDIS_PASSWORD"}]
    }});
    let env_from = json!({"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"spec": {
        "containers": [{"envFrom": [{"secretRef": {"name": "auth"}}]}]
    }}}});
    // Act / Assert
    let ok = references(&generated, &[deployment("USERS_DB_PASSWORD"), auth]).unwrap();
    assert!(ok.contains("the 2 Secret references"), "{ok}");
    let e = references(&generated, &[deployment("USERS_PASSWORD")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Deployment/user-service reads key USERS_PASSWORD of Secret postgres"),
        "{e}"
    );
    let e = references(&generated, &[env_from]).unwrap_err().to_string();
    assert!(e.contains("reads Secret auth"), "{e}");
}
