//! `/products`: thin handlers over `domain` and `db`, with cache-aside reads by id.
//!
//! Every change to a product, stock included, invalidates its cache entry after it
//! commits, with the version it wrote (or a deletion marker), so a read that raced
//! the change cannot put the older product back. `GET` and `PATCH` carry the version
//! as `ETag`; `PATCH` with `If-Match` applies only to that version.
//!
//! Reads are open; every write takes an admin token (the [`Admin`] extractor comes
//! first, so a caller without one learns nothing about the body or the product).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use service_kit::auth::Admin;
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

/// Creates a product (admin).
#[utoipa::path(
    post,
    path = "/products",
    tag = "products",
    request_body = NewProductRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "created", body = Product, headers(("ETag" = String, description = "the product's version"))),
        (status = 409, description = "another product has this sku", body = service_kit::Problem, content_type = "application/problem+json"),
    )
)]
async fn create_product(
    _admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewProductRequest>,
) -> Result<(StatusCode, ETag, ApiJson<Product>)> {
    let product = db::insert(&state.db, &NewProduct::parse(req)?).await?;
    Ok((StatusCode::CREATED, ETag(product.version), ApiJson(product)))
}

/// A product by id (open). A hit is served as the cached JSON bytes, without decoding them.
#[utoipa::path(
    get,
    path = "/products/{id}",
    tag = "products",
    params(("id" = Uuid, Path, description = "the product")),
    responses((status = 200, description = "the product", body = Product, headers(("ETag" = String, description = "the product's version"))))
)]
async fn get_product(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<Response> {
    let key = cache_key(id);
    if let Some(cached) = state.cache.get_json(&key).await {
        return Ok((ETag(cached.version), cached).into_response());
    }
    let product = db::get(&state.db, id).await?.ok_or(Error::NotFound(id))?;
    state.cache.put(&key, product.version, &product).await;
    Ok((ETag(product.version), ApiJson(product)).into_response())
}

/// The filter and page of `GET /products`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this category.
    category: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<i64>,
    /// Products to skip, 0 or more (default 0).
    offset: Option<i64>,
}

const MAX_LIMIT: i64 = 500;

/// A page of products.
#[derive(Serialize, utoipa::ToSchema)]
struct ProductPage {
    /// The products, oldest first.
    items: Vec<Product>,
    /// The page size asked for.
    limit: i64,
    /// Products skipped.
    offset: i64,
}

/// Lists products (open), optionally of one category.
#[utoipa::path(
    get,
    path = "/products",
    tag = "products",
    params(ListQuery),
    responses(
        (status = 200, description = "a page of products", body = ProductPage),
        (status = 422, description = "limit, offset or category out of range", body = service_kit::Problem, content_type = "application/problem+json"),
    )
)]
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

/// Changes a product (admin). Without `If-Match` the change applies to whatever is
/// current, as before; with it, an absolute `stock` cannot overwrite reservations made
/// since the client read.
#[utoipa::path(
    patch,
    path = "/products/{id}",
    tag = "products",
    params(
        ("id" = Uuid, Path, description = "the product"),
        ("If-Match" = Option<String>, Header, description = "apply only to this version (an `ETag`), or `*`"),
    ),
    request_body = UpdateProductRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "changed", body = Product, headers(("ETag" = String, description = "the new version"))),
        (status = 412, description = "`If-Match` names another version than the current one", body = service_kit::Problem, content_type = "application/problem+json"),
    )
)]
async fn update_product(
    _admin: Admin,
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

/// Deletes a product (admin).
#[utoipa::path(
    delete,
    path = "/products/{id}",
    tag = "products",
    params(("id" = Uuid, Path, description = "the product")),
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"))
)]
async fn delete_product(
    _admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    if !db::delete(&state.db, id).await? {
        return Err(Error::NotFound(id));
    }
    state.cache.gone(&cache_key(id)).await;
    Ok(StatusCode::NO_CONTENT)
}
