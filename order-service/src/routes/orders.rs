//! `/orders`: thin handlers over `create` and `db`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use service_kit::problem::{ApiPath, ApiQuery};
use service_kit::{ApiJson, Problem};
use uuid::Uuid;

use crate::create::{Rejected, create_order};
use crate::db;
use crate::domain::{IdempotencyKey, NewOrder, NewOrderRequest, Order};
use crate::state::AppState;

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
) -> Response {
    match place_order(&state, &headers, req).await {
        Ok((status, out, order)) => (status, out, ApiJson(order)).into_response(),
        Err(Rejected { problem, order_id }) => {
            let mut resp = problem.into_response();
            if let Some(location) = order_id.and_then(|id| HeaderValue::try_from(format!("/orders/{id}")).ok()) {
                resp.headers_mut().insert(header::LOCATION, location);
            }
            resp
        }
    }
}

async fn place_order(
    state: &AppState,
    headers: &HeaderMap,
    req: NewOrderRequest,
) -> Result<(StatusCode, HeaderMap, Order), Rejected> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        Some(v) => Some(IdempotencyKey::parse(
            v.to_str().map_err(|_| Problem::bad_request("bad Idempotency-Key"))?,
        )?),
        None => None,
    };
    let rid = service_kit::http::request_id(headers);
    let created = create_order(state, NewOrder::parse(req)?, key, rid).await?;
    let mut out = HeaderMap::new();
    if created.replayed {
        out.insert(REPLAYED, HeaderValue::from_static("true"));
        return Ok((StatusCode::OK, out, created.order));
    }
    tracing::info!(order.id = %created.order.id, "order created");
    Ok((StatusCode::CREATED, out, created.order))
}

async fn get_order(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<ApiJson<Order>, Problem> {
    let order = db::get_order(&state.db, id).await?;
    order
        .map(ApiJson)
        .ok_or_else(|| Problem::not_found(format!("order {id} does not exist")))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    user_id: Option<Uuid>,
    limit: Option<i64>,
}

const MAX_LIMIT: i64 = 200;

async fn list_orders(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<ApiJson<Vec<Order>>, Problem> {
    let user_id = q
        .user_id
        .ok_or_else(|| Problem::unprocessable("the `user_id` query parameter is required"))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::unprocessable(format!("limit must be 1..={MAX_LIMIT}")));
    }
    Ok(ApiJson(db::orders_of_user(&state.db, user_id, limit).await?))
}
