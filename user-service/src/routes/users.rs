//! `/users`: thin handlers over `domain` and `db`, with cache-aside reads by id.
//!
//! Every write invalidates the cache after it commits, with the version it wrote (or
//! a deletion marker), so a read that raced the write cannot put the older user back:
//! after `DELETE` answers, `GET` answers 404 on this replica at once, and on the others
//! as soon as the invalidation announced through Redis reaches their in-process layer
//! (milliseconds; see `service_kit::cache`). `GET` and `PATCH` carry
//! the user's version as `ETag`; `PATCH` with `If-Match` applies only to that version.
//!
//! Who may do what: registering is open; listing is for admins; a user is read,
//! changed and deleted by themself or an admin. Another customer gets 404, as if the
//! user did not exist, so that ids cannot be probed; a service token gets 403. The
//! check comes before the cache, so a cached user is guarded as a stored one.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use service_kit::auth::{Admin, AuthError, Caller, Role};
use service_kit::conditional::{ETag, Precondition};
use service_kit::problem::{ApiPath, ApiQuery};
use service_kit::{ApiJson, Invalid, Problem};
use uuid::Uuid;

use crate::db::Updated;
use crate::domain::{NewUser, NewUserRequest, UpdateUserRequest, User, UserChange};
use crate::{AppState, Error, Result, db, password};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).patch(update_user).delete(delete_user))
}

/// The cache key of a user.
pub fn cache_key(id: Uuid) -> String {
    service_kit::keys::cache_key("user", id)
}

/// The user themself or an admin; see the module's comment.
fn authorize(caller: &Caller, id: Uuid) -> Result<()> {
    if caller.role() == Role::Service {
        return Err(AuthError::Forbidden("a service token may not act on users".into()).into());
    }
    if caller.may_act_for(id) {
        Ok(())
    } else {
        Err(Error::NotFound(id))
    }
}

/// Register a user (open): the password is stored as a hash and never returned.
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "registered", body = User,
            headers(("ETag" = String, description = "the user's version"))),
        (status = 409, description = "the email is registered already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn create_user(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, ETag, ApiJson<User>)> {
    let new = NewUser::parse(req)?;
    let hash = password::hash(new.password.clone()).await?;
    let user = db::insert(&state.db, &new, &hash).await?;
    tracing::info!(user.id = %user.id, "user registered");
    Ok((StatusCode::CREATED, ETag(user.version), ApiJson(user)))
}

/// Read a user: the user themself or an admin. A cache hit is served as the cached
/// JSON bytes, without decoding them.
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "the user's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the user", body = User,
            headers(("ETag" = String, description = "the user's version"))),
        (status = 404, description = "no such user, or another customer's", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn get_user(caller: Caller, State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<Response> {
    authorize(&caller, id)?;
    let key = cache_key(id);
    if let Some(cached) = state.cache.get_json(&key).await {
        return Ok((ETag(cached.version), cached).into_response());
    }
    let user = db::get(&state.db, id).await?.ok_or(Error::NotFound(id))?;
    state.cache.put(&key, user.version, &user).await;
    Ok((ETag(user.version), ApiJson(user)).into_response())
}

/// Paging parameters; the cap keeps one request from reading the whole table.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// Users per page, 1 to 500 (50 when absent).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Users to skip (0 when absent).
    #[param(minimum = 0)]
    offset: Option<i64>,
}

const MAX_LIMIT: i64 = 500;

/// A page of users.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct UserPage {
    /// The users, in registration order.
    items: Vec<User>,
    /// The page size asked for.
    limit: i64,
    /// Users skipped.
    offset: i64,
}

/// List users in registration order (admin).
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    params(Page),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "a page of users", body = UserPage),
        (status = 422, description = "limit or offset out of range", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn list_users(
    _admin: Admin,
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<ApiJson<UserPage>> {
    let limit = page.limit.unwrap_or(50);
    let offset = page.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
        return Err(Invalid::new(format!("limit must be 1..={MAX_LIMIT} and offset at least 0")).into());
    }
    let items = db::list(&state.db, limit, offset).await?;
    Ok(ApiJson(UserPage { items, limit, offset }))
}

/// Change a user's email or name: the user themself or an admin. With `If-Match` the
/// change applies only to that version; without, to whatever is current.
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "users",
    params(
        ("id" = Uuid, Path, description = "the user's id"),
        ("If-Match" = Option<String>, Header, description = "apply only to this version (`\"3\"`, or `*`)"),
    ),
    request_body = UpdateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "changed", body = User,
            headers(("ETag" = String, description = "the user's new version"))),
        (status = 404, description = "no such user, or another customer's", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "the email is registered already", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "the user is at another version than `If-Match`", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn update_user(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    Precondition(if_match): Precondition,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<(ETag, ApiJson<User>)> {
    authorize(&caller, id)?;
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

/// Delete a user: the user themself or an admin.
#[utoipa::path(
    delete,
    path = "/users/{id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "the user's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 404, description = "no such user, or another customer's", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn delete_user(caller: Caller, State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode> {
    authorize(&caller, id)?;
    if !db::delete(&state.db, id).await? {
        return Err(Error::NotFound(id));
    }
    state.cache.gone(&cache_key(id)).await;
    Ok(StatusCode::NO_CONTENT)
}
