//! `/users`: thin handlers over `domain` and `db`, with cache-aside reads by id.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use service_kit::problem::{ApiPath, ApiQuery};
use service_kit::{ApiJson, Problem};
use uuid::Uuid;

use crate::domain::{NewUser, NewUserRequest, UpdateUserRequest, User, UserChange};
use crate::{AppState, db};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).patch(update_user).delete(delete_user))
}

fn cache_key(id: Uuid) -> String {
    format!("user:v1:{id}")
}

fn not_found(id: Uuid) -> Problem {
    Problem::not_found(format!("user {id} does not exist"))
}

async fn create_user(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, ApiJson<User>), Problem> {
    let user = db::insert(&state.db, &NewUser::parse(req)?).await?;
    tracing::info!(user.id = %user.id, "user registered");
    Ok((StatusCode::CREATED, ApiJson(user)))
}

async fn get_user(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<ApiJson<User>, Problem> {
    if let Some(user) = state.cache.get::<User>(&cache_key(id)).await {
        return Ok(ApiJson(user));
    }
    let user = db::get(&state.db, id).await?.ok_or_else(|| not_found(id))?;
    state.cache.put(&cache_key(id), &user).await;
    Ok(ApiJson(user))
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

async fn list_users(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<ApiJson<UserPage>, Problem> {
    let limit = page.limit.unwrap_or(50);
    let offset = page.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
        return Err(Problem::unprocessable(format!(
            "limit must be 1..={MAX_LIMIT} and offset at least 0"
        )));
    }
    let items = db::list(&state.db, limit, offset).await?;
    Ok(ApiJson(UserPage { items, limit, offset }))
}

async fn update_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<ApiJson<User>, Problem> {
    let user = db::update(&state.db, id, &UserChange::parse(req)?)
        .await?
        .ok_or_else(|| not_found(id))?;
    state.cache.invalidate(&cache_key(id)).await;
    Ok(ApiJson(user))
}

async fn delete_user(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, Problem> {
    if !db::delete(&state.db, id).await? {
        return Err(not_found(id));
    }
    state.cache.invalidate(&cache_key(id)).await;
    Ok(StatusCode::NO_CONTENT)
}
