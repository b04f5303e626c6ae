//! HTTP routes of the predictor; the standard ones (`/health`, `/ready`, `/metrics`) are
//! added by `service_kit::http::finish`.
//!
//! Body limits: only `POST /forecast` reads a body, and sets its own (4 MiB, for 100,000
//! values). The others read none (the GETs, and the retrain `POST`, whose request is its
//! path): axum applies a limit only where a body is read, so the shared one of `finish`
//! (`--body-limit-bytes`, 64 KiB) is all they need, and a route that comes to read a body
//! gets it unless it sets its own.

mod forecast;
mod models;
mod predict;

use axum::Router;

use crate::state::AppState;

/// All resource routes.
pub fn router() -> Router<AppState> {
    predict::router().merge(models::router()).merge(forecast::router())
}
