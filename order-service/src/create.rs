//! Creating an order: claim the idempotency key, check the user, reserve every line,
//! store the order, queue it. On any failure after a reservation, every reservation
//! of this order is released, so a failed request holds no stock.

use std::time::Duration;

use axum::http::HeaderValue;
use chrono::Utc;
use service_kit::Problem;
use uuid::Uuid;

use crate::clients::{CallError, Downstream};
use crate::domain::{IdempotencyKey, NewOrder, Order, OrderItem};
use crate::{AppState, db};

/// How long a repeated request waits for the first one with the same key to finish.
const KEY_WAIT: Duration = Duration::from_secs(5);
/// A claim older than this whose order never appeared belongs to a request that died.
const KEY_STALE_SECS: i64 = 60;

/// A created order, or the one an earlier request with the same key created.
pub struct Created {
    /// The order.
    pub order: Order,
    /// Whether it was created by an earlier request.
    pub replayed: bool,
}

/// Creates an order (see the module doc).
pub async fn create_order(
    state: &AppState,
    req: NewOrder,
    key: Option<IdempotencyKey>,
    rid: Option<HeaderValue>,
) -> Result<Created, Problem> {
    let mut order_id = Uuid::new_v4();
    if let Some(key) = &key {
        match claim(state, key, order_id, &req.fingerprint()).await? {
            Ok(id) => order_id = id,
            Err(order) => return Ok(Created { order, replayed: true }),
        }
    }
    let placed = place(state, order_id, &req, rid.as_ref()).await;
    if let (Err(_), Some(key)) = (&placed, &key) {
        // Free the key so that the client can retry with it.
        if let Err(e) = db::drop_key(&state.db, key.as_str(), order_id).await {
            tracing::warn!(error.message = %e, "cannot free idempotency key");
        }
    }
    placed.map(|order| Created { order, replayed: false })
}

/// `Ok(order id to use)`, or `Err(order)` when the key's order already exists.
async fn claim(
    state: &AppState,
    key: &IdempotencyKey,
    proposed: Uuid,
    fingerprint: &str,
) -> Result<Result<Uuid, Order>, Problem> {
    let deadline = tokio::time::Instant::now() + KEY_WAIT;
    loop {
        let (owner, theirs, claimed_at) = match db::claim_key(&state.db, key.as_str(), proposed, fingerprint).await? {
            db::Claim::Claimed => return Ok(Ok(proposed)),
            db::Claim::Taken {
                order_id,
                fingerprint,
                claimed_at,
            } => (order_id, fingerprint, claimed_at),
        };
        if theirs != fingerprint {
            return Err(Problem::unprocessable(
                "this Idempotency-Key was already used for a different order",
            ));
        }
        if let Some(order) = db::get_order(&state.db, owner).await? {
            return Ok(Err(order));
        }
        if (Utc::now() - claimed_at).num_seconds() > KEY_STALE_SECS
            && db::take_over_key(&state.db, key.as_str(), owner, proposed).await?
        {
            return Ok(Ok(proposed));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Problem::conflict(
                "a request with this Idempotency-Key is still in progress, retry later",
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn place(state: &AppState, order_id: Uuid, req: &NewOrder, rid: Option<&HeaderValue>) -> Result<Order, Problem> {
    match state.downstream.user_exists(req.user_id, rid).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(Problem::unprocessable(format!("user {} does not exist", req.user_id))
                .with_error("user_id", "unknown user"));
        }
        Err(e) => return Err(unavailable(e)),
    }
    let mut lines = Vec::with_capacity(req.items.len());
    for &(product_id, quantity) in &req.items {
        match state.downstream.reserve(product_id, order_id, quantity, rid).await {
            Ok(r) => lines.push(OrderItem {
                product_id,
                quantity,
                unit_price_cents: r.unit_price_cents,
            }),
            Err(e) => {
                // A reserve that timed out may still have been applied: release it too.
                let mut held: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
                held.push(product_id);
                release_all(&state.downstream, order_id, held, rid).await;
                return Err(reserve_problem(product_id, quantity, e));
            }
        }
    }
    let held: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let order = match db::insert_order(&state.db, order_id, req.user_id, lines).await {
        Ok(order) => order,
        Err(p) => {
            release_all(&state.downstream, order_id, held, rid).await;
            return Err(p);
        }
    };
    metrics::counter!("orders_created_total", "service" => crate::startup::SERVICE).increment(1);
    enqueue(state, order_id).await;
    Ok(order)
}

/// Queues the order; if Redis is down the order stays stored and the worker's sweep
/// queues it later, so the client still gets its order.
async fn enqueue(state: &AppState, id: Uuid) {
    match state.queue.push(&id.to_string()).await {
        Ok(()) => {
            if let Err(e) = db::mark_queued(&state.db, id).await {
                tracing::warn!(error.message = %e, order.id = %id, "queued but not marked; the sweep may queue it twice");
            }
        }
        Err(e) => tracing::warn!(error.message = %e, order.id = %id, "cannot queue order, the sweep will"),
    }
}

fn reserve_problem(product_id: Uuid, quantity: i32, e: CallError) -> Problem {
    match e {
        CallError::NotFound => Problem::unprocessable(format!("product {product_id} does not exist"))
            .with_error("product_id", product_id.to_string()),
        CallError::Conflict(detail) => {
            Problem::conflict(format!("cannot reserve {quantity} of product {product_id}: {detail}"))
                .with_error("product_id", product_id.to_string())
        }
        CallError::Unavailable(_) => unavailable(e),
    }
}

fn unavailable(e: CallError) -> Problem {
    let detail = match e {
        CallError::Unavailable(d) | CallError::Conflict(d) => d,
        CallError::NotFound => "not found".into(),
    };
    tracing::warn!(detail, "dependency unavailable");
    Problem::unavailable(format!("a dependency is unavailable, no order was created: {detail}"))
}

/// Releases what the order may hold. What cannot be released now is retried in the
/// background for about a minute, then logged as an error for an operator.
async fn release_all(downstream: &Downstream, order_id: Uuid, products: Vec<Uuid>, rid: Option<&HeaderValue>) {
    let mut pending = Vec::new();
    for product_id in products {
        if downstream.release(product_id, order_id, rid).await.is_err() {
            pending.push(product_id);
        }
    }
    if pending.is_empty() {
        return;
    }
    let downstream = downstream.clone();
    tokio::spawn(async move {
        for attempt in 1..=8u32 {
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            let mut still = Vec::new();
            for product_id in pending {
                if downstream.release(product_id, order_id, None).await.is_err() {
                    still.push(product_id);
                }
            }
            pending = still;
            if pending.is_empty() {
                return;
            }
        }
        tracing::error!(order.id = %order_id, products = ?pending, "could not release stock of a failed order");
    });
}
