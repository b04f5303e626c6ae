//! SQL for users: rows in, domain types out. Database errors become [`Error`]
//! variants by `From` (the email's unique index becomes `EmailTaken`).
//!
//! `password_hash` is written by [`insert`] and read only by [`credentials`]: a
//! [`User`] never carries it, so no response or cache entry can.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::domain::{NewUser, User, UserChange};
use crate::password::PasswordHash;

/// A row of `users`.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            email: r.email,
            name: r.name,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

/// Stores a new user with the hash of its password.
pub async fn insert(db: &PgPool, user: &NewUser, password: &PasswordHash) -> Result<User> {
    // language=PostgreSQL
    let row: UserRow = sqlx::query_as(
        "INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)
         RETURNING id, email, name, created_at, updated_at, version",
    )
    .bind(Uuid::new_v4())
    .bind(&user.email)
    .bind(&user.name)
    .bind(password.as_str())
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

/// The id and stored password hash of the user with `email` (regardless of case, as
/// the unique index compares it); the hash is `None` for a user without a password.
pub async fn credentials(db: &PgPool, email: &str) -> Result<Option<(Uuid, Option<String>)>> {
    // language=PostgreSQL
    let row = sqlx::query_as("SELECT id, password_hash FROM users WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_optional(db)
        .await?;
    Ok(row)
}

/// One user, or `None`.
pub async fn get(db: &PgPool, id: Uuid) -> Result<Option<User>> {
    // language=PostgreSQL
    let row: Option<UserRow> =
        sqlx::query_as("SELECT id, email, name, created_at, updated_at, version FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(User::from))
}

/// A page of users in registration order.
pub async fn list(db: &PgPool, limit: i64, offset: i64) -> Result<Vec<User>> {
    // language=PostgreSQL
    let rows: Vec<UserRow> = sqlx::query_as(
        "SELECT id, email, name, created_at, updated_at, version FROM users
         ORDER BY created_at, id LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(User::from).collect())
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
pub async fn update(db: &PgPool, id: Uuid, change: &UserChange, expected: Option<&[i64]>) -> Result<Updated> {
    // language=PostgreSQL
    let updated: Option<UserRow> = sqlx::query_as(
        "UPDATE users SET email = coalesce($2, email), name = coalesce($3, name), updated_at = now(),
             version = version + 1
         WHERE id = $1 AND ($4::bigint[] IS NULL OR version = ANY($4))
         RETURNING id, email, name, created_at, updated_at, version",
    )
    .bind(id)
    .bind(&change.email)
    .bind(&change.name)
    .bind(expected)
    .fetch_optional(db)
    .await?;
    match updated {
        Some(row) => Ok(Updated::Done(row.into())),
        None => Ok(get(db, id)
            .await?
            .map_or(Updated::Missing, |u| Updated::Stale { current: u.version })),
    }
}

/// Deletes a user; `false` when there was none.
pub async fn delete(db: &PgPool, id: Uuid) -> Result<bool> {
    // language=PostgreSQL
    let done = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
