//! The contract every service serves at `/openapi.json` (OpenAPI 3.1, from the code by
//! utoipa): the service's own operations, the standard routes, the problem+json shape
//! and the bearer-token scheme.
//!
//! A service describes its successes (`#[utoipa::path]` with the `2xx` responses and
//! `security(("bearer" = []))` where a token is needed); [`document`] adds the errors
//! every route of the shared shell can answer, so that each handler does not repeat them
//! and the contract cannot forget one: 500 and 503 (timeout, a store down) everywhere,
//! 400 with parameters or a body, 404 with a path parameter, 413/415/422 with a JSON
//! body, 401/403 where a token is required.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse as _;
use axum::routing::get;
use utoipa::OpenApi as _;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// The name of the bearer-token security scheme, for `security(("bearer" = []))`.
pub const BEARER: &str = "bearer";

const PROBLEM_JSON: &str = "application/problem+json";

/// The standard routes of [`crate::http::finish`].
#[derive(utoipa::OpenApi)]
#[openapi(paths(health, ready, metrics), components(schemas(crate::Problem, Health)))]
struct Standard;

/// `/health`'s body.
#[derive(utoipa::ToSchema, serde::Serialize)]
#[allow(dead_code)] // only its schema is used; the handler builds the JSON directly
struct Health {
    status: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
#[allow(dead_code)] // the route is crate::health::health; this describes it
fn health() {}

/// Readiness: 200 when the required dependencies answer, else 503 naming them.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses((status = 200, description = "ready or degraded", body = serde_json::Value))
)]
#[allow(dead_code)]
fn ready() {}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "metrics", body = String, content_type = "text/plain"))
)]
#[allow(dead_code)]
fn metrics() {}

/// The service's contract: its own operations, the standard routes, the bearer scheme
/// and the errors of the shared shell on every operation.
pub fn document(service: OpenApi) -> OpenApi {
    let mut doc = service.merge_from(Standard::openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    for (path, item) in &mut doc.paths.paths {
        let has_path_param = path.contains('{');
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            add_shell_errors(op, has_path_param);
        }
    }
    doc
}

fn add_shell_errors(op: &mut Operation, has_path_param: bool) {
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let has_body = op.request_body.is_some();
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut errors = vec![
        ("500", "internal error"),
        ("503", "timed out, or a store it needs is down"),
    ];
    if has_params || has_body {
        errors.push(("400", "a malformed parameter or body"));
    }
    if has_path_param {
        errors.push(("404", "no such resource"));
    }
    if has_body {
        errors.extend([
            ("413", "the body is over this route's limit"),
            ("415", "the body is not `application/json`"),
            ("422", "the body does not have the expected shape or values"),
        ]);
    }
    if secured {
        errors.extend([
            ("401", "no token, or an expired or forged one"),
            ("403", "the token's role may not do this"),
        ]);
    }
    for (status, description) in errors {
        op.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
                    .build(),
            )
        });
    }
}

/// The route serving `doc` at `/openapi.json` (serialised once).
pub fn route(doc: &OpenApi) -> Router {
    let json = doc.to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialise the OpenAPI document");
        "{}".to_owned()
    });
    Router::new().route(
        "/openapi.json",
        get(move || {
            let json = json.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], json).into_response() }
        }),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A service's own operation, as a handler would describe it.
    #[utoipa::path(
        post,
        path = "/things/{id}",
        params(("id" = uuid::Uuid, Path)),
        request_body = serde_json::Value,
        security(("bearer" = [])),
        responses((status = 200, body = serde_json::Value), (status = 404, description = "not ours"))
    )]
    #[allow(dead_code)]
    fn change_thing() {}

    #[derive(utoipa::OpenApi)]
    #[openapi(paths(change_thing))]
    struct Things;

    #[test]
    fn every_error_of_the_shell_is_in_the_contract() {
        let doc = serde_json::to_value(document(Things::openapi())).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let responses = &doc["paths"]["/things/{id}"]["post"]["responses"];
        for status in ["200", "400", "401", "403", "404", "413", "415", "422", "500", "503"] {
            assert!(responses.get(status).is_some(), "{status} missing: {responses}");
        }
        assert_eq!(
            responses["404"]["description"], "not ours",
            "the service's own words win"
        );
        assert_eq!(
            responses["401"]["content"][PROBLEM_JSON]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        let health = &doc["paths"]["/health"]["get"]["responses"];
        assert!(health.get("401").is_none() && health.get("400").is_none(), "{health}");
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        assert!(doc["components"]["schemas"]["Problem"]["properties"]["detail"].is_object());
    }
}
