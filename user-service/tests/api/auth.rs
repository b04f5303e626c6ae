//! Who may do what on `/users`, and logins through `POST /auth/token`: every boundary
//! of the contract (no, expired or forged token; another customer; the wrong role).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};
use service_kit::auth::{AuthKey, Claims, Role};
use service_kit::testing::{self, bearer, problem_of};

use crate::helpers::{PASSWORD, config, spawn_app};

/// Every route that needs a token, for a user `id`.
fn guarded(id: &str) -> Vec<(Method, String, Option<Value>)> {
    let one = format!("/users/{id}");
    vec![
        (Method::GET, "/users".to_owned(), None),
        (Method::GET, one.clone(), None),
        (Method::PATCH, one.clone(), Some(json!({"name": "Changed"}))),
        (Method::DELETE, one, None),
    ]
}

/// Asserts a 401 problem that asks for a bearer token.
async fn assert_401(resp: reqwest::Response, what: &str) -> Value {
    let challenge = resp.headers().get("www-authenticate").cloned();
    let (status, body) = problem_of(resp).await;
    assert_eq!(status, 401, "{what}: {body}");
    assert_eq!(
        challenge.as_ref().map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{what}"
    );
    body
}

/// A token signed with the tests' secret that expired ten minutes ago.
fn expired(subject: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = Claims {
        sub: subject.to_owned(),
        role: Role::Admin,
        iat: now - 3600,
        exp: now - 600,
    };
    let key = jsonwebtoken::EncodingKey::from_secret(testing::AUTH_SECRET.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    format!("Bearer {token}")
}

/// An admin token signed with another secret.
fn forged() -> String {
    let key = AuthKey::from_secret(b"not-the-platform-secret-but-long-enough-0123").unwrap();
    let token = key.issue("admin", Role::Admin, Duration::from_secs(600)).unwrap();
    format!("Bearer {token}")
}

/// `token` with its claims replaced by `subject`'s, keeping its signature.
fn tampered(token: &str, subject: &str) -> String {
    let token = token.trim_start_matches("Bearer ");
    let mut parts: Vec<&str> = token.split('.').collect();
    let other = bearer(subject, Role::Customer);
    let other_claims = other
        .trim_start_matches("Bearer ")
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    parts[1] = &other_claims;
    format!("Bearer {}", parts.join("."))
}

#[tokio::test]
async fn no_expired_or_forged_token_is_401_on_every_guarded_route() {
    // Arrange
    let app = spawn_app().await;
    let (id, own) = app.customer("victim@example.org").await;
    let cases = [
        ("no token", None),
        ("expired", Some(expired("admin"))),
        ("forged", Some(forged())),
        ("tampered", Some(tampered(&own, &uuid::Uuid::new_v4().to_string()))),
        ("not a JWT", Some("Bearer not.a.token".to_owned())),
        (
            "another scheme",
            Some(format!("Basic {}", own.trim_start_matches("Bearer "))),
        ),
    ];

    for (what, authorization) in &cases {
        for (method, path, body) in guarded(&id) {
            // Act
            let resp = app.call(method.clone(), &path, authorization.as_deref(), body).await;

            // Assert
            assert_401(resp, &format!("{what}: {method} {path}")).await;
        }
    }
    let body = assert_401(
        app.call(Method::GET, "/users", Some(&expired("admin")), None).await,
        "expired",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");
    // Nothing changed: the user is still there, under its own name.
    let me: Value = app
        .call(Method::GET, &format!("/users/{id}"), Some(&own), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Someone");
}

#[tokio::test]
async fn a_customer_sees_another_customer_as_absent() {
    // Arrange
    let app = spawn_app().await;
    let (alice, _) = app.customer("alice@example.org").await;
    let (_, bob) = app.customer("bob@example.org").await;
    let absent = uuid::Uuid::new_v4().to_string();

    for (method, path, body) in guarded(&alice).into_iter().skip(1) {
        // Act
        let resp = app.call(method.clone(), &path, Some(&bob), body.clone()).await;
        let (status, problem) = problem_of(resp).await;
        let absent_path = path.replace(&alice, &absent);
        let (_, absent_problem) = problem_of(app.call(method.clone(), &absent_path, Some(&bob), body).await).await;

        // Assert: the same answer as for an id that does not exist.
        assert_eq!(status, 404, "{method} {path}: {problem}");
        assert_eq!(
            problem["detail"].as_str().unwrap().replace(&alice, "ID"),
            absent_problem["detail"].as_str().unwrap().replace(&absent, "ID"),
        );
    }
    let still: Value = app.get(&format!("/users/{alice}")).await.json().await.unwrap();
    assert_eq!(still["name"], "Someone", "bob changed nothing");
}

#[tokio::test]
async fn only_admins_list_users_and_services_may_not_touch_them() {
    // Arrange
    let app = spawn_app().await;
    let (id, customer) = app.customer("carol@example.org").await;
    let service = bearer("order-service", Role::Service);

    // Act
    let as_customer = app.call(Method::GET, "/users", Some(&customer), None).await;
    let as_admin = app
        .call(Method::GET, "/users", Some(&testing::admin_bearer()), None)
        .await;

    // Assert
    assert_eq!(problem_of(as_customer).await.0, 403);
    assert_eq!(as_admin.status(), 200);
    let page: Value = as_admin.json().await.unwrap();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    for (method, path, body) in guarded(&id) {
        let (status, problem) = problem_of(app.call(method.clone(), &path, Some(&service), body).await).await;
        assert_eq!(status, 403, "service token on {method} {path}: {problem}");
    }
}

#[tokio::test]
async fn an_admin_reads_changes_and_deletes_any_user() {
    let app = spawn_app().await;
    let (id, _) = app.customer("dan@example.org").await;
    let path = format!("/users/{id}");
    let admin = testing::admin_bearer();
    assert_eq!(app.call(Method::GET, &path, Some(&admin), None).await.status(), 200);
    let patched = app
        .call(Method::PATCH, &path, Some(&admin), Some(json!({"name": "Dan"})))
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status(), 204);
    assert_eq!(
        problem_of(app.call(Method::GET, &path, Some(&admin), None).await)
            .await
            .0,
        404
    );
}

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
