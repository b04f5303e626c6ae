//! The order saga and its reconciler (issue 11): whatever stops an order midway (a
//! client gone, a crash, a queue lost, a worker giving up), the platform settles it by
//! itself, with stock held only by orders `pending` or `completed`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redis::AsyncCommands as _;
use serde_json::Value;
use service_kit::testing::problem_of;
use uuid::Uuid;

use crate::helpers::{Platform, id_of, serve_orders, start_orders, test_reconciler};

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
    let body: Bytes = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
    let resp = proxy
        .client
        .request(method, format!("{}{path}", proxy.target))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
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

/// Stores an order as a saga leaves it when its process dies: `reserving`, last
/// touched an hour ago, with lines `(product, quantity, state, unit price)`.
async fn crashed_order(p: &Platform, user: Uuid, lines: &[(Uuid, i32, &str, Option<i64>)]) -> Uuid {
    order_in_saga(p, user, lines, 3600.0).await
}

/// `crashed_order`, last touched `idle_secs` ago (0: a saga still running, as far as
/// the reconciler can tell).
async fn order_in_saga(p: &Platform, user: Uuid, lines: &[(Uuid, i32, &str, Option<i64>)], idle_secs: f64) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, total_cents, created_at, updated_at)
         VALUES ($1, $2, 'reserving', 0, now() - make_interval(secs => $3), now() - make_interval(secs => $3))",
    )
    .bind(id)
    .bind(user)
    .bind(idle_secs)
    .execute(&p.db)
    .await
    .unwrap();
    for (no, (product, quantity, state, price)) in lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_items (order_id, product_id, quantity, line_no, state, unit_price_cents)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(product)
        .bind(quantity)
        .bind(i32::try_from(no).unwrap())
        .bind(state)
        .bind(price)
        .execute(&p.db)
        .await
        .unwrap();
    }
    id
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
    let (orders, stores) = start_orders(&p.users, &slow, &p.stores.redis_url).await;
    let db = sqlx::PgPool::connect(&stores.database_url).await.unwrap();
    let items: Vec<Value> = products
        .iter()
        .map(|id| serde_json::json!({"product_id": id, "quantity": 3}))
        .collect();
    let body = serde_json::json!({"user_id": user, "items": items});
    let send = |timeout: Duration| {
        p.client
            .post(format!("{orders}/orders"))
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
async fn a_crashed_saga_with_some_lines_reserved_is_released_and_failed() {
    // Arrange: a saga that reserved two lines (the second never recorded) and died.
    let p = Platform::start().await;
    let user = p.user().await;
    let (a, b, c) = (
        p.product(100, 10).await,
        p.product(100, 10).await,
        p.product(100, 10).await,
    );
    let id = crashed_order(
        &p,
        user,
        &[
            (a, 2, "reserved", Some(100)),
            (b, 3, "to_reserve", None),
            (c, 1, "to_reserve", None),
        ],
    )
    .await;
    p.reserve_at_catalog(a, id, 2).await;
    p.reserve_at_catalog(b, id, 3).await;
    assert_eq!((p.stock(a).await, p.stock(b).await), (8, 7));

    // Act: the reconciler of the running service passes every 200 ms.
    p.wait_for_status(id, "failed", Duration::from_secs(10)).await;

    // Assert
    p.eventually("stock released", Duration::from_secs(10), || async {
        sqlx::query_scalar::<_, bool>("SELECT stock_released_at IS NOT NULL FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(&p.db)
            .await
            .unwrap()
    })
    .await;
    assert_eq!((p.stock(a).await, p.stock(b).await, p.stock(c).await), (10, 10, 10));
    let order = p.order(id).await;
    assert_eq!(order["failure_kind"], "interrupted");
    assert!(
        order["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["state"] == "released"),
        "{order}"
    );
    // A later reserve of a released line is refused by the catalog: nothing is taken again.
    let late = p
        .client
        .post(format!("{}/products/{c}/reserve", p.catalog))
        .json(&serde_json::json!({"order_id": id, "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 409);
    assert_eq!(p.stock(c).await, 10);
    p.eventually("counted", Duration::from_secs(5), || async {
        p.metrics()
            .await
            .contains(r#"orders_reconciled_total{service="order-service",action="compensated"}"#)
    })
    .await;
}

#[tokio::test]
async fn a_crashed_saga_with_every_line_reserved_is_queued_and_completed() {
    // Arrange
    let p = Platform::start().await;
    let user = p.user().await;
    let (a, b) = (p.product(250, 10).await, p.product(100, 10).await);
    let id = crashed_order(
        &p,
        user,
        &[(a, 2, "reserved", Some(250)), (b, 1, "reserved", Some(100))],
    )
    .await;
    p.reserve_at_catalog(a, id, 2).await;
    p.reserve_at_catalog(b, id, 1).await;
    let worker = p.worker(1_000, 30);

    // Act + Assert
    p.wait_for_status(id, "completed", Duration::from_secs(15)).await;
    assert_eq!(p.order(id).await["total_cents"], 2 * 250 + 100);
    assert_eq!((p.stock(a).await, p.stock(b).await), (8, 9));
    p.eventually("counted", Duration::from_secs(5), || async {
        p.metrics()
            .await
            .contains(r#"orders_reconciled_total{service="order-service",action="resumed"}"#)
    })
    .await;
    worker.abort();
}

#[tokio::test]
async fn a_pending_order_whose_queue_entry_was_flushed_is_requeued_and_completed() {
    // Arrange: an order on the queue, no worker yet.
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let resp = p.order_request(user, &[(product, 1)]).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let id = id_of(&resp.json().await.unwrap());

    // Act: Redis forgets the queue.
    p.flush_queue().await;

    // Assert: the reconciler puts it back, and a worker completes it.
    let mut redis = redis::Client::open(p.stores.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let queue = format!("{}orders:queue", p.stores.redis_prefix);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while redis.llen::<_, u64>(&queue).await.unwrap() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never requeued");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let worker = p.worker(1_000, 30);
    p.wait_for_status(id, "completed", Duration::from_secs(15)).await;
    assert_eq!(p.stock(product).await, 9);
    p.eventually("counted", Duration::from_secs(5), || async {
        p.metrics()
            .await
            .contains(r#"orders_reconciled_total{service="order-service",action="requeued"}"#)
    })
    .await;
    worker.abort();
}

#[tokio::test]
async fn an_order_the_worker_gives_up_on_releases_its_stock_once() {
    // Arrange: a worker that gives every order up at its first take.
    let p = Platform::start().await;
    let user = p.user().await;
    let (a, b) = (p.product(100, 10).await, p.product(100, 10).await);
    let resp = p.order_request(user, &[(a, 4), (b, 1)]).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let id = id_of(&resp.json().await.unwrap());
    assert_eq!((p.stock(a).await, p.stock(b).await), (6, 9));

    // Act
    let worker = p.worker_with(1_000, 30, 0);
    p.wait_for_status(id, "failed", Duration::from_secs(10)).await;

    // Assert: released by the reconciler, once, however many passes follow.
    p.eventually("stock given back", Duration::from_secs(10), || async {
        p.stock(a).await == 10 && p.stock(b).await == 10
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!((p.stock(a).await, p.stock(b).await), (10, 10));
    let order = p.order(id).await;
    assert_eq!(order["failure_kind"], "attempts");
    p.eventually("counted", Duration::from_secs(5), || async {
        let text = p.metrics().await;
        text.contains(r#"orders_reconciled_total{service="order-service",action="released"}"#)
            && text.contains(r#"order_reservations_released_total{service="order-service"}"#)
    })
    .await;
    worker.abort();
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
async fn three_replicas_compensate_each_crashed_saga_once() {
    // Arrange: 30 sagas, each holding 1 unit of one product at the catalog, that
    // look alive; three replicas, each with its reconciler.
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 100).await;
    for _ in 0..30 {
        let id = order_in_saga(&p, user, &[(product, 1, "to_reserve", None)], 0.0).await;
        p.reserve_at_catalog(product, id, 1).await;
    }
    assert_eq!(p.stock(product).await, 70);
    for _ in 0..2 {
        serve_orders(&p.users, &p.catalog, p.stores.clone(), test_reconciler()).await;
    }

    // Act: every saga dies at once, so that the three reconcilers race for them.
    sqlx::query("UPDATE orders SET updated_at = now() - interval '1 hour'")
        .execute(&p.db)
        .await
        .unwrap();

    // Assert: every one failed and released, each taken by exactly one replica.
    p.eventually("all released", Duration::from_secs(20), || async {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE stock_released_at IS NULL")
            .fetch_one(&p.db)
            .await
            .unwrap();
        left == 0
    })
    .await;
    assert_eq!(p.stock(product).await, 100);
    p.eventually("counted", Duration::from_secs(5), || async {
        // The three replicas share this process's metrics recorder: one count per order.
        p.metrics()
            .await
            .contains("orders_reconciled_total{service=\"order-service\",action=\"compensated\"} 30\n")
    })
    .await;
}
