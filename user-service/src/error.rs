//! What the user service's operations fail with, and the one place where that becomes
//! a problem+json response. Database and domain code return these; the mapping of
//! `sqlx` errors (constraint names included) to variants is [`From<sqlx::Error>`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_kit::conditional::ETag;
use service_kit::db_error::{DbFailure, classify};
use service_kit::{Invalid, Problem};
use uuid::Uuid;

/// The unique index on `lower(email)`.
const EMAIL_KEY: &str = "users_email_lower_key";

/// `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operation on users failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 422: the request (or a value the database refused) is invalid, by field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// 404: no such user.
    #[error("user {0} does not exist")]
    NotFound(Uuid),
    /// 409: the email is registered already (regardless of case).
    #[error("a user with this email already exists")]
    EmailTaken,
    /// 412: an `If-Match` names another version than the current one.
    #[error("user {id} has changed since it was read: it is now at ETag {}", ETag(*.current))]
    Stale {
        /// The user.
        id: Uuid,
        /// Its current version.
        current: i64,
    },
    /// 503: the database cannot be reached or its pool is exhausted; retry later.
    #[error("the database is unavailable, retry later")]
    Unavailable(#[source] sqlx::Error),
    /// 500: any other database error; the cause is logged, never returned.
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match classify(&e) {
            DbFailure::Unavailable => Self::Unavailable(e),
            DbFailure::Unstorable(m) => Self::Invalid(Invalid::new(format!("a value cannot be stored: {m}"))),
            f if f.unique() == Some(EMAIL_KEY) => Self::EmailTaken,
            _ => Self::Database(e),
        }
    }
}

impl Error {
    /// The status of the response.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::Stale { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Invalid(invalid) => Problem::from(invalid),
            Self::Unavailable(e) => {
                tracing::error!(error.message = %e, "database unavailable");
                Problem::unavailable(Self::Unavailable(e).to_string())
            }
            Self::Database(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "database error");
                Problem::internal()
            }
            other => Problem::new(other.status_code(), other.to_string()),
        };
        problem.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        let id = Uuid::nil();
        for (e, status) in [
            (Error::Invalid(Invalid::new("x")), 422),
            (Error::NotFound(id), 404),
            (Error::EmailTaken, 409),
            (Error::Stale { id, current: 3 }, 412),
            (Error::from(sqlx::Error::PoolTimedOut), 503),
            (Error::from(sqlx::Error::RowNotFound), 500),
        ] {
            assert_eq!(e.status_code().as_u16(), status, "{e:?}");
            assert_eq!(e.into_response().status().as_u16(), status);
        }
    }

    #[test]
    fn details_are_what_clients_saw_before() {
        let id = Uuid::nil();
        assert_eq!(Error::NotFound(id).to_string(), format!("user {id} does not exist"));
        assert_eq!(
            Error::Stale { id, current: 3 }.to_string(),
            format!("user {id} has changed since it was read: it is now at ETag \"3\"")
        );
    }
}
