//! Who may do what with orders (issue 12): a customer for themselves, an admin for
//! anyone, a service token never; no, expired or forged tokens are 401; and the API
//! does not start without a secret. What the service sends on is in `credentials`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use service_kit::auth::{AuthArgs, Role};
use service_kit::testing::{self, admin_bearer, bearer, problem_of};

use crate::helpers::{Platform, id_of, orders_config, test_reconciler};
use crate::tokens::{customer, expired_bearer, forged_bearer};

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
    for open in ["/health", "/ready", "/metrics", "/openapi.json"] {
        let got = p.client.get(format!("{}{open}", p.orders)).send().await.unwrap();
        assert_eq!(got.status(), 200, "{open} needs no token");
    }
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
