//! The outermost layer of every service, in one middleware rather than four: a request
//! id (kept from the caller when it is short and plain, made up otherwise), a tracing
//! span carrying it, the request timeout, and the id copied onto the response.
//!
//! One layer because each tower layer of its own cost a boxed future, a clone and a
//! header lookup per request, and the stock request-id maker read the OS random source
//! on every call (`make bench`'s layer table has the figures).

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use tracing::Instrument as _;

use crate::Problem;

/// The request id header, read from callers and passed on to downstream calls.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id kept from a caller; longer ones are replaced.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// Whether a caller's request id may be kept: short, and only letters, digits and
/// `-_.:`, so it cannot forge log fields or carry markup into a log viewer.
pub fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A new request id: a random UUID from a fast thread-local generator. A request id
/// needs to be unique, not secret, so the OS random source is not worth a syscall.
pub fn new_request_id() -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut buf)).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// Middleware: see the module documentation. Server errors are logged here, with the
/// request's span, so every 5xx leaves a line carrying its request id.
pub async fn request_context(State(limit): State<Duration>, mut req: Request, next: Next) -> Response {
    let id = match req.headers().get(REQUEST_ID) {
        Some(value) if acceptable_request_id(value) => value.clone(),
        _ => {
            let value = new_request_id();
            req.headers_mut().insert(REQUEST_ID, value.clone());
            value
        }
    };
    // The id alone: each field of a span is formatted when the span is made, and method
    // and path cost more there (about 2 us a request) than on the rare error line below.
    let span = tracing::info_span!("request", request_id = id.to_str().unwrap_or("-"));
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let start = Instant::now();
    let mut response = async {
        let response = match tokio::time::timeout(limit, next.run(req)).await {
            Ok(response) => response,
            Err(_) => Problem::unavailable(format!("request took longer than {limit:?}")).into_response(),
        };
        if response.status().is_server_error() {
            tracing::error!(
                %method,
                path = uri.path(),
                status = response.status().as_u16(),
                latency_ms = start.elapsed().as_millis() as u64,
                "server error"
            );
        }
        response
    }
    .instrument(span)
    .await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_short_ids_are_kept() {
        for id in [
            "journey-1",
            "a",
            "3f2a0c1e-7b7d-4c1e-9a53-0f6f6e2a9b10",
            "trace.span:42_x",
        ] {
            assert!(acceptable_request_id(&HeaderValue::from_static(id)), "{id}");
        }
    }

    #[test]
    fn long_empty_or_odd_ids_are_replaced() {
        let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for id in [
            long.as_str(),
            "",
            "has space",
            "quote\"",
            "new\tline",
            "<script>",
            "a=b",
        ] {
            let value = HeaderValue::from_str(id).unwrap_or_else(|_| panic!("{id:?}"));
            assert!(!acceptable_request_id(&value), "{id:?}");
        }
        assert!(acceptable_request_id(
            &HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID_LEN)).unwrap_or_else(|_| panic!())
        ));
    }

    #[test]
    fn new_ids_are_acceptable_version_4_uuids_and_differ() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(a.to_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.get_version_num(), 4);
        assert!(acceptable_request_id(&a));
    }

    mod through_the_stack {
        use axum::Router;
        use axum::body::Body;
        use axum::http::{Request, StatusCode};
        use axum::routing::get;
        use tower::ServiceExt as _;

        use crate::http::{HttpArgs, REQUEST_ID, finish};

        fn app() -> Router {
            let args = HttpArgs {
                request_timeout: std::time::Duration::from_millis(50),
                ..HttpArgs::default()
            };
            let routes = Router::new().route("/fast", get(|| async { "ok" })).route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    "late"
                }),
            );
            finish("context-test", routes, crate::Readiness::new(), &args)
        }

        async fn call(path: &str, id: Option<&str>) -> axum::response::Response {
            let mut req = Request::get(path);
            if let Some(id) = id {
                req = req.header(REQUEST_ID, id);
            }
            app()
                .oneshot(req.body(Body::empty()).unwrap_or_else(|e| panic!("{e}")))
                .await
                .unwrap_or_else(|e| match e {})
        }

        #[tokio::test]
        async fn a_plain_caller_id_comes_back_and_an_odd_one_is_replaced() {
            let kept = call("/fast", Some("journey-1")).await;
            assert_eq!(kept.headers()[REQUEST_ID], "journey-1");
            let replaced = call("/fast", Some("<script>alert(1)</script>")).await;
            let id = replaced.headers()[REQUEST_ID].to_str().unwrap_or_default().to_owned();
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
            let made = call("/fast", None).await;
            assert!(uuid::Uuid::parse_str(made.headers()[REQUEST_ID].to_str().unwrap_or_default()).is_ok());
        }

        #[tokio::test]
        async fn a_request_over_the_timeout_is_a_503_problem_with_its_id() {
            let resp = call("/slow", Some("slow-1")).await;
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(resp.headers()[REQUEST_ID], "slow-1");
            assert_eq!(resp.headers()["content-type"], "application/problem+json");
        }

        #[tokio::test]
        async fn requests_are_counted_by_route_and_status() {
            for _ in 0..3 {
                assert_eq!(call("/fast", None).await.status(), StatusCode::OK);
            }
            let text = crate::metrics::recorder().render();
            let line = text
                .lines()
                .find(|l| {
                    l.starts_with("http_requests_total")
                        && l.contains("service=\"context-test\"")
                        && l.contains("route=\"/fast\"")
                })
                .unwrap_or_else(|| panic!("no series in {text}"));
            assert!(
                line.contains("status=\"200\"") && line.contains("method=\"GET\""),
                "{line}"
            );
            let count: f64 = line.rsplit(' ').next().unwrap_or_default().parse().unwrap_or_default();
            assert!(count >= 3.0, "{line}");
        }
    }
}
