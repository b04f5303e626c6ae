//! Starts user, catalog and order services on port 0, each with its own database and
//! Redis key prefix, plus workers on demand. The services take the test token secret;
//! the tokens the tests call them with are in `tokens`.

use std::time::Duration;

use order_service::config::{Config, ReconcileArgs, WorkerConfig};
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};
use service_kit::auth::{AuthArgs, Role};
use service_kit::stores::Stores;
use service_kit::{HttpArgs, testing};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::tokens::{client_with, customer};

pub(crate) struct Platform {
    pub(crate) users: String,
    pub(crate) catalog: String,
    pub(crate) orders: String,
    /// Sends no token of its own: each request names its caller (see [`customer`]).
    pub(crate) client: reqwest::Client,
    /// Sends an admin token: catalog writes, and reading any order.
    pub(crate) admin: reqwest::Client,
    pub(crate) stores: Stores,
    pub(crate) db: PgPool,
    /// The three services' databases, dropped with the platform.
    _databases: [testing::TestDatabase; 3],
}

async fn start_user() -> (String, testing::TestDatabase) {
    let database = testing::TestDatabase::create("users").await;
    let server = user_service::build(user_config(&database)).await.unwrap();
    let url = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    (url, database)
}

/// The one place that builds user-service's `Config`. Once user-service takes a token
/// secret (its `auth: AuthArgs`, branch auth-users), add
/// `auth: AuthArgs::with_secret(testing::AUTH_SECRET),` here: the order service
/// forwards each caller's own token to it, signed with that secret.
fn user_config(database: &testing::TestDatabase) -> user_service::Config {
    user_service::Config {
        port: 0,
        stores: Stores {
            database_url: database.url.clone(),
            // A loaded 2-core machine opens connections slowly: wait longer than in production.
            pool: service_kit::stores::PoolArgs {
                max_connections: 5,
                acquire_timeout: Duration::from_secs(15),
            },
            redis_url: testing::redis_url(),
            redis_prefix: testing::redis_prefix(),
        },
        cache_ttl: Duration::from_secs(60),
        token_ttl: Duration::from_secs(900),
        http: HttpArgs::default(),
        auth: service_kit::auth::AuthArgs::with_secret(testing::AUTH_SECRET),
    }
}

pub(crate) async fn start_catalog() -> (String, testing::TestDatabase) {
    let database = testing::TestDatabase::create("catalog").await;
    let config = catalog_service::Config {
        port: 0,
        stores: Stores {
            database_url: database.url.clone(),
            // A loaded 2-core machine opens connections slowly: wait longer than in production.
            pool: service_kit::stores::PoolArgs {
                max_connections: 20,
                acquire_timeout: Duration::from_secs(15),
            },
            redis_url: testing::redis_url(),
            redis_prefix: testing::redis_prefix(),
        },
        cache_ttl: Duration::from_secs(60),
        http: HttpArgs::default(),
        auth: AuthArgs::with_secret(testing::AUTH_SECRET),
    };
    let server = catalog_service::build(config).await.unwrap();
    let url = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    (url, database)
}

/// The reconciler as the tests run it: passes every 200 ms, requeues after 1 s. A
/// stuck saga is one idle for 30 s, far beyond any saga here, so that no test's live
/// saga is taken over; the tests of stuck sagas backdate their orders instead.
pub(crate) fn test_reconciler() -> ReconcileArgs {
    ReconcileArgs {
        enabled: true,
        reconcile_interval: Duration::from_millis(200),
        reconcile_stuck_after: Duration::from_secs(30),
        reconcile_requeue_after: Duration::from_secs(1),
        reconcile_batch: 100,
    }
}

/// The order service against the given dependencies; `redis_url` lets a test use a
/// Redis server of its own. Keep the database as long as the service runs.
pub(crate) async fn start_orders(
    users: &str,
    catalog: &str,
    redis_url: &str,
) -> (String, Stores, testing::TestDatabase) {
    let database = testing::TestDatabase::create("orders").await;
    let stores = Stores {
        database_url: database.url.clone(),
        // A loaded 2-core machine opens connections slowly: wait longer than in production.
        pool: service_kit::stores::PoolArgs {
            max_connections: 20,
            acquire_timeout: Duration::from_secs(15),
        },
        redis_url: redis_url.to_owned(),
        redis_prefix: testing::redis_prefix(),
    };
    let url = serve_orders(users, catalog, stores.clone(), test_reconciler()).await;
    (url, stores, database)
}

/// One more replica of the order service over `stores`; returns its URL.
pub(crate) async fn serve_orders(users: &str, catalog: &str, stores: Stores, reconcile: ReconcileArgs) -> String {
    let server = order_service::build(orders_config(users, catalog, stores, reconcile))
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    url
}

/// The order service's configuration in the tests: port 0, the test token secret.
pub(crate) fn orders_config(users: &str, catalog: &str, stores: Stores, reconcile: ReconcileArgs) -> Config {
    Config {
        port: 0,
        stores,
        user_service_url: users.to_owned(),
        catalog_service_url: catalog.to_owned(),
        // Generous: 50 concurrent orders on a 2-core machine in a debug build are slow.
        downstream_timeout: Duration::from_secs(5),
        downstream_deadline: Duration::from_secs(5),
        saga_timeout: Duration::from_secs(20),
        reconcile,
        http: HttpArgs {
            request_timeout: Duration::from_secs(30),
            ..HttpArgs::default()
        },
        auth: AuthArgs::with_secret(testing::AUTH_SECRET),
    }
}

impl Platform {
    pub(crate) async fn start() -> Self {
        Self::start_with_redis(&testing::redis_url()).await
    }

    pub(crate) async fn start_with_redis(redis_url: &str) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            service_kit::telemetry::init(service_kit::telemetry::LogFormat::Text, "info,order_service=debug");
        }
        let ((users, users_db), (catalog, catalog_db)) = (start_user().await, start_catalog().await);
        let (orders, stores, orders_db) = start_orders(&users, &catalog, redis_url).await;
        let db = PgPool::connect(&stores.database_url).await.unwrap();
        Self {
            users,
            catalog,
            orders,
            client: reqwest::Client::new(),
            admin: client_with(&testing::admin_bearer()),
            stores,
            db,
            _databases: [users_db, catalog_db, orders_db],
        }
    }

    pub(crate) async fn user(&self) -> Uuid {
        // The password is for the user-service that registers with one (issue 12); one
        // that does not yet ignores it.
        let body = json!({
            "email": format!("{}@example.org", Uuid::new_v4()),
            "name": "Test",
            "password": "correct horse battery staple",
        });
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
            .admin
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

    /// `POST /orders` for `user`, as that user (a customer token of their own).
    pub(crate) fn order_request(&self, user: Uuid, items: &[(Uuid, i64)]) -> reqwest::RequestBuilder {
        let items: Vec<_> = items
            .iter()
            .map(|(p, q)| json!({"product_id": p, "quantity": q}))
            .collect();
        self.client
            .post(format!("{}/orders", self.orders))
            .header(AUTHORIZATION, customer(user))
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
    pub(crate) fn worker(&self, work_rounds: u64, visibility_timeout: Duration) -> JoinHandle<()> {
        self.worker_with(work_rounds, visibility_timeout, 5)
    }

    /// Starts a worker that gives an order up after `max_attempts` takes.
    pub(crate) fn worker_with(
        &self,
        work_rounds: u64,
        visibility_timeout: Duration,
        max_attempts: i32,
    ) -> JoinHandle<()> {
        start_worker(self.stores.clone(), work_rounds, visibility_timeout, max_attempts)
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

impl Platform {
    /// Orders that hold stock or will: every status but `failed`.
    pub(crate) async fn live_order_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE status <> 'failed'")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// `GET /orders/{id}`, as an admin.
    pub(crate) async fn order(&self, id: Uuid) -> Value {
        let resp = self
            .admin
            .get(format!("{}/orders/{id}", self.orders))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    /// Reserves at the catalog directly, as a saga that then crashed would have.
    pub(crate) async fn reserve_at_catalog(&self, product: Uuid, order: Uuid, quantity: i32) {
        let resp = self
            .client
            .post(format!("{}/products/{product}/reserve", self.catalog))
            .header(AUTHORIZATION, testing::bearer("order-service", Role::Service))
            .json(&json!({"order_id": order, "quantity": quantity}))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    /// Deletes every Redis key of this test's prefix: the queue as a restart without
    /// persistence, or a FLUSHALL, leaves it (other tests' keys are left alone).
    pub(crate) async fn flush_queue(&self) {
        let mut redis = redis::Client::open(self.stores.redis_url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.stores.redis_prefix))
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(!keys.is_empty(), "the order was queued before the flush");
        let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut redis).await.unwrap();
    }

    /// The service's `/metrics` text.
    pub(crate) async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.orders))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Waits until `check` holds, or panics with `what` after `limit`.
    pub(crate) async fn eventually<F, Fut>(&self, what: &str, limit: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + limit;
        while !check().await {
            assert!(tokio::time::Instant::now() < deadline, "{what}: not after {limit:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Starts a worker over `stores` that gives an order up after `max_attempts` takes;
/// abort the handle to kill it.
pub(crate) fn start_worker(
    stores: Stores,
    work_rounds: u64,
    visibility_timeout: Duration,
    max_attempts: i32,
) -> JoinHandle<()> {
    let config = WorkerConfig {
        stores,
        host: "127.0.0.1".into(),
        metrics_port: 0,
        concurrency: 2,
        work_rounds,
        visibility_timeout,
        max_attempts,
        log_format: service_kit::telemetry::LogFormat::Text,
    };
    tokio::spawn(async move {
        let worker = order_service::worker::build(config).await.unwrap();
        worker.run(std::future::pending()).await.unwrap();
    })
}
