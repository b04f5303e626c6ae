//! The HTTP side of each [`Action`] against the shop services, timed and recorded.
//!
//! The first request of an action is timed from the action's due time, so time spent waiting for
//! the in-flight cap or for a slow runtime counts (coordinated omission). Later requests of a
//! journey are timed from when they were sent: a user waits for one page before asking the next,
//! so a session is closed-loop inside and open-loop across sessions.
//!
//! A customer's requests carry its own token. It logs in (`POST /auth/token`, recorded like any
//! request) when it has no token or its token is near expiry, and once more when a request is
//! answered 401 (the token expired early or the platform changed its secret).

use crate::auth::{Credentials, Customer};
use crate::scenario::Action;
use crate::stats::{Outcome, SharedRecorder, lock};
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::time::Instant;
use uuid::Uuid;

mod customer;

const POST_USERS: &str = "POST /users";
const POST_TOKEN: &str = "POST /auth/token";
const GET_USER: &str = "GET /users/{id}";
const LIST_PRODUCTS: &str = "GET /products";
const GET_PRODUCT: &str = "GET /products/{id}";
const POST_ORDERS: &str = "POST /orders";
const GET_ORDER: &str = "GET /orders/{id}";

/// Pools of users and orders stop growing here and start replacing entries, to bound memory on long runs.
const POOL_CAP: usize = 10_000;

/// Base URLs of the three shop services, without a trailing slash.
#[derive(Debug, Clone)]
pub struct Targets {
    /// user-service.
    pub user: String,
    /// catalog-service.
    pub catalog: String,
    /// order-service.
    pub order: String,
}

/// Ids the actions draw on: products fixed at start, customers and orders growing during the
/// run. An order is kept with its customer, whose token reads it.
#[derive(Debug, Default)]
pub struct Pools {
    /// Products to read and order.
    pub products: Vec<Uuid>,
    /// Categories to filter listings by.
    pub categories: Vec<String>,
    users: Mutex<Vec<Arc<Customer>>>,
    orders: Mutex<Vec<(Uuid, Arc<Customer>)>>,
}

impl Pools {
    /// Pools over known products, categories and customers.
    pub fn new(products: Vec<Uuid>, categories: Vec<String>, users: Vec<Arc<Customer>>) -> Self {
        Self {
            products,
            categories,
            users: Mutex::new(users),
            orders: Mutex::default(),
        }
    }

    fn remember<T>(pool: &Mutex<Vec<T>>, entry: T) {
        let mut pool = pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.len() < POOL_CAP {
            pool.push(entry);
        } else {
            let slot = fastrand::usize(..pool.len());
            pool[slot] = entry;
        }
    }

    fn pick<T: Clone>(pool: &Mutex<Vec<T>>) -> Option<T> {
        let pool = pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        fastrand::choice(pool.iter()).cloned()
    }
}

#[derive(Deserialize)]
struct Created {
    id: Uuid,
}

/// Performs actions against the shop and records every request.
#[derive(Debug)]
pub struct Shop {
    client: reqwest::Client,
    targets: Targets,
    /// URL and endpoint label for [`Action::Get`].
    get_target: Option<(String, String)>,
    pools: Pools,
    recorder: SharedRecorder,
}

impl Shop {
    /// A shop driver. `get_target` is the URL that [`Action::Get`] fetches, if any.
    pub fn new(
        client: reqwest::Client,
        targets: Targets,
        get_target: Option<String>,
        pools: Pools,
        recorder: SharedRecorder,
    ) -> anyhow::Result<Self> {
        let get_target = match get_target {
            Some(url) => {
                let parsed = reqwest::Url::parse(&url)?;
                let label = format!("GET {}", parsed.path());
                Some((url, label))
            }
            None => None,
        };
        Ok(Self {
            client,
            targets,
            get_target,
            pools,
            recorder,
        })
    }

    /// Performs one action that was due at `due`. Failures are recorded, never returned: a load
    /// generator keeps going.
    pub async fn perform(&self, action: Action, due: Instant) {
        match action {
            Action::List => self.list(due).await,
            Action::Product => self.read_product(due).await,
            Action::Register => {
                self.register(due).await;
            }
            Action::User => match Pools::pick(&self.pools.users) {
                Some(user) => {
                    let request = self.client.get(format!("{}/users/{}", self.targets.user, user.id));
                    self.as_customer(&user, GET_USER, request, due, false).await;
                }
                None => {
                    self.register(due).await;
                }
            },
            Action::Order => self.order_for_pool_user(due).await,
            Action::ReadOrder => match Pools::pick(&self.pools.orders) {
                Some((order, user)) => self.read_order(&user, order, due).await,
                None => self.order_for_pool_user(due).await,
            },
            Action::Journey => self.journey(due).await,
            Action::Get => {
                if let Some((url, label)) = &self.get_target {
                    let request = self.client.get(url.as_str());
                    self.call(label, request, due, false).await;
                }
            }
        }
    }

    async fn journey(&self, due: Instant) {
        let Some(user) = self.register(due).await else { return };
        // Logging in is the next page of a session; a failed login ends it, as it would a user's.
        if self.bearer(&user, Instant::now()).await.is_none() {
            return;
        }
        self.list(Instant::now()).await;
        let items = self.choose_items();
        for (product, _) in &items {
            self.get(
                GET_PRODUCT,
                format!("{}/products/{product}", self.targets.catalog),
                Instant::now(),
            )
            .await;
        }
        if let Some(order) = self.order(&user, items, Instant::now()).await {
            self.read_order(&user, order, Instant::now()).await;
        }
    }

    async fn read_order(&self, user: &Arc<Customer>, order: Uuid, since: Instant) {
        let request = self.client.get(format!("{}/orders/{order}", self.targets.order));
        self.as_customer(user, GET_ORDER, request, since, false).await;
    }

    async fn list(&self, since: Instant) {
        let mut url = format!("{}/products?limit=20", self.targets.catalog);
        // Half the listings filter by category, and pages stay within the known catalogue.
        if fastrand::bool()
            && let Some(category) = fastrand::choice(&self.pools.categories)
        {
            url.push_str(&format!("&category={category}"));
        }
        let pages = self.pools.products.len() / 20 + 1;
        url.push_str(&format!("&offset={}", fastrand::usize(..pages) * 20));
        self.get(LIST_PRODUCTS, url, since).await;
    }

    async fn read_product(&self, since: Instant) {
        match fastrand::choice(&self.pools.products) {
            Some(product) => {
                self.get(
                    GET_PRODUCT,
                    format!("{}/products/{product}", self.targets.catalog),
                    since,
                )
                .await
            }
            None => self.list(since).await,
        }
    }

    async fn register(&self, since: Instant) -> Option<Arc<Customer>> {
        let credentials = Credentials::fresh();
        let request = self
            .client
            .post(format!("{}/users", self.targets.user))
            .json(&credentials.registration());
        let (_, id) = self.call(POST_USERS, request, since, true).await;
        let user = Arc::new(Customer::new(id?, credentials));
        Pools::remember(&self.pools.users, user.clone());
        Some(user)
    }

    async fn order_for_pool_user(&self, since: Instant) {
        match Pools::pick(&self.pools.users) {
            Some(user) => {
                let items = self.choose_items();
                self.order(&user, items, since).await;
            }
            None => {
                self.register(since).await;
            }
        }
    }

    /// One to three distinct products, one to three of each.
    fn choose_items(&self) -> Vec<(Uuid, u32)> {
        let count = fastrand::usize(1..=3);
        fastrand::choose_multiple(self.pools.products.iter(), count)
            .into_iter()
            .map(|product| (*product, fastrand::u32(1..=3)))
            .collect()
    }

    async fn order(&self, user: &Arc<Customer>, items: Vec<(Uuid, u32)>, since: Instant) -> Option<Uuid> {
        if items.is_empty() {
            return None;
        }
        let lines: Vec<_> = items
            .iter()
            .map(|(p, q)| json!({ "product_id": p, "quantity": q }))
            .collect();
        let request = self
            .client
            .post(format!("{}/orders", self.targets.order))
            .header("Idempotency-Key", Uuid::new_v4().to_string())
            .json(&json!({ "user_id": user.id, "items": lines }));
        let (outcome, order) = self.as_customer(user, POST_ORDERS, request, since, true).await;
        // No token (the login failed): nothing was sent, so nothing was ordered.
        if let Some(outcome) = outcome {
            lock(&self.recorder).record_order(outcome, order, &items);
        }
        if let Some(order) = order {
            Pools::remember(&self.pools.orders, (order, user.clone()));
        }
        order
    }

    async fn get(&self, endpoint: &str, url: String, since: Instant) {
        let request = self.client.get(url);
        self.call(endpoint, request, since, false).await;
    }

    /// Sends, reads the whole body, and records the latency from `since`. With `want_id`, returns
    /// the `id` of the created resource when the answer is a success with a parsable body.
    async fn call(
        &self,
        endpoint: &str,
        request: reqwest::RequestBuilder,
        since: Instant,
        want_id: bool,
    ) -> (Outcome, Option<Uuid>) {
        let parse = |body: &[u8]| {
            want_id
                .then(|| serde_json::from_slice::<Created>(body).ok())
                .flatten()
                .map(|created| created.id)
        };
        self.send(endpoint, request, since, parse).await
    }

    /// Sends, reads the whole body, and records the latency from `since`. Returns what `parse`
    /// makes of the body of a success.
    async fn send<T>(
        &self,
        endpoint: &str,
        request: reqwest::RequestBuilder,
        since: Instant,
        parse: impl FnOnce(&[u8]) -> Option<T>,
    ) -> (Outcome, Option<T>) {
        let result = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
        .await;
        let latency = Instant::now().saturating_duration_since(since);
        let (outcome, body) = match result {
            Ok((status, body)) => {
                let outcome = Outcome::Status(status);
                let parsed = if outcome.is_error() { None } else { parse(&body) };
                (outcome, parsed)
            }
            Err(error) => (Outcome::from_reqwest(&error), None),
        };
        lock(&self.recorder).record(endpoint, outcome, latency);
        (outcome, body)
    }
}
