//! Registration with a password and logins through `POST /auth/token`: the token a
//! login gets, one 401 for every bad login, and a password in no response.

use reqwest::Method;
use serde_json::{Value, json};
use service_kit::auth::Role;
use service_kit::testing::{self, problem_of};

use crate::auth::assert_401;
use crate::helpers::{PASSWORD, config, spawn_app};

#[tokio::test]
async fn register_log_in_and_use_the_token_on_ones_own_user() {
    // Arrange
    let app = spawn_app().await;
    let user = app.user("erin@example.org").await;
    let id = user["id"].as_str().unwrap();

    // Act: any case of the email logs in.
    let resp = app.login("  ERIN@example.org ", PASSWORD).await;

    // Assert
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    let claims = testing::auth_key().verify(token).unwrap();
    assert_eq!((claims.sub.as_str(), claims.role), (id, Role::Customer));
    assert_eq!(claims.exp - claims.iat, 900);
    let own = format!("Bearer {token}");
    let path = format!("/users/{id}");
    let read = app.call(Method::GET, &path, Some(&own), None).await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.headers()["etag"], "\"1\"", "ETags are unchanged");
    let patched = app
        .call(Method::PATCH, &path, Some(&own), Some(json!({"name": "Erin"})))
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(patched.headers()["etag"], "\"2\"");
    assert_eq!(app.call(Method::DELETE, &path, Some(&own), None).await.status(), 204);
    // The token outlives its user (it cannot be revoked), but finds nothing.
    assert_eq!(
        problem_of(app.call(Method::GET, &path, Some(&own), None).await).await.0,
        404
    );
    assert_eq!(problem_of(app.login("erin@example.org", PASSWORD).await).await.0, 401);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    // Arrange
    let app = spawn_app().await;
    app.user("frank@example.org").await;

    // Act
    let wrong = assert_401(app.login("frank@example.org", "not the password").await, "wrong").await;
    let unknown = assert_401(app.login("nobody@example.org", PASSWORD).await, "unknown").await;

    // Assert
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["detail"], "the email or the password is wrong");
    assert_eq!(problem_of(app.login("frank@example.org", "").await).await.0, 401);
}

#[tokio::test]
async fn the_password_is_in_no_response() {
    let app = spawn_app().await;
    let created = app.create_user("gina@example.org", "Gina").await.text().await.unwrap();
    let (id, own) = app.customer("hank@example.org").await;
    let path = format!("/users/{id}");
    let mut bodies = vec![created];
    bodies.push(
        app.call(Method::GET, &path, Some(&own), None)
            .await
            .text()
            .await
            .unwrap(),
    );
    bodies.push(
        app.call(Method::GET, &path, Some(&own), None)
            .await
            .text()
            .await
            .unwrap(),
    ); // cached
    bodies.push(
        app.call(Method::PATCH, &path, Some(&own), Some(json!({"name": "H"})))
            .await
            .text()
            .await
            .unwrap(),
    );
    bodies.push(app.get("/users").await.text().await.unwrap());
    bodies.push(app.login("hank@example.org", PASSWORD).await.text().await.unwrap());
    bodies.push(app.login("hank@example.org", "wrong one").await.text().await.unwrap());
    let short = app
        .call(
            Method::POST,
            "/users",
            None,
            Some(json!({"email": "i@example.org", "name": "I", "password": "tiny-pw"})),
        )
        .await;
    bodies.push(short.text().await.unwrap());
    for body in bodies {
        assert!(!body.contains(PASSWORD) && !body.contains("tiny-pw"), "{body}");
        assert!(!body.contains("argon2") && !body.contains("password_hash"), "{body}");
    }
    // Nor can a PATCH set one through the user's fields.
    let resp = app
        .call(
            Method::PATCH,
            &path,
            Some(&own),
            Some(json!({"password": "new password"})),
        )
        .await;
    assert_eq!(problem_of(resp).await.0, 422);
}

#[tokio::test]
async fn a_password_of_the_wrong_length_is_422_naming_it() {
    let app = spawn_app().await;
    for password in ["short", &"x".repeat(129)] {
        let resp = app
            .call(
                Method::POST,
                "/users",
                None,
                Some(json!({"email": "j@example.org", "name": "J", "password": password})),
            )
            .await;
        let (status, body) = problem_of(resp).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["errors"]["password"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn malformed_logins_are_problems() {
    let app = spawn_app().await;
    let post = |body: &'static str| {
        app.anonymous
            .post(app.url("/auth/token"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, want) in [
        ("{not json", 400),
        (r#"{"email": "a@b.co"}"#, 422),
        (r#"{"email": "a@b.co", "password": 12345678}"#, 422),
        (r#"{"email": ["a@b.co"], "password": "long enough"}"#, 422),
    ] {
        let (status, problem) = problem_of(post(body).await.unwrap()).await;
        assert_eq!(status, want, "{body} -> {problem}");
    }
    let text = app
        .anonymous
        .post(app.url("/auth/token"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(text).await.0, 415);
}

#[tokio::test]
async fn the_service_refuses_to_start_without_a_secret() {
    // Arrange
    let database = testing::TestDatabase::create("users").await;
    let mut config = config(database.url.clone(), testing::redis_url(), testing::redis_prefix());
    config.auth = service_kit::auth::AuthArgs::default();

    // Act
    let built = user_service::build(config).await;

    // Assert
    let error = built.err().expect("started without a secret");
    assert!(error.to_string().contains("AUTH_SECRET"), "{error:#}");
}
