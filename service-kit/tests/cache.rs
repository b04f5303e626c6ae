//! `JsonCache` against a real Redis (each test under its own key prefix) and against
//! a stalled endpoint: versioned entries refuse stale puts, and the deadline and the
//! circuit breaker keep a stalled cache from slowing reads down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use service_kit::testing::{self, StalledServer};
use service_kit::{CacheArgs, JsonCache};

fn cache(url: &str, args: &CacheArgs) -> JsonCache {
    let conn = service_kit::stores::redis(url).unwrap();
    JsonCache::new(conn, testing::redis_prefix(), Duration::from_secs(60), args, "test")
}

#[tokio::test]
async fn a_read_that_raced_a_write_cannot_put_its_older_value_back() {
    // Arrange
    let c = cache(&testing::redis_url(), &CacheArgs::default());
    c.put("k", 1, &"v1").await;
    assert_eq!(c.get::<String>("k").await.as_deref(), Some("v1"));

    // Act: a write commits version 2 and invalidates; a reader that read version 1
    // before the write puts it afterwards.
    c.invalidate("k", 2).await;
    c.put("k", 1, &"v1").await;

    // Assert
    assert_eq!(c.get::<String>("k").await, None, "stale value resurrected");
    c.put("k", 2, &"v2").await;
    assert_eq!(c.get::<String>("k").await.as_deref(), Some("v2"));
    c.put("k", 1, &"v1").await;
    assert_eq!(
        c.get::<String>("k").await.as_deref(),
        Some("v2"),
        "an older put never wins"
    );
}

#[tokio::test]
async fn nothing_is_cached_after_a_deletion() {
    let c = cache(&testing::redis_url(), &CacheArgs::default());
    c.put("k", 3, &"v3").await;
    c.gone("k").await;
    c.put("k", 3, &"v3").await;
    c.put("k", 4, &"v4").await;
    assert_eq!(c.get::<String>("k").await, None);
}

#[tokio::test]
async fn a_stalled_cache_opens_the_breaker_and_then_costs_nothing() {
    // Arrange
    let stalled = StalledServer::start();
    let args = CacheArgs {
        timeout: Duration::from_millis(50),
        breaker_failures: 3,
        breaker_cooldown: Duration::from_secs(60),
        ..CacheArgs::default()
    };
    let c = cache(&stalled.redis_url(), &args);

    // Act
    let first = Instant::now();
    assert_eq!(c.get::<String>("k").await, None);
    let first = first.elapsed();
    c.put("k", 1, &"v").await;
    c.invalidate("k", 2).await;
    let later = Instant::now();
    for _ in 0..100 {
        assert_eq!(c.get::<String>("k").await, None);
    }
    let later = later.elapsed();

    // Assert
    assert!(
        first < Duration::from_millis(500),
        "the deadline bounds a stalled call: {first:?}"
    );
    assert!(!c.is_available(), "three failures open the breaker");
    assert!(
        later < Duration::from_millis(50),
        "100 reads with the breaker open took {later:?}"
    );
    let health = c.health().await.unwrap_err();
    assert!(health.contains("circuit open"), "{health}");
}

#[tokio::test]
async fn the_breaker_closes_again_when_a_probe_succeeds() {
    let mut redis = testing::RedisServer::start();
    let args = CacheArgs {
        timeout: Duration::from_millis(200),
        breaker_failures: 1,
        breaker_cooldown: Duration::from_millis(100),
        ..CacheArgs::default()
    };
    let c = cache(&redis.url(), &args);
    c.put("k", 1, &"v").await;
    redis.stop();
    assert_eq!(c.get::<String>("k").await, None);
    assert!(!c.is_available());
    redis.restart();
    tokio::time::sleep(Duration::from_millis(150)).await;
    // The connection manager may need a call or two to reconnect.
    let mut healthy = false;
    for _ in 0..20 {
        if c.health().await.is_ok() {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(healthy && c.is_available(), "probe did not close the breaker");
}

#[tokio::test]
async fn an_invalidation_lost_in_an_outage_lands_when_redis_is_back() {
    // Arrange: Redis is down when a delete invalidates.
    let mut redis = testing::RedisServer::start();
    let prefix = testing::redis_prefix();
    let args = CacheArgs {
        timeout: Duration::from_millis(200),
        breaker_failures: 1,
        breaker_cooldown: Duration::from_secs(1),
        ..CacheArgs::default()
    };
    let c = JsonCache::new(
        service_kit::stores::redis(&redis.url()).unwrap(),
        prefix.clone(),
        Duration::from_secs(60),
        &args,
        "test",
    );
    redis.stop();
    c.gone("k").await;

    // Act: Redis comes back holding the old entry (as one that survived would), well
    // before the first retry that the breaker lets through (one cool-down later).
    tokio::time::sleep(Duration::from_millis(200)).await;
    redis.restart();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{prefix}k");
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("d:1:\"v1\"")
        .query_async(&mut raw)
        .await
        .unwrap();

    // Assert: the retried deletion marker replaces it.
    let mut stored = String::new();
    for _ in 0..80 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        stored = redis::cmd("GET").arg(&key).query_async(&mut raw).await.unwrap();
        if stored == "g:" {
            break;
        }
    }
    assert_eq!(stored, "g:", "the deletion marker never reached Redis");
    assert_eq!(c.get::<String>("k").await, None);
}
