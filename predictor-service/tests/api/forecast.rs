//! `POST /forecast`: stateless what-if forecasts, their limits and their validation.

use serde_json::{Value, json};
use service_kit::testing::{free_port, problem_of};

use crate::helpers::spawn_app;

#[tokio::test]
async fn bad_input_is_a_422_problem_naming_the_field() {
    // Arrange
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"]).await;
    let cases = [
        (json!({"step_seconds": 15, "values": [], "horizon_steps": 4}), "values"),
        (
            json!({"step_seconds": 0, "values": [1, 2], "horizon_steps": 4}),
            "step_seconds",
        ),
        (
            json!({"step_seconds": 86_401, "values": [1, 2], "horizon_steps": 4}),
            "step_seconds",
        ),
        (
            json!({"step_seconds": i64::MAX, "values": [1, 2], "horizon_steps": 4}),
            "step_seconds",
        ),
        (
            json!({"step_seconds": 15, "values": [1, 2], "horizon_steps": 0}),
            "horizon_steps",
        ),
        (
            json!({"step_seconds": 15, "values": [1, 2], "horizon_steps": -5}),
            "horizon_steps",
        ),
        (
            json!({"step_seconds": 15, "values": [1, 2], "horizon_steps": 10_001}),
            "horizon_steps",
        ),
        (
            json!({"step_seconds": 15, "values": [1, 2], "horizon_steps": 4, "start": i64::MIN}),
            "start",
        ),
        (
            json!({"step_seconds": 15, "values": [1, 2], "horizon_steps": 4, "model": "prophet"}),
            "model",
        ),
    ];
    for (body, field) in cases {
        // Act
        let resp = app.client.post(app.url("/forecast")).json(&body).send().await.unwrap();
        // Assert
        let (status, problem) = problem_of(resp).await;
        assert_eq!(status, 422, "{problem}");
        assert!(problem["errors"][field].is_string(), "{body}: {problem}");
    }
}

#[tokio::test]
async fn unreadable_bodies_are_problems_too() {
    // Arrange
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"]).await;
    let too_many = json!({"step_seconds": 15, "values": vec![1; 100_001], "horizon_steps": 4}).to_string();
    let cases = [
        // Malformed JSON is a 400, a wrong shape a 422 naming where it is wrong.
        ("{\"step_seconds\": 15, \"values\": [1, 2", 400, "not valid JSON"),
        (
            r#"{"step_seconds": "15", "values": [1], "horizon_steps": 4}"#,
            422,
            "step_seconds",
        ),
        (
            r#"{"step_seconds": 1.5, "values": [1], "horizon_steps": 4}"#,
            422,
            "step_seconds",
        ),
        (
            r#"{"step_seconds": 99999999999999999999, "values": [1], "horizon_steps": 4}"#,
            422,
            "step_seconds",
        ),
        (r#"{"values": [1], "horizon_steps": 4}"#, 422, "step_seconds"),
        (
            r#"{"step_seconds": 15, "values": [1, null, 3], "horizon_steps": 4}"#,
            422,
            "values: element 1",
        ),
        (
            r#"{"step_seconds": 15, "values": [1, "NaN"], "horizon_steps": 4}"#,
            422,
            "values: element 1",
        ),
        (
            r#"{"step_seconds": 15, "values": "1,2", "horizon_steps": 4}"#,
            422,
            "values",
        ),
        (
            &too_many,
            422,
            "values: more than 100000 values (the cap of this field)",
        ),
    ];
    for (body, expected_status, expected_detail) in cases {
        // Act
        let resp = app
            .client
            .post(app.url("/forecast"))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        // Assert
        let (status, problem) = problem_of(resp).await;
        assert_eq!(status, expected_status, "{problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(expected_detail), "{detail}");
    }
}

#[tokio::test]
async fn too_many_values_are_named_in_errors_with_the_cap() {
    // Arrange
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"]).await;
    let body = json!({"step_seconds": 15, "values": vec![1; 100_001], "horizon_steps": 4});

    // Act
    let resp = app.client.post(app.url("/forecast")).json(&body).send().await.unwrap();

    // Assert
    let (status, problem) = problem_of(resp).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"]["values"],
        "more than 100000 values (the cap of this field)"
    );
}

#[tokio::test]
async fn a_body_over_the_route_limit_is_a_413_problem() {
    // Arrange: 4 MiB and one byte of JSON
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"]).await;
    let padding = " ".repeat(4 * 1024 * 1024);
    let body = format!(r#"{{"step_seconds": 15, "values": [1],{padding}"horizon_steps": 4}}"#);

    // Act
    let resp = app
        .client
        .post(app.url("/forecast"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();

    // Assert
    let (status, problem) = problem_of(resp).await;
    assert_eq!(status, 413, "{problem}");
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

#[tokio::test]
async fn values_at_the_magnitude_bound_forecast_numbers_and_beyond_it_are_refused() {
    // Arrange: ±10^12 alternating, a ramp across the range, and one value past it
    let app = spawn_app(&format!("http://127.0.0.1:{}", free_port()), &["order-worker"]).await;
    let bound = 1e12;
    let alternating: Vec<f64> = (0..600).map(|i| if i % 2 == 0 { -bound } else { bound }).collect();
    let ramp: Vec<f64> = (0..600).map(|i| -bound + 2.0 * bound * f64::from(i) / 600.0).collect();

    for (values, model) in [(alternating, "linear"), (ramp, "holt_winters")] {
        // Act
        let body = json!({"step_seconds": 300, "values": values, "horizon_steps": 20, "model": model});
        let resp = app.client.post(app.url("/forecast")).json(&body).send().await.unwrap();

        // Assert: infinities would go out as nulls, which the contract does not allow
        assert_eq!(resp.status(), 200);
        let forecast: Value = resp.json().await.unwrap();
        for series in ["path", "lower", "upper"] {
            let all_numbers = forecast[series].as_array().unwrap().iter().all(Value::is_f64);
            assert!(all_numbers, "{model}: {series} has a non-number: {forecast}");
        }
    }
    let past = json!({"step_seconds": 300, "values": [1, 2e12], "horizon_steps": 2});
    let (status, problem) = problem_of(app.client.post(app.url("/forecast")).json(&past).send().await.unwrap()).await;
    assert_eq!(status, 422, "{problem}");
}
