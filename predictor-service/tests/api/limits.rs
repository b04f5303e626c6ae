//! The limits on what requests can make the predictor do: fit slots (503 when all are taken)
//! and the retrain rate limit (429 when too soon). The full-slots case holds the only slot
//! through the state, so it does not depend on how long a fit takes.

use std::sync::Arc;

use predictor_service::state::Shared;
use predictor_service::{AppState, Config};
use serde_json::json;
use service_kit::auth::Role;
use service_kit::testing::{self, admin_bearer, bearer, free_port, problem_of};
use service_kit::{HttpArgs, Readiness, Server};

use crate::helpers::{TestApp, service_config_file, spawn_app_with};

/// Serves `state`'s router on a free loopback port (no refresh loop: nothing to refresh).
async fn serve(state: AppState) -> TestApp {
    let router = predictor_service::app(state, Readiness::new(), &HttpArgs::default());
    let server = Server::bind("127.0.0.1", 0, router).await.unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    TestApp {
        base,
        client: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn fits_beyond_the_slots_are_503_with_retry_after() {
    // Arrange: one slot, taken
    let requests = json!({"slots-svc": {"cpu_request_cores": 0.5}});
    let config = Config {
        services: vec!["slots-svc".into()],
        service_config: Some(service_config_file("slots", &requests)),
        max_concurrent_fits: 1,
        ..Config::default()
    };
    let targets = predictor_service::targets::targets(&config).unwrap();
    let shared = Arc::new(Shared::new(targets, config.horizon_seconds));
    let state = AppState::new(shared, Arc::new(config), testing::auth_key());
    let app = serve(state.clone()).await;
    let held = state.fits.try_acquire().unwrap();
    let body = json!({"step_seconds": 60, "values": [1, 2, 3, 4], "horizon_steps": 2, "model": "linear"});

    // Act
    let forecast = app.client.post(app.url("/forecast")).json(&body).send().await.unwrap();
    let predict = app.get("/predict/slots-svc?horizon=10m").await;

    // Assert
    for resp in [forecast, predict] {
        assert_eq!(resp.headers()["retry-after"], "1");
        let (status, problem) = problem_of(resp).await;
        assert_eq!(status, 503, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("fit slot"), "{problem}");
    }

    // Act: the slot is given back
    drop(held);
    let resp = app.client.post(app.url("/forecast")).json(&body).send().await.unwrap();

    // Assert: the fit runs, and gives its slot back when done
    assert_eq!(resp.status(), 200);
    assert_eq!(state.fits.available(), 1);
}

#[tokio::test]
async fn a_second_retrain_too_soon_is_429_with_retry_after() {
    // Arrange: the default interval of 60 s
    let requests = json!({"retrain-a": {"cpu_request_cores": 0.5}, "retrain-b": {"cpu_request_cores": 0.5}});
    let app = spawn_app_with(
        &format!("http://127.0.0.1:{}", free_port()),
        &["retrain-a", "retrain-b"],
        Some(service_config_file("retrain", &requests)),
    )
    .await;
    let retrain = |service: &str| {
        app.client
            .post(app.url(&format!("/models/{service}/retrain")))
            .header("authorization", admin_bearer())
            .send()
    };

    // Act
    let first = retrain("retrain-a").await.unwrap();
    let second = retrain("retrain-a").await.unwrap();
    let other = retrain("retrain-b").await.unwrap();

    // Assert
    assert_eq!(first.status(), 202);
    let wait: u64 = second.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((59..=60).contains(&wait), "{wait}");
    let (status, problem) = problem_of(second).await;
    assert_eq!(status, 429, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("retrain-a"), "{problem}");
    assert_eq!(other.status(), 202, "each service has its own interval");
}

#[tokio::test]
async fn a_retrain_takes_an_admin_token() {
    // Arrange
    let app = spawn_app_with(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"], None).await;
    let url = app.url("/models/order-worker/retrain");

    // Act
    let anonymous = app.client.post(&url).send().await.unwrap();
    let customer = app
        .client
        .post(&url)
        .header("authorization", bearer("someone", Role::Customer))
        .send()
        .await
        .unwrap();
    let forged = app
        .client
        .post(&url)
        .header("authorization", "Bearer not.a.token")
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(customer.status(), 403);
    assert_eq!(forged.status(), 401);
    let reads = app.client.get(app.url("/models/status")).send().await.unwrap();
    assert_eq!(reads.status(), 200, "reads stay open");
}
