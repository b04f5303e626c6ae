//! Starts user, catalog and order services on port 0, each with its own database and
//! Redis key prefix, plus workers on demand.

use std::time::Duration;

use order_service::config::{Config, Stores, WorkerConfig};
use serde_json::{Value, json};
use service_kit::{HttpArgs, testing};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub(crate) struct Platform {
    pub(crate) users: String,
    pub(crate) catalog: String,
    pub(crate) orders: String,
    pub(crate) client: reqwest::Client,
    pub(crate) stores: Stores,
    pub(crate) db: PgPool,
}

async fn start_user() -> String {
    let config = user_service::Config {
        port: 0,
        database_url: testing::fresh_database("users").await,
        // A loaded 2-core machine opens connections slowly: wait longer than in production.
        pool: service_kit::stores::PoolArgs {
            max_connections: 5,
            acquire_timeout_ms: 15_000,
        },
        redis_url: testing::redis_url(),
        redis_prefix: testing::redis_prefix(),
        cache_ttl_seconds: 60,
        http: HttpArgs::default(),
    };
    let server = user_service::build(config).await.unwrap();
    let url = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    url
}

pub(crate) async fn start_catalog() -> String {
    let config = catalog_service::Config {
        port: 0,
        database_url: testing::fresh_database("catalog").await,
        // A loaded 2-core machine opens connections slowly: wait longer than in production.
        pool: service_kit::stores::PoolArgs {
            max_connections: 20,
            acquire_timeout_ms: 15_000,
        },
        redis_url: testing::redis_url(),
        redis_prefix: testing::redis_prefix(),
        cache_ttl_seconds: 60,
        http: HttpArgs::default(),
    };
    let server = catalog_service::build(config).await.unwrap();
    let url = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    url
}

/// The order service against the given dependencies; `redis_url` lets a test use a
/// Redis server of its own.
pub(crate) async fn start_orders(users: &str, catalog: &str, redis_url: &str) -> (String, Stores) {
    let stores = Stores {
        database_url: testing::fresh_database("orders").await,
        // A loaded 2-core machine opens connections slowly: wait longer than in production.
        pool: service_kit::stores::PoolArgs {
            max_connections: 20,
            acquire_timeout_ms: 15_000,
        },
        redis_url: redis_url.to_owned(),
        redis_prefix: testing::redis_prefix(),
    };
    let config = Config {
        port: 0,
        stores: stores.clone(),
        user_service_url: users.to_owned(),
        catalog_service_url: catalog.to_owned(),
        // Generous: 50 concurrent orders on a 2-core machine in a debug build are slow.
        downstream_timeout_ms: 10_000,
        downstream_retries: 1,
        http: HttpArgs::default(),
    };
    let server = order_service::build(config).await.unwrap();
    let url = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    (url, stores)
}

impl Platform {
    pub(crate) async fn start() -> Self {
        Self::start_with_redis(&testing::redis_url()).await
    }

    pub(crate) async fn start_with_redis(redis_url: &str) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            service_kit::telemetry::init(service_kit::telemetry::LogFormat::Text, "info,order_service=debug");
        }
        let (users, catalog) = (start_user().await, start_catalog().await);
        let (orders, stores) = start_orders(&users, &catalog, redis_url).await;
        let db = PgPool::connect(&stores.database_url).await.unwrap();
        Self {
            users,
            catalog,
            orders,
            client: reqwest::Client::new(),
            stores,
            db,
        }
    }

    pub(crate) async fn user(&self) -> Uuid {
        let body = json!({"email": format!("{}@example.org", Uuid::new_v4()), "name": "Test"});
        let v: Value = self
            .client
            .post(format!("{}/users", self.users))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["id"].as_str().unwrap().parse().unwrap()
    }

    pub(crate) async fn product(&self, price_cents: i64, stock: i64) -> Uuid {
        let sku = format!("SKU-{}", Uuid::new_v4().simple());
        let body = json!({"sku": sku, "name": "thing", "category": "test", "price_cents": price_cents, "stock": stock});
        let resp = self
            .client
            .post(format!("{}/products", self.catalog))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.unwrap();
        v["id"].as_str().unwrap().parse().unwrap()
    }

    pub(crate) async fn stock(&self, product: Uuid) -> i64 {
        let v: Value = self
            .client
            .get(format!("{}/products/{product}", self.catalog))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["stock"].as_i64().unwrap()
    }

    pub(crate) fn order_request(&self, user: Uuid, items: &[(Uuid, i64)]) -> reqwest::RequestBuilder {
        let items: Vec<_> = items
            .iter()
            .map(|(p, q)| json!({"product_id": p, "quantity": q}))
            .collect();
        self.client
            .post(format!("{}/orders", self.orders))
            .json(&json!({"user_id": user, "items": items}))
    }

    pub(crate) async fn order_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    pub(crate) async fn status_of(&self, order: Uuid) -> (String, i32) {
        sqlx::query_as("SELECT status, attempts FROM orders WHERE id = $1")
            .bind(order)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Starts a worker; abort the handle to kill it.
    pub(crate) fn worker(&self, work_rounds: u64, visibility_timeout_secs: u64) -> JoinHandle<()> {
        let config = WorkerConfig {
            stores: self.stores.clone(),
            host: "127.0.0.1".into(),
            metrics_port: 0,
            concurrency: 2,
            work_rounds,
            visibility_timeout_secs,
            sweep_interval_secs: 1,
            max_attempts: 5,
            log_format: service_kit::telemetry::LogFormat::Text,
        };
        tokio::spawn(async move {
            let worker = order_service::worker::build(config).await.unwrap();
            worker.run(std::future::pending()).await.unwrap();
        })
    }

    /// Waits until the order reaches `status`, or panics after `limit`.
    pub(crate) async fn wait_for_status(&self, order: Uuid, status: &str, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let (now, _) = self.status_of(order).await;
            if now == status {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "order {order} is {now}, not {status}, after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub(crate) fn id_of(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}
