//! Product CRUD, listing, validation and the cache.

use serde_json::{Value, json};
use service_kit::testing::problem_of;

use crate::helpers::spawn_app;

#[tokio::test]
async fn create_read_update_delete() {
    // Arrange
    let app = spawn_app().await;
    let id = app.product("MUG-1", 1299, 5).await;

    // Act
    let patched = app
        .admin
        .patch(app.url(&format!("/products/{id}")))
        .json(&json!({"price_cents": 999}))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(patched.status(), 200);
    let read: Value = app
        .client
        .get(app.url(&format!("/products/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (read["price_cents"].as_i64(), read["sku"].as_str()),
        (Some(999), Some("MUG-1"))
    );
    assert_eq!(
        app.admin
            .delete(app.url(&format!("/products/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let (status, _) = problem_of(
        app.client
            .get(app.url(&format!("/products/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn list_filters_by_category() {
    let app = spawn_app().await;
    app.product("A-1", 100, 1).await;
    let body = json!({"sku": "B-1", "name": "b", "category": "garden", "price_cents": 5, "stock": 1});
    app.admin.post(app.url("/products")).json(&body).send().await.unwrap();
    let page: Value = app
        .client
        .get(app.url("/products?category=garden"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let skus: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].clone())
        .collect();
    assert_eq!(skus, vec![json!("B-1")]);
}

#[tokio::test]
async fn duplicate_sku_is_a_conflict_and_bad_input_is_rejected() {
    let app = spawn_app().await;
    app.product("DUP", 100, 1).await;
    let dup = json!({"sku": "DUP", "name": "x", "category": "c", "price_cents": 1});
    let (status, _) = problem_of(app.admin.post(app.url("/products")).json(&dup).send().await.unwrap()).await;
    assert_eq!(status, 409);
    for (body, want) in [
        (
            json!({"sku": "N", "name": "x", "category": "c", "price_cents": -1}),
            422,
        ),
        (
            json!({"sku": "N", "name": "x", "category": "c", "price_cents": 1, "stock": -3}),
            422,
        ),
        (
            json!({"sku": "N", "name": "x", "category": "c", "price_cents": "cheap"}),
            422,
        ),
        (json!({"sku": "N", "name": "", "category": "c", "price_cents": 1}), 422),
    ] {
        let (status, p) = problem_of(app.admin.post(app.url("/products")).json(&body).send().await.unwrap()).await;
        assert_eq!(status, want, "{body} -> {p}");
    }
    let page: Value = app
        .client
        .get(app.url("/products"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["items"].as_array().map(Vec::len),
        Some(1),
        "only the first product exists"
    );
}

#[tokio::test]
async fn reads_by_id_are_cached_and_counted() {
    let app = spawn_app().await;
    let id = app.product("C-1", 100, 1).await;
    let before = cache_count(&app, "hit").await + cache_count(&app, "local_hit").await;
    for _ in 0..3 {
        assert_eq!(
            app.client
                .get(app.url(&format!("/products/{id}")))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    // The first read misses and fills the cache; the next two hit it, in process
    // memory or in Redis.
    let hits = cache_count(&app, "hit").await + cache_count(&app, "local_hit").await;
    assert!(hits >= before + 2.0);
    assert!(cache_count(&app, "miss").await >= 1.0);
}

async fn cache_count(app: &crate::helpers::TestApp, result: &str) -> f64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("cache_requests_total{{service=\"catalog-service\",result=\"{result}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0.0, |v| v.parse().unwrap())
}
