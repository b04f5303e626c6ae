//! `ETag` and `If-Match` on products, relative stock changes, and input PostgreSQL
//! cannot store.

use serde_json::{Value, json};
use service_kit::testing::problem_of;
use uuid::Uuid;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_absolute_stock_patch_read_before_a_reservation_is_412() {
    // Arrange: an admin reads the product, then an order reserves some of it.
    let app = spawn_app().await;
    let id = app.product("ETAG", 100, 10).await;
    let path = format!("/products/{id}");
    let read = app.get(&path).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(app.reserve(id, Uuid::new_v4(), 3).await.status(), 201);

    // Act: the admin's read-modify-write, with the ETag it read.
    let resp = app
        .admin
        .patch(app.url(&path))
        .header("if-match", &etag)
        .json(&json!({"stock": 15}))
        .send()
        .await
        .unwrap();

    // Assert: refused, and the reservation is not lost.
    let (status, body) = problem_of(resp).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(app.stock(id).await, 7);
    let current = app.get(&path).await.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(current, etag);
    let resp = app
        .admin
        .patch(app.url(&path))
        .header("if-match", &current)
        .json(&json!({"stock": 15}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_ne!(resp.headers()["etag"].to_str().unwrap(), current);
    assert_eq!(app.stock(id).await, 15);
    // Without If-Match a PATCH applies as before.
    let plain = app
        .admin
        .patch(app.url(&path))
        .json(&json!({"price_cents": 99}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
}

#[tokio::test]
async fn stock_delta_adds_and_removes_but_never_below_zero() {
    // Arrange
    let app = spawn_app().await;
    let id = app.product("DELTA", 100, 5).await;

    // Act
    let added = app.add_stock(id, 50).await;
    let etag = added.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = added.json().await.unwrap();

    // Assert
    assert_eq!(body["stock"], 55);
    assert_eq!(
        app.get(&format!("/products/{id}")).await.headers()["etag"],
        etag.as_str()
    );
    assert_eq!(app.add_stock(id, -55).await.status(), 200);
    assert_eq!(app.stock(id).await, 0);
    let (status, p) = problem_of(app.add_stock(id, -1).await).await;
    assert_eq!(status, 409, "{p}");
    assert!(p["errors"]["delta"].is_string(), "{p}");
    assert_eq!(app.stock(id).await, 0);
    for delta in [0, 2_000_000_000] {
        assert_eq!(problem_of(app.add_stock(id, delta).await).await.0, 422, "delta {delta}");
    }
    assert_eq!(app.add_stock(id, 1_000_000_000).await.status(), 200);
    let (status, p) = problem_of(app.add_stock(id, 1).await).await;
    assert_eq!(status, 422, "above the cap: {p}");
    assert_eq!(problem_of(app.add_stock(Uuid::new_v4(), 1).await).await.0, 404);
    let resp = app
        .admin
        .post(app.url(&format!("/products/{id}/stock")))
        .header("content-type", "application/json")
        .body(r#"{"delta": 1e30}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_of(resp).await.0,
        422,
        "a delta beyond i64 is invalid, not a 500"
    );
}

#[tokio::test]
async fn restocking_during_reservations_loses_none_of_them() {
    // Arrange
    let app = spawn_app().await;
    let id = app.product("BUSY", 100, 20).await;

    // Act: twenty reservations of one and ten restocks of one, all at once.
    let reserves: Vec<_> = (0..20)
        .map(|_| {
            let (client, url) = (app.service.clone(), app.url(&format!("/products/{id}/reserve")));
            let body = json!({"order_id": Uuid::new_v4(), "quantity": 1});
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() })
        })
        .collect();
    let restocks: Vec<_> = (0..10)
        .map(|_| {
            let (client, url) = (app.admin.clone(), app.url(&format!("/products/{id}/stock")));
            tokio::spawn(async move {
                let body = json!({"delta": 1});
                client.post(url).json(&body).send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for h in reserves.into_iter().chain(restocks) {
        statuses.push(h.await.unwrap());
    }

    // Assert
    assert_eq!(&statuses[..20], &[201; 20], "{statuses:?}");
    assert_eq!(&statuses[20..], &[200; 10], "{statuses:?}");
    assert_eq!(app.stock(id).await, 10);
}

#[tokio::test]
async fn nul_in_body_or_query_is_422_naming_the_field() {
    let app = spawn_app().await;
    for field in ["name", "description", "category", "sku"] {
        let mut body = json!({"sku": "NUL-1", "name": "n", "description": "", "category": "c", "price_cents": 1});
        body[field] = json!("a\u{0}b");
        let resp = app.admin.post(app.url("/products")).json(&body).send().await.unwrap();
        let (status, p) = problem_of(resp).await;
        assert_eq!(status, 422, "{field}: {p}");
        assert!(p["errors"][field].is_string(), "{field}: {p}");
    }
    let (status, p) = problem_of(app.get("/products?category=%00").await).await;
    assert_eq!(status, 422, "{p}");
    assert!(p["errors"]["category"].is_string(), "{p}");
    let id = app.product("OK-1", 1, 1).await;
    let resp = app
        .admin
        .patch(app.url(&format!("/products/{id}")))
        .json(&json!({"name": "\u{0}"}))
        .send()
        .await
        .unwrap();
    let (status, p) = problem_of(resp).await;
    assert_eq!(status, 422, "{p}");
    assert!(p["errors"]["name"].is_string(), "{p}");
}
