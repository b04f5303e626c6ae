//! `ETag` and `If-Match` on users, and text PostgreSQL cannot store.

use serde_json::{Value, json};
use service_kit::testing::problem_of;

use crate::helpers::spawn_app;

#[tokio::test]
async fn patch_with_a_stale_if_match_is_412_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let user = app.user("etag@example.org").await;
    let path = format!("/users/{}", user["id"].as_str().unwrap());
    let read = app.get(&path).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");
    let patch = |if_match: &str, name: &str| {
        app.client
            .patch(app.url(&path))
            .header("if-match", if_match)
            .json(&json!({ "name": name }))
            .send()
    };

    // Act
    let first = patch(&etag, "First").await.unwrap();
    let second = patch(&etag, "Second").await.unwrap();

    // Assert
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["etag"], "\"2\"");
    let (status, body) = problem_of(second).await;
    assert_eq!(status, 412, "{body}");
    let now: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(now["name"], "First");
    assert_eq!(patch("*", "Any").await.unwrap().status(), 200);
    assert_eq!(problem_of(patch("2", "Unquoted").await.unwrap()).await.0, 400);
    // Without If-Match a change applies as before.
    let plain = app
        .client
        .patch(app.url(&path))
        .json(&json!({"name": "Plain"}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["etag"], "\"4\"");
}

#[tokio::test]
async fn nul_in_text_is_422_naming_the_field() {
    let app = spawn_app().await;
    let (status, body) = problem_of(app.create_user("nul@example.org", "a\u{0}b").await).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["name"].is_string(), "{body}");
    let (status, body) = problem_of(app.create_user("n\u{0}l@example.org", "Nul").await).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["email"].is_string(), "{body}");
    // Ids are UUIDs: a NUL in the path is a malformed id (400), never a database error.
    let (status, _) = problem_of(app.get("/users/%00").await).await;
    assert_eq!(status, 400);
    let user = app.user("ok@example.org").await;
    let resp = app
        .client
        .patch(app.url(&format!("/users/{}", user["id"].as_str().unwrap())))
        .json(&json!({"name": "x\u{0}"}))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(resp).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["name"].is_string(), "{body}");
}
