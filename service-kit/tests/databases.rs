//! A test's database goes with it, passed or panicked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use service_kit::testing::{self, TestDatabase};
use sqlx::Connection as _;

async fn exists(name: &str) -> bool {
    let mut conn = sqlx::PgConnection::connect(&testing::admin_database_url())
        .await
        .unwrap();
    sqlx::query_scalar::<_, i32>("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await
        .unwrap()
        .is_some()
}

fn name_of(db: &TestDatabase) -> String {
    db.url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_database_is_dropped_with_its_guard_even_with_a_pool_open() {
    let db = TestDatabase::create("dropcheck").await;
    let name = name_of(&db);
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::query("CREATE TABLE t (x int)").execute(&pool).await.unwrap();
    assert!(exists(&name).await, "{name} was not created");
    drop(db);
    assert!(!exists(&name).await, "{name} outlived its guard");
}

#[tokio::test]
async fn a_database_is_dropped_when_its_test_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let test = std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let db = TestDatabase::create("dropcheck").await;
            tx.send(name_of(&db)).unwrap();
            panic!("the test fails while holding {}", db.url);
        });
    });
    assert!(test.join().is_err());
    let name = rx.recv().unwrap();
    assert!(!exists(&name).await, "{name} outlived its panicked test");
}
