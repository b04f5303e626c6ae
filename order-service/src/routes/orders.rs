//! `/orders`: thin handlers over `create` and `db`.
//!
//! Every route takes a customer's or an admin's token ([`Person`]); the service token
//! that this service signs for the catalog is refused here (403). A customer orders
//! and lists for themselves only (403 otherwise), and reads only their own orders:
//! another customer's order is a 404, as if it did not exist, so that ids cannot be
//! probed. An admin may do all of it for anyone.

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use serde::Deserialize;
use service_kit::auth::{AuthError, Caller, Role};
use service_kit::problem::{ApiPath, ApiQuery};
use service_kit::{ApiJson, Invalid, Problem};
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

/// A caller with a customer's or an admin's token (401 without a valid token, 403 for
/// a service's).
#[derive(Debug)]
pub(crate) struct Person(Caller);

impl<S: Send + Sync> FromRequestParts<S> for Person {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.role() == Role::Service {
            let refused = AuthError::Forbidden("a service token may not use the order routes".into());
            return Err(refused.into_response());
        }
        Ok(Self(caller))
    }
}

/// Places an order, for the caller themself (a customer) or for anyone (an admin).
/// 201 for a new order; 200 with `Idempotent-Replayed: true` for a repeated key. A
/// refused order that was stored (failed) is a problem with `Location` naming it.
#[utoipa::path(
    post,
    path = "/orders",
    tag = "orders",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters: a retry with the same key and body answers with the same order"),
    ),
    request_body = NewOrderRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "placed: every line reserved, queued for the worker", body = Order),
        (status = 200, description = "the order an earlier request with this key placed", body = Order,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "a malformed body or `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "a customer ordering for another user, or a service token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "too little stock (the failed order is at `Location`), or a request with this key still in progress", body = Problem, content_type = "application/problem+json",
            headers(("Location" = String, description = "the stored, failed order"))),
        (status = 422, description = "invalid order, unknown user or product, or a key used for another order", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "user-service or the catalog unavailable (a stored order is at `Location`)", body = Problem, content_type = "application/problem+json",
            headers(("Location" = String, description = "the stored order, when there is one"))),
    )
)]
async fn post_order(
    Person(caller): Person,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewOrderRequest>,
) -> Result<(StatusCode, HeaderMap, ApiJson<Order>)> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        Some(v) => Some(IdempotencyKey::parse(v.to_str().map_err(|_| Error::KeyNotAscii)?)?),
        None => None,
    };
    let order = NewOrder::parse(req)?;
    // Before the key is looked up: a replay must not show another user's order.
    if !caller.may_act_for(order.user_id) {
        return Err(AuthError::Forbidden(format!(
            "a customer may order only for themselves, not for user {}",
            order.user_id
        ))
        .into());
    }
    let rid = service_kit::http::request_id(&headers);
    let authorization = headers.get(header::AUTHORIZATION).cloned();
    let created = create_order(&state, order, key, authorization, rid).await?;
    let mut out = HeaderMap::new();
    if created.replayed {
        out.insert(REPLAYED, HeaderValue::from_static("true"));
        return Ok((StatusCode::OK, out, ApiJson(created.order)));
    }
    tracing::info!(order.id = %created.order.id, "order created");
    Ok((StatusCode::CREATED, out, ApiJson(created.order)))
}

/// An order with its lines: the owner's, or any for an admin (another customer's is a
/// 404, as if it did not exist).
#[utoipa::path(
    get,
    path = "/orders/{id}",
    tag = "orders",
    params(("id" = Uuid, Path, description = "the order")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the order", body = Order),
        (status = 404, description = "no such order, or another customer's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_order(
    Person(caller): Person,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<Order>> {
    match db::get_order(&state.db, id).await? {
        Some(order) if caller.may_act_for(order.user_id) => Ok(ApiJson(order)),
        _ => Err(Error::NotFound(id)),
    }
}

/// Whose orders to list, and how many.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// The user; a customer may leave it out (their own) or name themself, an admin
    /// must name one.
    user_id: Option<Uuid>,
    /// Most orders returned, 1 to 200 (default 50).
    limit: Option<i64>,
}

const MAX_LIMIT: i64 = 200;

/// A user's orders, newest first: a customer's own, or anyone's for an admin.
#[utoipa::path(
    get,
    path = "/orders",
    tag = "orders",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the user's orders", body = Vec<Order>),
        (status = 403, description = "a customer naming another user, or a service token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit out of range, or an admin naming no user", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_orders(
    Person(caller): Person,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<ApiJson<Vec<Order>>> {
    let user_id = match (q.user_id, caller.user_id()) {
        (Some(asked), _) if caller.may_act_for(asked) => asked,
        (Some(asked), _) => {
            return Err(AuthError::Forbidden(format!(
                "a customer may list only their own orders, not those of user {asked}"
            ))
            .into());
        }
        (None, Some(own)) => own,
        (None, None) => return Err(Invalid::new("the `user_id` query parameter is required").into()),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Invalid::new(format!("limit must be 1..={MAX_LIMIT}")).into());
    }
    Ok(ApiJson(db::orders_of_user(&state.db, user_id, limit).await?))
}
