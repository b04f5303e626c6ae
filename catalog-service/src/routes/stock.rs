//! Stock of a product: reserve and release per order (idempotent per order id, the
//! contract the order service's saga relies on), and relative restocking. Each is one
//! atomic statement under the product's row lock, so they compose instead of
//! overwriting each other; each invalidates the product's cache entry after commit.
//!
//! Reserve and release take a service token (the order service's own): neither a
//! customer nor an admin holds stock for an order. Restocking takes an admin token.

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use serde::Serialize;
use service_kit::auth::{Admin, Caller, Role};
use service_kit::conditional::ETag;
use service_kit::problem::ApiPath;
use service_kit::{ApiJson, Invalid};
use uuid::Uuid;

use super::products::cache_key;
use crate::db::{Reserved, Restocked};
use crate::domain::{MAX_STOCK, Product, ReleaseRequest, Reservation, ReserveRequest, StockChangeRequest};
use crate::{AppState, Error, Result, db};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/reserve", post(reserve_stock))
        .route("/products/{id}/release", post(release_stock))
        .route("/products/{id}/stock", post(change_stock))
}

/// A caller with a service token (403 for any other valid token), as [`Admin`] is
/// for admins.
#[derive(Debug)]
pub(crate) struct Service;

impl<S: Send + Sync> FromRequestParts<S> for Service {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(Role::Service).map_err(|e| e.into_response())?;
        Ok(Self)
    }
}

/// Reserves stock for an order (service token). 201 when stock was taken now, 200 when
/// this order already held it (a retry).
#[utoipa::path(
    post,
    path = "/products/{id}/reserve",
    tag = "stock",
    params(("id" = Uuid, Path, description = "the product")),
    request_body = ReserveRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "stock taken for the order", body = Reservation),
        (status = 200, description = "the order already held it (a retry)", body = Reservation),
        (status = 409, description = "too little stock, the order released it already, or holds another quantity", body = service_kit::Problem, content_type = "application/problem+json"),
    )
)]
async fn reserve_stock(
    _service: Service,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ReserveRequest>,
) -> Result<(StatusCode, ApiJson<Reservation>)> {
    let quantity = req.quantity()?;
    match db::reserve(&state.db, id, req.order_id, quantity).await? {
        Reserved::Taken {
            reservation,
            product_version,
        } => {
            state.cache.invalidate(&cache_key(id), product_version).await;
            Ok((StatusCode::CREATED, ApiJson(reservation)))
        }
        Reserved::AlreadyHeld(r) => Ok((StatusCode::OK, ApiJson(r))),
    }
}

/// What a release did: the reservation as it now is, and what this call gave back.
#[derive(Serialize, utoipa::ToSchema)]
struct Released {
    #[serde(flatten)]
    reservation: Reservation,
    /// Units this call gave back: 0 for a repeated release.
    returned: i32,
}

/// Gives back what an order holds of a product (service token; idempotent).
#[utoipa::path(
    post,
    path = "/products/{id}/release",
    tag = "stock",
    params(("id" = Uuid, Path, description = "the product")),
    request_body = ReleaseRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "released (again)", body = Released))
)]
async fn release_stock(
    _service: Service,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ReleaseRequest>,
) -> Result<ApiJson<Released>> {
    let released = db::release(&state.db, id, req.order_id).await?;
    if let Some(version) = released.product_version {
        state.cache.invalidate(&cache_key(id), version).await;
    }
    Ok(ApiJson(Released {
        reservation: released.reservation,
        returned: released.returned,
    }))
}

/// `{"delta": n}` (admin): adds (or with a negative delta removes) units, relative to
/// whatever the stock is when the statement runs. 409 when it would go below zero, 422
/// above the cap; nothing changes then.
#[utoipa::path(
    post,
    path = "/products/{id}/stock",
    tag = "stock",
    params(("id" = Uuid, Path, description = "the product")),
    request_body = StockChangeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the product with its new stock", body = Product, headers(("ETag" = String, description = "the new version"))),
        (status = 409, description = "the stock would go below zero", body = service_kit::Problem, content_type = "application/problem+json"),
    )
)]
async fn change_stock(
    _admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<StockChangeRequest>,
) -> Result<(ETag, ApiJson<Product>)> {
    let delta = req.delta()?;
    match db::add_stock(&state.db, id, delta, MAX_STOCK).await? {
        Restocked::Done(product) => {
            state.cache.invalidate(&cache_key(id), product.version).await;
            Ok((ETag(product.version), ApiJson(product)))
        }
        Restocked::Missing => Err(Error::NotFound(id)),
        Restocked::OutOfRange { stock } if delta < 0 => Err(Error::CannotRemove {
            id,
            remove: delta.unsigned_abs(),
            stock,
        }),
        Restocked::OutOfRange { stock } => Err(Invalid::new(format!(
            "adding {delta} units to product {id} would exceed the largest stock, {MAX_STOCK} ({stock} in stock)"
        ))
        .with_error("delta", format!("at most {}", MAX_STOCK - i64::from(stock)))
        .into()),
    }
}
