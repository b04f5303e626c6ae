//! Who is calling: short-lived signed tokens (JWT, HS256) that every service verifies
//! itself with the key from its environment, and the roles they carry.
//!
//! One shared secret signs and verifies, so that order-service can mint its own service
//! token and no request waits on user-service. The cost of that choice: any service that
//! holds the key could mint an admin token; asymmetric keys (EdDSA, only user-service
//! signing) would remove it.
//!
//! A handler takes [`Caller`] (any valid token) or [`Admin`] (an admin token) as an
//! extractor; the key travels in the request extensions ([`AuthKey::layer`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::Problem;

/// A secret shorter than this is refused: HS256 keys should be as long as the hash.
pub const MIN_SECRET_BYTES: usize = 32;

/// Clock skew tolerated between the service that signs and the one that verifies.
const LEEWAY_SECONDS: u64 = 5;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A shop user: their own account and orders.
    Customer,
    /// Product and stock writes, deletes, retraining, listing users.
    Admin,
    /// Another service of the platform (order-service reserving stock).
    Service,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
            Self::Service => "service",
        })
    }
}

/// The claims of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id for a customer, a name for an admin or a service.
    pub sub: String,
    /// What the caller may do.
    pub role: Role,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

/// Why a request is refused: 401 for no, bad or expired credentials, 403 for a valid
/// caller without the right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("this route needs a token: send `Authorization: Bearer <token>` (POST /auth/token on user-service)")]
    Missing,
    /// The token has expired.
    #[error("the token has expired: get a new one")]
    Expired,
    /// Malformed, forged or signed with another key.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// A valid token whose role may not do this.
    #[error("{0}")]
    Forbidden(String),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        };
        let mut response = Problem::new(status, self.to_string()).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The signing and verifying key. Cheap to clone.
#[derive(Clone)]
pub struct AuthKey(Arc<Keys>);

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens already verified, by their text: a client sends the same token for its
    /// whole lifetime, and checking the signature again cost a cached read a third of
    /// its CPU (make bench). Only verified tokens get in; expiry is checked on each hit.
    verified: moka::sync::Cache<Box<str>, Claims>,
}

/// How many verified tokens are remembered, and for how long at most.
const VERIFIED_CAPACITY: u64 = 10_000;
const VERIFIED_TTL: Duration = Duration::from_secs(60);

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthKey(..)")
    }
}

impl AuthKey {
    /// A key from a secret of at least [`MIN_SECRET_BYTES`] bytes.
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "the auth secret has {} bytes; at least {MIN_SECRET_BYTES} are needed (e.g. `openssl rand -hex 32`)",
            secret.len()
        );
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self(Arc::new(Keys {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(VERIFIED_TTL)
                .build(),
        })))
    }

    /// A token for `subject` with `role`, valid for `ttl` from now.
    pub fn issue(&self, subject: &str, role: Role, ttl: Duration) -> anyhow::Result<String> {
        let iat = now_seconds();
        self.sign(&Claims {
            sub: subject.to_owned(),
            role,
            iat,
            exp: iat.saturating_add(ttl.as_secs().max(1)),
        })
    }

    /// A token of exactly these claims (the tests' expired tokens).
    pub(crate) fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.0.encoding,
        )?)
    }

    /// The claims of a token this key signed and that has not expired.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_at(token, now_seconds())
    }

    /// [`Self::verify`] at `now`, seconds since the epoch.
    fn verify_at(&self, token: &str, now: u64) -> Result<Claims, AuthError> {
        if let Some(claims) = self.0.verified.get(token) {
            return if claims.exp.saturating_add(LEEWAY_SECONDS) > now {
                Ok(claims)
            } else {
                self.0.verified.invalidate(token);
                Err(AuthError::Expired)
            };
        }
        let claims = self.check_signature(token)?;
        self.0.verified.insert(token.into(), claims.clone());
        Ok(claims)
    }

    fn check_signature(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token.as_bytes(), &self.0.decoding, &self.0.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::Invalid("the signature does not match".into()),
                _ => AuthError::Invalid(e.to_string()),
            })
    }

    /// The layer that hands this key to the [`Caller`] and [`Admin`] extractors.
    pub fn layer(&self) -> axum::Extension<Self> {
        axum::Extension(self.clone())
    }
}

pub(crate) fn now_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Where a service reads its key: the secret itself or a file holding it (a mounted
/// Secret). One of the two is required: no service starts without authentication.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthArgs {
    /// The token secret (at least 32 bytes).
    #[arg(long, env = "AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// A file holding the token secret (trailing whitespace ignored).
    #[arg(long, env = "AUTH_SECRET_FILE", conflicts_with = "auth_secret")]
    pub auth_secret_file: Option<PathBuf>,
}

impl AuthArgs {
    /// Args holding `secret` itself (tests, tools).
    pub fn with_secret(secret: &str) -> Self {
        Self {
            auth_secret: Some(secret.to_owned()),
            auth_secret_file: None,
        }
    }

    /// The key, or why there is none.
    pub fn key(&self) -> anyhow::Result<AuthKey> {
        use anyhow::Context as _;
        let secret = match (&self.auth_secret, &self.auth_secret_file) {
            (Some(s), _) => s.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read AUTH_SECRET_FILE {}", path.display()))?
                .trim_end()
                .to_owned(),
            (None, None) => anyhow::bail!(
                "no token secret: set AUTH_SECRET or AUTH_SECRET_FILE (`make up` writes one to .run/auth-secret)"
            ),
        };
        AuthKey::from_secret(secret.as_bytes())
    }
}

/// A caller with a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub Claims);

impl Caller {
    /// The role.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// Whether this caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.0.role == Role::Admin
    }

    /// The customer's user id (None for admins and services, or a subject that is not
    /// a UUID).
    pub fn user_id(&self) -> Option<uuid::Uuid> {
        (self.0.role == Role::Customer)
            .then(|| self.0.sub.parse().ok())
            .flatten()
    }

    /// Whether this caller may act on `user`'s data: the user themself or an admin.
    pub fn may_act_for(&self, user: uuid::Uuid) -> bool {
        self.is_admin() || self.user_id() == Some(user)
    }

    /// Ok when the caller has `role`, else 403 naming it.
    pub fn require(&self, role: Role) -> Result<(), AuthError> {
        if self.0.role == role {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "this needs the {role} role; the token has {}",
                self.0.role
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(key) = parts.extensions.get::<AuthKey>() else {
            tracing::error!("the auth key layer is missing from this router");
            return Err(Problem::internal().into_response());
        };
        let token = bearer(parts)
            .ok_or(AuthError::Missing)
            .map_err(IntoResponse::into_response)?;
        key.verify(token).map(Self).map_err(IntoResponse::into_response)
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A caller with an admin token (403 for any other valid token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(Role::Admin).map_err(IntoResponse::into_response)?;
        Ok(Self(caller))
    }
}

/// A service's own token for calls to other services, minted again once half its
/// lifetime has passed.
#[derive(Debug)]
pub struct ServiceToken {
    key: AuthKey,
    subject: String,
    ttl: Duration,
    current: Mutex<Option<(String, Instant)>>,
}

impl ServiceToken {
    /// Tokens for `subject` (the service's name) living `ttl`.
    pub fn new(key: AuthKey, subject: &str, ttl: Duration) -> Self {
        Self {
            key,
            subject: subject.to_owned(),
            ttl,
            current: Mutex::new(None),
        }
    }

    /// The `Authorization` header value.
    pub fn bearer(&self) -> anyhow::Result<String> {
        let mut current = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((token, minted)) = current.as_ref()
            && minted.elapsed() < self.ttl / 2
        {
            return Ok(format!("Bearer {token}"));
        }
        let token = self.key.issue(&self.subject, Role::Service, self.ttl)?;
        *current = Some((token.clone(), Instant::now()));
        Ok(format!("Bearer {token}"))
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
