//! The contract at `/openapi.json`: every route the service serves is in it, with the
//! bearer scheme exactly where a token is needed.

use serde_json::Value;

use crate::helpers::spawn_app;

/// Each operation of the catalog and whether it takes a token.
const OPERATIONS: [(&str, &str, bool); 8] = [
    ("/products", "get", false),
    ("/products", "post", true),
    ("/products/{id}", "get", false),
    ("/products/{id}", "patch", true),
    ("/products/{id}", "delete", true),
    ("/products/{id}/reserve", "post", true),
    ("/products/{id}/release", "post", true),
    ("/products/{id}/stock", "post", true),
];

#[tokio::test]
async fn every_route_is_in_the_contract_with_its_security_and_statuses() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let resp = app.get("/openapi.json").await;

    // Assert
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method, secured) in OPERATIONS {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is missing");
        let security = op["security"].as_array().map(Vec::as_slice).unwrap_or_default();
        let bearer = security.iter().any(|s| s.get("bearer").is_some());
        assert_eq!(bearer, secured, "{method} {path}: security {security:?}");
        let responses = op["responses"].as_object().unwrap();
        for status in ["500", "503"] {
            assert!(responses.contains_key(status), "{method} {path} lacks {status}");
        }
        if secured {
            for status in ["401", "403"] {
                assert!(responses.contains_key(status), "{method} {path} lacks {status}");
            }
        } else {
            assert!(!responses.contains_key("401"), "{method} {path} is open");
        }
    }
    // The service's own statuses, as the handlers answer them.
    let has = |path: &str, method: &str, status: &str| doc["paths"][path][method]["responses"].get(status).is_some();
    for (path, method, status) in [
        ("/products", "post", "201"),
        ("/products", "post", "409"),
        ("/products", "get", "422"),
        ("/products/{id}", "get", "404"),
        ("/products/{id}", "patch", "412"),
        ("/products/{id}", "patch", "400"),
        ("/products/{id}", "delete", "204"),
        ("/products/{id}/reserve", "post", "201"),
        ("/products/{id}/reserve", "post", "200"),
        ("/products/{id}/reserve", "post", "409"),
        ("/products/{id}/stock", "post", "409"),
        ("/products/{id}/stock", "post", "422"),
    ] {
        assert!(has(path, method, status), "{method} {path} lacks {status}");
    }
    // Every resource route the router serves, and nothing it does not.
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    documented.sort_unstable();
    assert_eq!(
        documented,
        [
            "/health",
            "/metrics",
            "/products",
            "/products/{id}",
            "/products/{id}/release",
            "/products/{id}/reserve",
            "/products/{id}/stock",
            "/ready"
        ]
    );
    assert!(doc["components"]["schemas"]["Product"]["properties"]["stock"].is_object());
}
