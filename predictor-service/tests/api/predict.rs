//! `/predict`, `/models/status` and `/metrics` on known history, and the fallback when
//! Prometheus stops or never answered.

use std::time::{Duration, Instant};

use service_kit::testing::{PrometheusServer, free_port, problem_of};

use crate::helpers::{
    PROMETHEUS_CONFIG, RAMP_SECONDS, backfill, irate_service_config, ramp_cores, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn forecasts_follow_the_history_and_survive_prometheus_stopping() {
    // Arrange: a three-hour ramp from 0.2 to 0.6 cores on 2 pods of 0.25 cores, ending
    // 90 seconds ago (backfill refuses samples that are too recent)
    let end = chrono::Utc::now().timestamp() - 90;
    let mut prom = PrometheusServer::start(PROMETHEUS_CONFIG, Some(&backfill("catalog-service", end)));
    let config = irate_service_config("catalog-service");
    let app = spawn_app_with(&prom.url(), &["catalog-service", "order-service"], Some(config)).await;

    // Act
    let p = app
        .wait_for("/predict/catalog-service", Duration::from_secs(15), |b| {
            !b["model"].is_null()
        })
        .await;

    // Assert: the forecast continues the ramp. Its last point is at most ~45 s after `end`
    // (the last 1m rate window), and the horizon adds 5 minutes.
    let now_cores = ramp_cores(RAMP_SECONDS);
    let peak = ramp_cores(RAMP_SECONDS + 300.0 + 45.0);
    let cores = p["predicted_cores"].as_f64().unwrap();
    assert!(
        (cores - peak).abs() < 0.03,
        "predicted {cores}, expected about {peak}: {p}"
    );
    let util = p["predicted_utilization"].as_f64().unwrap();
    assert!((util - cores / 0.5 * 100.0).abs() < 1e-6, "{p}");
    assert!((p["current_cores"].as_f64().unwrap() - now_cores).abs() < 0.02, "{p}");
    assert_eq!(p["model"], "linear", "{p}");
    assert_eq!(p["fallback"], false, "{p}");
    assert_eq!(
        (p["replicas"].as_u64(), p["cpu_request_cores"].as_f64()),
        (Some(2), Some(0.25))
    );
    let (lower, upper) = (
        p["lower_utilization"].as_f64().unwrap(),
        p["upper_utilization"].as_f64().unwrap(),
    );
    // The bounds are per step, so only their order is guaranteed: a biased model can have a
    // lower bound above its own path.
    assert!(lower <= upper, "{p}");
    assert!(
        p["backtest_mase"].as_f64().is_some() && p["samples"].as_u64().unwrap() > 600,
        "{p}"
    );
    assert_eq!(p["horizon_seconds"], 300);

    // A longer horizon is computed on demand; its window contains the shorter one, and the
    // same model on the same history repeats the first steps, so its peak is not lower.
    let far = app.get_json("/predict/catalog-service?horizon=30m").await;
    assert_eq!(
        (far["horizon_seconds"].as_i64(), far["model"].as_str()),
        (Some(1800), Some("linear"))
    );
    assert!(far["predicted_cores"].as_f64().unwrap() >= cores - 1e-9, "{far}");

    // A service with no data at all: an explicit no-forecast, never a number.
    let none = app.get_json("/predict/order-service").await;
    assert_eq!(
        (none["fallback"].as_bool(), none["predicted_utilization"].is_null()),
        (Some(true), true)
    );
    assert!(none["fallback_reason"].as_str().unwrap().contains("no data"), "{none}");
    let all = app.get_json("/predict/all").await;
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");

    let status = app.get_json("/models/status").await;
    let catalog = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "catalog-service")
        .unwrap();
    assert_eq!(catalog["model"], "linear");
    assert!(catalog["last_trained"].is_string(), "{catalog}");
    assert_eq!(
        catalog["scores"].as_array().unwrap().len(),
        forecast::ModelKind::ALL.len(),
        "{catalog}"
    );
    assert!(catalog["scores"][2]["mase"].is_number(), "{catalog}");

    let metrics = app.metrics().await;
    for series in [
        "predicted_cpu_utilization{service=\"catalog-service\"} ",
        "predicted_cpu_utilization_upper{service=\"catalog-service\"} ",
        "predicted_cpu_cores{service=\"catalog-service\"} ",
        "predictor_model_info{service=\"catalog-service\",model=\"linear\"} 1",
        "predictor_backtest_mase{service=\"catalog-service\"} ",
        "predictor_fallback{service=\"catalog-service\"} 0",
        "predictor_peak_quantile{service=\"catalog-service\"} 0.9",
        "predictor_fallback{service=\"order-service\"} 1",
        "predictor_model_training_seconds_bucket{service=\"catalog-service\",le=\"+Inf\"} ",
    ] {
        assert!(metrics.contains(series), "missing {series}");
    }

    // Act: a retrain is accepted and runs in the background
    let resp = app
        .client
        .post(app.url("/models/catalog-service/retrain"))
        .header("authorization", service_kit::testing::admin_bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let trained_before = catalog["last_trained"].clone();
    app.wait_for("/models/status", Duration::from_secs(10), |s| {
        s[0]["service"] == "catalog-service" && s[0]["last_trained"] != trained_before
    })
    .await;

    // Act: Prometheus goes away
    prom.stop();

    // Assert: the last values stay, flagged, and nothing answers 5xx
    let stale = app
        .wait_for("/predict/catalog-service", Duration::from_secs(10), |b| {
            b["fallback"] == true
        })
        .await;
    // The last good values (refreshed since `p`, on the same data) are still served.
    assert!(
        (stale["predicted_cores"].as_f64().unwrap() - cores).abs() < 0.01,
        "{stale}"
    );
    assert_eq!(stale["model"], "linear");
    assert_eq!(stale["peak"]["fallback"], true, "the HPA's value is stale too: {stale}");
    assert!(
        stale["fallback_reason"].as_str().unwrap().contains("refresh failed"),
        "{stale}"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        for path in [
            "/predict/catalog-service",
            "/predict/all",
            "/models/status",
            "/health",
            "/metrics",
        ] {
            assert_eq!(app.get(path).await.status(), 200, "{path}");
        }
    }
    assert_eq!(
        app.get("/ready").await.status(),
        503,
        "readiness reports prometheus down"
    );
    assert!(
        app.metrics()
            .await
            .contains("predictor_fallback{service=\"catalog-service\"} 1")
    );
}

#[tokio::test]
async fn a_prometheus_that_never_answered_is_named_and_no_number_invented() {
    // Arrange: nothing listens on this port
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["user-service"]).await;

    // Act
    let p = app
        .wait_for("/predict/user-service", Duration::from_secs(10), |b| {
            b["fallback_reason"]
                .as_str()
                .is_some_and(|r| r.contains("prometheus has not answered"))
        })
        .await;

    // Assert
    assert_eq!(p["fallback"], true);
    for field in [
        "predicted_utilization",
        "predicted_cores",
        "current_cores",
        "model",
        "replicas",
    ] {
        assert!(p[field].is_null(), "{field}: {p}");
    }
    assert_eq!(app.get("/ready").await.status(), 503);
    assert!(
        app.metrics()
            .await
            .contains("predictor_fallback{service=\"user-service\"} 1")
    );
}

#[tokio::test]
async fn unknown_services_are_404_problems() {
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"]).await;
    let (status, body) = problem_of(app.get("/predict/nope").await).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = problem_of(app.get("/predict/nope?horizon=10m").await).await;
    assert_eq!(status, 404);
    let retrain_nope = app
        .client
        .post(app.url("/models/nope/retrain"))
        .header("authorization", service_kit::testing::admin_bearer());
    let (status, _) = problem_of(retrain_nope.send().await.unwrap()).await;
    assert_eq!(status, 404);
    let (status, _) = problem_of(app.get("/predict/order-worker?horizon=soon").await).await;
    assert_eq!(status, 400);
}
