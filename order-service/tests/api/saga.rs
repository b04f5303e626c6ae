//! The order saga as a request sees it (issue 11): a client that goes away midway does
//! not stop it, its key returns the same order, and input that would overflow a total
//! or carry a NUL byte is a 422 naming its field.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use service_kit::testing::problem_of;
use uuid::Uuid;

use crate::helpers::{Platform, id_of, serve_orders, start_orders, test_reconciler};
use crate::tokens::customer;

/// Forwards to the real catalog, each reserve `delay` late: a saga slow enough to be
/// cut by the client midway.
#[derive(Clone)]
struct SlowCatalog {
    target: String,
    delay: Duration,
    client: reqwest::Client,
}

async fn forward(State(proxy): State<SlowCatalog>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if path.ends_with("/reserve") {
        tokio::time::sleep(proxy.delay).await;
    }
    let method = req.method().clone();
    let authorization = req.headers().get("authorization").cloned();
    let body: Bytes = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
    let mut forwarded = proxy
        .client
        .request(method, format!("{}{path}", proxy.target))
        .header("content-type", "application/json");
    if let Some(a) = authorization {
        forwarded = forwarded.header("authorization", a);
    }
    let resp = forwarded.body(body).send().await.unwrap();
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    let body = resp.bytes().await.unwrap();
    (status, [("content-type", "application/json")], body).into_response()
}

async fn slow_catalog(target: &str, delay: Duration) -> String {
    let proxy = SlowCatalog {
        target: target.to_owned(),
        delay,
        client: reqwest::Client::new(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_request_cut_mid_saga_settles_by_itself_and_its_key_returns_the_same_order() {
    // Arrange: 20 lines at 100 ms a reserve is a saga of about two seconds.
    let p = Platform::start().await;
    let user = p.user().await;
    let mut products = Vec::new();
    for _ in 0..20 {
        products.push(p.product(100, 10).await);
    }
    let slow = slow_catalog(&p.catalog, Duration::from_millis(100)).await;
    let (orders, stores, _orders_db) = start_orders(&p.users, &slow, &p.stores.redis_url).await;
    let db = sqlx::PgPool::connect(&stores.database_url).await.unwrap();
    let items: Vec<Value> = products
        .iter()
        .map(|id| serde_json::json!({"product_id": id, "quantity": 3}))
        .collect();
    let body = serde_json::json!({"user_id": user, "items": items});
    let send = |timeout: Duration| {
        p.client
            .post(format!("{orders}/orders"))
            .header("authorization", customer(user))
            .header("idempotency-key", "cut-short")
            .timeout(timeout)
            .json(&body)
            .send()
    };

    // Act: the client gives up a few lines in.
    let cut = send(Duration::from_millis(500)).await;
    assert!(cut.is_err_and(|e| e.is_timeout()), "the client timed out");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let status_now = loop {
        let now: Option<String> = sqlx::query_scalar("SELECT status FROM orders")
            .fetch_optional(&db)
            .await
            .unwrap();
        match now {
            Some(status) => break status,
            None if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            None => panic!("the order was never stored"),
        }
    };
    assert_eq!(status_now, "reserving", "cut mid-saga");

    // Assert: the saga finishes on its own; the key gives back that order, reserved once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM orders")
            .fetch_one(&db)
            .await
            .unwrap();
        if status != "reserving" {
            assert_eq!(status, "pending");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the saga never settled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // a few reconciler passes
    for product in &products {
        assert_eq!(p.stock(*product).await, 7, "each line reserved exactly once");
    }
    let replay = send(Duration::from_secs(20)).await.unwrap();
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let order: Value = replay.json().await.unwrap();
    let stored: Uuid = sqlx::query_scalar("SELECT id FROM orders")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(id_of(&order), stored);
    assert_eq!(order["total_cents"], 20 * 3 * 100);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn an_overflowing_total_is_a_422_naming_the_field_and_holds_no_stock() {
    // Arrange: the catalog's highest price.
    let p = Platform::start().await;
    let user = p.user().await;
    let (dear, dearer, cheap) = (
        p.product(i64::MAX / 2, 10).await,
        p.product(i64::MAX / 2, 10).await,
        p.product(100, 10).await,
    );

    // Act
    let line = p.order_request(user, &[(cheap, 1), (dear, 3)]).send().await.unwrap();
    let location = line.headers().get("location").cloned();
    let (line_status, line_body) = problem_of(line).await;
    let (sum_status, sum_body) = problem_of(
        p.order_request(user, &[(dear, 1), (dearer, 1), (cheap, 1)])
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Assert
    assert_eq!(line_status, 422, "{line_body}");
    assert!(line_body["errors"]["items[1].quantity"].is_string(), "{line_body}");
    assert_eq!(sum_status, 422, "{sum_body}");
    assert!(sum_body["errors"]["items"].is_string(), "{sum_body}");
    assert!(location.is_some(), "the failed order is named");
    for product in [dear, dearer, cheap] {
        assert_eq!(p.stock(product).await, 10);
    }
    assert_eq!(p.live_order_count().await, 0);
}

#[tokio::test]
async fn nul_bytes_and_out_of_range_numbers_are_a_422_naming_the_field() {
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let cases = [
        (
            format!(r#"{{"user_id": "{user}\u0000", "items": [{{"product_id": "{product}", "quantity": 1}}]}}"#),
            "user_id",
        ),
        (
            format!(r#"{{"user_id": "{user}", "items": [{{"product_id": "\u0000{product}", "quantity": 1}}]}}"#),
            "items[0].product_id",
        ),
        (
            format!(
                r#"{{"user_id": "{user}", "items": [{{"product_id": "{product}", "quantity": 99999999999999999999}}]}}"#
            ),
            "items[0].quantity",
        ),
        (
            format!(r#"{{"user_id": "{user}", "items": [{{"product_id": "{product}", "quantity": 2147483648}}]}}"#),
            "items[0].quantity",
        ),
    ];
    for (body, field) in cases {
        let resp = p
            .client
            .post(format!("{}/orders", p.orders))
            .header("authorization", customer(user))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (status, problem) = problem_of(resp).await;
        assert_eq!(status, 422, "{body} -> {problem}");
        assert!(problem["errors"][field].is_string(), "{body} -> {problem}");
    }
    assert_eq!(p.order_count().await, 0);
    assert_eq!(p.stock(product).await, 10);
}

#[tokio::test]
async fn orders_cut_at_50_ms_leave_exactly_the_stock_their_live_orders_hold() {
    // Arrange: issue 11's reproduction, five orders of 50 lines over 50 products of 10.
    let p = Platform::start().await;
    let user = p.user().await;
    let mut products = Vec::new();
    for _ in 0..50 {
        products.push(p.product(100, 10).await);
    }
    let lines: Vec<(Uuid, i64)> = products.iter().map(|id| (*id, 1)).collect();

    // Act: every client gives up after 50 ms.
    let sends: Vec<_> = (0..5)
        .map(|n| {
            let req = p
                .order_request(user, &lines)
                .header("idempotency-key", format!("cut-{n}"))
                .timeout(Duration::from_millis(50));
            tokio::spawn(req.send())
        })
        .collect();
    for sent in sends {
        let _ = sent.await.unwrap();
    }

    // Assert: once settled, the catalog holds back exactly what live orders hold.
    p.eventually("every saga settled", Duration::from_secs(30), || async {
        let reserving: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'reserving'")
            .fetch_one(&p.db)
            .await
            .unwrap();
        reserving == 0
    })
    .await;
    // Reconciler passes release what failed orders still hold; on a loaded machine a
    // pass can take a while, so wait for the books to balance rather than a fixed time.
    let stock_and_held = |product: Uuid| {
        let p = &p;
        async move {
            let held: i64 = sqlx::query_scalar(
                "SELECT coalesce(sum(i.quantity), 0)::bigint FROM order_items i JOIN orders o ON o.id = i.order_id
                 WHERE i.product_id = $1 AND o.status IN ('pending', 'completed')",
            )
            .bind(product)
            .fetch_one(&p.db)
            .await
            .unwrap();
            (p.stock(product).await, held)
        }
    };
    p.eventually(
        "stock + held = 10 for every product",
        Duration::from_secs(30),
        || async {
            for product in &products {
                let (stock, held) = stock_and_held(*product).await;
                if stock + held != 10 {
                    return false;
                }
            }
            true
        },
    )
    .await;
    // And each key, asked again, answers with the order it stored, if any.
    for n in 0..5 {
        let key = format!("cut-{n}");
        let stored: Option<Uuid> = sqlx::query_scalar("SELECT order_id FROM idempotency_keys WHERE key = $1")
            .bind(&key)
            .fetch_optional(&p.db)
            .await
            .unwrap();
        let again = p
            .order_request(user, &lines)
            .header("idempotency-key", &key)
            .send()
            .await
            .unwrap();
        if let Some(stored) = stored {
            let location = again.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
            let body: Value = again.json().await.unwrap();
            let answered = location.unwrap_or_else(|| format!("/orders/{}", id_of(&body)));
            assert_eq!(answered, format!("/orders/{stored}"), "key {key}: {body}");
        }
    }
}

#[tokio::test]
async fn a_saga_and_a_reconciler_racing_for_one_order_leave_no_stock_unaccounted() {
    // Arrange: a reconciler that takes any saga idle for 30 ms, against a saga whose
    // reserves take 100 ms each: it takes the live saga midway.
    let p = Platform::start().await;
    let user = p.user().await;
    let mut products = Vec::new();
    for _ in 0..8 {
        products.push(p.product(100, 10).await);
    }
    let slow = slow_catalog(&p.catalog, Duration::from_millis(100)).await;
    let orders_db = service_kit::testing::TestDatabase::create("orders").await;
    let stores = order_service::config::Stores {
        database_url: orders_db.url.clone(),
        ..p.stores.clone()
    };
    let mut eager = test_reconciler();
    eager.reconcile_stuck_after = Duration::from_millis(30);
    eager.reconcile_interval = Duration::from_millis(50);
    let orders = serve_orders(&p.users, &slow, stores.clone(), eager).await;
    let db = sqlx::PgPool::connect(&stores.database_url).await.unwrap();
    let items: Vec<Value> = products
        .iter()
        .map(|id| serde_json::json!({"product_id": id, "quantity": 2}))
        .collect();

    // Act
    let resp = p
        .client
        .post(format!("{orders}/orders"))
        .header("authorization", customer(user))
        .json(&serde_json::json!({"user_id": user, "items": items}))
        .send()
        .await
        .unwrap();

    // Assert: whoever won, the order is settled and the catalog agrees with it.
    let status = resp.status().as_u16();
    assert!([201, 503].contains(&status), "answered {status}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (order_status, released): (String, bool) =
        sqlx::query_as("SELECT status, stock_released_at IS NOT NULL FROM orders")
            .fetch_one(&db)
            .await
            .unwrap();
    let held = if order_status == "failed" {
        assert!(released, "a failed order's stock is given back");
        0
    } else {
        assert_eq!(order_status, "pending");
        2
    };
    for product in &products {
        assert_eq!(
            p.stock(*product).await,
            10 - held,
            "{order_status} order, product {product}"
        );
    }
}
