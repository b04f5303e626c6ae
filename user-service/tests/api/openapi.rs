//! `/openapi.json`: every route of the service is in the contract, with the security
//! it really has, and the contract names no route the service does not serve.

use serde_json::Value;
use service_kit::testing::contract::{assert_contract, assert_ops_are_routed, open, secured};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_contract_lists_every_route_with_its_security() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let resp = app.anonymous.get(app.url("/openapi.json")).send().await.unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    let ops = [
        open("post", "/users", &["201", "409", "422"]),
        secured("get", "/users", &["200", "422"]),
        secured("get", "/users/{id}", &["200", "404"]),
        secured("patch", "/users/{id}", &["200", "404", "409", "412"]),
        secured("delete", "/users/{id}", &["204", "404"]),
        open("post", "/auth/token", &["200", "401", "422"]),
    ];
    assert_contract(&doc, &ops);
    assert_ops_are_routed(
        &ops,
        &[
            include_str!("../../src/routes/users.rs"),
            include_str!("../../src/routes/auth.rs"),
        ],
    );
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "User",
        "NewUserRequest",
        "UpdateUserRequest",
        "UserPage",
        "TokenRequest",
        "TokenResponse",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema} missing");
    }
    let password = &schemas["NewUserRequest"]["properties"]["password"];
    assert_eq!(
        (&password["minLength"], &password["format"]),
        (&8.into(), &"password".into()),
        "{password}"
    );
    assert!(
        schemas["User"]["properties"].get("password").is_none(),
        "a user has no password field"
    );
}
