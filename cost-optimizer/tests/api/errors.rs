//! Answers without Prometheus or the predictor, unknown services, and the static tier list.

use crate::helpers::{closed_url, config, spawn_app};

#[tokio::test]
async fn without_prometheus_cost_analysis_is_503_and_the_decision_says_why() {
    // Arrange: nothing listens at either URL
    let app = spawn_app(config(&closed_url(), &closed_url())).await;

    // Act
    let (one, one_body) = app.problem("/cost-analysis/catalog-service").await;
    let (all, _) = app.problem("/cost-analysis/all").await;
    let (status, decision) = app.get("/scaling-decision/catalog-service").await;
    let (ready, _) = app.problem("/ready").await;

    // Assert
    assert_eq!((one, all, ready), (503, 503, 503));
    assert!(
        one_body["detail"].as_str().unwrap().contains("prometheus unreachable"),
        "{one_body}"
    );
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["action"], "hold", "{decision}");
    assert_eq!(decision["fallback"], true);
    assert_eq!(decision["outcome"]["source"], "none");
    assert_eq!(decision["prometheus"]["ok"], false);
    assert_eq!(decision["predictor"]["ok"], false);
    let reasoning = decision["reasoning"].to_string();
    assert!(reasoning.contains("prometheus unreachable"), "{reasoning}");
    assert!(reasoning.contains("predictor unreachable"), "{reasoning}");
    // No replica count anywhere: the policy's minimum is assumed, and said so.
    assert_eq!(decision["current_replicas"], 2);
    assert!(reasoning.contains("assuming the minimum of 2"), "{reasoning}");
}

#[tokio::test]
async fn unknown_services_are_404_problems() {
    // Arrange
    let app = spawn_app(config(&closed_url(), &closed_url())).await;

    // Act
    let (analysis, body) = app.problem("/cost-analysis/no-such-service").await;
    let (decision, _) = app.problem("/scaling-decision/no-such-service").await;
    let (route, _) = app.problem("/cost-analysis").await;

    // Assert: 404 before any dependency is asked (Prometheus is down, yet not 503)
    assert_eq!((analysis, decision, route), (404, 404, 404));
    assert!(body["detail"].as_str().unwrap().contains("no-such-service"), "{body}");
}

#[tokio::test]
async fn cost_tiers_are_priced_with_the_overrides() {
    // Arrange
    let mut c = config(&closed_url(), &closed_url());
    c.cpu_core_hour = Some(0.04);
    let app = spawn_app(c).await;

    // Act
    let (status, body) = app.get("/cost-tiers").await;

    // Assert: micro = 0.1 core x 0.04 + 0.125 GiB x 0.004237 (the default memory price)
    assert_eq!(status, 200);
    assert_eq!(body["pricing"]["cpu_core_hour"], 0.04);
    let tiers = body["tiers"].as_array().unwrap();
    let names: Vec<_> = tiers.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["micro", "small", "medium", "large", "xlarge"]);
    let micro = tiers[0]["hourly_usd"].as_f64().unwrap();
    assert!((micro - (0.1 * 0.04 + 0.125 * 0.004237)).abs() < 1e-12, "{micro}");
    assert!((tiers[0]["monthly_usd"].as_f64().unwrap() - micro * 730.0).abs() < 1e-9);
}
