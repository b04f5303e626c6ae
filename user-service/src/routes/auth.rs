//! `/auth/token`: an email and a password in, a customer token out (its subject is the
//! user's id). An unknown email and a wrong password get the same 401 after the same
//! work (a hash is checked either way), so neither the answer nor its timing tells
//! whether an email is registered.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use service_kit::auth::Role;
use service_kit::{ApiJson, Problem};

use crate::password::{self, RawPassword};
use crate::{AppState, Error, Result, db};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/auth/token", post(create_token))
}

/// Body of `POST /auth/token`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// The email the user registered with (any case).
    pub email: String,
    /// The user's password.
    #[schema(value_type = String, format = Password)]
    pub password: RawPassword,
}

/// A bearer token, in the shape of OAuth 2's token response (RFC 6749, section 5.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The token, for `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// Log in: trade an email and password for a customer token.
#[utoipa::path(
    post,
    path = "/auth/token",
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "a customer token for the user", body = TokenResponse),
        (status = 401, description = "the email or the password is wrong (one answer for both)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<([(header::HeaderName, &'static str); 1], ApiJson<TokenResponse>)> {
    let found = db::credentials(&state.db, req.email.trim()).await?;
    let (id, stored) = match found {
        Some((id, stored)) => (Some(id), stored),
        None => (None, None),
    };
    let matched = password::verify(req.password, stored, &state.tokens.dummy).await?;
    let Some(id) = id.filter(|_| matched) else {
        tracing::info!("login refused");
        return Err(Error::BadCredentials);
    };
    let ttl = state.tokens.ttl;
    let access_token = state.tokens.key.issue(&id.to_string(), Role::Customer, ttl)?;
    tracing::info!(user.id = %id, "token issued");
    // A token must not be kept by a cache on the way (RFC 6749, section 5.1).
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        ApiJson(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: ttl.as_secs().max(1),
        }),
    ))
}
