//! HTTP routes of the order service.

mod orders;

use axum::Router;

use crate::state::AppState;

/// All resource routes; the standard ones are added by `service_kit::http::finish`.
pub fn router() -> Router<AppState> {
    orders::router()
}
