//! Two replicas sharing one database and one Redis key prefix, each answering reads
//! from its own memory: a change or a deletion through one is read through the other
//! within 100 ms (the invalidation is announced through Redis pub/sub).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, spawn_app, spawn_replica};

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

/// Polls `path` through `app` every 2 ms until `done` holds of a response; returns
/// the time from `since`, which must be under 100 ms.
async fn seen_within_100ms(
    what: &str,
    app: &TestApp,
    path: &str,
    since: Instant,
    done: impl Fn(&reqwest::Response) -> bool,
) {
    loop {
        let resp = app.get(path).await;
        if done(&resp) {
            break;
        }
        assert!(since.elapsed() < Duration::from_secs(5), "{what}: never seen");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = since.elapsed();
    if std::env::var("TEST_LOG").is_ok() {
        eprintln!("{what} seen through the other replica after {took:?}");
    }
    assert!(took < Duration::from_millis(100), "{what}: {took:?}");
}

#[tokio::test]
async fn a_change_through_one_replica_is_read_through_the_other_within_100ms() {
    // Arrange: both replicas hold the user in memory.
    let a = spawn_app().await;
    let b = spawn_replica(&a).await;
    let user = a.user("coherent@example.org").await;
    let path = format!("/users/{}", user["id"].as_str().unwrap());
    held_in_memory(&a, &path).await;
    held_in_memory(&b, &path).await;

    // Act
    let patched = a
        .client
        .patch(a.url(&path))
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    let written = Instant::now();
    assert_eq!(patched.status(), 200);
    let version = patched.headers()["etag"].clone();

    // Assert
    seen_within_100ms("a PATCH", &b, &path, written, |r| r.headers()["etag"] == version).await;
    let body: serde_json::Value = b.get(&path).await.json().await.unwrap();
    assert_eq!(body["name"], "Renamed");

    // A deletion, once b holds the new version in memory.
    held_in_memory(&b, &path).await;
    let deleted = a.client.delete(a.url(&path)).send().await.unwrap();
    let written = Instant::now();
    assert_eq!(deleted.status(), 204);
    seen_within_100ms("a DELETE", &b, &path, written, |r| r.status() == 404).await;
}
