//! The order saga: drives an order stored as `reserving` to `pending` (every line
//! reserved, priced, queued) or to `failed` (every line released). Each step is
//! recorded before the next starts, so the saga can stop at any instant (a client
//! gone, a process killed) and be finished by the reconciler from the database alone:
//! a line is `to_reserve` before its reserve call, so a reservation the catalog made
//! but we never heard of is still released; the catalog remembers a release, so a
//! late reserve for a released line is refused rather than taking stock again.
//!
//! The request runs the saga in a spawned task and awaits it: dropping the request
//! future (a disconnect, the request timeout) does not drop the saga.

use axum::http::HeaderValue;
use tokio::time::Instant;
use uuid::Uuid;

use crate::clients::CallError;
use crate::db;
use crate::db::saga::{self as sql, Line};
use crate::domain::{FailureKind, checked_total, line_total, storable};
use crate::state::{AppState, SERVICE};

/// Why this run failed the order, with the request field to blame when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Which step failed.
    pub kind: FailureKind,
    /// Why, for people; stored as the order's `failure_reason`.
    pub reason: String,
    /// The request field (`items[1].product_id`), when one is to blame.
    pub field: Option<String>,
}

impl Failure {
    fn new(kind: FailureKind, reason: impl Into<String>, field: Option<String>) -> Self {
        Self {
            kind,
            reason: storable(&reason.into()),
            field,
        }
    }

    /// What a failed reserve of line `no` means for the order.
    fn of_reserve(no: usize, line: &Line, e: CallError) -> Self {
        let field = Some(format!("items[{no}].product_id"));
        let product = line.product_id;
        match e {
            CallError::NotFound => Self::new(
                FailureKind::UnknownProduct,
                format!("product {product} does not exist"),
                field,
            ),
            CallError::Conflict(d) => Self::new(
                FailureKind::OutOfStock,
                format!("cannot reserve {} of product {product}: {d}", line.quantity),
                field,
            ),
            CallError::Unavailable(d) => Self::new(
                FailureKind::Unavailable,
                format!("cannot reserve product {product}: {d}"),
                None,
            ),
        }
    }
}

/// Runs the saga of a freshly stored order, reserving until `deadline`; `Some(failure)`
/// when this run failed it. Lines already reserved (a rerun) are skipped.
#[tracing::instrument(skip_all, fields(order.id = %id))]
pub async fn run(
    state: &AppState,
    id: Uuid,
    deadline: Instant,
    rid: Option<&HeaderValue>,
) -> anyhow::Result<Option<Failure>> {
    let lines = sql::lines(&state.db, id).await?;
    let mut failure = None;
    for (no, line) in lines.iter().enumerate().filter(|(_, l)| l.state == "to_reserve") {
        if Instant::now() >= deadline {
            failure = Some(Failure::new(
                FailureKind::Unavailable,
                format!(
                    "the catalog did not reserve every line within the order's {:?}",
                    state.saga_timeout
                ),
                None,
            ));
            break;
        }
        let until = state.downstream.deadline(Some(deadline));
        let reserved = state
            .downstream
            .reserve(line.product_id, id, line.quantity, rid, until)
            .await;
        match reserved {
            Ok(r) => {
                // Recorded even when it overflows: the catalog holds it either way.
                let still_ours = sql::mark_reserved(&state.db, id, line.product_id, r.unit_price_cents).await?;
                if let Err(o) = line_total(no, line.quantity, r.unit_price_cents) {
                    failure = Some(Failure::new(FailureKind::Invalid, o.detail, Some(o.field)));
                    break;
                }
                if !still_ours {
                    // The reconciler settled it meanwhile; whatever it decided stands.
                    break;
                }
            }
            Err(e) => {
                failure = Some(Failure::of_reserve(no, line, e));
                break;
            }
        }
    }
    if failure.is_none() && sql::status(&state.db, id).await?.as_deref() == Some("reserving") {
        failure = finish_reserved(state, id).await?;
    }
    if let Some(f) = &failure
        && !sql::fail(&state.db, id, f.kind, &f.reason).await?
    {
        // The reconciler failed it first (its release is why a reserve was refused):
        // the stored failure is the answer, the same as a replay will give.
        failure = None;
    }
    if sql::status(&state.db, id).await?.as_deref() == Some("failed") {
        release_all(state, id, rid).await?;
    }
    Ok(failure)
}

/// Moves an order whose lines are all reserved to `pending` with its total, and
/// queues it. `Some(failure)` when the total overflows (nothing is moved then).
/// Does nothing when a line is not reserved or the order is no longer `reserving`.
pub async fn finish_reserved(state: &AppState, id: Uuid) -> anyhow::Result<Option<Failure>> {
    let lines = sql::lines(&state.db, id).await?;
    let mut priced = Vec::with_capacity(lines.len());
    for (no, line) in lines.iter().enumerate() {
        match (line.state.as_str(), line.unit_price_cents) {
            ("reserved", Some(price)) => priced.push((no, line.quantity, price)),
            _ => return Ok(None),
        }
    }
    let total = match checked_total(priced) {
        Ok(total) => total,
        Err(o) => return Ok(Some(Failure::new(FailureKind::Invalid, o.detail, Some(o.field)))),
    };
    if sql::settle_pending(&state.db, id, total).await? {
        metrics::counter!("orders_created_total", "service" => SERVICE).increment(1);
        enqueue(state, id).await;
    }
    Ok(None)
}

/// Releases every line of a failed order not yet released, then marks its stock
/// given back; `true` when this call marked it. What the catalog cannot take back now
/// is left for the reconciler.
pub async fn release_all(state: &AppState, id: Uuid, rid: Option<&HeaderValue>) -> anyhow::Result<bool> {
    let mut all = true;
    for line in sql::lines(&state.db, id).await? {
        if line.state == "released" {
            continue;
        }
        match state.downstream.release(line.product_id, id, rid).await {
            Ok(returned) => {
                if returned > 0 {
                    metrics::counter!("order_reservations_released_total", "service" => SERVICE).increment(1);
                }
                sql::mark_released(&state.db, id, line.product_id).await?;
            }
            Err(e) => {
                tracing::warn!(order.id = %id, product.id = %line.product_id, error = ?e, "cannot release, the reconciler will retry");
                all = false;
            }
        }
    }
    Ok(all && sql::finish_release(&state.db, id).await?)
}

/// Queues the order; if Redis is down the order stays stored and the reconciler
/// queues it later, so the client still gets its order.
pub async fn enqueue(state: &AppState, id: Uuid) {
    match state.queue.push(&id.to_string()).await {
        Ok(()) => {
            if let Err(e) = db::mark_queued(&state.db, id).await {
                tracing::warn!(error.message = %e, order.id = %id, "queued but not marked; the reconciler may queue it twice");
            }
        }
        Err(e) => tracing::warn!(error.message = %e, order.id = %id, "cannot queue order, the reconciler will"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Line {
        Line {
            product_id: Uuid::nil(),
            quantity: 3,
            line_no: Some(4),
            state: "to_reserve".into(),
            unit_price_cents: None,
        }
    }

    #[test]
    fn a_refused_reserve_blames_the_line_unless_the_catalog_is_away() {
        let short = Failure::of_reserve(4, &line(), CallError::Conflict("only 1 left".into()));
        assert_eq!(short.kind, FailureKind::OutOfStock);
        assert_eq!(short.field.as_deref(), Some("items[4].product_id"));
        assert!(short.reason.contains("only 1 left"), "{}", short.reason);
        let unknown = Failure::of_reserve(0, &line(), CallError::NotFound);
        assert_eq!(
            (unknown.kind, unknown.field.as_deref()),
            (FailureKind::UnknownProduct, Some("items[0].product_id"))
        );
        let away = Failure::of_reserve(0, &line(), CallError::Unavailable("timed out".into()));
        assert_eq!((away.kind, away.field), (FailureKind::Unavailable, None));
    }

    #[test]
    fn a_reason_from_another_service_is_stored_without_nul() {
        let f = Failure::of_reserve(0, &line(), CallError::Conflict("bad\0detail".into()));
        assert!(!f.reason.contains('\0'));
    }
}
