//! The `/users` resource end to end.

use serde_json::{Value, json};

use service_kit::testing::problem_of;

use crate::helpers::spawn_app;

#[tokio::test]
async fn register_then_read_update_and_delete() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let resp = app.create_user("Ada@Example.org", "Ada").await;

    // Assert
    assert_eq!(resp.status(), 201);
    let user: Value = resp.json().await.unwrap();
    let id = user["id"].as_str().unwrap().to_owned();
    assert!(user["created_at"].is_string());

    let read: Value = app
        .client
        .get(app.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["email"], "Ada@Example.org");

    // A cached read must not survive an update.
    let patched = app
        .client
        .patch(app.url(&format!("/users/{id}")))
        .json(&json!({"name": "Ada L."}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let read: Value = app
        .client
        .get(app.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["name"], "Ada L.");

    let deleted = app
        .client
        .delete(app.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (status, _) = problem_of(app.client.get(app.url(&format!("/users/{id}"))).send().await.unwrap()).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn email_is_unique_regardless_of_case() {
    let app = spawn_app().await;
    assert_eq!(app.create_user("bo@example.org", "Bo").await.status(), 201);
    let (status, body) = problem_of(app.create_user("BO@Example.ORG", "Other Bo").await).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn invalid_input_gets_a_problem_with_the_right_status() {
    let app = spawn_app().await;
    let post = |body: &'static str| {
        app.client
            .post(app.url("/users"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, want) in [
        ("{not json", 400),
        (r#"{"email": 5, "name": "x", "password": "long enough"}"#, 422),
        (r#"{"name": "x", "password": "long enough"}"#, 422),
        (r#"{"email": "a@b.co", "name": "x"}"#, 422),
        (r#"{"email": "nope", "name": "x", "password": "long enough"}"#, 422),
        (r#"{"email": "a@b.co", "name": "  ", "password": "long enough"}"#, 422),
        (r#"{"email": "a@b.co", "name": "x", "password": "short"}"#, 422),
        (r#"{"email": "a@b.co", "name": "x", "password": 12345678}"#, 422),
    ] {
        let (status, problem) = problem_of(post(body).await.unwrap()).await;
        assert_eq!(status, want, "{body} -> {problem}");
    }
    let huge = format!(r#"{{"email": "a@b.co", "name": "{}"}}"#, "x".repeat(200_000));
    let resp = app
        .client
        .post(app.url("/users"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(resp).await.0, 413);
    let (status, _) = problem_of(app.client.get(app.url("/users/not-a-uuid")).send().await.unwrap()).await;
    assert_eq!(status, 400);
    let unknown = uuid::Uuid::new_v4();
    let resp = app
        .client
        .patch(app.url(&format!("/users/{unknown}")))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(resp).await.0, 404);
    let (status, _) = problem_of(app.client.get(app.url("/users?limit=0")).send().await.unwrap()).await;
    assert_eq!(status, 422);
    // Nothing half-done: no user exists after all those failures.
    let page: Value = app
        .client
        .get(app.url("/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(0), "{page}");
}

#[tokio::test]
async fn list_pages_in_registration_order() {
    let app = spawn_app().await;
    for i in 0..3 {
        assert_eq!(app.create_user(&format!("u{i}@example.org"), "U").await.status(), 201);
    }
    let page: Value = app
        .client
        .get(app.url("/users?limit=2&offset=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let emails: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].clone())
        .collect();
    assert_eq!(emails, vec![json!("u1@example.org"), json!("u2@example.org")]);
}

#[tokio::test]
async fn metrics_and_health_are_served() {
    let app = spawn_app().await;
    app.create_user("m@example.org", "M").await;
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        r#"http_requests_total{service="user-service",method="POST",route="/users",status="201"}"#,
        "http_request_duration_seconds_bucket{service=\"user-service\"",
        "process_cpu_seconds_total{service=\"user-service\"}",
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
}
