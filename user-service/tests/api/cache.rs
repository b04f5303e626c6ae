//! Redis is only a cache: a stalled or dead Redis slows nothing down once the breaker
//! opens, leaves `/ready` at 200 (degraded), and no read racing a write or a delete
//! can put an older user back into the cache.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_kit::testing::{self, StalledServer};
use service_kit::{CacheArgs, JsonCache};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// The deadline is long enough that a read paying it twice (get and put) would fail
/// the 50 ms budget: only the open breaker can keep reads under it.
fn stall_settings() -> CacheArgs {
    CacheArgs {
        timeout: Duration::from_millis(100),
        breaker_failures: 3,
        breaker_cooldown: Duration::from_secs(60),
        ..CacheArgs::default()
    }
}

fn id_of(user: &Value) -> Uuid {
    user["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_stalled_cache_keeps_reads_fast_once_the_breaker_opens() {
    // Arrange
    let stalled = StalledServer::start();
    let app = spawn_app_with(stalled.redis_url(), stall_settings()).await;
    let id = id_of(&app.user("stall@example.org").await);
    let path = format!("/users/{id}");

    // Act: the first reads pay the deadline and open the breaker...
    let first = Instant::now();
    assert_eq!(app.get(&path).await.status(), 200);
    let first = first.elapsed();
    for _ in 0..2 {
        assert_eq!(app.get(&path).await.status(), 200);
    }
    // ...then the rest go straight to PostgreSQL.
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
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("cache_available{service=\"user-service\"} 0"),
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
    assert_eq!(body["checks"]["postgres"], "ok", "{body}");
    assert_ne!(body["checks"]["redis"], "ok", "{body}");
    // Reads and writes work without the cache.
    let id = id_of(&app.user("nocache@example.org").await);
    assert_eq!(app.get(&format!("/users/{id}")).await.status(), 200);
}

#[tokio::test]
async fn ready_says_ready_when_the_cache_answers() {
    let app = spawn_app().await;
    let body: Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    assert!(
        app.metrics()
            .await
            .contains("cache_available{service=\"user-service\"} 1")
    );
}

/// What a read that missed and read the row before a write would put afterwards.
async fn racing_put(app: &TestApp, id: Uuid, snapshot: &Value) {
    let conn = service_kit::stores::redis(&testing::redis_url()).unwrap();
    let cache = JsonCache::new(
        conn,
        app.redis_prefix.clone(),
        Duration::from_secs(60),
        &CacheArgs::default(),
        "test",
    );
    let version = snapshot["version"].as_i64().unwrap();
    cache.put(&user_service::routes::cache_key(id), version, snapshot).await;
}

#[tokio::test]
async fn a_read_that_raced_a_delete_cannot_resurrect_the_user() {
    // Arrange: a reader read the user before the delete committed.
    let app = spawn_app().await;
    let id = id_of(&app.user("gone@example.org").await);
    let snapshot: Value = app.get(&format!("/users/{id}")).await.json().await.unwrap();

    // Act
    let deleted = app
        .client
        .delete(app.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap();
    racing_put(&app, id, &snapshot).await;

    // Assert
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.get(&format!("/users/{id}")).await.status(), 404);
}

#[tokio::test]
async fn a_read_that_raced_an_update_cannot_bring_the_old_user_back() {
    let app = spawn_app().await;
    let id = id_of(&app.user("old@example.org").await);
    let path = format!("/users/{id}");
    let snapshot: Value = app.get(&path).await.json().await.unwrap();
    let patched = app
        .client
        .patch(app.url(&path))
        .json(&json!({"name": "New"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    racing_put(&app, id, &snapshot).await;
    let read: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(read["name"], "New");
}

#[tokio::test]
async fn reads_running_during_a_delete_never_see_the_user_after_it() {
    let app = spawn_app().await;
    for round in 0..5 {
        // Arrange: readers hammer the user while it is deleted.
        let id = id_of(&app.user(&format!("race{round}@example.org")).await);
        let path = format!("/users/{id}");
        let deleted_at = std::sync::Arc::new(tokio::sync::OnceCell::<Instant>::new());
        let readers: Vec<_> = (0..6)
            .map(|_| {
                let (client, url, deleted_at) = (app.client.clone(), app.url(&path), deleted_at.clone());
                tokio::spawn(async move {
                    let mut late_hits = 0;
                    for _ in 0..40 {
                        let started = Instant::now();
                        let status = client.get(&url).send().await.unwrap().status().as_u16();
                        let after_delete = deleted_at.get().is_some_and(|d| started > *d);
                        if status == 200 && after_delete {
                            late_hits += 1;
                        }
                    }
                    late_hits
                })
            })
            .collect();

        // Act
        tokio::time::sleep(Duration::from_millis(20)).await;
        let resp = app.client.delete(app.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), 204);
        deleted_at.set(Instant::now()).unwrap();

        // Assert
        for r in readers {
            assert_eq!(r.await.unwrap(), 0, "a read after the delete saw the user");
        }
        assert_eq!(app.get(&path).await.status(), 404);
    }
}
