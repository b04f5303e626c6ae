//! HTTP routes of the order service, and their contract at `/openapi.json`.

mod orders;

use axum::Router;
use utoipa::OpenApi as _;

use crate::state::AppState;

/// All resource routes; the standard ones are added by `service_kit::http::finish`.
pub fn router() -> Router<AppState> {
    orders::router()
}

/// The order service's own operations; [`openapi`] adds what every service shares.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "order-service", description = "Orders of the demo shop"),
    paths(orders::post_order, orders::list_orders, orders::get_order),
    tags((name = "orders", description = "A customer's own orders, or anyone's for an admin; never a service's"))
)]
pub struct ApiDoc;

/// The whole contract, as served at `/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    service_kit::openapi::document(ApiDoc::openapi())
}

/// The route serving [`document`].
pub fn openapi() -> Router {
    service_kit::openapi::route(&document())
}
