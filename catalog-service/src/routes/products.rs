//! `/products`: thin handlers over `domain` and `db`, with cache-aside reads by id.
//!
//! Every change to a product, stock included, invalidates its cache entry after it
//! commits, with the version it wrote (or a deletion marker), so a read that raced
//! the change cannot put the older product back. `GET` and `PATCH` carry the version
//! as `ETag`; `PATCH` with `If-Match` applies only to that version.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use service_kit::conditional::{ETag, Precondition};
use service_kit::problem::{ApiPath, ApiQuery};
use service_kit::{ApiJson, Invalid};
use uuid::Uuid;

use crate::db::Updated;
use crate::domain::{self, NewProduct, NewProductRequest, Product, ProductChange, UpdateProductRequest};
use crate::{AppState, Error, Result, db};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route(
            "/products/{id}",
            get(get_product).patch(update_product).delete(delete_product),
        )
}

/// The cache key of a product.
pub fn cache_key(id: Uuid) -> String {
    service_kit::keys::cache_key("product", id)
}

async fn create_product(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewProductRequest>,
) -> Result<(StatusCode, ETag, ApiJson<Product>)> {
    let product = db::insert(&state.db, &NewProduct::parse(req)?).await?;
    Ok((StatusCode::CREATED, ETag(product.version), ApiJson(product)))
}

/// A hit is served as the cached JSON bytes, without decoding them.
async fn get_product(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<Response> {
    let key = cache_key(id);
    if let Some(cached) = state.cache.get_json(&key).await {
        return Ok((ETag(cached.version), cached).into_response());
    }
    let product = db::get(&state.db, id).await?.ok_or(Error::NotFound(id))?;
    state.cache.put(&key, product.version, &product).await;
    Ok((ETag(product.version), ApiJson(product)).into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    category: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

const MAX_LIMIT: i64 = 500;

#[derive(Serialize)]
struct ProductPage {
    items: Vec<Product>,
    limit: i64,
    offset: i64,
}

async fn list_products(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<ApiJson<ProductPage>> {
    let limit = q.limit.unwrap_or(50);
    let offset = q.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
        return Err(Invalid::new(format!("limit must be 1..={MAX_LIMIT} and offset at least 0")).into());
    }
    let category = domain::parse_category_filter(q.category.as_deref())?;
    let items = db::list(&state.db, category, limit, offset).await?;
    Ok(ApiJson(ProductPage { items, limit, offset }))
}

/// Without `If-Match` the change applies to whatever is current, as before; with it,
/// an absolute `stock` cannot overwrite reservations made since the client read.
async fn update_product(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    Precondition(if_match): Precondition,
    ApiJson(req): ApiJson<UpdateProductRequest>,
) -> Result<(ETag, ApiJson<Product>)> {
    let change = ProductChange::parse(req)?;
    let expected = if_match.as_ref().and_then(|m| m.versions());
    match db::update(&state.db, id, &change, expected).await? {
        Updated::Done(product) => {
            state.cache.invalidate(&cache_key(id), product.version).await;
            Ok((ETag(product.version), ApiJson(product)))
        }
        Updated::Missing => Err(Error::NotFound(id)),
        Updated::Stale { current } => Err(Error::Stale { id, current }),
    }
}

async fn delete_product(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode> {
    if !db::delete(&state.db, id).await? {
        return Err(Error::NotFound(id));
    }
    state.cache.gone(&cache_key(id)).await;
    Ok(StatusCode::NO_CONTENT)
}
