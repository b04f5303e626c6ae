//! HTTP routes of the user service.

mod users;

use axum::Router;

pub use users::cache_key;

use crate::AppState;

/// All resource routes; the standard ones are added by `service_kit::http::finish`.
pub fn router() -> Router<AppState> {
    users::router()
}
