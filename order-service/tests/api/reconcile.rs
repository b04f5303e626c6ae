//! The reconciler (issue 11): whatever stops an order midway (a crash mid-saga, a
//! queue that forgets, a worker that gives up), the platform settles it by itself,
//! with stock held only by orders `pending` or `completed`, and replicas share the work.

use std::time::Duration;

use redis::AsyncCommands as _;
use uuid::Uuid;

use crate::helpers::{Platform, id_of, serve_orders, test_reconciler};

/// Stores an order as a saga leaves it when its process dies: `reserving` with lines
/// `(product, quantity, state, unit price)`, what it `held` reserved at the catalog,
/// and then (so that no reconciler pass sees it half made) last touched an hour ago.
async fn crashed_order(
    p: &Platform,
    user: Uuid,
    lines: &[(Uuid, i32, &str, Option<i64>)],
    held: &[(Uuid, i32)],
) -> Uuid {
    let id = order_in_saga(p, user, lines, 0.0).await;
    for (product, quantity) in held {
        p.reserve_at_catalog(*product, id, *quantity).await;
    }
    sqlx::query("UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id = $1")
        .bind(id)
        .execute(&p.db)
        .await
        .unwrap();
    id
}

/// `crashed_order`, last touched `idle_secs` ago (0: a saga still running, as far as
/// the reconciler can tell).
async fn order_in_saga(p: &Platform, user: Uuid, lines: &[(Uuid, i32, &str, Option<i64>)], idle_secs: f64) -> Uuid {
    let id = Uuid::new_v4();
    // One transaction, as the service stores an order: a reconciler pass must never see
    // the order without all its lines.
    let mut tx = p.db.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, total_cents, created_at, updated_at)
         VALUES ($1, $2, 'reserving', 0, now() - make_interval(secs => $3), now() - make_interval(secs => $3))",
    )
    .bind(id)
    .bind(user)
    .bind(idle_secs)
    .execute(&mut *tx)
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
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    id
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
        &[(a, 2), (b, 3)],
    )
    .await;

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
        .header(
            "authorization",
            service_kit::testing::bearer("order-service", service_kit::auth::Role::Service),
        )
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
        &[(a, 2), (b, 1)],
    )
    .await;
    let worker = p.worker(1_000, Duration::from_secs(30));

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
    let worker = p.worker(1_000, Duration::from_secs(30));
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
    let worker = p.worker_with(1_000, Duration::from_secs(30), 0);
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
