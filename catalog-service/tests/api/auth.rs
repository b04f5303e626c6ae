//! Who may do what (issue 12): reads are open, product and stock writes take an admin
//! token, reserve and release the order service's; no, expired or forged tokens are 401
//! and nothing changes on a refusal.

use reqwest::Method;
use serde_json::{Value, json};
use service_kit::auth::{AuthArgs, Role};
use service_kit::testing::{self, admin_bearer, bearer, problem_of};
use uuid::Uuid;

use crate::helpers::{TestApp, expired_bearer, forged_bearer, spawn_app};

/// Sends `method path` with `body` and, when given, `authorization`; returns the status.
async fn status_of(app: &TestApp, method: Method, path: &str, body: &Value, authorization: Option<&str>) -> u16 {
    let mut req = app.client.request(method, app.url(path)).json(body);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    if status == 401 {
        assert_eq!(resp.headers()["www-authenticate"], "Bearer", "{path}");
    }
    if !resp.status().is_success() {
        problem_of(resp).await;
    }
    status
}

/// Every product and stock write, with a body it would accept.
fn writes(id: Uuid) -> Vec<(Method, String, Value)> {
    let sku = format!("NEW-{}", Uuid::new_v4().simple());
    vec![
        (
            Method::POST,
            "/products".into(),
            json!({"sku": sku, "name": "n", "category": "c", "price_cents": 1, "stock": 1}),
        ),
        (Method::PATCH, format!("/products/{id}"), json!({"price_cents": 7})),
        (Method::POST, format!("/products/{id}/stock"), json!({"delta": 3})),
        (Method::DELETE, format!("/products/{id}"), json!({})),
    ]
}

#[tokio::test]
async fn product_and_stock_writes_refuse_everyone_but_an_admin() {
    // Arrange
    let app = spawn_app().await;
    let id = app.product("GUARDED", 100, 5).await;
    let before: Value = app.get(&format!("/products/{id}")).await.json().await.unwrap();
    let customer = bearer(&Uuid::new_v4().to_string(), Role::Customer);
    let service = bearer("order-service", Role::Service);
    let refusals = [
        (None, 401),
        (Some("Basic YWRtaW46YWRtaW4="), 401),
        (Some("Bearer not-a-token"), 401),
        (Some(expired_bearer("admin", Role::Admin).as_str()), 401),
        (Some(forged_bearer("admin", Role::Admin).as_str()), 401),
        (Some(customer.as_str()), 403),
        (Some(service.as_str()), 403),
    ]
    .map(|(a, s)| (a.map(str::to_owned), s));

    // Act + Assert: each refusal, on each write.
    for (method, path, body) in writes(id) {
        for (authorization, want) in &refusals {
            let got = status_of(&app, method.clone(), &path, &body, authorization.as_deref()).await;
            assert_eq!(got, *want, "{method} {path} with {authorization:?}");
        }
    }
    let after: Value = app.get(&format!("/products/{id}")).await.json().await.unwrap();
    assert_eq!(after, before, "a refused write changes nothing");
    let listed: Value = app.get("/products").await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1), "nothing created");

    // And an admin may do each of them.
    let admin = admin_bearer();
    let wants = [201, 200, 200, 204];
    for ((method, path, body), want) in writes(id).into_iter().zip(wants) {
        let got = status_of(&app, method.clone(), &path, &body, Some(&admin)).await;
        assert_eq!(got, want, "{method} {path} as admin");
    }
}

#[tokio::test]
async fn reserve_and_release_take_the_service_token_only() {
    // Arrange
    let app = spawn_app().await;
    let id = app.product("HELD", 100, 5).await;
    let order = Uuid::new_v4();
    let reserve = (
        format!("/products/{id}/reserve"),
        json!({"order_id": order, "quantity": 2}),
    );
    let release = (format!("/products/{id}/release"), json!({"order_id": order}));
    let customer = bearer(&Uuid::new_v4().to_string(), Role::Customer);
    let refusals = [
        (None, 401),
        (Some(expired_bearer("admin", Role::Service)), 401),
        (Some(forged_bearer("admin", Role::Service)), 401),
        (Some(customer), 403),
        (Some(admin_bearer()), 403),
    ];

    // Act + Assert
    for (path, body) in [&reserve, &release] {
        for (authorization, want) in &refusals {
            let got = status_of(&app, Method::POST, path, body, authorization.as_deref()).await;
            assert_eq!(got, *want, "{path} with {authorization:?}");
        }
    }
    assert_eq!(app.stock(id).await, 5, "nothing reserved or released");
    let service = bearer("order-service", Role::Service);
    assert_eq!(
        status_of(&app, Method::POST, &reserve.0, &reserve.1, Some(&service)).await,
        201
    );
    assert_eq!(app.stock(id).await, 3);
    assert_eq!(
        status_of(&app, Method::POST, &release.0, &release.1, Some(&service)).await,
        200
    );
    assert_eq!(app.stock(id).await, 5);
}

#[tokio::test]
async fn reads_and_the_standard_routes_stay_open() {
    let app = spawn_app().await;
    let id = app.product("OPEN", 100, 5).await;
    for path in [
        format!("/products/{id}"),
        "/products".into(),
        "/health".into(),
        "/ready".into(),
        "/metrics".into(),
        "/openapi.json".into(),
    ] {
        assert_eq!(app.get(&path).await.status(), 200, "{path}");
    }
    // A token on an open route is not needed, but a bad one does not make it fail.
    let read = app
        .client
        .get(app.url(&format!("/products/{id}")))
        .header("authorization", expired_bearer("admin", Role::Customer))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
}

#[tokio::test]
async fn the_service_does_not_start_without_a_secret() {
    for auth in [AuthArgs::default(), AuthArgs::with_secret("too-short")] {
        let config = catalog_service::Config {
            auth,
            ..crate::helpers::config(
                testing::admin_database_url(),
                testing::redis_url(),
                testing::redis_prefix(),
            )
        };
        let Err(e) = catalog_service::build(config).await else {
            panic!("started without a usable secret");
        };
        assert!(format!("{e:#}").contains("secret"), "{e:#}");
    }
}
