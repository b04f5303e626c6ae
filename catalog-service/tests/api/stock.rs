//! Reserve and release: atomic, never below zero, idempotent per (order, product).

use serde_json::Value;
use service_kit::testing::problem_of;
use uuid::Uuid;

use crate::helpers::spawn_app;

#[tokio::test]
async fn fifty_concurrent_reservations_of_stock_ten_take_exactly_ten() {
    // Arrange
    let app = spawn_app().await;
    let id = app.product("HOT", 100, 10).await;

    // Act
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (client, url) = (app.service.clone(), app.url(&format!("/products/{id}/reserve")));
            let body = serde_json::json!({"order_id": Uuid::new_v4(), "quantity": 1});
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }

    // Assert
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 40, "{statuses:?}");
    assert_eq!(app.stock(id).await, 0);
}

#[tokio::test]
async fn a_retried_reserve_takes_stock_once() {
    let app = spawn_app().await;
    let id = app.product("R", 250, 5).await;
    let order = Uuid::new_v4();
    assert_eq!(app.reserve(id, order, 2).await.status(), 201);
    let again = app.reserve(id, order, 2).await;
    assert_eq!(again.status(), 200);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["unit_price_cents"], 250);
    assert_eq!(app.stock(id).await, 3);
    // The same order asking for a different quantity is a conflict, not a second take.
    assert_eq!(problem_of(app.reserve(id, order, 3).await).await.0, 409);
    assert_eq!(app.stock(id).await, 3);
}

#[tokio::test]
async fn release_gives_back_exactly_what_the_order_holds_once() {
    let app = spawn_app().await;
    let id = app.product("REL", 100, 10).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    app.reserve(id, a, 3).await;
    app.reserve(id, b, 4).await;
    let first: Value = app.release(id, a).await.json().await.unwrap();
    assert_eq!(first["returned"], 3);
    let second: Value = app.release(id, a).await.json().await.unwrap();
    assert_eq!(second["returned"], 0);
    assert_eq!(app.stock(id).await, 6, "b still holds 4");
}

#[tokio::test]
async fn a_reserve_arriving_after_its_release_is_refused() {
    let app = spawn_app().await;
    let id = app.product("LATE", 100, 5).await;
    let order = Uuid::new_v4();
    let released: Value = app.release(id, order).await.json().await.unwrap();
    assert_eq!(released["returned"], 0);
    assert_eq!(problem_of(app.reserve(id, order, 1).await).await.0, 409);
    assert_eq!(app.stock(id).await, 5);
}

#[tokio::test]
async fn bad_reservations_get_problems_and_take_nothing() {
    let app = spawn_app().await;
    let id = app.product("BAD", 100, 5).await;
    for q in [0, -1, 10_001] {
        assert_eq!(
            problem_of(app.reserve(id, Uuid::new_v4(), q).await).await.0,
            422,
            "quantity {q}"
        );
    }
    assert_eq!(
        problem_of(app.reserve(Uuid::new_v4(), Uuid::new_v4(), 1).await).await.0,
        404
    );
    assert_eq!(
        problem_of(app.release(Uuid::new_v4(), Uuid::new_v4()).await).await.0,
        404
    );
    let short = problem_of(app.reserve(id, Uuid::new_v4(), 6).await).await;
    assert_eq!(short.0, 409);
    assert!(
        short.1["detail"].as_str().unwrap().contains(&id.to_string()),
        "names the product: {}",
        short.1
    );
    let resp = app
        .service
        .post(app.url(&format!("/products/{id}/reserve")))
        .header("content-type", "application/json")
        .body(r#"{"order_id": "nope", "quantity": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(resp).await.0, 422);
    assert_eq!(app.stock(id).await, 5);
}

#[tokio::test]
async fn a_release_that_meets_a_reserve_in_flight_gives_its_stock_back() {
    // Arrange: a reserve of 3 that has taken the stock but not committed yet, as an
    // order's reserve does while its release (the order gave up) arrives.
    let app = spawn_app().await;
    let id = app.product("RACE", 100, 10).await;
    let order = Uuid::new_v4();
    let db = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let mut reserve = db.begin().await.unwrap();
    sqlx::query("UPDATE products SET stock = stock - 3 WHERE id = $1")
        .bind(id)
        .execute(&mut *reserve)
        .await
        .unwrap();
    sqlx::query("INSERT INTO reservations (order_id, product_id, quantity, unit_price_cents) VALUES ($1, $2, 3, 100)")
        .bind(order)
        .bind(id)
        .execute(&mut *reserve)
        .await
        .unwrap();

    // Act: the release starts, waits on the reserve's row, and the reserve commits.
    let release = tokio::spawn({
        let db = db.clone();
        async move { catalog_service::db::release(&db, id, order).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!release.is_finished(), "the release did not wait for the reserve");
    reserve.commit().await.unwrap();
    let released = release.await.unwrap().unwrap();

    // Assert: what the reserve took came back, and the reservation is released.
    assert_eq!(released.returned, 3);
    let stock: i64 = sqlx::query_scalar("SELECT stock::bigint FROM products WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stock, 10);
    assert_eq!(
        app.release(id, order).await.status(),
        200,
        "a second release is a no-op"
    );
}
