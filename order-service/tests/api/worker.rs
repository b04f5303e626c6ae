//! The worker's reliable queue: a killed worker's job is completed exactly once, and
//! an order created while Redis is down is processed once Redis is back.

use std::time::Duration;

use redis::AsyncCommands as _;
use serde_json::Value;
use service_kit::testing::RedisServer;

use crate::helpers::{Platform, id_of};

#[tokio::test]
async fn a_job_of_a_killed_worker_is_completed_exactly_once_after_restart() {
    // Arrange: a worker slow enough to be caught holding the job.
    let p = Platform::start().await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    let order: Value = p
        .order_request(user, &[(product, 1)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = id_of(&order);
    let mut redis = redis::Client::open(p.stores.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let processing = format!("{}orders:processing", p.stores.redis_prefix);
    // Long enough to be caught mid-job, but bounded: the work runs on a blocking thread
    // that aborting the worker cannot stop, and the test's runtime waits for it on exit (an
    // endless job hung the test whenever it had started before the abort landed).
    let slow = p.worker(1_000_000_000, Duration::from_secs(1));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    // Taken (on the processing list) and started (the attempt is counted).
    while redis.llen::<_, u64>(&processing).await.unwrap() == 0 || p.status_of(id).await.1 == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker never started the job"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Act: kill it mid-job, then start another.
    slow.abort();
    let _ = slow.await;
    assert_eq!(p.status_of(id).await.0, "pending");
    let fresh = p.worker(1_000, Duration::from_secs(1));

    // Assert
    p.wait_for_status(id, "completed", Duration::from_secs(15)).await;
    let (_, attempts) = p.status_of(id).await;
    assert_eq!(attempts, 2, "taken by both workers, completed once");
    let completed_at: Value = p
        .admin
        .get(format!("{}/orders/{id}", p.orders))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A duplicate delivery of a completed order is acknowledged without a second completion.
    let queue = format!("{}orders:queue", p.stores.redis_prefix);
    redis.lpush::<_, _, ()>(&queue, id.to_string()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while redis.llen::<_, u64>(&queue).await.unwrap() + redis.llen::<_, u64>(&processing).await.unwrap() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the duplicate was never acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again: Value = p
        .admin
        .get(format!("{}/orders/{id}", p.orders))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["completed_at"], completed_at["completed_at"]);
    assert_eq!(p.status_of(id).await.1, 2);
    fresh.abort();
}

#[tokio::test]
async fn an_order_made_while_redis_is_down_is_processed_when_it_returns() {
    // Arrange: a Redis of this test's own, which it can stop.
    let mut redis = RedisServer::start();
    let p = Platform::start_with_redis(&redis.url()).await;
    let user = p.user().await;
    let product = p.product(100, 10).await;
    redis.stop();

    // Act
    let resp = p.order_request(user, &[(product, 1)]).send().await.unwrap();

    // Assert: stored and answered; queued by the sweep once Redis is back.
    assert_eq!(resp.status(), 201);
    let id = id_of(&resp.json().await.unwrap());
    assert_eq!(p.status_of(id).await.0, "pending");
    redis.restart();
    let worker = p.worker(1_000, Duration::from_secs(30));
    p.wait_for_status(id, "completed", Duration::from_secs(20)).await;
    assert_eq!(p.status_of(id).await.1, 1, "processed once");
    worker.abort();
}
