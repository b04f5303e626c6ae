//! HTTP routes of the catalog service, and their contract at `/openapi.json`.

mod products;
mod stock;

use axum::Router;
use utoipa::OpenApi as _;

pub use products::cache_key;

use crate::AppState;

/// All resource routes; the standard ones are added by `service_kit::http::finish`.
pub fn router() -> Router<AppState> {
    products::router().merge(stock::router())
}

/// The catalog's own operations; [`openapi`] adds what every service shares.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "catalog-service", description = "Products and stock of the demo shop"),
    paths(
        products::list_products,
        products::create_product,
        products::get_product,
        products::update_product,
        products::delete_product,
        stock::reserve_stock,
        stock::release_stock,
        stock::change_stock,
    ),
    tags(
        (name = "products", description = "Reads are open; writes take an admin token"),
        (name = "stock", description = "Reserve and release take the order service's token; restocking an admin's"),
    )
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
