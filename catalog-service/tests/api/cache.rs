//! Redis is only a cache: a stalled or dead Redis slows nothing down once the breaker
//! opens, leaves `/ready` at 200 (degraded), and no read racing a change of stock can
//! put the older product back into the cache.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_kit::testing::{self, StalledServer};
use service_kit::{CacheArgs, JsonCache};
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn a_stalled_cache_keeps_reads_fast_once_the_breaker_opens() {
    // Arrange: a deadline a read paying twice (get and put) would exceed 50 ms with.
    let stalled = StalledServer::start();
    let settings = CacheArgs {
        timeout: Duration::from_millis(100),
        breaker_failures: 3,
        breaker_cooldown: Duration::from_secs(60),
        ..CacheArgs::default()
    };
    let app = spawn_app_with(stalled.redis_url(), settings).await;
    let id = app.product("STALL", 100, 5).await;
    let path = format!("/products/{id}");

    // Act
    let first = Instant::now();
    assert_eq!(app.get(&path).await.status(), 200);
    let first = first.elapsed();
    for _ in 0..2 {
        assert_eq!(app.get(&path).await.status(), 200);
    }
    // 300 samples: the p99 allows three outliers on a machine shared with compilers.
    let mut latencies = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        assert_eq!(app.get(&path).await.status(), 200);
        latencies.push(t.elapsed());
    }

    // Assert
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100 - 1];
    assert!(first < Duration::from_secs(1), "first read took {first:?}");
    assert!(p99 < Duration::from_millis(50), "p99 {p99:?} with the breaker open");
    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), 200);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("cache_available{service=\"catalog-service\"} 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn ready_is_200_and_says_degraded_when_the_cache_is_down() {
    // Arrange: nothing listens on the cache's port.
    let dead = format!("redis://127.0.0.1:{}", testing::free_port());
    let app = spawn_app_with(dead, CacheArgs::default()).await;

    // Act
    let resp = app.get("/ready").await;

    // Assert
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["degraded"], json!(["redis"]), "{body}");
    assert_ne!(body["checks"]["redis"], "ok", "{body}");
    // Reads, reservations and restocking work without the cache.
    let id = app.product("NOCACHE", 100, 5).await;
    assert_eq!(app.reserve(id, Uuid::new_v4(), 2).await.status(), 201);
    assert_eq!(app.add_stock(id, 1).await.status(), 200);
    assert_eq!(app.stock(id).await, 4);
}

#[tokio::test]
async fn a_read_that_raced_a_reservation_cannot_bring_the_old_stock_back() {
    // Arrange: a reader read the product before a reservation committed.
    let app = spawn_app().await;
    let id = app.product("RACE", 100, 5).await;
    let snapshot: Value = app.get(&format!("/products/{id}")).await.json().await.unwrap();

    // Act: the reservation commits and invalidates; then the reader puts what it read.
    assert_eq!(app.reserve(id, Uuid::new_v4(), 2).await.status(), 201);
    let conn = service_kit::stores::redis(&testing::redis_url()).unwrap();
    let cache = JsonCache::new(
        conn,
        app.redis_prefix.clone(),
        Duration::from_secs(60),
        &CacheArgs::default(),
        "test",
    );
    let version = snapshot["version"].as_i64().unwrap();
    cache
        .put(&catalog_service::routes::cache_key(id), version, &snapshot)
        .await;

    // Assert
    assert_eq!(app.stock(id).await, 3);
}
