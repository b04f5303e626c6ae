//! The contract at `/openapi.json`: every route the service serves is in it, each
//! with the bearer scheme and its own statuses. Read through the route itself, without
//! a socket or a platform: the document needs neither (that the running service serves
//! it, without a token, is checked in `auth`).

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use service_kit::testing::contract::{assert_contract, assert_ops_are_routed, secured};
use tower::ServiceExt as _;

#[tokio::test]
async fn every_route_is_in_the_contract_with_its_security_and_statuses() {
    // Arrange
    let app = order_service::routes::openapi();

    // Act
    let request = Request::get("/openapi.json").body(Body::empty()).unwrap();
    let resp = app.oneshot(request).await.unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let ops = [
        secured("post", "/orders", &["200", "201", "400", "409", "413", "415", "422"]),
        secured("get", "/orders", &["200", "400", "422"]),
        secured("get", "/orders/{id}", &["200", "400", "404"]),
    ];
    assert_contract(&doc, &ops);
    assert_ops_are_routed(&ops, &[include_str!("../../src/routes/orders.rs")]);
    let idempotency = &doc["paths"]["/orders"]["post"]["parameters"];
    assert!(
        idempotency
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key"),
        "{idempotency}"
    );
    assert!(doc["components"]["schemas"]["Order"]["properties"]["items"].is_object());
}
