//! The order journey across the three services, stock under contention, and bad input.

use std::time::Duration;

use serde_json::Value;
use service_kit::testing::problem_of;
use uuid::Uuid;

use crate::helpers::{Platform, id_of};
use crate::tokens::customer;

#[tokio::test]
async fn an_order_reserves_stock_is_priced_stored_queued_and_completed() {
    // Arrange
    let p = Platform::start().await;
    let user = p.user().await;
    let (mug, tea) = (p.product(1250, 10).await, p.product(399, 5).await);
    let worker = p.worker(1_000, Duration::from_secs(30));

    // Act
    let resp = p
        .order_request(user, &[(mug, 2), (tea, 1)])
        .header("x-request-id", "journey-1")
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-request-id"], "journey-1");
    let order: Value = resp.json().await.unwrap();
    assert_eq!(order["total_cents"], 2 * 1250 + 399);
    // The answer is the order as it is by then: a quick worker may have finished it.
    assert!(
        matches!(order["status"].as_str(), Some("pending" | "completed")),
        "{order}"
    );
    assert_eq!((p.stock(mug).await, p.stock(tea).await), (8, 4));
    let id = id_of(&order);
    p.wait_for_status(id, "completed", Duration::from_secs(10)).await;
    let read: Value = p
        .client
        .get(format!("{}/orders/{id}", p.orders))
        .header("authorization", customer(user))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "completed");
    assert_eq!(read["items"].as_array().map(Vec::len), Some(2));
    let mine: Value = p
        .client
        .get(format!("{}/orders?user_id={user}", p.orders))
        .header("authorization", customer(user))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    worker.abort();
}

#[tokio::test]
async fn fifty_concurrent_orders_for_stock_ten_sell_exactly_ten() {
    let p = Platform::start().await;
    let user = p.user().await;
    let hot = p.product(100, 10).await;
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let req = p.order_request(user, &[(hot, 1)]);
            tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 40, "{statuses:?}");
    assert_eq!(p.stock(hot).await, 0);
    assert_eq!(p.live_order_count().await, 10);
    assert_eq!(p.order_count().await, 50, "each refused order is stored, failed");
}

#[tokio::test]
async fn an_order_whose_second_item_is_short_holds_no_stock() {
    let p = Platform::start().await;
    let user = p.user().await;
    let (plenty, scarce) = (p.product(100, 10).await, p.product(100, 1).await);
    let resp = p.order_request(user, &[(plenty, 3), (scarce, 2)]).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (status, body) = problem_of(resp).await;
    assert_eq!(status, 409);
    assert!(
        body["detail"].as_str().unwrap().contains(&scarce.to_string()),
        "names the product: {body}"
    );
    assert!(body["errors"]["items[1].product_id"].is_string(), "{body}");
    assert_eq!((p.stock(plenty).await, p.stock(scarce).await), (10, 1));
    assert_eq!(p.live_order_count().await, 0);
    // The refused order is stored, failed, holding nothing.
    let id: Uuid = location.trim_start_matches("/orders/").parse().unwrap();
    let order = p.order(id).await;
    assert_eq!(order["status"], "failed");
    assert_eq!(order["failure_kind"], "out_of_stock");
    assert!(
        order["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["state"] == "released"),
        "{order}"
    );
}

#[tokio::test]
async fn bad_input_gets_the_documented_problem_and_creates_nothing() {
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let raw = |body: String| {
        p.client
            .post(format!("{}/orders", p.orders))
            .header("authorization", customer(user))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases = [
        ("{oops".to_owned(), 400),
        (format!(r#"{{"user_id": "{user}", "items": "many"}}"#), 422),
        (r#"{"user_id": 7, "items": []}"#.to_owned(), 422),
        (format!(r#"{{"user_id": "{user}", "items": []}}"#), 422),
        (
            format!(r#"{{"user_id": "{user}", "items": [{{"product_id": "{product}", "quantity": 0}}]}}"#),
            422,
        ),
        (
            format!(r#"{{"user_id": "{user}", "items": [{{"product_id": "{product}", "quantity": -3}}]}}"#),
            422,
        ),
        (
            format!(
                r#"{{"user_id": "{user}", "items": [{{"product_id": "{}", "quantity": 1}}]}}"#,
                Uuid::new_v4()
            ),
            422,
        ),
        (
            format!(
                r#"{{"user_id": "{user}", "pad": "{}", "items": []}}"#,
                "x".repeat(100_000)
            ),
            413,
        ),
    ];
    for (body, want) in cases {
        let shown = body.chars().take(120).collect::<String>();
        let (status, problem) = problem_of(raw(body).await.unwrap()).await;
        assert_eq!(status, want, "{shown} -> {problem}");
    }
    // A user that user-service does not know (a token outliving its account).
    let ghost = Uuid::new_v4();
    let unknown = p
        .client
        .post(format!("{}/orders", p.orders))
        .header("authorization", customer(ghost))
        .json(&serde_json::json!({"user_id": ghost, "items": [{"product_id": product, "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    let (status, problem) = problem_of(unknown).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem["errors"]["user_id"].is_string(), "{problem}");
    let (status, _) = problem_of(
        p.admin
            .get(format!("{}/orders/{}", p.orders, Uuid::new_v4()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    // Only the unknown product got as far as a stored (failed) order.
    assert_eq!(p.live_order_count().await, 0);
    assert_eq!(p.order_count().await, 1);
    assert_eq!(p.stock(product).await, 10);
}

#[tokio::test]
async fn metrics_carry_the_order_series_with_a_service_label() {
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let worker = p.worker(1_000, Duration::from_secs(30));
    let order: Value = p
        .order_request(user, &[(product, 1)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    p.wait_for_status(id_of(&order), "completed", Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await; // the depth gauge refreshes every second
    let text = p
        .client
        .get(format!("{}/metrics", p.orders))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "orders_created_total{service=\"order-service\"}",
        "orders_processed_total{service=\"order-worker\",result=\"completed\"}",
        "order_queue_depth{service=\"order-worker\"}",
        "order_processing_seconds_bucket{service=\"order-worker\"",
        "http_requests_total{service=\"order-service\",method=\"POST\",route=\"/orders\",status=\"201\"}",
        "process_cpu_seconds_total{service=\"order-service\"}",
    ] {
        assert!(text.contains(series), "missing {series}");
    }
    worker.abort();
}
