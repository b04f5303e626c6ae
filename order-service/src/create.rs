//! Creating an order: check the user, store the order (`reserving`) with its lines and
//! its idempotency key in one transaction, then run the saga (see [`crate::saga`]) in
//! a task of its own and answer with how it ended. A repeated key answers with the
//! order the first request stored, whatever became of it: no second order id, no
//! second reservation.

use std::time::Duration;

use axum::http::HeaderValue;
use chrono::Utc;
use uuid::Uuid;

use crate::clients::CallError;
use crate::db;
use crate::db::saga::{self as sql, Inserted};
use crate::domain::{FailureKind, IdempotencyKey, NewOrder, Order};
use crate::saga::{self, Failure};
use crate::state::AppState;
use crate::{Error, Result};

/// How long a repeated request waits for the first one with the same key to settle.
const KEY_WAIT: Duration = Duration::from_secs(5);
/// A key claimed by an older release whose order never appeared belongs to a dead
/// request after this long (this release stores key and order together).
const KEY_STALE_SECS: i64 = 60;

/// A created order, or the one an earlier request with the same key created.
#[derive(Debug)]
pub struct Created {
    /// The order.
    pub order: Order,
    /// Whether it was created by an earlier request.
    pub replayed: bool,
}

/// Creates an order (see the module doc). `authorization` is the caller's own, passed
/// on to user-service for the user check; the caller's right to order for the user is
/// the handler's to check, before this.
pub async fn create_order(
    state: &AppState,
    req: NewOrder,
    key: Option<IdempotencyKey>,
    authorization: Option<HeaderValue>,
    rid: Option<HeaderValue>,
) -> Result<Created> {
    let fingerprint = req.fingerprint();
    if let Some(key) = &key
        && let Some(earlier) = replay(state, key, &fingerprint).await?
    {
        return earlier;
    }
    // Everything from here runs in its own task: a client that goes away, or the
    // request timeout, drops only the wait for it.
    let task_state = state.clone();
    let task = tokio::spawn(async move { place(&task_state, req, key, fingerprint, authorization, rid).await });
    match task.await {
        Ok(placed) => placed,
        Err(e) => Err(Error::Internal(format!("order task failed: {e}"))),
    }
}

async fn place(
    state: &AppState,
    req: NewOrder,
    key: Option<IdempotencyKey>,
    fingerprint: String,
    authorization: Option<HeaderValue>,
    rid: Option<HeaderValue>,
) -> Result<Created> {
    // One budget for the user check and the reservations, so that the client hears
    // how its order ended before the request timeout.
    let deadline = tokio::time::Instant::now() + state.saga_timeout;
    let user = state
        .downstream
        .user_exists(req.user_id, authorization.as_ref(), rid.as_ref(), deadline)
        .await;
    match user {
        Ok(true) => {}
        Ok(false) => return Err(Error::UnknownUser(req.user_id)),
        Err(e) => return Err(unavailable(e)),
    }
    let id = Uuid::new_v4();
    let claim = key.as_ref().map(|k| (k.as_str(), fingerprint.as_str()));
    if sql::insert_reserving(&state.db, id, &req, claim).await? == Inserted::KeyTaken {
        // A concurrent duplicate stored its order first: answer with that one.
        if let Some(key) = &key
            && let Some(earlier) = replay(state, key, &fingerprint).await?
        {
            return earlier;
        }
        return Err(Error::KeyChangedHands);
    }
    let failure = saga::run(state, id, deadline, rid.as_ref())
        .await
        .map_err(|source| Error::NotSettled { id, source })?;
    let order = db::get_order(&state.db, id)
        .await?
        .ok_or_else(|| Error::Internal(format!("order {id} vanished after it was stored")))?;
    answer(order, failure, false)
}

/// The order an earlier request with this key stored, settled or after `KEY_WAIT`;
/// `None` when the key is free.
async fn replay(state: &AppState, key: &IdempotencyKey, fingerprint: &str) -> Result<Option<Result<Created>>> {
    let deadline = tokio::time::Instant::now() + KEY_WAIT;
    loop {
        let Some(owner) = db::key_owner(&state.db, key.as_str()).await? else {
            return Ok(None);
        };
        if owner.fingerprint != fingerprint {
            return Err(Error::KeyReused);
        }
        let timed_out = tokio::time::Instant::now() >= deadline;
        match db::get_order(&state.db, owner.order_id).await? {
            Some(order) if order.status != "reserving" || timed_out => return Ok(Some(answer(order, None, true))),
            Some(_) => {}
            None if (Utc::now() - owner.claimed_at).num_seconds() > KEY_STALE_SECS => {
                db::drop_key(&state.db, key.as_str(), owner.order_id).await?;
                continue;
            }
            None if timed_out => return Err(Error::KeyInProgress),
            None => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The answer for an order as it now is; `failure` is what this request's saga run
/// decided, which also names the request field to blame.
fn answer(order: Order, failure: Option<Failure>, replayed: bool) -> Result<Created> {
    let id = order.id;
    let (kind, reason, field) = match (order.status.as_str(), failure) {
        ("reserving", _) => return Err(Error::StillPlacing(id)),
        ("failed", Some(f)) => (Some(f.kind), f.reason, f.field),
        ("failed", None) => (
            order.failure_kind.as_deref().and_then(FailureKind::parse),
            order.failure_reason.clone().unwrap_or_default(),
            None,
        ),
        _ => return Ok(Created { order, replayed }),
    };
    match kind {
        // Failed after it was created (by the worker): the order itself is the answer.
        Some(FailureKind::Attempts) | None => Ok(Created { order, replayed }),
        Some(kind) => Err(Error::Failed {
            id,
            kind,
            reason,
            field,
        }),
    }
}

fn unavailable(e: CallError) -> Error {
    Error::DependencyUnavailable(match e {
        CallError::Unavailable(d) | CallError::Conflict(d) => d,
        CallError::NotFound => "not found".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: &str, kind: Option<FailureKind>) -> Order {
        Order {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            status: status.into(),
            total_cents: 0,
            failure_kind: kind.map(|k| k.as_str().to_owned()),
            failure_reason: kind.map(|_| "because".to_owned()),
            created_at: Utc::now(),
            completed_at: None,
            stock_released_at: None,
            items: Vec::new(),
        }
    }

    fn status_of(answer: Result<Created>) -> u16 {
        match answer {
            Ok(created) if created.replayed => 200,
            Ok(_) => 201,
            Err(e) => e.status_code().as_u16(),
        }
    }

    #[test]
    fn a_replay_answers_as_the_first_request_did() {
        use FailureKind::*;
        for (kind, want) in [
            (OutOfStock, 409),
            (UnknownProduct, 422),
            (Invalid, 422),
            (Unavailable, 503),
            (Interrupted, 503),
            // Created, then given up by the worker: the order is the answer.
            (Attempts, 200),
        ] {
            assert_eq!(
                status_of(answer(order("failed", Some(kind)), None, true)),
                want,
                "{kind:?}"
            );
        }
        assert_eq!(status_of(answer(order("pending", None), None, true)), 200);
        assert_eq!(status_of(answer(order("completed", None), None, true)), 200);
        assert_eq!(status_of(answer(order("reserving", None), None, true)), 409);
    }

    #[test]
    fn the_first_answer_names_the_field_and_the_order() {
        let failure = Failure {
            kind: FailureKind::Invalid,
            reason: "too dear".into(),
            field: Some("items[1].quantity".into()),
        };
        let Err(rejected) = answer(order("failed", Some(FailureKind::Invalid)), Some(failure), false) else {
            panic!("a failed order is a problem");
        };
        assert_eq!(rejected.status_code().as_u16(), 422);
        assert!(
            matches!(&rejected, Error::Failed { field: Some(f), reason, .. } if f == "items[1].quantity" && reason == "too dear"),
            "{rejected:?}"
        );
        assert_eq!(rejected.order_id(), Some(Uuid::nil()));
        assert_eq!(status_of(answer(order("pending", None), None, false)), 201);
    }
}
