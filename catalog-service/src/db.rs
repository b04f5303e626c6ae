//! SQL for products and reservations. The stock update carries its own
//! `stock >= quantity` guard, so concurrent reservations never take more than there is.
//! Every statement that changes a product bumps its `version` in the same statement,
//! and returns it, so that the cache can be invalidated with the version written.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{NewProduct, Product, ProductChange, Reservation};
use crate::{Error, Result};

/// A row of `products`.
#[derive(sqlx::FromRow)]
struct ProductRow {
    id: Uuid,
    sku: String,
    name: String,
    description: String,
    category: String,
    price_cents: i64,
    stock: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Self {
            id: r.id,
            sku: r.sku,
            name: r.name,
            description: r.description,
            category: r.category,
            price_cents: r.price_cents,
            stock: r.stock,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

/// A row of `reservations`.
#[derive(sqlx::FromRow)]
struct ReservationRow {
    order_id: Uuid,
    product_id: Uuid,
    quantity: i32,
    unit_price_cents: i64,
    reserved_at: DateTime<Utc>,
    released_at: Option<DateTime<Utc>>,
}

impl From<ReservationRow> for Reservation {
    fn from(r: ReservationRow) -> Self {
        Self {
            order_id: r.order_id,
            product_id: r.product_id,
            quantity: r.quantity,
            unit_price_cents: r.unit_price_cents,
            reserved_at: r.reserved_at,
            released_at: r.released_at,
        }
    }
}

/// Stores a new product.
pub async fn insert(db: &PgPool, f: &NewProduct) -> Result<Product> {
    // language=PostgreSQL
    let row: ProductRow = sqlx::query_as(
        "INSERT INTO products (id, sku, name, description, category, price_cents, stock)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(Uuid::new_v4())
    .bind(&f.sku)
    .bind(&f.name)
    .bind(&f.description)
    .bind(&f.category)
    .bind(f.price_cents)
    .bind(f.stock)
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

/// One product, or `None`.
pub async fn get(db: &PgPool, id: Uuid) -> Result<Option<Product>> {
    // language=PostgreSQL
    let row: Option<ProductRow> = sqlx::query_as("SELECT * FROM products WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(Product::from))
}

/// A page of products, optionally of one category, oldest first.
pub async fn list(db: &PgPool, category: Option<&str>, limit: i64, offset: i64) -> Result<Vec<Product>> {
    // language=PostgreSQL
    let rows: Vec<ProductRow> = sqlx::query_as(
        "SELECT * FROM products WHERE ($1::text IS NULL OR category = $1)
         ORDER BY created_at, id LIMIT $2 OFFSET $3",
    )
    .bind(category)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Product::from).collect())
}

/// Outcome of a conditional change.
#[derive(Debug)]
pub enum Updated {
    /// Applied; the product as it now is.
    Done(Product),
    /// No such product.
    Missing,
    /// The product is at another version than the precondition allows.
    Stale {
        /// The current version.
        current: i64,
    },
}

/// Applies a change if the product's version is one of `expected` (any version when
/// `None`). The check and the change are one statement, so no reservation can slip
/// between an `If-Match` and the stock it sets.
pub async fn update(db: &PgPool, id: Uuid, f: &ProductChange, expected: Option<&[i64]>) -> Result<Updated> {
    // language=PostgreSQL
    let updated: Option<ProductRow> = sqlx::query_as(
        "UPDATE products SET name = coalesce($2, name), description = coalesce($3, description),
             category = coalesce($4, category), price_cents = coalesce($5, price_cents),
             stock = coalesce($6, stock), updated_at = now(), version = version + 1
         WHERE id = $1 AND ($7::bigint[] IS NULL OR version = ANY($7)) RETURNING *",
    )
    .bind(id)
    .bind(&f.name)
    .bind(&f.description)
    .bind(&f.category)
    .bind(f.price_cents)
    .bind(f.stock)
    .bind(expected)
    .fetch_optional(db)
    .await?;
    match updated {
        Some(row) => Ok(Updated::Done(row.into())),
        None => Ok(get(db, id)
            .await?
            .map_or(Updated::Missing, |p| Updated::Stale { current: p.version })),
    }
}

/// Outcome of a relative stock change.
#[derive(Debug)]
pub enum Restocked {
    /// Applied; the product as it now is.
    Done(Product),
    /// No such product.
    Missing,
    /// The change would take stock below zero or above the cap; nothing changed.
    OutOfRange {
        /// Stock when the change was refused.
        stock: i32,
    },
}

/// Adds `delta` (negative to remove) to the stock, in one statement under the row
/// lock, so it composes with concurrent reservations instead of overwriting them. The
/// sum is computed in `bigint` so that it cannot overflow before it is checked.
pub async fn add_stock(db: &PgPool, id: Uuid, delta: i64, max: i64) -> Result<Restocked> {
    // language=PostgreSQL
    let updated: Option<ProductRow> = sqlx::query_as(
        "UPDATE products SET stock = (stock::bigint + $2)::integer, updated_at = now(), version = version + 1
         WHERE id = $1 AND stock::bigint + $2 BETWEEN 0 AND $3 RETURNING *",
    )
    .bind(id)
    .bind(delta)
    .bind(max)
    .fetch_optional(db)
    .await?;
    match updated {
        Some(row) => Ok(Restocked::Done(row.into())),
        None => Ok(get(db, id)
            .await?
            .map_or(Restocked::Missing, |p| Restocked::OutOfRange { stock: p.stock })),
    }
}

/// Deletes a product and its reservations; `false` when there was none.
pub async fn delete(db: &PgPool, id: Uuid) -> Result<bool> {
    // language=PostgreSQL
    let done = sqlx::query("DELETE FROM products WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Outcome of a reservation attempt.
#[derive(Debug)]
pub enum Reserved {
    /// Stock was taken now; the product is now at `product_version`.
    Taken {
        /// What the order now holds.
        reservation: Reservation,
        /// The product's version after the decrement, for the cache.
        product_version: i64,
    },
    /// The same order already holds this; nothing was taken twice.
    AlreadyHeld(Reservation),
}

/// Takes `quantity` units for `order_id`, once. Errors: `NotFound`, and when stock is
/// short, already released, or held with a different quantity, the matching conflict.
///
/// One statement does both the decrement and the insert, so the product's row lock is
/// held for a single round trip (a hot product serialises on it). A concurrent
/// duplicate fails on the primary key, which rolls back its decrement with it.
pub async fn reserve(db: &PgPool, product_id: Uuid, order_id: Uuid, quantity: i32) -> Result<Reserved> {
    // language=PostgreSQL
    let taken: Result<Option<TakenRow>, sqlx::Error> = sqlx::query_as(
        "WITH taken AS (
             UPDATE products SET stock = stock - $3, updated_at = now(), version = version + 1
             WHERE id = $2 AND stock >= $3 RETURNING price_cents, version),
         held AS (
             INSERT INTO reservations (order_id, product_id, quantity, unit_price_cents)
             SELECT $1, $2, $3, price_cents FROM taken RETURNING *)
         SELECT held.*, taken.version AS product_version FROM held, taken",
    )
    .bind(order_id)
    .bind(product_id)
    .bind(quantity)
    .fetch_optional(db)
    .await;
    match taken {
        Ok(Some(row)) => Ok(Reserved::Taken {
            reservation: row.reservation.into(),
            product_version: row.product_version,
        }),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("reservations_pkey") => {
            existing_reservation(db, product_id, order_id, quantity)
                .await?
                .ok_or(Error::NotFound(product_id))
        }
        Err(e) => Err(e.into()),
        // Nothing taken: a retry of a reservation already held, an unknown product, or too little stock.
        Ok(None) => match existing_reservation(db, product_id, order_id, quantity).await? {
            Some(held) => Ok(held),
            None => {
                let available = get(db, product_id).await?.ok_or(Error::NotFound(product_id))?.stock;
                Err(Error::InsufficientStock {
                    product_id,
                    requested: quantity,
                    available,
                })
            }
        },
    }
}

/// A reservation taken now, with the product's version after the decrement.
#[derive(sqlx::FromRow)]
struct TakenRow {
    #[sqlx(flatten)]
    reservation: ReservationRow,
    product_version: i64,
}

/// The order's reservation of the product as a retry sees it: `None` when there is none.
async fn existing_reservation(
    db: &PgPool,
    product_id: Uuid,
    order_id: Uuid,
    quantity: i32,
) -> Result<Option<Reserved>> {
    // language=PostgreSQL
    let held: Option<ReservationRow> =
        sqlx::query_as("SELECT * FROM reservations WHERE order_id = $1 AND product_id = $2")
            .bind(order_id)
            .bind(product_id)
            .fetch_optional(db)
            .await?;
    match held {
        None => Ok(None),
        Some(r) if r.released_at.is_some() => Err(Error::AlreadyReleased { order_id, product_id }),
        Some(r) if r.quantity != quantity => Err(Error::HeldOtherQuantity {
            order_id,
            product_id,
            held: r.quantity,
            requested: quantity,
        }),
        Some(r) => Ok(Some(Reserved::AlreadyHeld(r.into()))),
    }
}

/// What a release did.
#[derive(Debug)]
pub struct Released {
    /// The reservation as it now is.
    pub reservation: Reservation,
    /// Units this call gave back (0 when already released or never held).
    pub returned: i32,
    /// The product's version after the stock came back; `None` when nothing came back.
    pub product_version: Option<i64>,
}

/// Gives back what `order_id` holds of the product, once.
pub async fn release(db: &PgPool, product_id: Uuid, order_id: Uuid) -> Result<Released> {
    let mut tx = db.begin().await?;
    if let Some(r) = take_reservation(&mut tx, product_id, order_id).await? {
        return give_back(tx, product_id, r).await;
    }
    // Nothing held: leave a released, empty row so that a late reserve is refused.
    // language=PostgreSQL
    sqlx::query(
        "INSERT INTO reservations (order_id, product_id, quantity, unit_price_cents, released_at)
         SELECT $1, id, 0, price_cents, now() FROM products WHERE id = $2
         ON CONFLICT (order_id, product_id) DO NOTHING",
    )
    .bind(order_id)
    .bind(product_id)
    .execute(&mut *tx)
    .await?;
    // A reserve in flight when this release began makes the insert wait for it; once it
    // committed, its reservation is the row in the way: take it back now, or its stock
    // would stay held by an order that gave it up.
    if let Some(r) = take_reservation(&mut tx, product_id, order_id).await? {
        return give_back(tx, product_id, r).await;
    }
    // language=PostgreSQL
    let row: Option<ReservationRow> =
        sqlx::query_as("SELECT * FROM reservations WHERE order_id = $1 AND product_id = $2")
            .bind(order_id)
            .bind(product_id)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    let row = row.ok_or(Error::NotFound(product_id))?;
    Ok(Released {
        reservation: row.into(),
        returned: 0,
        product_version: None,
    })
}

/// Marks the order's unreleased reservation of the product released, if there is one.
async fn take_reservation(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    product_id: Uuid,
    order_id: Uuid,
) -> Result<Option<ReservationRow>> {
    // language=PostgreSQL
    Ok(sqlx::query_as(
        "UPDATE reservations SET released_at = now()
         WHERE order_id = $1 AND product_id = $2 AND released_at IS NULL RETURNING *",
    )
    .bind(order_id)
    .bind(product_id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Puts a taken reservation's quantity back in stock and commits.
async fn give_back(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    product_id: Uuid,
    r: ReservationRow,
) -> Result<Released> {
    // language=PostgreSQL
    let version: Option<i64> = sqlx::query_scalar(
        "UPDATE products SET stock = stock + $2, updated_at = now(), version = version + 1
         WHERE id = $1 RETURNING version",
    )
    .bind(product_id)
    .bind(r.quantity)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let returned = r.quantity;
    Ok(Released {
        reservation: r.into(),
        returned,
        product_version: version,
    })
}
