//! The journey scenario against a fake shop: seeding, route-template names, and the order ledger
//! that the end-to-end stock check relies on.

use crate::helpers::{run, spawn};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Quantities ordered per product, as the fake shop saw them.
#[derive(Default)]
struct Fake {
    products: Vec<Uuid>,
    ordered: BTreeMap<Uuid, u64>,
    orders: HashMap<Uuid, Value>,
}

type Shared = Arc<Mutex<Fake>>;

fn fake_shop(state: Shared) -> Router {
    Router::new()
        .route(
            "/users",
            post(|| async { (StatusCode::CREATED, Json(json!({ "id": Uuid::new_v4() }))) }),
        )
        .route("/products", post(create_product).get(list_products))
        .route(
            "/products/{id}",
            get(|Path(id): Path<Uuid>| async move { Json(json!({ "id": id })) }),
        )
        .route("/orders", post(create_order))
        .route("/orders/{id}", get(get_order))
        .with_state(state)
}

async fn create_product(State(state): State<Shared>) -> (StatusCode, Json<Value>) {
    let id = Uuid::new_v4();
    state.lock().unwrap().products.push(id);
    (StatusCode::CREATED, Json(json!({ "id": id })))
}

async fn list_products(State(state): State<Shared>) -> Json<Value> {
    let items: Vec<Value> = state
        .lock()
        .unwrap()
        .products
        .iter()
        .map(|id| json!({ "id": id, "category": "toys" }))
        .collect();
    Json(json!({ "items": items, "limit": 20, "offset": 0 }))
}

async fn create_order(State(state): State<Shared>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let id = Uuid::new_v4();
    let mut fake = state.lock().unwrap();
    for item in body["items"].as_array().unwrap() {
        let product: Uuid = item["product_id"].as_str().unwrap().parse().unwrap();
        *fake.ordered.entry(product).or_default() += item["quantity"].as_u64().unwrap();
    }
    let order = json!({ "id": id, "status": "pending", "items": body["items"] });
    fake.orders.insert(id, order.clone());
    (StatusCode::CREATED, Json(order))
}

async fn get_order(State(state): State<Shared>, Path(id): Path<Uuid>) -> Result<Json<Value>, StatusCode> {
    state
        .lock()
        .unwrap()
        .orders
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_report_every_order_and_quantity_they_placed() {
    // Arrange
    let state = Shared::default();
    let base = spawn(fake_shop(state.clone())).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "40",
        "--duration",
        "1s",
        "--scenario",
        "journey",
        "--seed",
        "--seed-products",
        "7",
        "--user-url",
        &base,
        "--catalog-url",
        &base,
        "--order-url",
        &base,
    ])
    .await;

    // Assert
    let fake = state.lock().unwrap();
    assert_eq!(fake.products.len(), 7);
    assert_eq!(summary.total.errors, 0, "{}", summary.table());
    assert_eq!(summary.orders.created, 40);
    assert_eq!(summary.orders.created_ids.len(), fake.orders.len());
    assert!(summary.orders.created_ids.iter().all(|id| fake.orders.contains_key(id)));
    assert_eq!(summary.orders.quantity_by_product, fake.ordered);
    let names: Vec<&str> = summary.endpoints.iter().map(|e| e.endpoint.as_str()).collect();
    assert_eq!(
        names,
        [
            "GET /orders/{id}",
            "GET /products",
            "GET /products/{id}",
            "POST /orders",
            "POST /users"
        ]
    );
}
