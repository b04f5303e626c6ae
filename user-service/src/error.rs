//! What the user service's operations fail with, and the one place where that becomes
//! a problem+json response. Database and domain code return these; the mapping of
//! `sqlx` errors (constraint names included) to variants is [`From<sqlx::Error>`].

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use service_kit::auth::AuthError;
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
    /// 401 or 403: the caller's token is missing or bad (401), or its role may not do
    /// this (403).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// 401: a login with an unknown email or a wrong password; one message for both, so
    /// that it does not tell which emails are registered.
    #[error("the email or the password is wrong")]
    BadCredentials,
    /// 503: the database cannot be reached or its pool is exhausted; retry later.
    #[error("the database is unavailable, retry later")]
    Unavailable(#[source] sqlx::Error),
    /// 500: any other database error; the cause is logged, never returned.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// 500: anything else that should not happen (a hashing task that failed); the
    /// cause is logged, never returned.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
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
            Self::Auth(AuthError::Forbidden(_)) => StatusCode::FORBIDDEN,
            Self::Auth(_) | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Auth(e) => return e.into_response(),
            Self::BadCredentials => {
                let mut response =
                    Problem::new(StatusCode::UNAUTHORIZED, Self::BadCredentials.to_string()).into_response();
                // A 401 names the scheme that would succeed: the token this route hands out.
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
                return response;
            }
            Self::Invalid(invalid) => Problem::from(invalid),
            Self::Unavailable(e) => {
                tracing::error!(error.message = %e, "database unavailable");
                Problem::unavailable(Self::Unavailable(e).to_string())
            }
            Self::Database(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "database error");
                Problem::internal()
            }
            Self::Internal(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "internal error");
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
            (Error::Auth(AuthError::Missing), 401),
            (Error::Auth(AuthError::Forbidden("no".into())), 403),
            (Error::BadCredentials, 401),
            (Error::Internal(anyhow::anyhow!("boom")), 500),
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
