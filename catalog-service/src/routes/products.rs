//! `/products`: thin handlers over `domain` and `db`, with cache-aside reads by id.
//! Every change to a product, stock included, drops its cache entry after commit.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use service_kit::problem::{ApiPath, ApiQuery};
use service_kit::{ApiJson, Problem};
use uuid::Uuid;

use crate::db::Reserved;
use crate::domain::{
    self, NewProductRequest, Product, ReleaseRequest, Reservation, ReserveRequest, UpdateProductRequest,
};
use crate::{AppState, db};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route(
            "/products/{id}",
            get(get_product).patch(update_product).delete(delete_product),
        )
        .route("/products/{id}/reserve", post(reserve_stock))
        .route("/products/{id}/release", post(release_stock))
}

fn cache_key(id: Uuid) -> String {
    format!("catalog:v1:item:{id}")
}

fn not_found(id: Uuid) -> Problem {
    Problem::not_found(format!("product {id} does not exist"))
}

async fn create_product(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewProductRequest>,
) -> Result<(StatusCode, ApiJson<Product>), Problem> {
    let product = db::insert(&state.db, &domain::parse_new(req)?).await?;
    Ok((StatusCode::CREATED, ApiJson(product)))
}

async fn get_product(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<ApiJson<Product>, Problem> {
    if let Some(p) = state.cache.get::<Product>(&cache_key(id)).await {
        return Ok(ApiJson(p));
    }
    let product = db::get(&state.db, id).await?.ok_or_else(|| not_found(id))?;
    state.cache.put(&cache_key(id), &product).await;
    Ok(ApiJson(product))
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
) -> Result<ApiJson<ProductPage>, Problem> {
    let limit = q.limit.unwrap_or(50);
    let offset = q.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
        return Err(Problem::unprocessable(format!(
            "limit must be 1..={MAX_LIMIT} and offset at least 0"
        )));
    }
    let items = db::list(&state.db, q.category.as_deref(), limit, offset).await?;
    Ok(ApiJson(ProductPage { items, limit, offset }))
}

async fn update_product(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateProductRequest>,
) -> Result<ApiJson<Product>, Problem> {
    let product = db::update(&state.db, id, &domain::parse_change(req)?)
        .await?
        .ok_or_else(|| not_found(id))?;
    state.cache.invalidate(&cache_key(id)).await;
    Ok(ApiJson(product))
}

async fn delete_product(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, Problem> {
    if !db::delete(&state.db, id).await? {
        return Err(not_found(id));
    }
    state.cache.invalidate(&cache_key(id)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// 201 when stock was taken now, 200 when this order already held it (a retry).
async fn reserve_stock(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ReserveRequest>,
) -> Result<(StatusCode, ApiJson<Reservation>), Problem> {
    let quantity = req.quantity()?;
    match db::reserve(&state.db, id, req.order_id, quantity).await? {
        Reserved::Taken(r) => {
            state.cache.invalidate(&cache_key(id)).await;
            Ok((StatusCode::CREATED, ApiJson(r)))
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
) -> Result<ApiJson<Released>, Problem> {
    let (reservation, returned) = db::release(&state.db, id, req.order_id).await?;
    if returned > 0 {
        state.cache.invalidate(&cache_key(id)).await;
    }
    Ok(ApiJson(Released { reservation, returned }))
}
