//! Dependencies that fail: nothing half-done is left behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_kit::testing::problem_of;

use crate::helpers::{Platform, start_orders};
use crate::tokens::customer;

#[tokio::test]
async fn user_service_down_is_a_503_and_no_order() {
    let p = Platform::start().await;
    let product = p.product(100, 10).await;
    let closed = format!("http://127.0.0.1:{}", service_kit::testing::free_port());
    let (orders, _, _orders_db) = start_orders(&closed, &p.catalog, &service_kit::testing::redis_url()).await;
    let user = uuid::Uuid::new_v4();
    let body = serde_json::json!({"user_id": user, "items": [{"product_id": product, "quantity": 1}]});
    let resp = p
        .client
        .post(format!("{orders}/orders"))
        .header("authorization", customer(user))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(resp).await.0, 503);
    assert_eq!(p.stock(product).await, 10);
}

/// Forwards to the real catalog, but fails every reserve after the first: the catalog
/// going down in the middle of an order.
#[derive(Clone)]
struct FlakyCatalog {
    target: String,
    reserves: Arc<AtomicUsize>,
    client: reqwest::Client,
}

async fn forward(State(proxy): State<FlakyCatalog>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if path.ends_with("/reserve") && proxy.reserves.fetch_add(1, Ordering::SeqCst) >= 1 {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
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
    (
        status,
        [("content-type", "application/json")],
        resp.bytes().await.unwrap(),
    )
        .into_response()
}

#[tokio::test]
async fn catalog_down_mid_order_is_a_503_no_order_and_no_stock_held() {
    // Arrange
    let p = Platform::start().await;
    let user = p.user().await;
    let (first, second) = (p.product(100, 10).await, p.product(100, 10).await);
    let proxy = FlakyCatalog {
        target: p.catalog.clone(),
        reserves: Arc::default(),
        client: reqwest::Client::new(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (orders, _, _orders_db) = start_orders(&p.users, &proxy_url, &service_kit::testing::redis_url()).await;

    // Act
    let body = serde_json::json!({"user_id": user, "items": [
        {"product_id": first, "quantity": 4}, {"product_id": second, "quantity": 1}]});
    let resp = p
        .client
        .post(format!("{orders}/orders"))
        .header("authorization", customer(user))
        .json(&body)
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(problem_of(resp).await.0, 503);
    assert_eq!(
        (p.stock(first).await, p.stock(second).await),
        (10, 10),
        "the first reservation was released"
    );
}
