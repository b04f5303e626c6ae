//! Who may do what with orders (issue 12): a customer for themselves, an admin for
//! anyone, a service token never; and the credentials the service sends on: its own
//! service token to the catalog (from the API's saga and from the reconciler that
//! releases what the worker gave up on), the caller's own token to user-service.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use serde_json::{Value, json};
use service_kit::auth::{AuthArgs, Role};
use service_kit::testing::{self, admin_bearer, bearer, problem_of};

use crate::helpers::{
    Platform, customer, expired_bearer, forged_bearer, id_of, orders_config, start_orders, start_worker,
    test_reconciler,
};

/// Sends `method url` as `authorization` (none when `None`), with `body` when given.
async fn send(p: &Platform, method: Method, url: &str, authorization: Option<&str>, body: Option<&Value>) -> Answer {
    let mut req = p.client.request(method, url);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = if resp.status().is_success() {
        resp.json().await.unwrap()
    } else {
        problem_of(resp).await.1
    };
    Answer { status, www, body }
}

/// What a call answered.
struct Answer {
    status: u16,
    www: Option<String>,
    body: Value,
}

#[tokio::test]
async fn order_routes_refuse_no_bad_and_service_tokens() {
    // Arrange
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let placed = p.order_request(user, &[(product, 1)]).send().await.unwrap();
    assert_eq!(placed.status(), 201);
    let id = id_of(&placed.json().await.unwrap());
    let order_body = json!({"user_id": user, "items": [{"product_id": product, "quantity": 1}]});
    let routes = [
        (Method::POST, format!("{}/orders", p.orders), Some(&order_body)),
        (Method::GET, format!("{}/orders?user_id={user}", p.orders), None),
        (Method::GET, format!("{}/orders/{id}", p.orders), None),
    ];
    let refusals = [
        (None, 401),
        (Some("Bearer not-a-token".to_owned()), 401),
        (Some(expired_bearer(&user.to_string(), Role::Customer)), 401),
        (Some(forged_bearer(&user.to_string(), Role::Customer)), 401),
        (Some(forged_bearer("admin", Role::Admin)), 401),
        (Some(bearer("order-service", Role::Service)), 403),
    ];

    // Act + Assert
    for (method, url, body) in &routes {
        for (authorization, want) in &refusals {
            let got = send(&p, method.clone(), url, authorization.as_deref(), *body).await;
            assert_eq!(got.status, *want, "{method} {url} with {authorization:?}: {}", got.body);
            if *want == 401 {
                assert_eq!(got.www.as_deref(), Some("Bearer"));
            }
        }
    }
    assert_eq!(p.order_count().await, 1, "no order placed by a refused request");
    assert_eq!(p.stock(product).await, 9);
}

#[tokio::test]
async fn a_customer_orders_for_themselves_and_an_admin_for_anyone() {
    // Arrange
    let p = Platform::start().await;
    let (alice, bob) = (p.user().await, p.user().await);
    let product = p.product(100, 10).await;
    let url = format!("{}/orders", p.orders);
    let for_bob = json!({"user_id": bob, "items": [{"product_id": product, "quantity": 2}]});

    // Act
    let by_alice = send(&p, Method::POST, &url, Some(&customer(alice)), Some(&for_bob)).await;
    let by_admin = send(&p, Method::POST, &url, Some(&admin_bearer()), Some(&for_bob)).await;

    // Assert
    assert_eq!(by_alice.status, 403, "{}", by_alice.body);
    assert_eq!(by_admin.status, 201, "{}", by_admin.body);
    assert_eq!(by_admin.body["user_id"], bob.to_string());
    assert_eq!(p.order_count().await, 1, "only the admin's order");
    assert_eq!(p.stock(product).await, 8);
}

#[tokio::test]
async fn a_customer_reads_and_lists_only_their_own_orders() {
    // Arrange
    let p = Platform::start().await;
    let (alice, bob) = (p.user().await, p.user().await);
    let product = p.product(100, 10).await;
    let placed = p.order_request(alice, &[(product, 1)]).send().await.unwrap();
    let id = id_of(&placed.json().await.unwrap());
    let (as_alice, as_bob, as_admin) = (customer(alice), customer(bob), admin_bearer());
    let get = |who: &str| {
        let url = format!("{}/orders/{id}", p.orders);
        let who = who.to_owned();
        let p = &p;
        async move { send(p, Method::GET, &url, Some(&who), None).await }
    };
    let list = |who: &str, query: &str| {
        let url = format!("{}/orders{query}", p.orders);
        let who = who.to_owned();
        let p = &p;
        async move { send(p, Method::GET, &url, Some(&who), None).await }
    };

    // Act + Assert: reading one order.
    assert_eq!(get(&as_alice).await.status, 200);
    assert_eq!(get(&as_admin).await.status, 200);
    let bobs_look = get(&as_bob).await;
    assert_eq!(bobs_look.status, 404, "as if it did not exist: {}", bobs_look.body);
    assert_eq!(
        bobs_look.body["detail"],
        format!("order {id} does not exist"),
        "reads exactly as a missing order"
    );

    // Listing.
    let count = |r: &Answer| r.body.as_array().map(Vec::len);
    assert_eq!(count(&list(&as_alice, "").await), Some(1), "no user_id: their own");
    assert_eq!(count(&list(&as_alice, &format!("?user_id={alice}")).await), Some(1));
    assert_eq!(count(&list(&as_bob, "").await), Some(0));
    assert_eq!(list(&as_bob, &format!("?user_id={alice}")).await.status, 403);
    assert_eq!(count(&list(&as_admin, &format!("?user_id={alice}")).await), Some(1));
    assert_eq!(list(&as_admin, "").await.status, 422, "an admin names the user");
}

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

#[tokio::test]
async fn the_api_does_not_start_without_a_secret() {
    for auth in [AuthArgs::default(), AuthArgs::with_secret("too-short")] {
        let stores = service_kit::stores::Stores {
            database_url: testing::admin_database_url(),
            pool: service_kit::stores::PoolArgs {
                max_connections: 1,
                acquire_timeout: Duration::from_secs(5),
            },
            redis_url: testing::redis_url(),
            redis_prefix: testing::redis_prefix(),
        };
        let config = order_service::Config {
            auth,
            ..orders_config("http://127.0.0.1:1", "http://127.0.0.1:1", stores, test_reconciler())
        };
        let Err(e) = order_service::build(config).await else {
            panic!("started without a usable secret");
        };
        assert!(format!("{e:#}").contains("secret"), "{e:#}");
    }
}
