//! The contract at `/openapi.json`: every route the service serves is in it, with the
//! bearer scheme exactly where a token is needed, and the statuses the handlers answer.

use serde_json::Value;
use service_kit::testing::contract::{assert_contract, assert_ops_are_routed, open, secured};

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_route_is_in_the_contract_with_its_security_and_statuses() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let resp = app.get("/openapi.json").await;

    // Assert
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    let ops = [
        open("get", "/products", &["200", "422"]),
        secured("post", "/products", &["201", "409"]),
        open("get", "/products/{id}", &["200", "404"]),
        secured("patch", "/products/{id}", &["200", "400", "412"]),
        secured("delete", "/products/{id}", &["204"]),
        secured("post", "/products/{id}/reserve", &["200", "201", "409"]),
        secured("post", "/products/{id}/release", &["200"]),
        secured("post", "/products/{id}/stock", &["200", "409", "422"]),
    ];
    assert_contract(&doc, &ops);
    assert_ops_are_routed(
        &ops,
        &[
            include_str!("../../src/routes/products.rs"),
            include_str!("../../src/routes/stock.rs"),
        ],
    );
    assert!(doc["components"]["schemas"]["Product"]["properties"]["stock"].is_object());
}
