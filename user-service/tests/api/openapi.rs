//! `/openapi.json`: every route of the service is in the contract, with the security
//! it really has, and the contract names no route the service does not serve.

use serde_json::Value;

use crate::helpers::spawn_app;

/// Every operation of the service, and whether it needs a token.
const ROUTES: &[(&str, &str, bool)] = &[
    ("post", "/users", false),
    ("get", "/users", true),
    ("get", "/users/{id}", true),
    ("patch", "/users/{id}", true),
    ("delete", "/users/{id}", true),
    ("post", "/auth/token", false),
    ("get", "/health", false),
    ("get", "/ready", false),
    ("get", "/metrics", false),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[tokio::test]
async fn the_contract_lists_every_route_with_its_security() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let resp = app.anonymous.get(app.url("/openapi.json")).send().await.unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    for (method, path, secured) in ROUTES {
        let op = &paths.get(*path).unwrap_or_else(|| panic!("{path} is missing"))[*method];
        assert!(op.is_object(), "{method} {path} is missing");
        let security = op["security"].as_array().map(Vec::as_slice).unwrap_or_default();
        let bearer = security.iter().any(|s| s.get("bearer").is_some());
        assert_eq!(bearer, *secured, "{method} {path}: security {security:?}");
        let responses = op["responses"].as_object().unwrap();
        assert_eq!(
            responses.contains_key("401"),
            *secured || *path == "/auth/token",
            "{method} {path}"
        );
        assert_eq!(responses.contains_key("403"), *secured, "{method} {path}");
    }
    let listed: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| ((*m).to_owned(), path.clone()))
        })
        .collect();
    assert_eq!(
        listed.len(),
        ROUTES.len(),
        "operations the service does not have: {listed:?}"
    );
    // What each operation answers beyond the shell's errors.
    let status = |method: &str, path: &str, code: &str| paths[path][method]["responses"].get(code).is_some();
    assert!(status("post", "/users", "201") && status("post", "/users", "409"));
    assert!(status("patch", "/users/{id}", "412") && status("patch", "/users/{id}", "409"));
    assert!(status("delete", "/users/{id}", "204"));
    assert!(status("post", "/auth/token", "200"));
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "User",
        "NewUserRequest",
        "UpdateUserRequest",
        "UserPage",
        "TokenRequest",
        "TokenResponse",
        "Problem",
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
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}
