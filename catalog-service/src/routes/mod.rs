//! HTTP routes of the catalog service.

mod products;
mod stock;

use axum::Router;

pub use products::cache_key;

use crate::AppState;

/// All resource routes; the standard ones are added by `service_kit::http::finish`.
pub fn router() -> Router<AppState> {
    products::router().merge(stock::router())
}
