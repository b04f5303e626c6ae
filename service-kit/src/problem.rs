//! RFC 9457 problem documents (`application/problem+json`) and extractors whose
//! rejections are problems too, so a client never sees a plain-text or HTML error.

use std::collections::BTreeMap;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A problem document. `type` stays `about:blank` (the title then describes the status),
/// as RFC 9457 recommends when there is no page to link to.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Short, stable summary of the status.
    pub title: String,
    /// HTTP status code, repeated in the body for clients that lose headers.
    pub status: u16,
    /// What went wrong with this request, for humans.
    pub detail: String,
    /// Per-field validation messages.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
}

impl Problem {
    /// A problem with the status's canonical title.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: BTreeMap::new(),
        }
    }

    /// 400: the request cannot be parsed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 404: no such resource.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 422: well-formed but invalid.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// 412: an `If-Match` precondition does not hold (the resource changed meanwhile).
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, detail)
    }

    /// 503: a dependency is down; retrying later may work.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// 500 with an opaque message: details go to the log, never to the client.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error, see the service log")
    }

    /// Adds a per-field message.
    pub fn with_error(mut self, field: &str, message: impl Into<String>) -> Self {
        self.errors.insert(field.to_owned(), message.into());
        self
    }

    /// The status as a `StatusCode`.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// A validation error is a 422 naming each bad field.
impl From<crate::validation::Invalid> for Problem {
    fn from(invalid: crate::validation::Invalid) -> Self {
        Self {
            errors: invalid.errors,
            ..Self::unprocessable(invalid.detail)
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl std::error::Error for Problem {}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response()
    }
}

/// `Json` whose rejections are problems: 400 for syntax, 422 for wrong types or
/// missing fields, 413 for a body over the limit, 415 without a JSON content type.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}

fn json_problem(rejection: &JsonRejection) -> Problem {
    let detail = match rejection {
        JsonRejection::JsonDataError(_) => "the JSON does not match the expected shape",
        JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON",
        JsonRejection::MissingJsonContentType(_) => "expected `Content-Type: application/json`",
        _ => "cannot read the request body",
    };
    let problem = Problem::new(rejection.status(), format!("{detail}: {}", rejection.body_text()));
    match misfit_field(rejection) {
        Some((field, message)) => problem.with_error(&field, message),
        None => problem,
    }
}

/// For a body of the wrong shape, the field it is wrong at (`values`, `items[2].qty`) and
/// what is wrong there, so the 422 names the field in `errors` as a validation 422 does.
/// `None` for other rejections and for the whole body (a missing field is at the root).
fn misfit_field(rejection: &JsonRejection) -> Option<(String, String)> {
    let JsonRejection::JsonDataError(e) = rejection else {
        return None;
    };
    // The rejection wraps an `axum_core::Error`, which wraps the parser's error.
    let parsed = std::error::Error::source(e)?
        .source()?
        .downcast_ref::<serde_path_to_error::Error<serde_json::Error>>()?;
    let path = parsed.path().to_string();
    if path == "." {
        return None;
    }
    let json = parsed.inner();
    let message = json.to_string();
    let position = format!(" at line {} column {}", json.line(), json.column());
    let message = message.strip_suffix(&position).unwrap_or(&message).to_owned();
    Some((path, message))
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `Path` whose rejection is a 400 problem (for example an id that is not a UUID).
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|r: PathRejection| Problem::bad_request(format!("invalid path: {}", r.body_text())))
    }
}

/// `Query` whose rejection is a 400 problem.
#[derive(Debug, Clone, Copy)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|r: QueryRejection| Problem::bad_request(format!("invalid query: {}", r.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_serialises_with_rfc_field_names() {
        let p = Problem::unprocessable("bad").with_error("email", "not an email address");
        let v = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(v["type"], "about:blank");
        assert_eq!(v["title"], "Unprocessable Entity");
        assert_eq!(v["status"], 422);
        assert_eq!(v["errors"]["email"], "not an email address");
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        qty: u32,
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        sku: String,
    }

    fn rejection_of(body: &str) -> Problem {
        match axum::Json::<Order>::from_bytes(body.as_bytes()) {
            Ok(order) => panic!("accepted: {order:?}"),
            Err(rejection) => json_problem(&rejection),
        }
    }

    #[test]
    fn a_body_of_the_wrong_shape_names_the_field() {
        let p = rejection_of(r#"{"qty": -1, "items": []}"#);
        assert_eq!(p.status, 422);
        assert_eq!(
            p.errors.get("qty").map(String::as_str),
            Some("invalid value: integer `-1`, expected u32")
        );
        let p = rejection_of(r#"{"qty": 1, "items": [{"sku": "a"}, {"sku": 7}]}"#);
        assert_eq!(p.errors.keys().collect::<Vec<_>>(), ["items[1].sku"]);
        // A missing field is the whole body's fault: the detail says which, `errors` is empty.
        let p = rejection_of(r#"{"items": []}"#);
        assert_eq!(p.status, 422);
        assert!(p.errors.is_empty() && p.detail.contains("missing field `qty`"), "{p:?}");
        // Syntax errors are a 400 with no field.
        let p = rejection_of(r#"{"qty": 1,"#);
        assert_eq!(p.status, 400);
        assert!(p.errors.is_empty());
    }

    #[test]
    fn empty_errors_are_omitted() {
        let v = serde_json::to_value(Problem::not_found("x")).unwrap_or_default();
        assert!(v.get("errors").is_none());
    }
}
