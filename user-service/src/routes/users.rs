//! `/users`: thin handlers over `domain` and `db`, with cache-aside reads by id.
//!
//! Every write invalidates the cache after it commits, with the version it wrote (or
//! a deletion marker), so a read that raced the write cannot put the older user back:
//! after `DELETE` answers, `GET` answers 404 on this replica at once, and on the others
//! as soon as the invalidation announced through Redis reaches their in-process layer
//! (milliseconds; see `service_kit::cache`). `GET` and `PATCH` carry
//! the user's version as `ETag`; `PATCH` with `If-Match` applies only to that version.

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
use crate::domain::{NewUser, NewUserRequest, UpdateUserRequest, User, UserChange};
use crate::{AppState, Error, Result, db};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).patch(update_user).delete(delete_user))
}

/// The cache key of a user.
pub fn cache_key(id: Uuid) -> String {
    service_kit::keys::cache_key("user", id)
}

async fn create_user(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, ETag, ApiJson<User>)> {
    let user = db::insert(&state.db, &NewUser::parse(req)?).await?;
    tracing::info!(user.id = %user.id, "user registered");
    Ok((StatusCode::CREATED, ETag(user.version), ApiJson(user)))
}

/// A hit is served as the cached JSON bytes, without decoding them.
async fn get_user(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<Response> {
    let key = cache_key(id);
    if let Some(cached) = state.cache.get_json(&key).await {
        return Ok((ETag(cached.version), cached).into_response());
    }
    let user = db::get(&state.db, id).await?.ok_or(Error::NotFound(id))?;
    state.cache.put(&key, user.version, &user).await;
    Ok((ETag(user.version), ApiJson(user)).into_response())
}

/// Paging parameters; the cap keeps one request from reading the whole table.
#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
}

const MAX_LIMIT: i64 = 500;

#[derive(Serialize)]
struct UserPage {
    items: Vec<User>,
    limit: i64,
    offset: i64,
}

async fn list_users(State(state): State<AppState>, ApiQuery(page): ApiQuery<Page>) -> Result<ApiJson<UserPage>> {
    let limit = page.limit.unwrap_or(50);
    let offset = page.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
        return Err(Invalid::new(format!("limit must be 1..={MAX_LIMIT} and offset at least 0")).into());
    }
    let items = db::list(&state.db, limit, offset).await?;
    Ok(ApiJson(UserPage { items, limit, offset }))
}

/// Without `If-Match` the change applies to whatever is current, as before.
async fn update_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    Precondition(if_match): Precondition,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<(ETag, ApiJson<User>)> {
    let change = UserChange::parse(req)?;
    let expected = if_match.as_ref().and_then(|m| m.versions());
    match db::update(&state.db, id, &change, expected).await? {
        Updated::Done(user) => {
            state.cache.invalidate(&cache_key(id), user.version).await;
            Ok((ETag(user.version), ApiJson(user)))
        }
        Updated::Missing => Err(Error::NotFound(id)),
        Updated::Stale { current } => Err(Error::Stale { id, current }),
    }
}

async fn delete_user(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode> {
    if !db::delete(&state.db, id).await? {
        return Err(Error::NotFound(id));
    }
    state.cache.gone(&cache_key(id)).await;
    Ok(StatusCode::NO_CONTENT)
}
