//! Stock of a product: reserve and release per order (idempotent per order id, the
//! contract the order service's saga relies on), and relative restocking. Each is one
//! atomic statement under the product's row lock, so they compose instead of
//! overwriting each other; each invalidates the product's cache entry after commit.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Serialize;
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

/// 201 when stock was taken now, 200 when this order already held it (a retry).
async fn reserve_stock(
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

#[derive(Serialize)]
struct Released {
    #[serde(flatten)]
    reservation: Reservation,
    /// Units this call gave back: 0 for a repeated release.
    returned: i32,
}

async fn release_stock(
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

/// `{"delta": n}`: adds (or with a negative delta removes) units, relative to whatever
/// the stock is when the statement runs. 409 when it would go below zero, 422 above
/// the cap; nothing changes then.
async fn change_stock(
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
