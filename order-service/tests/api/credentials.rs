//! The credentials the order service sends on (issue 12): its own service token to the
//! catalog, from the API's saga and from the reconciler that releases what the worker
//! gave up on; the caller's own token, as it came, to user-service.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use service_kit::auth::Role;
use service_kit::testing;

use crate::helpers::{Platform, start_orders, start_worker};
use crate::tokens::customer;

/// The path and `Authorization` of each call a [`Recorder`] forwarded.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Forwards every request to `target` as it came (method, path, query, body and
/// `Authorization`), noting the path and `Authorization` of each.
#[derive(Clone)]
struct Recorder {
    target: String,
    seen: Seen,
    client: reqwest::Client,
}

async fn record(State(proxy): State<Recorder>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
    let authorization = req
        .headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    proxy.seen.lock().unwrap().push((path.clone(), authorization.clone()));
    let method = req.method().clone();
    let body: Bytes = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
    let mut forwarded = proxy
        .client
        .request(method, format!("{}{path}{query}", proxy.target))
        .header("content-type", "application/json")
        .body(body);
    if let Some(a) = authorization {
        forwarded = forwarded.header("authorization", a);
    }
    let resp = forwarded.send().await.unwrap();
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    (status, [("content-type", content_type)], resp.bytes().await.unwrap()).into_response()
}

impl Recorder {
    /// Starts a recorder in front of `target`; returns it and its URL.
    async fn start(target: &str) -> (Self, String) {
        let recorder = Self {
            target: target.to_owned(),
            seen: Arc::default(),
            client: reqwest::Client::new(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(record).with_state(recorder.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (recorder, url)
    }

    /// The `Authorization` of each call whose path ends with `suffix`.
    fn tokens(&self, suffix: &str) -> Vec<Option<String>> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(path, _)| path.ends_with(suffix))
            .map(|(_, a)| a.clone())
            .collect()
    }
}

/// Asserts each value is this service's own token: role service, subject
/// `order-service`, five minutes long.
#[track_caller]
fn assert_service_tokens(tokens: &[Option<String>], what: &str) {
    assert!(!tokens.is_empty(), "no {what} call was made");
    for token in tokens {
        let token = token
            .as_deref()
            .unwrap_or_else(|| panic!("a {what} call without a token"));
        let claims = testing::auth_key()
            .verify(token.strip_prefix("Bearer ").unwrap())
            .unwrap();
        assert_eq!(
            (claims.role, claims.sub.as_str()),
            (Role::Service, "order-service"),
            "{what}"
        );
        assert_eq!(claims.exp - claims.iat, 300, "{what}: a five-minute token");
    }
}

#[tokio::test]
async fn the_saga_reserves_and_releases_with_the_service_token_and_checks_the_user_with_the_callers() {
    // Arrange: recorders in front of user-service and the catalog.
    let p = Platform::start().await;
    let user = p.user().await;
    let (plenty, scarce) = (p.product(100, 10).await, p.product(100, 1).await);
    let (users, users_url) = Recorder::start(&p.users).await;
    let (catalog, catalog_url) = Recorder::start(&p.catalog).await;
    let (orders, _, _orders_db) = start_orders(&users_url, &catalog_url, &testing::redis_url()).await;
    let token = customer(user);
    let place = |items: Value| {
        p.client
            .post(format!("{orders}/orders"))
            .header("authorization", &token)
            .json(&json!({"user_id": user, "items": items}))
            .send()
    };

    // Act: one order that is placed, one that is refused midway and released.
    let placed = place(json!([{"product_id": plenty, "quantity": 2}])).await.unwrap();
    let refused = place(json!([{"product_id": plenty, "quantity": 3}, {"product_id": scarce, "quantity": 2}]))
        .await
        .unwrap();

    // Assert
    assert_eq!(placed.status(), 201);
    assert_eq!(refused.status(), 409);
    assert_eq!((p.stock(plenty).await, p.stock(scarce).await), (8, 1));
    assert_service_tokens(&catalog.tokens("/reserve"), "reserve");
    assert_service_tokens(&catalog.tokens("/release"), "release");
    let user_checks = users.tokens(&format!("/users/{user}"));
    assert_eq!(user_checks.len(), 2, "one user check per order");
    for seen in user_checks {
        assert_eq!(
            seen.as_deref(),
            Some(token.as_str()),
            "the caller's own token, as it came"
        );
    }
}

#[tokio::test]
async fn what_the_worker_gives_up_on_is_released_with_the_service_token() {
    // Arrange: an order placed through a recorded catalog, and a worker that gives every
    // order up at its first take.
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let (catalog, catalog_url) = Recorder::start(&p.catalog).await;
    let (orders, stores, _orders_db) = start_orders(&p.users, &catalog_url, &testing::redis_url()).await;
    let resp = p
        .client
        .post(format!("{orders}/orders"))
        .header("authorization", customer(user))
        .json(&json!({"user_id": user, "items": [{"product_id": product, "quantity": 4}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(p.stock(product).await, 6);

    // Act
    let worker = start_worker(stores, 1_000, Duration::from_secs(30), 0);

    // Assert: the API's reconciler releases it, with the service token.
    p.eventually("stock given back", Duration::from_secs(15), || async {
        p.stock(product).await == 10
    })
    .await;
    assert_service_tokens(&catalog.tokens("/release"), "release");
    worker.abort();
}
