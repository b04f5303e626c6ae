//! SQL for orders, their lines and idempotency keys. Status changes are conditional
//! on `status = 'pending'`, which is what makes completion happen exactly once even
//! when a job is delivered twice.

use chrono::{DateTime, Utc};
use service_kit::Problem;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{Order, OrderItem, total_cents};

fn map_err(e: sqlx::Error) -> Problem {
    Problem::from_sqlx(&e)
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    user_id: Uuid,
    status: String,
    total_cents: i64,
    failure_reason: Option<String>,
    created_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
}

impl OrderRow {
    fn with_items(self, items: Vec<OrderItem>) -> Order {
        Order {
            id: self.id,
            user_id: self.user_id,
            status: self.status,
            total_cents: self.total_cents,
            failure_reason: self.failure_reason,
            created_at: self.created_at,
            completed_at: self.completed_at,
            items,
        }
    }
}

/// The state of an idempotency key after trying to claim it.
#[derive(Debug)]
pub enum Claim {
    /// This request owns the key and creates the order with the id it proposed.
    Claimed,
    /// Another request owns it.
    Taken {
        /// The order id the owner uses.
        order_id: Uuid,
        /// The owner's request fingerprint.
        fingerprint: String,
        /// When the owner claimed it.
        claimed_at: DateTime<Utc>,
    },
}

/// Claims `key` for a new order id, or reports who has it.
pub async fn claim_key(db: &PgPool, key: &str, order_id: Uuid, fingerprint: &str) -> Result<Claim, Problem> {
    // language=PostgreSQL
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (key, order_id, fingerprint) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(order_id)
    .bind(fingerprint)
    .execute(db)
    .await
    .map_err(map_err)?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Claimed);
    }
    // language=PostgreSQL
    let row: Option<(Uuid, String, DateTime<Utc>)> =
        sqlx::query_as("SELECT order_id, fingerprint, claimed_at FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .fetch_optional(db)
            .await
            .map_err(map_err)?;
    match row {
        Some((order_id, fingerprint, claimed_at)) => Ok(Claim::Taken {
            order_id,
            fingerprint,
            claimed_at,
        }),
        // The owner gave up between our insert and select: claim again.
        None => Box::pin(claim_key(db, key, order_id, fingerprint)).await,
    }
}

/// Moves a stale claim (its owner died) to a new order id; `false` if it changed meanwhile.
pub async fn take_over_key(db: &PgPool, key: &str, old: Uuid, new: Uuid) -> Result<bool, Problem> {
    // language=PostgreSQL
    let done =
        sqlx::query("UPDATE idempotency_keys SET order_id = $3, claimed_at = now() WHERE key = $1 AND order_id = $2")
            .bind(key)
            .bind(old)
            .bind(new)
            .execute(db)
            .await
            .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

/// Frees a key whose request failed, so that the client may retry with it.
pub async fn drop_key(db: &PgPool, key: &str, order_id: Uuid) -> Result<(), Problem> {
    // language=PostgreSQL
    sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND order_id = $2")
        .bind(key)
        .bind(order_id)
        .execute(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Stores an order and its lines in one transaction, status `pending`.
pub async fn insert_order(db: &PgPool, id: Uuid, user_id: Uuid, items: Vec<OrderItem>) -> Result<Order, Problem> {
    let mut tx = db.begin().await.map_err(map_err)?;
    // language=PostgreSQL
    let row: OrderRow = sqlx::query_as(
        "INSERT INTO orders (id, user_id, status, total_cents) VALUES ($1, $2, 'pending', $3) RETURNING *",
    )
    .bind(id)
    .bind(user_id)
    .bind(total_cents(&items))
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    for item in &items {
        // language=PostgreSQL
        sqlx::query(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(item.product_id)
        .bind(item.quantity)
        .bind(item.unit_price_cents)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(row.with_items(items))
}

async fn items_of(db: &PgPool, id: Uuid) -> Result<Vec<OrderItem>, Problem> {
    // language=PostgreSQL
    sqlx::query_as(
        "SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY product_id",
    )
    .bind(id)
    .fetch_all(db)
    .await
    .map_err(map_err)
}

/// One order with its lines, or `None`.
pub async fn get_order(db: &PgPool, id: Uuid) -> Result<Option<Order>, Problem> {
    // language=PostgreSQL
    let row: Option<OrderRow> = sqlx::query_as("SELECT * FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .map_err(map_err)?;
    match row {
        Some(row) => Ok(Some(row.with_items(items_of(db, id).await?))),
        None => Ok(None),
    }
}

/// A user's most recent orders, newest first.
pub async fn orders_of_user(db: &PgPool, user_id: Uuid, limit: i64) -> Result<Vec<Order>, Problem> {
    // language=PostgreSQL
    let rows: Vec<OrderRow> =
        sqlx::query_as("SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2")
            .bind(user_id)
            .bind(limit)
            .fetch_all(db)
            .await
            .map_err(map_err)?;
    // All lines in one query rather than one per order (up to 200).
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    // language=PostgreSQL
    let lines: Vec<(Uuid, i32, i64, Uuid)> = sqlx::query_as(
        "SELECT product_id, quantity, unit_price_cents, order_id FROM order_items
         WHERE order_id = ANY($1) ORDER BY product_id",
    )
    .bind(&ids)
    .fetch_all(db)
    .await
    .map_err(map_err)?;
    let mut by_order: std::collections::HashMap<Uuid, Vec<OrderItem>> = std::collections::HashMap::new();
    for (product_id, quantity, unit_price_cents, order_id) in lines {
        by_order.entry(order_id).or_default().push(OrderItem {
            product_id,
            quantity,
            unit_price_cents,
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

/// Records that the order's id is on the queue.
pub async fn mark_queued(db: &PgPool, id: Uuid) -> Result<(), sqlx::Error> {
    // language=PostgreSQL
    sqlx::query("UPDATE orders SET queued_at = now() WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Counts a take of a pending order; `None` when it is unknown or no longer pending.
pub async fn begin_attempt(db: &PgPool, id: Uuid) -> Result<Option<(i32, Vec<OrderItem>)>, Problem> {
    // language=PostgreSQL
    let attempts: Option<(i32,)> = sqlx::query_as(
        "UPDATE orders SET attempts = attempts + 1 WHERE id = $1 AND status = 'pending' RETURNING attempts",
    )
    .bind(id)
    .fetch_optional(db)
    .await
    .map_err(map_err)?;
    match attempts {
        Some((n,)) => Ok(Some((n, items_of(db, id).await?))),
        None => Ok(None),
    }
}

/// Moves a pending order to `completed` or `failed`; `false` if it was not pending.
pub async fn finish(db: &PgPool, id: Uuid, failure: Option<&str>) -> Result<bool, Problem> {
    let status = if failure.is_some() { "failed" } else { "completed" };
    // language=PostgreSQL
    let done = sqlx::query(
        "UPDATE orders SET status = $2, failure_reason = $3, updated_at = now(),
             completed_at = CASE WHEN $2 = 'completed' THEN now() END
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(status)
    .bind(failure)
    .execute(db)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

/// Pending orders older than `min_age_secs` that never reached the queue.
pub async fn unqueued(db: &PgPool, min_age_secs: f64, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    // language=PostgreSQL
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM orders WHERE status = 'pending' AND queued_at IS NULL
           AND created_at < now() - make_interval(secs => $1)
         ORDER BY created_at LIMIT $2",
    )
    .bind(min_age_secs)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
