//! `Idempotency-Key`: the same key gives the same order and reserves once.

use serde_json::Value;
use service_kit::testing::problem_of;

use crate::helpers::{Platform, id_of};

#[tokio::test]
async fn a_repeated_key_returns_the_same_order_and_reserves_once() {
    // Arrange
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let send = || {
        p.order_request(user, &[(product, 2)])
            .header("idempotency-key", "checkout-77")
            .send()
    };

    // Act
    let first = send().await.unwrap();
    let second = send().await.unwrap();

    // Assert
    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let (a, b): (Value, Value) = (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(id_of(&a), id_of(&b));
    assert_eq!(p.stock(product).await, 8);
    assert_eq!(p.order_count().await, 1);
}

#[tokio::test]
async fn concurrent_duplicates_create_one_order() {
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let send = || {
        p.order_request(user, &[(product, 1)])
            .header("idempotency-key", "double-click")
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201]);
    assert_eq!(p.order_count().await, 1);
    assert_eq!(p.stock(product).await, 9);
}

#[tokio::test]
async fn a_key_reused_for_another_order_is_refused() {
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let first = p
        .order_request(user, &[(product, 1)])
        .header("idempotency-key", "k1")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let other = p
        .order_request(user, &[(product, 5)])
        .header("idempotency-key", "k1")
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(other).await.0, 422);
    assert_eq!(p.stock(product).await, 9);
}

#[tokio::test]
async fn a_failed_request_answers_the_same_under_its_key_and_reserves_nothing_later() {
    // Arrange: too little stock for the first attempt.
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 1).await;
    let send = || {
        p.order_request(user, &[(product, 2)])
            .header("idempotency-key", "retry-me")
            .send()
    };
    let first = send().await.unwrap();
    let location = first.headers()["location"].clone();
    assert_eq!(problem_of(first).await.0, 409);

    // Act: stock arrives, the client retries with the same key.
    let restock = serde_json::json!({"stock": 5});
    p.admin
        .patch(format!("{}/products/{product}", p.catalog))
        .json(&restock)
        .send()
        .await
        .unwrap();
    let again = send().await.unwrap();

    // Assert: the same (failed) order, no second one, nothing reserved.
    assert_eq!(again.headers()["location"], location);
    assert_eq!(problem_of(again).await.0, 409);
    assert_eq!(p.order_count().await, 1);
    assert_eq!(p.stock(product).await, 5);
}
