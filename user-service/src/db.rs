//! SQL for users. Constraint names decide between 409 and 500.

use service_kit::Problem;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{NewUser, User, UserChange};

const EMAIL_KEY: &str = "users_email_lower_key";

fn map_err(e: sqlx::Error) -> Problem {
    match &e {
        sqlx::Error::Database(dbe) if dbe.constraint() == Some(EMAIL_KEY) => {
            Problem::conflict("a user with this email already exists")
        }
        _ => Problem::from_sqlx(&e),
    }
}

/// Stores a new user.
pub async fn insert(db: &PgPool, user: &NewUser) -> Result<User, Problem> {
    // language=PostgreSQL
    sqlx::query_as("INSERT INTO users (id, email, name) VALUES ($1, $2, $3) RETURNING *")
        .bind(Uuid::new_v4())
        .bind(&user.email)
        .bind(&user.name)
        .fetch_one(db)
        .await
        .map_err(map_err)
}

/// One user, or `None`.
pub async fn get(db: &PgPool, id: Uuid) -> Result<Option<User>, Problem> {
    // language=PostgreSQL
    sqlx::query_as("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .map_err(map_err)
}

/// A page of users in registration order.
pub async fn list(db: &PgPool, limit: i64, offset: i64) -> Result<Vec<User>, Problem> {
    // language=PostgreSQL
    sqlx::query_as("SELECT * FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2")
        .bind(limit)
        .bind(offset)
        .fetch_all(db)
        .await
        .map_err(map_err)
}

/// Outcome of a conditional change.
#[derive(Debug)]
pub enum Updated {
    /// Applied; the user as it now is.
    Done(User),
    /// No such user.
    Missing,
    /// The user is at another version than the precondition allows.
    Stale {
        /// The current version.
        current: i64,
    },
}

/// Applies a change if the user's version is one of `expected` (any version when
/// `None`). The check and the change are one statement, so no write can slip between.
pub async fn update(db: &PgPool, id: Uuid, change: &UserChange, expected: Option<&[i64]>) -> Result<Updated, Problem> {
    // language=PostgreSQL
    let updated: Option<User> = sqlx::query_as(
        "UPDATE users SET email = coalesce($2, email), name = coalesce($3, name), updated_at = now(),
             version = version + 1
         WHERE id = $1 AND ($4::bigint[] IS NULL OR version = ANY($4)) RETURNING *",
    )
    .bind(id)
    .bind(&change.email)
    .bind(&change.name)
    .bind(expected)
    .fetch_optional(db)
    .await
    .map_err(map_err)?;
    match updated {
        Some(user) => Ok(Updated::Done(user)),
        None => Ok(get(db, id)
            .await?
            .map_or(Updated::Missing, |u| Updated::Stale { current: u.version })),
    }
}

/// Deletes a user; `false` when there was none.
pub async fn delete(db: &PgPool, id: Uuid) -> Result<bool, Problem> {
    // language=PostgreSQL
    let done = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}
