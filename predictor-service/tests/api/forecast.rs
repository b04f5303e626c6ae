//! `POST /forecast`: stateless what-if forecasts, their limits and their validation.

use serde_json::{Value, json};
use service_kit::testing::{free_port, problem_of};

use crate::helpers::spawn_app;

#[tokio::test]
async fn bad_input_is_a_422_problem() {
    // Arrange
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"]).await;
    let too_many = vec![1; 100_001];
    let cases = [
        json!({"step_seconds": 15, "values": [], "horizon_steps": 4}),
        json!({"step_seconds": 0, "values": [1, 2], "horizon_steps": 4}),
        json!({"step_seconds": 15, "values": [1, null, 3], "horizon_steps": 4}),
        json!({"step_seconds": 15, "values": [1, "NaN"], "horizon_steps": 4}),
        json!({"step_seconds": 15, "values": [1, 2], "horizon_steps": 0}),
        json!({"step_seconds": 15, "values": [1, 2], "horizon_steps": 4, "model": "prophet"}),
        json!({"step_seconds": 15, "values": too_many, "horizon_steps": 4}),
    ];
    for body in cases {
        // Act
        let resp = app.client.post(app.url("/forecast")).json(&body).send().await.unwrap();
        // Assert
        let (status, problem) = problem_of(resp).await;
        assert_eq!(status, 422, "{problem}");
    }
}

#[tokio::test]
async fn fifty_thousand_values_are_accepted() {
    // Arrange: a week and more at 15-second steps with a daily cycle, about 1 MB of JSON
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"]).await;
    let values: Vec<f64> = (0..50_000)
        .map(|i| 1.0 + 0.5 * (f64::from(i) * 15.0 / 86_400.0 * std::f64::consts::TAU).sin())
        .collect();
    let body = json!({"step_seconds": 15, "values": values, "horizon_steps": 20, "start": 1_700_000_000});

    // Act
    let resp = app.client.post(app.url("/forecast")).json(&body).send().await.unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    let f: Value = resp.json().await.unwrap();
    assert_eq!(f["path"].as_array().unwrap().len(), 20);
    assert_eq!(f["upper"].as_array().unwrap().len(), 20);
    assert_eq!(f["samples"], 50_000);
    assert_eq!(f["fallback"], false, "{}", f["model"]);
    assert!(f["model"].is_string());
}
