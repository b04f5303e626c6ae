//! Who may do what on `/users`: every boundary of the contract (no, expired or forged
//! token; another customer; the wrong role). Logins are in `login.rs`.

use reqwest::Method;
use serde_json::{Value, json};
use service_kit::auth::Role;
use service_kit::testing::{self, bearer, problem_of};

use crate::helpers::spawn_app;

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
pub(crate) async fn assert_401(resp: reqwest::Response, what: &str) -> Value {
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
        ("expired", Some(testing::expired_bearer("admin", Role::Admin))),
        ("forged", Some(testing::forged_bearer("admin", Role::Admin))),
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
        app.call(
            Method::GET,
            "/users",
            Some(&testing::expired_bearer("admin", Role::Admin)),
            None,
        )
        .await,
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
