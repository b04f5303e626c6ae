//! SQL of the order saga and its reconciler. Every transition is one conditional
//! statement on the state it leaves, so that the request's saga task and any number
//! of reconciler replicas can race on the same order and still move it once: out of
//! `reserving` to either `pending` or `failed`, never both, and a failed order's
//! `stock_released_at` only once every line is released. `updated_at` is the saga's
//! heartbeat (bumped at every step) and the reconciler's lease (bumped when it takes
//! an order, under `FOR UPDATE SKIP LOCKED`, so two replicas never take the same one).

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::domain::{FailureKind, NewOrder};

/// A line of an order as the saga sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Line {
    /// Product.
    pub product_id: Uuid,
    /// Units.
    pub quantity: i32,
    /// Position in the request (NULL for lines stored before the saga existed).
    pub line_no: Option<i32>,
    /// `to_reserve`, `reserved` or `released`.
    pub state: String,
    /// Known once reserved.
    pub unit_price_cents: Option<i64>,
}

/// Whether the order was stored, or the idempotency key already has one.
#[derive(Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Stored, status `reserving`, every line `to_reserve`.
    Created,
    /// The key belongs to another order; nothing was stored.
    KeyTaken,
}

/// Stores the order (`reserving`) with its lines, and claims the idempotency key
/// (key, fingerprint), in one transaction: a key never exists without its order.
#[tracing::instrument(skip_all, fields(order.id = %id))]
pub async fn insert_reserving(db: &PgPool, id: Uuid, order: &NewOrder, key: Option<(&str, &str)>) -> Result<Inserted> {
    let mut tx = db.begin().await?;
    // language=PostgreSQL
    sqlx::query("INSERT INTO orders (id, user_id, status, total_cents) VALUES ($1, $2, 'reserving', 0)")
        .bind(id)
        .bind(order.user_id)
        .execute(&mut *tx)
        .await?;
    if let Some((key, fingerprint)) = key {
        // A concurrent duplicate waits here on the key's index entry until this
        // transaction ends, then sees the conflict: one order per key.
        // language=PostgreSQL
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (key, order_id, fingerprint) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(id)
        .bind(fingerprint)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(Inserted::KeyTaken);
        }
    }
    let products: Vec<Uuid> = order.items.iter().map(|(p, _)| *p).collect();
    let quantities: Vec<i32> = order.items.iter().map(|(_, q)| *q).collect();
    // language=PostgreSQL
    sqlx::query(
        "INSERT INTO order_items (order_id, product_id, quantity, line_no, state)
         SELECT $1, product_id, quantity, (ord - 1)::integer, 'to_reserve'
         FROM unnest($2::uuid[], $3::integer[]) WITH ORDINALITY AS l (product_id, quantity, ord)",
    )
    .bind(id)
    .bind(&products)
    .bind(&quantities)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Inserted::Created)
}

/// The order's lines in request order.
pub async fn lines(db: &PgPool, id: Uuid) -> Result<Vec<Line>> {
    // language=PostgreSQL
    sqlx::query_as(
        "SELECT product_id, quantity, line_no, state, unit_price_cents FROM order_items
         WHERE order_id = $1 ORDER BY line_no NULLS LAST, product_id",
    )
    .bind(id)
    .fetch_all(db)
    .await
    .map_err(Into::into)
}

/// The order's status, or `None` when there is no such order.
pub async fn status(db: &PgPool, id: Uuid) -> Result<Option<String>> {
    // language=PostgreSQL
    sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .map_err(Into::into)
}

/// Records a reservation the catalog made, and beats the saga's heartbeat; returns
/// whether the order is still `reserving` (if not, someone else settled it: stop).
pub async fn mark_reserved(db: &PgPool, id: Uuid, product_id: Uuid, unit_price_cents: i64) -> Result<bool> {
    // language=PostgreSQL
    let still: Option<Uuid> = sqlx::query_scalar(
        "WITH line AS (
             UPDATE order_items SET state = 'reserved', unit_price_cents = $3
             WHERE order_id = $1 AND product_id = $2 AND state = 'to_reserve')
         UPDATE orders SET updated_at = now() WHERE id = $1 AND status = 'reserving' RETURNING id",
    )
    .bind(id)
    .bind(product_id)
    .bind(unit_price_cents)
    .fetch_optional(db)
    .await?;
    Ok(still.is_some())
}

/// `reserving` to `pending` with its total, only if every line is reserved.
pub async fn settle_pending(db: &PgPool, id: Uuid, total_cents: i64) -> Result<bool> {
    // language=PostgreSQL
    let done = sqlx::query(
        "UPDATE orders SET status = 'pending', total_cents = $2, updated_at = now()
         WHERE id = $1 AND status = 'reserving'
           AND NOT EXISTS (SELECT 1 FROM order_items WHERE order_id = $1 AND state <> 'reserved')",
    )
    .bind(id)
    .bind(total_cents)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// `reserving` to `failed`, with why; its lines are then released. `false` when it
/// had already left `reserving`.
pub async fn fail(db: &PgPool, id: Uuid, kind: FailureKind, reason: &str) -> Result<bool> {
    // language=PostgreSQL
    let done = sqlx::query(
        "UPDATE orders SET status = 'failed', failure_kind = $2, failure_reason = $3, updated_at = now()
         WHERE id = $1 AND status = 'reserving'",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(reason)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the catalog no longer holds anything of this line for the order.
pub async fn mark_released(db: &PgPool, id: Uuid, product_id: Uuid) -> Result<()> {
    // language=PostgreSQL
    sqlx::query("UPDATE order_items SET state = 'released' WHERE order_id = $1 AND product_id = $2")
        .bind(id)
        .bind(product_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Marks a failed order's stock as given back, once every line is released;
/// `false` when a line is still held or it was already marked.
pub async fn finish_release(db: &PgPool, id: Uuid) -> Result<bool> {
    // language=PostgreSQL
    let done = sqlx::query(
        "UPDATE orders SET stock_released_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'failed' AND stock_released_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM order_items WHERE order_id = $1 AND state <> 'released')",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes up to `limit` orders `reserving` with no heartbeat for `idle`: their saga
/// died (crash, or a task lost). Taking bumps the heartbeat, which leases them.
pub async fn take_stuck(db: &PgPool, idle: Duration, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    // language=PostgreSQL
    sqlx::query_scalar(
        "UPDATE orders SET updated_at = now() WHERE id IN (
             SELECT id FROM orders WHERE status = 'reserving' AND updated_at < now() - make_interval(secs => $1)
             ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(idle.as_secs_f64())
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Takes up to `limit` failed orders whose stock is not yet all released, left alone
/// for `idle` (so that the saga that failed them releases first).
pub async fn take_unreleased(db: &PgPool, idle: Duration, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    // language=PostgreSQL
    sqlx::query_scalar(
        "UPDATE orders SET updated_at = now() WHERE id IN (
             SELECT id FROM orders WHERE status = 'failed' AND stock_released_at IS NULL
               AND updated_at < now() - make_interval(secs => $1)
             ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(idle.as_secs_f64())
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Takes up to `limit` pending orders not seen on the queue for `unseen` (never
/// queued, or queued that long ago), marking them seen now; the caller checks the
/// queue and puts back those it lost.
pub async fn take_unseen_pending(db: &PgPool, unseen: Duration, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    // language=PostgreSQL
    sqlx::query_scalar(
        "UPDATE orders SET queued_at = now() WHERE id IN (
             SELECT id FROM orders WHERE status = 'pending'
               AND coalesce(queued_at, updated_at) < now() - make_interval(secs => $1)
             ORDER BY coalesce(queued_at, updated_at) LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(unseen.as_secs_f64())
    .bind(limit)
    .fetch_all(db)
    .await
}
