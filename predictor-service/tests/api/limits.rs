//! The limits on what requests can make the predictor do: fit slots (503 when all are taken)
//! and the retrain rate limit (429 when too soon). The full-slots case holds the only slot
//! through the state, so it does not depend on how long a fit takes.

use std::sync::Arc;

use predictor_service::state::Shared;
use predictor_service::{AppState, Config};
use serde_json::json;
use service_kit::testing::{free_port, problem_of};
use service_kit::{HttpArgs, Readiness, Server};

use crate::helpers::{TestApp, service_config_file, spawn_app, spawn_app_with};

/// Serves `state`'s router on a free loopback port (no refresh loop: nothing to refresh).
async fn serve(state: AppState) -> TestApp {
    let router = predictor_service::app(
        state,
        Readiness::new(),
        &HttpArgs::default(),
        &service_kit::testing::auth_key(),
    );
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
    let state = AppState::new(shared, Arc::new(config));
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
            .header("authorization", service_kit::testing::admin_bearer())
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
async fn retraining_takes_an_admin_token() {
    use service_kit::auth::Role;
    use service_kit::testing::bearer;
    let prometheus = format!("http://127.0.0.1:{}", service_kit::testing::free_port());
    let app = spawn_app(&prometheus, &["catalog-service"]).await;
    let retrain = app.url("/models/catalog-service/retrain");
    let (status, _) = problem_of(app.client.post(&retrain).send().await.unwrap()).await;
    assert_eq!(status, 401, "no token");
    for role in [Role::Customer, Role::Service] {
        let resp = app
            .client
            .post(&retrain)
            .header("authorization", bearer("x", role))
            .send()
            .await;
        let (status, body) = problem_of(resp.unwrap()).await;
        assert_eq!(status, 403, "{role}: {body}");
    }
    let other_key = service_kit::auth::AuthKey::from_secret(&[7u8; 32]).unwrap();
    let forged = other_key
        .issue("admin", Role::Admin, std::time::Duration::from_secs(60))
        .unwrap();
    let resp = app.client.post(&retrain).bearer_auth(forged).send().await;
    assert_eq!(problem_of(resp.unwrap()).await.0, 401, "signed with another key");
    let resp = app
        .client
        .post(&retrain)
        .header("authorization", service_kit::testing::admin_bearer())
        .send();
    assert_eq!(resp.await.unwrap().status(), 202);
}
