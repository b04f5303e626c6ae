//! One check per link of the chain; each failure names its link.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::Platform;

/// Every target Prometheus scrapes answers (waiting for the first scrapes).
pub async fn targets_up(p: &Platform) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = format!("{}/api/v1/targets?state=active", p.prometheus);
        let body: Value = p.client.get(url).send().await.unwrap().json().await.unwrap();
        let targets = body["data"]["activeTargets"].as_array().cloned().unwrap_or_default();
        let down: Vec<String> = targets
            .iter()
            .filter(|t| t["health"] != "up" && t["labels"]["job"] != "alertmanager")
            .map(|t| {
                format!(
                    "{} ({}): {} {}",
                    t["labels"]["service"], t["scrapeUrl"], t["health"], t["lastError"]
                )
            })
            .collect();
        if !targets.is_empty() && down.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "link 'Prometheus scrapes every service': not up: {down:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `predicted_cpu_utilization` has a series for every service.
pub async fn forecasts_exist(p: &Platform, services: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(90);
    for service in services {
        loop {
            if !p
                .query(&format!("predicted_cpu_utilization{{service=\"{service}\"}}"))
                .await
                .is_empty()
            {
                break;
            }
            if Instant::now() > deadline {
                let said = p.client.get(format!("{}/predict/{service}", p.predictor)).send().await;
                let said = match said {
                    Ok(r) => r.text().await.unwrap_or_default(),
                    Err(e) => e.to_string(),
                };
                panic!(
                    "link 'predictor exports predicted_cpu_utilization': no series for {service}; /predict says {said}"
                );
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// The forecast for `service` rose above its value when the burst began.
pub async fn forecast_rose(p: &Platform, service: &str, start: f64) {
    let series = format!("predicted_cpu_utilization{{service=\"{service}\"}}");
    let at_start = p.query(&format!("{series} @ {start}")).await;
    let before = at_start
        .first()
        .and_then(|s| s["value"][1].as_str()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    let peak = p.max_since(&series, start).await.unwrap_or(0.0);
    assert!(
        peak > before,
        "link 'forecast follows load': {series} peaked at {peak}, was {before} before the burst"
    );
}

/// The metric each HPA in `k8s/` reads the forecast from (Object metric, AverageValue target).
const HPA_METRIC: &str = "predicted_cpu_cores";
/// The forecast in percent of the request: still served by the adapter, read by no HPA.
const UTILIZATION_METRIC: &str = "predicted_cpu_utilization";

/// The Prometheus Adapter query that serves `metric` for `service`, filled in as the
/// adapter fills its template.
fn adapter_query(p: &Platform, metric: &str, service: &str) -> String {
    let rules = std::fs::read_to_string(p.root.join("monitoring/prometheus-adapter/rules.yaml")).unwrap();
    let rule = rules
        .split("- seriesQuery:")
        .find(|r| r.trim_start().starts_with(&format!("'{metric}{{")));
    let rule = rule.unwrap_or_else(|| panic!("link 'adapter rules': no rule for {metric}"));
    let template = rule
        .lines()
        .find_map(|l| l.trim().strip_prefix("metricsQuery:"))
        .unwrap_or_else(|| panic!("link 'adapter rules': the rule for {metric} has no metricsQuery"))
        .trim();
    template
        .replace("<<.Series>>", metric)
        .replace(
            "<<.LabelMatchers>>",
            &format!("namespace=\"shop\",deployment=\"{service}\""),
        )
        .replace("<<.GroupBy>>", "deployment")
}

/// A Kubernetes CPU quantity in cores ("175m", "0.5", "1").
fn cores(quantity: &str) -> f64 {
    match quantity.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().unwrap() / 1000.0,
        None => quantity.parse().unwrap(),
    }
}

/// The HPA's AverageValue target for the forecast metric, in cores, from the
/// service's manifest.
fn hpa_target(p: &Platform, service: &str) -> f64 {
    let manifest = std::fs::read_to_string(p.root.join(format!("k8s/30-{service}.yaml"))).unwrap();
    let after = manifest
        .split(&format!("name: {HPA_METRIC}"))
        .nth(1)
        .unwrap_or_else(|| panic!("link 'HPA reads {HPA_METRIC}': k8s/30-{service}.yaml does not name it"));
    let field = |key: &str| {
        after
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.trim().trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("link 'HPA reads {HPA_METRIC}': no {key} after it in k8s/30-{service}.yaml"))
    };
    let kind = field("type:");
    assert_eq!(
        kind, "AverageValue",
        "link 'HPA reads {HPA_METRIC}': k8s/30-{service}.yaml targets it with type {kind}"
    );
    cores(&field("averageValue:"))
}

/// The HPA formula for an Object metric with an AverageValue target: ceil(value / target),
/// whatever the number of ready pods.
fn desired(value: f64, target: f64) -> u32 {
    (value / target).ceil().max(1.0) as u32
}

/// The adapter query for `metric` returns a value for `service` now.
async fn adapter_value(p: &Platform, metric: &str, service: &str) -> f64 {
    let query = adapter_query(p, metric, service);
    let result = p.query(&query).await;
    let value = result.first().and_then(|s| s["value"][1].as_str()?.parse::<f64>().ok());
    value.unwrap_or_else(|| panic!("link 'adapter query returns a value': {query} returned nothing"))
}

/// Replicas the HPA would want now. Both forecast metrics the adapter serves must
/// answer; the HPA formula runs on the one the HPAs read.
pub async fn hpa_replicas(p: &Platform, service: &str) -> u32 {
    adapter_value(p, UTILIZATION_METRIC, service).await;
    let value = adapter_value(p, HPA_METRIC, service).await;
    desired(value, hpa_target(p, service))
}

/// The most replicas the HPA would have wanted since `start`.
pub async fn peak_hpa_replicas(p: &Platform, service: &str, start: f64) -> u32 {
    let query = adapter_query(p, HPA_METRIC, service);
    let peak = p.max_since(&query, start).await;
    let peak = peak.unwrap_or_else(|| panic!("link 'adapter query returns a value': {query} returned nothing"));
    desired(peak, hpa_target(p, service))
}

/// The cost optimizer's action for `service`, every 3 s for `length`.
pub async fn sample_decisions(p: &Platform, service: &str, length: Duration) -> Vec<String> {
    let end = Instant::now() + length;
    let mut seen = Vec::new();
    while Instant::now() < end {
        let url = format!("{}/scaling-decision/{service}", p.cost);
        let action = match p.client.get(url).send().await {
            Ok(r) => r.json::<Value>().await.map(|v| {
                // Shown only when the test fails: what each decision rested on.
                eprintln!("decision for {service}: {} {}", v["action"], v["reasoning"]);
                v["action"].as_str().unwrap_or("?").to_owned()
            }),
            Err(e) => Ok(format!("unreachable: {e}")),
        };
        seen.push(action.unwrap_or_else(|e| format!("unreadable: {e}")));
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    seen
}

/// Every order the generator created completes, and the stock taken from each
/// product equals what was ordered (orders whose answer was lost may add to it).
pub async fn orders_completed_and_stock_matches(p: &Platform, summary: &Value) {
    let orders = &summary["orders"];
    let ids = orders["created_ids"].as_array().cloned().unwrap_or_default();
    assert!(
        !ids.is_empty(),
        "link 'orders are created': the journeys created none: {orders}"
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    for id in ids.iter().filter_map(Value::as_str) {
        loop {
            // The generator's customers own the orders; the admin reads any.
            let order: Value = p
                .client
                .get(format!("{}/orders/{id}", p.orders))
                .bearer_auth(p.admin_token())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if order["status"] == "completed" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "link 'worker completes orders': order {id} is {}",
                order["status"]
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let uncertain = &orders["uncertain_quantity_by_product"];
    for (product, ordered) in orders["quantity_by_product"].as_object().cloned().unwrap_or_default() {
        let ordered = ordered.as_u64().unwrap();
        let extra = uncertain[&product].as_u64().unwrap_or(0);
        let read: Value = p
            .client
            .get(format!("{}/products/{product}", p.catalog))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The generator seeds every product with this much stock (`--seed-stock` default).
        let taken = 1_000_000 - read["stock"].as_u64().unwrap();
        assert!(
            (ordered..=ordered + extra).contains(&taken),
            "link 'stock matches orders': product {product} lost {taken}, orders took {ordered} (+{extra} uncertain)"
        );
    }
}

/// Every recording and alert rule evaluates without error (Prometheus reports each
/// rule's health), and every dashboard query runs with its variables filled in.
pub async fn rules_and_dashboards_evaluate(p: &Platform) {
    let body: Value = p
        .client
        .get(format!("{}/api/v1/rules", p.prometheus))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rules: Vec<Value> = body["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(!rules.is_empty(), "link 'rules loaded': Prometheus has no rules");
    for rule in &rules {
        assert!(
            rule["health"] != "err",
            "link 'rules evaluate': {} fails: {}",
            rule["name"],
            rule["lastError"]
        );
    }
    let dir = p.root.join("monitoring/grafana/dashboards");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut exprs = Vec::new();
        collect_exprs(&dashboard, &mut exprs);
        for expr in exprs {
            let filled = expr
                .replace("$__rate_interval", "1m")
                .replace("$__all", ".*")
                .replace("$service", ".*");
            let url = format!("{}/api/v1/query", p.prometheus);
            let body: Value = p
                .client
                .get(reqwest::Url::parse_with_params(&url, &[("query", &filled)]).unwrap())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                body["status"],
                "success",
                "link 'dashboards evaluate': {} query {filled}: {body}",
                path.display()
            );
        }
    }
}

fn collect_exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", Value::String(s)) => out.push(s.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_exprs(i, out)),
        _ => {}
    }
}
