//! The check every service's contract test makes: its `/openapi.json` lists exactly the
//! operations it serves, the bearer scheme exactly where a token is needed, and the
//! statuses each answers.

use serde_json::Value;

/// One operation the contract must list.
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    /// `get`, `post`, ...
    pub method: &'a str,
    /// The path as routed, `/users/{id}`.
    pub path: &'a str,
    /// Whether it takes a token (the `bearer` scheme, 401 and 403 listed).
    pub secured: bool,
    /// Statuses of its own it must list (201, 409, ...).
    pub statuses: &'a [&'a str],
}

/// An operation that needs a token.
pub const fn secured<'a>(method: &'a str, path: &'a str, statuses: &'a [&'a str]) -> Op<'a> {
    Op {
        method,
        path,
        secured: true,
        statuses,
    }
}

/// An operation open to anyone.
pub const fn open<'a>(method: &'a str, path: &'a str, statuses: &'a [&'a str]) -> Op<'a> {
    Op {
        method,
        path,
        secured: false,
        statuses,
    }
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const STANDARD: [&str; 3] = ["/health", "/ready", "/metrics"];

/// Asserts that `doc` lists `ops` and the standard routes, and no other operation.
pub fn assert_contract(doc: &Value, ops: &[Op<'_>]) {
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "OpenAPI {version}");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["Problem"].is_object(), "no Problem schema");
    for op in ops {
        let what = format!("{} {}", op.method, op.path);
        let operation = &doc["paths"][op.path][op.method];
        assert!(operation.is_object(), "{what} is not in the contract");
        let security = operation["security"].as_array().map(Vec::as_slice).unwrap_or_default();
        let bearer = security.iter().any(|s| s.get("bearer").is_some());
        assert_eq!(bearer, op.secured, "{what}: security {security:?}");
        let responses = &operation["responses"];
        let shell: &[&str] = if op.secured {
            &["401", "403", "500", "503"]
        } else {
            &["500", "503"]
        };
        for status in shell.iter().chain(op.statuses) {
            assert!(responses.get(status).is_some(), "{what} does not list {status}");
        }
    }
    for path in STANDARD {
        let operation = &doc["paths"][path]["get"];
        assert!(
            operation.is_object() && operation.get("security").is_none(),
            "{path} must be open"
        );
    }
    let mut listed: Vec<String> = doc["paths"]
        .as_object()
        .map(|paths| {
            paths
                .iter()
                .filter(|(path, _)| !STANDARD.contains(&path.as_str()))
                .flat_map(|(path, item)| {
                    METHODS
                        .iter()
                        .filter(|m| item.get(**m).is_some())
                        .map(move |m| format!("{m} {path}"))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut expected: Vec<String> = ops.iter().map(|op| format!("{} {}", op.method, op.path)).collect();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected, "the contract's operations against the service's");
}

/// Asserts that the paths of `ops` are the paths the router files `sources` (their text,
/// `include_str!`) pass to `.route("...")`: a route added without its place in the
/// contract fails here.
pub fn assert_ops_are_routed(ops: &[Op<'_>], sources: &[&str]) {
    let mut routed: Vec<&str> = sources
        .iter()
        .flat_map(|src| src.split(".route(").skip(1))
        .filter_map(|rest| rest.trim_start().strip_prefix('"'))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let mut listed: Vec<&str> = ops.iter().map(|op| op.path).collect();
    for paths in [&mut routed, &mut listed] {
        paths.sort_unstable();
        paths.dedup();
    }
    assert!(!routed.is_empty(), "no `.route(\"...\")` in the sources");
    assert_eq!(listed, routed, "the contract's paths against the router's");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        #[utoipa::path(
            post,
            path = "/things",
            request_body = serde_json::Value,
            security(("bearer" = [])),
            responses((status = 201, description = "made"))
        )]
        #[allow(dead_code)]
        fn make_thing() {}

        #[derive(utoipa::OpenApi)]
        #[openapi(paths(make_thing))]
        struct Things;

        use utoipa::OpenApi as _;
        serde_json::to_value(crate::openapi::document(Things::openapi())).unwrap_or_default()
    }

    #[test]
    fn a_contract_that_matches_passes() {
        assert_contract(&doc(), &[secured("post", "/things", &["201", "422"])]);
    }

    #[test]
    #[should_panic(expected = "security")]
    fn an_operation_said_open_that_takes_a_token_fails() {
        assert_contract(&doc(), &[open("post", "/things", &[])]);
    }

    #[test]
    #[should_panic(expected = "does not list 409")]
    fn a_missing_status_fails() {
        assert_contract(&doc(), &[secured("post", "/things", &["409"])]);
    }

    #[test]
    fn routed_paths_are_read_from_the_router_source() {
        let source = r#"Router::new().route("/things", post(make)).route(
            "/things/{id}", get(read))"#;
        let ops = [secured("post", "/things", &[]), open("get", "/things/{id}", &[])];
        assert_ops_are_routed(&ops, &[source]);
        let result = std::panic::catch_unwind(|| assert_ops_are_routed(&ops[..1], &[source]));
        assert!(result.is_err(), "a routed path missing from the ops must fail");
    }

    #[test]
    #[should_panic(expected = "operations")]
    fn an_operation_the_service_lacks_fails() {
        assert_contract(&doc(), &[]);
    }
}
