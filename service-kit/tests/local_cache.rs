//! The in-process layer of `JsonCache` with two caches standing for two replicas under
//! one key prefix: a write through one evicts the other's entry within milliseconds,
//! and a lost or stalled subscription stops the local layer from answering (it is
//! cleared, and reads go to Redis) until the subscription is back.
//!
//! Whether a read was answered locally is told apart by changing the entry in Redis
//! behind the caches' backs (same version, other content, no announcement): a local
//! answer still has the old content.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use service_kit::testing::{self, RedisServer};
use service_kit::{CacheArgs, JsonCache};

fn replica(url: &str, prefix: &str, args: &CacheArgs) -> JsonCache {
    JsonCache::connect(url, prefix.to_owned(), Duration::from_secs(60), args, "test").unwrap()
}

async fn until(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    start.elapsed()
}

async fn serving_locally(c: &JsonCache) {
    until("local layer on", Duration::from_secs(5), async || c.serves_locally()).await;
}

/// Replaces the Redis entry without announcing it.
async fn overwrite_in_redis(url: &str, key: &str, stored: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(key)
        .arg(stored)
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_write_through_one_replica_evicts_the_others_entry_within_100ms() {
    // Arrange: both replicas hold v1 in memory.
    let (url, prefix) = (testing::redis_url(), testing::redis_prefix());
    let a = replica(&url, &prefix, &CacheArgs::default());
    let b = replica(&url, &prefix, &CacheArgs::default());
    serving_locally(&a).await;
    serving_locally(&b).await;
    a.put("k", 1, &"v1").await;
    assert_eq!(a.get::<String>("k").await.as_deref(), Some("v1"));
    assert_eq!(b.get::<String>("k").await.as_deref(), Some("v1"));
    overwrite_in_redis(&url, &format!("{prefix}k"), "d:1:\"elsewhere\"").await;
    assert_eq!(
        b.get::<String>("k").await.as_deref(),
        Some("v1"),
        "b answers from memory"
    );

    // Act
    a.invalidate("k", 2).await;
    let written = Instant::now();

    // Assert: the writer forgets at once; the other within 100 ms.
    assert_eq!(a.get::<String>("k").await, None);
    let took = until("b evicts", Duration::from_millis(100), async || {
        b.get::<String>("k").await.is_none()
    })
    .await;
    let seen = written.elapsed();
    if std::env::var("TEST_LOG").is_ok() {
        eprintln!("eviction seen by the other replica after {seen:?} ({took:?} of polling)");
    }
    assert!(seen < Duration::from_millis(100), "{seen:?}");

    // A deletion too.
    a.put("k", 2, &"v2").await;
    assert_eq!(b.get::<String>("k").await.as_deref(), Some("v2"));
    a.gone("k").await;
    until("b forgets the deleted key", Duration::from_millis(100), async || {
        b.get::<String>("k").await.is_none()
    })
    .await;
}

#[tokio::test]
async fn a_lost_subscription_turns_the_local_layer_off_until_it_is_back() {
    // Arrange: a Redis of the test's own, so that killing its subscribers disturbs no
    // other test; b holds v1 in memory.
    let redis = RedisServer::start();
    let (url, prefix) = (redis.url(), testing::redis_prefix());
    let a = replica(&url, &prefix, &CacheArgs::default());
    let b = replica(&url, &prefix, &CacheArgs::default());
    serving_locally(&b).await;
    a.put("k", 1, &"v1").await;
    assert_eq!(b.get::<String>("k").await.as_deref(), Some("v1"));
    overwrite_in_redis(&url, &format!("{prefix}k"), "d:1:\"elsewhere\"").await;
    assert_eq!(b.get::<String>("k").await.as_deref(), Some("v1"));

    // Act
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(killed >= 1);

    // Assert: b notices, stops answering from memory and reads Redis...
    until("b notices", Duration::from_secs(1), async || !b.is_subscribed()).await;
    assert!(!b.serves_locally());
    assert_eq!(b.get::<String>("k").await.as_deref(), Some("elsewhere"));
    // ...resubscribes, and starts from an empty layer.
    serving_locally(&b).await;
    assert_eq!(b.get::<String>("k").await.as_deref(), Some("elsewhere"));
    a.invalidate("k", 2).await;
    until("b evicts after resubscribing", Duration::from_millis(100), async || {
        b.get::<String>("k").await.is_none()
    })
    .await;
}

#[tokio::test]
async fn a_paused_redis_turns_the_local_layer_off_within_the_heartbeat_window() {
    // Arrange: b holds v1 in memory; a short breaker cool-down so that the retried
    // invalidation lands soon after Redis is back.
    let redis = RedisServer::start();
    let (url, prefix) = (redis.url(), testing::redis_prefix());
    let args = CacheArgs {
        breaker_cooldown: Duration::from_millis(300),
        ..CacheArgs::default()
    };
    let a = replica(&url, &prefix, &args);
    let b = replica(&url, &prefix, &args);
    serving_locally(&b).await;
    a.put("k", 1, &"v1").await;
    assert_eq!(b.get::<String>("k").await.as_deref(), Some("v1"));

    // Act: Redis freezes; a write's invalidation cannot get through.
    redis.pause();
    let paused = Instant::now();
    a.invalidate("k", 2).await;

    // Assert: b stops answering v1 from memory within the heartbeat window (2 s, and
    // the 30 ms deadline of the read that follows)...
    until("b stops serving from memory", Duration::from_secs(4), async || {
        b.get::<String>("k").await.is_none()
    })
    .await;
    let off_after = paused.elapsed();
    assert!(!b.serves_locally());
    assert!(off_after < Duration::from_millis(2600), "{off_after:?}");
    // ...and once Redis is back the retried invalidation lands, and v1 is gone.
    redis.resume();
    serving_locally(&b).await;
    until("the retried invalidation lands", Duration::from_secs(10), async || {
        b.get::<String>("k").await.is_none() && a.is_available() && b.is_available()
    })
    .await;
    for _ in 0..20 {
        assert_eq!(b.get::<String>("k").await, None);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_unreachable_redis_leaves_the_local_layer_off() {
    let dead = format!("redis://127.0.0.1:{}", testing::free_port());
    let c = replica(&dead, &testing::redis_prefix(), &CacheArgs::default());
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.put("k", 1, &"v1").await;
    assert!(!c.serves_locally());
    assert_eq!(c.get::<String>("k").await, None);
}

#[tokio::test]
async fn a_zero_ttl_turns_the_local_layer_off() {
    let args = CacheArgs {
        local_ttl: Duration::ZERO,
        ..CacheArgs::default()
    };
    let c = replica(&testing::redis_url(), &testing::redis_prefix(), &args);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!c.serves_locally() && !c.is_subscribed());
    c.put("k", 1, &"v1").await;
    assert_eq!(c.get::<String>("k").await.as_deref(), Some("v1"), "redis still answers");
}
