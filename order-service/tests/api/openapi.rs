//! The contract at `/openapi.json`: every route the service serves is in it, each
//! with the bearer scheme and its own statuses. Read through the route itself, without
//! a socket or a platform: the document needs neither (that the running service serves
//! it, without a token, is checked in `auth`).

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
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
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let own_statuses: [(&str, &str, &[&str]); 3] = [
        (
            "/orders",
            "post",
            &["200", "201", "400", "401", "403", "409", "413", "415", "422", "503"],
        ),
        ("/orders", "get", &["200", "400", "401", "403", "422", "500", "503"]),
        (
            "/orders/{id}",
            "get",
            &["200", "400", "401", "403", "404", "500", "503"],
        ),
    ];
    for (path, method, statuses) in own_statuses {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is missing");
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path}: no security"));
        assert!(security.iter().any(|s| s.get("bearer").is_some()), "{method} {path}");
        for status in statuses {
            assert!(op["responses"].get(status).is_some(), "{method} {path} lacks {status}");
        }
    }
    let idempotency = &doc["paths"]["/orders"]["post"]["parameters"];
    assert!(
        idempotency
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key"),
        "{idempotency}"
    );
    let mut documented: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    documented.sort_unstable();
    assert_eq!(documented, ["/health", "/metrics", "/orders", "/orders/{id}", "/ready"]);
    for open in ["/health", "/ready", "/metrics"] {
        assert!(doc["paths"][open]["get"].get("security").is_none(), "{open} is open");
    }
    assert!(doc["components"]["schemas"]["Order"]["properties"]["items"].is_object());
}
