//! Two replicas sharing one database and one Redis key prefix, each answering reads
//! from its own memory: a change through one is read through the other within
//! 100 ms (the invalidation is announced through Redis pub/sub), and the memory
//! layer is not used while its subscription is down.

use std::time::{Duration, Instant};

use serde_json::json;
use service_kit::CacheArgs;
use service_kit::testing::RedisServer;

use crate::helpers::{TestApp, spawn_app, spawn_app_with, spawn_replica};

/// Reads answered from process memory so far, by every replica in this process.
async fn local_hits(app: &TestApp) -> u64 {
    app.metrics()
        .await
        .lines()
        .filter(|l| l.starts_with("cache_requests_total{") && l.contains("result=\"local_hit\""))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, n)| n.parse::<u64>().ok()))
        .sum()
}

/// Reads `path` through `app` until one read is answered from its memory.
async fn held_in_memory(app: &TestApp, path: &str) {
    let start = Instant::now();
    loop {
        let before = local_hits(app).await;
        assert_eq!(app.get(path).await.status(), 200);
        if local_hits(app).await > before {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{path} never served from memory"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn etag(resp: &reqwest::Response) -> String {
    resp.headers()["etag"].to_str().unwrap().to_owned()
}

/// Polls `path` through `app` every 2 ms until `done` holds of a response; returns
/// the time from `since`.
async fn seen_within(app: &TestApp, path: &str, since: Instant, done: impl Fn(&reqwest::Response) -> bool) -> Duration {
    loop {
        let resp = app.get(path).await;
        if done(&resp) {
            return since.elapsed();
        }
        assert!(since.elapsed() < Duration::from_secs(5), "{path}: never seen");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn report(what: &str, took: Duration) {
    if std::env::var("TEST_LOG").is_ok() {
        eprintln!("{what} seen through the other replica after {took:?}");
    }
    assert!(took < Duration::from_millis(100), "{what}: {took:?}");
}

#[tokio::test]
async fn a_change_through_one_replica_is_read_through_the_other_within_100ms() {
    // Arrange: both replicas hold the product in memory.
    let a = spawn_app().await;
    let b = spawn_replica(&a).await;
    let id = a.product("COHERENT", 100, 5).await;
    let path = format!("/products/{id}");
    held_in_memory(&a, &path).await;
    held_in_memory(&b, &path).await;

    // Act: a PATCH through a.
    let patched = a
        .admin
        .patch(a.url(&path))
        .json(&json!({"price_cents": 250}))
        .send()
        .await
        .unwrap();
    let written = Instant::now();
    assert_eq!(patched.status(), 200);
    let version = etag(&patched);

    // Assert
    let took = seen_within(&b, &path, written, |r| etag(r) == version).await;
    report("a PATCH", took);
    let body: serde_json::Value = b.get(&path).await.json().await.unwrap();
    assert_eq!(body["price_cents"], 250);

    // The same for a change of stock, once b holds the new version in memory.
    held_in_memory(&b, &path).await;
    let restocked = a.add_stock(id, 3).await;
    let written = Instant::now();
    assert_eq!(restocked.status(), 200);
    let version = etag(&restocked);
    let took = seen_within(&b, &path, written, |r| etag(r) == version).await;
    report("a stock change", took);
    assert_eq!(b.stock(id).await, 8);

    // And a deletion.
    held_in_memory(&b, &path).await;
    let deleted = a.admin.delete(a.url(&path)).send().await.unwrap();
    let written = Instant::now();
    assert_eq!(deleted.status(), 204);
    let took = seen_within(&b, &path, written, |r| r.status() == 404).await;
    report("a DELETE", took);
}

#[tokio::test]
async fn a_hit_from_memory_is_the_same_response_as_one_from_the_database() {
    let app = spawn_app().await;
    let id = app.product("SAME", 100, 5).await;
    let path = format!("/products/{id}");
    let first = app.get(&path).await;
    let (first_tag, first_type) = (etag(&first), first.headers()["content-type"].clone());
    let first_body = first.text().await.unwrap();
    held_in_memory(&app, &path).await;
    let hit = app.get(&path).await;
    assert_eq!(etag(&hit), first_tag);
    assert_eq!(hit.headers()["content-type"], first_type);
    assert_eq!(hit.text().await.unwrap(), first_body);
}

#[tokio::test]
async fn with_redis_down_a_replica_reads_the_database_not_its_memory() {
    // Arrange: two replicas on a Redis of the test's own, both holding the product.
    let mut redis = RedisServer::start();
    let a = spawn_app_with(redis.url(), CacheArgs::default()).await;
    let b = spawn_replica(&a).await;
    let id = a.product("REDISDOWN", 100, 5).await;
    let path = format!("/products/{id}");
    held_in_memory(&a, &path).await;
    held_in_memory(&b, &path).await;

    // Act: Redis dies (the subscriptions close), then a PATCH through a commits
    // without any invalidation getting through.
    redis.stop();
    let patched = a
        .admin
        .patch(a.url(&path))
        .json(&json!({"price_cents": 300}))
        .send()
        .await
        .unwrap();
    let written = Instant::now();
    assert_eq!(patched.status(), 200);
    let version = etag(&patched);

    // Assert: b reads the database, not what it held.
    let took = seen_within(&b, &path, written, |r| etag(r) == version).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
    let before = local_hits(&b).await;
    for _ in 0..5 {
        let resp = b.get(&path).await;
        assert_eq!(etag(&resp), version);
    }
    assert_eq!(local_hits(&b).await, before, "answered from memory with redis down");
    // Once Redis is back, b answers from memory again, with the new version.
    redis.restart();
    held_in_memory(&b, &path).await;
    assert_eq!(etag(&b.get(&path).await), version);
}
