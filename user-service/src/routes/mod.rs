//! HTTP routes of the user service, and their contract (`/openapi.json`).

mod auth;
mod users;

use axum::Router;
use utoipa::OpenApi as _;

pub use auth::{TokenRequest, TokenResponse};
pub use users::cache_key;

use crate::AppState;

/// All resource routes; the standard ones are added by `service_kit::http::finish`.
pub fn router() -> Router<AppState> {
    users::router().merge(auth::router())
}

/// The service's own operations; [`openapi`] adds what every service shares.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "user-service", description = "Users of the demo shop, and their logins"),
    paths(
        users::create_user,
        users::list_users,
        users::get_user,
        users::update_user,
        users::delete_user,
        auth::create_token,
    ),
    tags(
        (name = "users", description = "Registration and accounts"),
        (name = "auth", description = "Logins: customer tokens"),
    )
)]
struct ApiDoc;

/// The contract served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    service_kit::openapi::document(ApiDoc::openapi())
}
