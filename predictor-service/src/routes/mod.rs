//! HTTP routes of the predictor; the standard ones (`/health`, `/ready`, `/metrics`) are
//! added by `service_kit::http::finish`.

mod forecast;
mod models;
mod predict;

use axum::Router;

use crate::state::AppState;

/// All resource routes.
pub fn router() -> Router<AppState> {
    predict::router().merge(models::router()).merge(forecast::router())
}
