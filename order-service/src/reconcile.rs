//! The reconciler: each pass repairs what a crash, a disconnect or a lost queue left
//! undone, from the database alone.
//!
//! - `reserving` orders without progress for `stuck_after` lost their saga: queued if
//!   every line is reserved (`resumed`), otherwise failed and released (`compensated`).
//! - `failed` orders whose stock is not all given back have it released (`released`):
//!   sagas whose release failed, and orders the worker gave up on (MAX_ATTEMPTS).
//! - `pending` orders not seen on the queue for `requeue_after` are looked up in Redis
//!   and pushed again if the queue lost them (`requeued`).
//!
//! Each kind is taken in batches under `FOR UPDATE SKIP LOCKED` with a lease (see
//! [`crate::db::saga`]), so replicas share the work; every repair is idempotent (the
//! catalog's reserve and release are, per order id), so a repair cut short is simply
//! done again by a later pass.

use std::future::Future;
use std::time::Duration;

use uuid::Uuid;

use crate::config::ReconcileArgs;
use crate::db::saga as sql;
use crate::domain::FailureKind;
use crate::saga::{self, Failure};
use crate::state::{AppState, SERVICE};

/// What one pass did, by action.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Stuck sagas whose lines were all reserved, now pending and queued.
    pub resumed: u64,
    /// Stuck sagas failed and released.
    pub compensated: u64,
    /// Failed orders whose stock was given back.
    pub released: u64,
    /// Pending orders put back on a queue that had lost them.
    pub requeued: u64,
}

/// The reconciler of one process.
#[derive(Clone)]
pub struct Reconciler {
    state: AppState,
    interval: Duration,
    stuck_after: Duration,
    requeue_after: Duration,
    batch: i64,
}

fn count(action: &'static str, n: u64) {
    if n > 0 {
        metrics::counter!("orders_reconciled_total", "service" => SERVICE, "action" => action).increment(n);
    }
}

impl Reconciler {
    /// A reconciler over the API's state with these settings.
    pub fn new(state: AppState, args: &ReconcileArgs) -> Self {
        Self {
            state,
            interval: args.reconcile_interval.max(Duration::from_millis(10)),
            stuck_after: args.reconcile_stuck_after,
            requeue_after: args.reconcile_requeue_after,
            batch: args.reconcile_batch.max(1),
        }
    }

    /// Passes every interval until `stop` resolves. A pass cut short by the stop is
    /// finished by a later pass, here or in another replica.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = ticker.tick() => {}
            }
            tokio::select! {
                () = &mut stop => return,
                pass = self.pass() => if pass != Pass::default() {
                    tracing::info!(?pass, "reconciled orders");
                },
            }
        }
    }

    /// One pass over the three kinds of repair; errors are logged and left for the next.
    pub async fn pass(&self) -> Pass {
        let mut pass = Pass::default();
        match self.settle_stuck().await {
            Ok((resumed, compensated)) => (pass.resumed, pass.compensated) = (resumed, compensated),
            Err(e) => tracing::warn!(error.message = %e, "reconciler cannot settle stuck orders"),
        }
        match self.release_failed().await {
            Ok(n) => pass.released = n,
            Err(e) => tracing::warn!(error.message = %e, "reconciler cannot release failed orders"),
        }
        match self.requeue_lost().await {
            Ok(n) => pass.requeued = n,
            Err(e) => tracing::warn!(error.message = %e, "reconciler cannot requeue pending orders"),
        }
        count("resumed", pass.resumed);
        count("compensated", pass.compensated);
        count("released", pass.released);
        count("requeued", pass.requeued);
        pass
    }

    async fn settle_stuck(&self) -> anyhow::Result<(u64, u64)> {
        let (mut resumed, mut compensated) = (0, 0);
        for id in sql::take_stuck(&self.state.db, self.stuck_after, self.batch).await? {
            match self.settle_one(id).await {
                Ok(true) => resumed += 1,
                Ok(false) => compensated += 1,
                Err(e) => tracing::warn!(order.id = %id, error.message = %e, "cannot settle a stuck order"),
            }
        }
        Ok((resumed, compensated))
    }

    /// `true` when the order went to `pending`, `false` when it was failed.
    async fn settle_one(&self, id: Uuid) -> anyhow::Result<bool> {
        let state = &self.state;
        let failure = match saga::finish_reserved(state, id).await? {
            Some(overflow) => overflow,
            None => match sql::status(&state.db, id).await?.as_deref() {
                Some("reserving") => Failure {
                    kind: FailureKind::Interrupted,
                    reason: "interrupted before every line was reserved; released what it held".into(),
                    field: None,
                },
                // Failed meanwhile by its own saga: only the release may be left.
                Some("failed") => {
                    saga::release_all(state, id, None).await?;
                    return Ok(false);
                }
                _ => {
                    tracing::info!(order.id = %id, "resumed a stuck order: every line was reserved");
                    return Ok(true);
                }
            },
        };
        sql::fail(&state.db, id, failure.kind, &failure.reason).await?;
        tracing::info!(order.id = %id, reason = %failure.reason, "compensated a stuck order");
        saga::release_all(state, id, None).await?;
        Ok(false)
    }

    async fn release_failed(&self) -> anyhow::Result<u64> {
        let mut released = 0;
        for id in sql::take_unreleased(&self.state.db, self.interval, self.batch).await? {
            if saga::release_all(&self.state, id, None).await? {
                tracing::info!(order.id = %id, "released the stock of a failed order");
                released += 1;
            }
        }
        Ok(released)
    }

    async fn requeue_lost(&self) -> anyhow::Result<u64> {
        let ids: Vec<String> = sql::take_unseen_pending(&self.state.db, self.requeue_after, self.batch)
            .await?
            .iter()
            .map(Uuid::to_string)
            .collect();
        let mut requeued = 0;
        for id in self.state.queue.missing(&ids).await? {
            self.state.queue.push(&id).await?;
            tracing::warn!(order.id = %id, "requeued a pending order the queue had lost");
            requeued += 1;
        }
        Ok(requeued)
    }
}
