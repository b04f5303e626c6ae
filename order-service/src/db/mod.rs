//! SQL for orders, their lines and idempotency keys, and for the worker. Status
//! changes are conditional on the status they leave, which is what makes each happen
//! exactly once even when a job is delivered twice or two replicas race. The saga's
//! and the reconciler's SQL is in [`saga`].

pub mod saga;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::domain::{FailureKind, Order, OrderItem};

/// A row of `order_items`, as an order shows it.
#[derive(sqlx::FromRow)]
struct ItemRow {
    product_id: Uuid,
    quantity: i32,
    unit_price_cents: Option<i64>,
    state: String,
}

impl From<ItemRow> for OrderItem {
    fn from(r: ItemRow) -> Self {
        Self {
            product_id: r.product_id,
            quantity: r.quantity,
            unit_price_cents: r.unit_price_cents,
            state: r.state,
        }
    }
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    user_id: Uuid,
    status: String,
    total_cents: i64,
    failure_kind: Option<String>,
    failure_reason: Option<String>,
    created_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    stock_released_at: Option<DateTime<Utc>>,
}

impl OrderRow {
    fn with_items(self, items: Vec<OrderItem>) -> Order {
        Order {
            id: self.id,
            user_id: self.user_id,
            status: self.status,
            total_cents: self.total_cents,
            failure_kind: self.failure_kind,
            failure_reason: self.failure_reason,
            created_at: self.created_at,
            completed_at: self.completed_at,
            stock_released_at: self.stock_released_at,
            items,
        }
    }
}

/// Who holds an idempotency key.
#[derive(Debug)]
pub struct KeyOwner {
    /// The order id stored with the key.
    pub order_id: Uuid,
    /// The request fingerprint stored with the key.
    pub fingerprint: String,
    /// When it was claimed.
    pub claimed_at: DateTime<Utc>,
}

/// The holder of `key`, if any.
pub async fn key_owner(db: &PgPool, key: &str) -> Result<Option<KeyOwner>> {
    // language=PostgreSQL
    let row: Option<(Uuid, String, DateTime<Utc>)> =
        sqlx::query_as("SELECT order_id, fingerprint, claimed_at FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(order_id, fingerprint, claimed_at)| KeyOwner {
        order_id,
        fingerprint,
        claimed_at,
    }))
}

/// Frees a key claimed by a request of an older release that died before storing its
/// order (this release stores the key and the order in one transaction).
pub async fn drop_key(db: &PgPool, key: &str, order_id: Uuid) -> Result<()> {
    // language=PostgreSQL
    sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND order_id = $2")
        .bind(key)
        .bind(order_id)
        .execute(db)
        .await?;
    Ok(())
}

async fn items_of(db: &PgPool, id: Uuid) -> Result<Vec<OrderItem>> {
    // language=PostgreSQL
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT product_id, quantity, unit_price_cents, state FROM order_items WHERE order_id = $1 ORDER BY product_id",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(OrderItem::from).collect())
}

/// One order with its lines, or `None`.
pub async fn get_order(db: &PgPool, id: Uuid) -> Result<Option<Order>> {
    // language=PostgreSQL
    let row: Option<OrderRow> = sqlx::query_as("SELECT * FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    match row {
        Some(row) => Ok(Some(row.with_items(items_of(db, id).await?))),
        None => Ok(None),
    }
}

/// A user's most recent orders, newest first.
pub async fn orders_of_user(db: &PgPool, user_id: Uuid, limit: i64) -> Result<Vec<Order>> {
    // language=PostgreSQL
    let rows: Vec<OrderRow> =
        sqlx::query_as("SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2")
            .bind(user_id)
            .bind(limit)
            .fetch_all(db)
            .await?;
    // All lines in one query rather than one per order (up to 200).
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    // language=PostgreSQL
    let lines: Vec<(Uuid, i32, Option<i64>, String, Uuid)> = sqlx::query_as(
        "SELECT product_id, quantity, unit_price_cents, state, order_id FROM order_items
         WHERE order_id = ANY($1) ORDER BY product_id",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let mut by_order: std::collections::HashMap<Uuid, Vec<OrderItem>> = std::collections::HashMap::new();
    for (product_id, quantity, unit_price_cents, state, order_id) in lines {
        by_order.entry(order_id).or_default().push(OrderItem {
            product_id,
            quantity,
            unit_price_cents,
            state,
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let items = by_order.remove(&row.id).unwrap_or_default();
            row.with_items(items)
        })
        .collect())
}

/// Records that the order's id is on the queue (now).
pub async fn mark_queued(db: &PgPool, id: Uuid) -> Result<(), sqlx::Error> {
    // language=PostgreSQL
    sqlx::query("UPDATE orders SET queued_at = now() WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Counts a take of a pending order; `None` when it is unknown or no longer pending.
pub async fn begin_attempt(db: &PgPool, id: Uuid) -> Result<Option<(i32, Vec<OrderItem>)>> {
    // language=PostgreSQL
    let attempts: Option<(i32,)> = sqlx::query_as(
        "UPDATE orders SET attempts = attempts + 1 WHERE id = $1 AND status = 'pending' RETURNING attempts",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    match attempts {
        Some((n,)) => Ok(Some((n, items_of(db, id).await?))),
        None => Ok(None),
    }
}

/// Moves a pending order to `completed`, or to `failed` with a reason; `false` if it
/// was not pending. A failed order still holds its stock: the reconciler releases it.
pub async fn finish(db: &PgPool, id: Uuid, failure: Option<&str>) -> Result<bool> {
    let status = if failure.is_some() { "failed" } else { "completed" };
    let kind = failure.map(|_| FailureKind::Attempts.as_str());
    // language=PostgreSQL
    let done = sqlx::query(
        "UPDATE orders SET status = $2, failure_reason = $3, failure_kind = $4, updated_at = now(),
             completed_at = CASE WHEN $2 = 'completed' THEN now() END
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(status)
    .bind(failure)
    .bind(kind)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
