//! What placing and reading orders fail with, and the one place where that becomes a
//! problem+json response (with `Location` when the failure concerns a stored order).
//! Database and domain code return these; `sqlx` errors map by [`From<sqlx::Error>`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use service_kit::auth::AuthError;
use service_kit::db_error::{DbFailure, classify};
use service_kit::{Invalid, Problem};
use uuid::Uuid;

use crate::domain::{FailureKind, MAX_KEY_LEN};

/// `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an order could not be placed or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 422: the request (or a value the database refused) is invalid, by field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// 400: the `Idempotency-Key` header is not ASCII.
    #[error("bad Idempotency-Key")]
    KeyNotAscii,
    /// 400: the `Idempotency-Key` header is empty, too long or has invisible characters.
    #[error("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters")]
    KeyMalformed,
    /// 422: the key was used for a different order.
    #[error("this Idempotency-Key was already used for a different order")]
    KeyReused,
    /// 409: another request claimed the key between two looks at it.
    #[error("this Idempotency-Key changed hands meanwhile, retry")]
    KeyChangedHands,
    /// 409: the first request with this key has not stored its order yet.
    #[error("a request with this Idempotency-Key is still in progress, retry later")]
    KeyInProgress,
    /// 401 or 403: the caller may not do this (a customer acting for another user).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// 404: no such order (or another customer's).
    #[error("order {0} does not exist")]
    NotFound(Uuid),
    /// 422: the user service does not know the user; blames `user_id`.
    #[error("user {0} does not exist")]
    UnknownUser(Uuid),
    /// 503: the user service did not answer usefully; nothing was stored.
    #[error("a dependency is unavailable, no order was created: {0}")]
    DependencyUnavailable(String),
    /// 409: the order's saga is still running (a replay that waited long enough).
    #[error("order {0} is still being placed, retry later with the same Idempotency-Key")]
    StillPlacing(Uuid),
    /// The stored order failed: 409 out of stock, 422 unknown product or invalid once
    /// priced, 503 catalog unavailable or interrupted. Blames `field` when known.
    #[error("order {id} failed: {reason}")]
    Failed {
        /// The order.
        id: Uuid,
        /// Which step failed.
        kind: FailureKind,
        /// Why, as stored.
        reason: String,
        /// The request field to blame (`items[1].product_id`).
        field: Option<String>,
    },
    /// 503: the saga broke off (its database went away); the reconciler settles the order.
    #[error("order {id} could not be settled now; it will be, retry with the same Idempotency-Key")]
    NotSettled {
        /// The order.
        id: Uuid,
        /// Why the saga broke off; logged, never returned.
        #[source]
        source: anyhow::Error,
    },
    /// 503: the database cannot be reached or its pool is exhausted; retry later.
    #[error("the database is unavailable, retry later")]
    Unavailable(#[source] sqlx::Error),
    /// 500: any other database error; the cause is logged, never returned.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// 500: a bug (a task that panicked, an order gone right after it was stored);
    /// logged, never returned.
    #[error("{0}")]
    Internal(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match classify(&e) {
            DbFailure::Unavailable => Self::Unavailable(e),
            DbFailure::Unstorable(m) => Self::Invalid(Invalid::new(format!("a value cannot be stored: {m}"))),
            _ => Self::Database(e),
        }
    }
}

impl Error {
    /// The status of the response.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Auth(AuthError::Forbidden(_)) => StatusCode::FORBIDDEN,
            Self::Auth(_) => StatusCode::UNAUTHORIZED,
            Self::KeyNotAscii | Self::KeyMalformed => StatusCode::BAD_REQUEST,
            Self::Invalid(_) | Self::KeyReused | Self::UnknownUser(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::KeyChangedHands | Self::KeyInProgress | Self::StillPlacing(_) => StatusCode::CONFLICT,
            Self::Failed { kind, .. } => match kind {
                FailureKind::OutOfStock => StatusCode::CONFLICT,
                FailureKind::UnknownProduct | FailureKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                FailureKind::Unavailable | FailureKind::Interrupted | FailureKind::Attempts => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            },
            Self::DependencyUnavailable(_) | Self::NotSettled { .. } | Self::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stored order this error concerns, for `Location`.
    pub fn order_id(&self) -> Option<Uuid> {
        match self {
            Self::StillPlacing(id) | Self::Failed { id, .. } | Self::NotSettled { id, .. } => Some(*id),
            _ => None,
        }
    }

    fn problem(self) -> Problem {
        let status = self.status_code();
        match self {
            Self::Invalid(invalid) => Problem::from(invalid),
            Self::UnknownUser(_) => Problem::new(status, self.to_string()).with_error("user_id", "unknown user"),
            Self::Failed {
                field: Some(ref field),
                ref reason,
                ..
            } => Problem::new(status, self.to_string()).with_error(field, reason.clone()),
            Self::DependencyUnavailable(ref detail) => {
                tracing::warn!(detail, "dependency unavailable");
                Problem::new(status, self.to_string())
            }
            Self::NotSettled { id, ref source } => {
                tracing::error!(order.id = %id, error.message = %source, error.cause_chain = ?source, "order saga failed, the reconciler will settle it");
                Problem::new(status, self.to_string())
            }
            Self::Unavailable(ref e) => {
                tracing::error!(error.message = %e, "database unavailable");
                Problem::new(status, self.to_string())
            }
            Self::Database(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "database error");
                Problem::internal()
            }
            Self::Internal(message) => {
                tracing::error!(error.message = %message, "internal error");
                Problem::internal()
            }
            other => Problem::new(status, other.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Self::Auth(e) = self {
            // Its own response: a 401 carries `WWW-Authenticate`.
            return e.into_response();
        }
        let location = self
            .order_id()
            .and_then(|id| HeaderValue::try_from(format!("/orders/{id}")).ok());
        let mut response = self.problem().into_response();
        if let Some(location) = location {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(kind: FailureKind, field: Option<&str>) -> Error {
        Error::Failed {
            id: Uuid::nil(),
            kind,
            reason: "because".into(),
            field: field.map(str::to_owned),
        }
    }

    #[test]
    fn each_error_has_its_status() {
        let id = Uuid::nil();
        for (e, status) in [
            (Error::Invalid(Invalid::new("x")), 422),
            (Error::KeyNotAscii, 400),
            (Error::KeyMalformed, 400),
            (Error::KeyReused, 422),
            (Error::KeyChangedHands, 409),
            (Error::KeyInProgress, 409),
            (Error::NotFound(id), 404),
            (Error::Auth(AuthError::Forbidden("not yours".into())), 403),
            (Error::Auth(AuthError::Missing), 401),
            (Error::UnknownUser(id), 422),
            (Error::DependencyUnavailable("down".into()), 503),
            (Error::StillPlacing(id), 409),
            (failed(FailureKind::OutOfStock, None), 409),
            (failed(FailureKind::UnknownProduct, None), 422),
            (failed(FailureKind::Invalid, None), 422),
            (failed(FailureKind::Unavailable, None), 503),
            (failed(FailureKind::Interrupted, None), 503),
            (
                Error::NotSettled {
                    id,
                    source: anyhow::anyhow!("gone"),
                },
                503,
            ),
            (Error::from(sqlx::Error::PoolTimedOut), 503),
            (Error::from(sqlx::Error::RowNotFound), 500),
            (Error::Internal("bug".into()), 500),
        ] {
            assert_eq!(e.status_code().as_u16(), status, "{e:?}");
            assert_eq!(e.into_response().status().as_u16(), status);
        }
    }

    #[test]
    fn errors_about_a_stored_order_name_it_in_location() {
        let resp = failed(FailureKind::OutOfStock, Some("items[0].product_id")).into_response();
        assert_eq!(
            resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()),
            Some(format!("/orders/{}", Uuid::nil()).as_str())
        );
        assert!(
            Error::NotFound(Uuid::nil())
                .into_response()
                .headers()
                .get(header::LOCATION)
                .is_none()
        );
    }

    #[test]
    fn a_failed_order_blames_its_field_with_the_reason() {
        let p = failed(FailureKind::Invalid, Some("items[1].quantity")).problem();
        assert_eq!(p.detail, format!("order {} failed: because", Uuid::nil()));
        assert_eq!(p.errors["items[1].quantity"], "because");
        let p = Error::UnknownUser(Uuid::nil()).problem();
        assert_eq!(p.errors["user_id"], "unknown user");
    }
}
