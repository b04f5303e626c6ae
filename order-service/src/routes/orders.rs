//! `/orders`: thin handlers over `create` and `db`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::routing::get;
use serde::Deserialize;
use service_kit::problem::{ApiPath, ApiQuery};
use service_kit::{ApiJson, Invalid};
use uuid::Uuid;

use crate::create::create_order;
use crate::db;
use crate::domain::{IdempotencyKey, NewOrder, NewOrderRequest, Order};
use crate::state::AppState;
use crate::{Error, Result};

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_orders).post(post_order))
        .route("/orders/{id}", get(get_order))
}

/// 201 for a new order; 200 with `Idempotent-Replayed: true` for a repeated key. A
/// refused order that was stored (failed) is a problem with `Location` naming it.
async fn post_order(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewOrderRequest>,
) -> Result<(StatusCode, HeaderMap, ApiJson<Order>)> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        Some(v) => Some(IdempotencyKey::parse(v.to_str().map_err(|_| Error::KeyNotAscii)?)?),
        None => None,
    };
    let rid = service_kit::http::request_id(&headers);
    let created = create_order(&state, NewOrder::parse(req)?, key, rid).await?;
    let mut out = HeaderMap::new();
    if created.replayed {
        out.insert(REPLAYED, HeaderValue::from_static("true"));
        return Ok((StatusCode::OK, out, ApiJson(created.order)));
    }
    tracing::info!(order.id = %created.order.id, "order created");
    Ok((StatusCode::CREATED, out, ApiJson(created.order)))
}

async fn get_order(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<ApiJson<Order>> {
    let order = db::get_order(&state.db, id).await?;
    order.map(ApiJson).ok_or(Error::NotFound(id))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    user_id: Option<Uuid>,
    limit: Option<i64>,
}

const MAX_LIMIT: i64 = 200;

async fn list_orders(State(state): State<AppState>, ApiQuery(q): ApiQuery<ListQuery>) -> Result<ApiJson<Vec<Order>>> {
    let user_id = q
        .user_id
        .ok_or_else(|| Invalid::new("the `user_id` query parameter is required"))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Invalid::new(format!("limit must be 1..={MAX_LIMIT}")).into());
    }
    Ok(ApiJson(db::orders_of_user(&state.db, user_id, limit).await?))
}
