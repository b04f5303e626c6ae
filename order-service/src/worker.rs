//! The order worker: takes ids from the reliable queue, does the fulfilment work,
//! marks the order completed exactly once, and acknowledges. Beside the consumers run
//! the requeue of stale jobs and the queue-depth gauge. Orders that never reached the
//! queue, or that the queue lost, and the stock of orders given up on here, are the
//! API's reconciler's (see [`crate::reconcile`]): it needs the catalog, and the worker
//! may be scaled to zero. All of them live in one `JoinSet`, so that dropping the
//! worker's future (a test "killing" it) stops every part at once.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use service_kit::{HttpArgs, Readiness, Server};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::config::WorkerConfig;
use crate::domain::fulfilment_work;
use crate::{db, queue::Queue};

/// The `service` label on the worker's metrics.
pub const SERVICE: &str = "order-worker";

/// How long a consumer waits before looking again at an empty queue.
const POLL: Duration = Duration::from_millis(50);

/// A built worker, ready to run.
pub struct Worker {
    db: PgPool,
    queue: Queue,
    config: WorkerConfig,
    metrics: Server,
}

/// Connects, migrates and binds the metrics port.
pub async fn build(config: WorkerConfig) -> anyhow::Result<Worker> {
    config.stores.check_exposure(&config.host)?;
    let (db, redis) = config.stores.connect(&crate::startup::MIGRATOR).await?;
    let queue = Queue::new(redis.clone(), &config.stores.redis_prefix);
    let readiness = Readiness::new().postgres(db.clone()).redis(redis);
    let http = HttpArgs {
        host: config.host.clone(),
        log_format: config.log_format,
        ..HttpArgs::default()
    };
    let router = service_kit::http::finish(SERVICE, axum::Router::new(), readiness, &http);
    let metrics = Server::bind(&config.host, config.metrics_port, router).await?;
    Ok(Worker {
        db,
        queue,
        config,
        metrics,
    })
}

impl Worker {
    /// The metrics port actually bound.
    pub fn metrics_port(&self) -> u16 {
        self.metrics.port()
    }

    /// Runs until `shutdown` resolves; consumers finish the order in hand first.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop_tx, stop) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let metrics_stop = wait(stop.clone());
        tasks.spawn(async move { self.metrics.run(metrics_stop).await.context("metrics server failed") });
        let shared = Shared {
            db: self.db,
            queue: self.queue,
            config: self.config,
        };
        for _ in 0..shared.config.concurrency.max(1) {
            tasks.spawn(shared.clone().consume(stop.clone()));
        }
        tasks.spawn(shared.clone().maintain(stop.clone()));
        tracing::info!(concurrency = shared.config.concurrency, "worker started");
        tokio::select! {
            () = shutdown => {}
            Some(ended) = tasks.join_next() => tracing::error!(?ended, "a worker task ended early"),
        }
        let _ = stop_tx.send(true);
        while let Some(ended) = tasks.join_next().await {
            if let Ok(Err(e)) = ended {
                tracing::warn!(error.message = %e, "worker task ended with an error");
            }
        }
        tracing::info!("worker stopped");
        Ok(())
    }
}

async fn wait(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

#[derive(Clone)]
struct Shared {
    db: PgPool,
    queue: Queue,
    config: WorkerConfig,
}

impl Shared {
    async fn consume(self, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        while !*stop.borrow() {
            match self.queue.take().await {
                Ok(Some(id)) => self.process(&id).await,
                Ok(None) => tokio::time::sleep(POLL).await,
                Err(e) => {
                    tracing::warn!(error.message = %e, "cannot take from the queue");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        Ok(())
    }

    /// Any error leaves the id in the processing list, to be requeued after the
    /// visibility timeout: nothing is dropped because a dependency blinked.
    async fn process(&self, id: &str) {
        let start = Instant::now();
        let outcome = match id.parse::<Uuid>() {
            Ok(uuid) => self.fulfil(uuid).await,
            Err(_) => {
                tracing::warn!(id, "dropping a queue entry that is not an order id");
                Ok(None)
            }
        };
        match outcome {
            Ok(result) => {
                if let Some(result) = result {
                    metrics::counter!("orders_processed_total", "service" => SERVICE, "result" => result).increment(1);
                    metrics::histogram!("order_processing_seconds", "service" => SERVICE)
                        .record(start.elapsed().as_secs_f64());
                }
                if let Err(e) = self.queue.ack(id).await {
                    tracing::warn!(error.message = %e, id, "cannot acknowledge, the order may be taken again");
                }
            }
            Err(e) => tracing::warn!(error.message = %e, id, "processing failed, it will be retried"),
        }
    }

    /// `Some(result)` when this call finished the order, `None` when there was nothing to do.
    async fn fulfil(&self, id: Uuid) -> anyhow::Result<Option<&'static str>> {
        let Some((attempts, items)) = db::begin_attempt(&self.db, id).await? else {
            tracing::debug!(order.id = %id, "already finished or unknown, acknowledging");
            return Ok(None);
        };
        if attempts > self.config.max_attempts {
            // Its stock is released by the API's reconciler, which has the catalog.
            let reason = format!("gave up after {} attempts", attempts - 1);
            return Ok(db::finish(&self.db, id, Some(&reason)).await?.then_some("failed"));
        }
        let rounds = self.config.work_rounds;
        tokio::task::spawn_blocking(move || fulfilment_work(id, &items, rounds)).await?;
        let done = db::finish(&self.db, id, None).await?;
        if done {
            tracing::debug!(order.id = %id, "order completed");
        }
        Ok(done.then_some("completed"))
    }

    async fn maintain(self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.wait_for(|s| *s) => return Ok(()),
            }
            self.refresh_depth().await;
            match self.queue.requeue_stale(self.config.visibility_timeout).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(n, "requeued jobs a worker took but never finished"),
                Err(e) => tracing::warn!(error.message = %e, "cannot requeue stale jobs"),
            }
        }
    }

    async fn refresh_depth(&self) {
        if let Ok((waiting, processing)) = self.queue.depth().await {
            metrics::gauge!("order_queue_depth", "service" => SERVICE).set(waiting as f64);
            metrics::gauge!("order_queue_processing", "service" => SERVICE).set(processing as f64);
        }
    }
}
