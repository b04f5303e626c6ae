//! Orders the suite places itself, beside the load generator's, so that it knows each
//! one's Idempotency-Key and can choose its client timeout: a journey registers a
//! fresh user (so that the user's orders are exactly the key's orders), logs it in for
//! its token, looks at the products, and orders with a key it records. An answer that
//! leaves the outcome unknown (timeout, cut connection, 5xx, "still in progress") is
//! retried with the same key for a bounded time, as a careful client would; a
//! disconnect journey cuts its first request short on purpose, and then retries or
//! walks away.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

/// How long a journey keeps retrying an order whose fate it does not know.
const RETRY_FOR: Duration = Duration::from_secs(20);
/// The client timeout of every request that is not cut short on purpose.
const TIMEOUT: Duration = Duration::from_secs(5);

/// One answer to an order request.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A status and, for a success, the order id in the body.
    Status(u16, Option<Uuid>),
    /// A 409 asking to retry later with the same key: a request with that key (or the
    /// order it started) is still at work.
    RetryLater,
    /// No answer: the client timed out or the connection failed.
    Lost(String),
}

/// One logical order: one key, one user, every request sent for it.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub key: String,
    pub user: Uuid,
    /// When its first order request left.
    pub sent: Instant,
    /// Every answer, in order.
    pub answers: Vec<Answer>,
    /// Its first request was cut short by a tiny client timeout.
    pub disconnected: bool,
}

impl Attempt {
    /// The order ids the platform answered with (two different ones is a violation).
    pub fn order_ids(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .answers
            .iter()
            .filter_map(|a| match a {
                Answer::Status(_, id) => *id,
                Answer::RetryLater | Answer::Lost(_) => None,
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// How it ended, short: `201`, `503`, `409 retry later`, `lost`.
    pub fn outcome(&self) -> String {
        match self.answers.last() {
            Some(Answer::Status(s, _)) => s.to_string(),
            Some(Answer::RetryLater) => "409 retry later".into(),
            Some(Answer::Lost(_)) | None => "lost".into(),
        }
    }

    /// The answers in order, short: `lost (timeout) -> 503 -> 200`.
    pub fn history(&self) -> String {
        let short: Vec<String> = self
            .answers
            .iter()
            .map(|a| match a {
                Answer::Status(s, _) => s.to_string(),
                Answer::RetryLater => "409 retry later".into(),
                Answer::Lost(why) => format!("lost ({})", why.chars().take(60).collect::<String>()),
            })
            .collect();
        short.join(" -> ")
    }
}

/// A user a journey registered, with the token its order requests carry.
#[derive(Clone, Debug)]
pub struct Customer {
    pub id: Uuid,
    token: String,
}

/// What a journey does when its first order request gets no definite answer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnDoubt {
    Retry,
    WalkAway,
}

#[derive(Default)]
struct Books {
    attempts: Vec<Attempt>,
    /// Latencies of orders answered 201 on the first request, to aim the disconnects.
    latencies: Vec<Duration>,
    /// Journeys that never got a user (user service or PostgreSQL down throughout).
    no_user: u64,
}

/// Places keyed orders; cheap to clone, every clone writes to the same books.
#[derive(Clone)]
pub struct Driver {
    client: reqwest::Client,
    user: String,
    catalog: String,
    order: String,
    products: Arc<Vec<Uuid>>,
    books: Arc<Mutex<Books>>,
    /// First requests sent with a tiny timeout that have ended, and those of them cut.
    short_ended: Arc<AtomicUsize>,
    cut: Arc<AtomicUsize>,
}

fn lock(books: &Mutex<Books>) -> MutexGuard<'_, Books> {
    // A panic in another journey must not hide this one's records.
    books.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Driver {
    pub fn new(user: String, catalog: String, order: String, products: Vec<Uuid>) -> Self {
        Self {
            // No connection reuse: a connection the server cut (kill -9) must not be
            // picked for the retry and turn one fault into two.
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            user,
            catalog,
            order,
            products: Arc::new(products),
            books: Arc::default(),
            short_ended: Arc::default(),
            cut: Arc::default(),
        }
    }

    /// Every attempt so far.
    pub fn attempts(&self) -> Vec<Attempt> {
        lock(&self.books).attempts.clone()
    }

    /// Journeys that could not even register their user.
    pub fn without_user(&self) -> u64 {
        lock(&self.books).no_user
    }

    /// The median latency of a successful first order request so far.
    pub fn median_latency(&self) -> Duration {
        let mut l = lock(&self.books).latencies.clone();
        l.sort();
        l.get(l.len() / 2).copied().unwrap_or(Duration::from_millis(20))
    }

    /// Registers a fresh user and logs it in (each retried while the user service or
    /// its database is away) and reads the products it is about to order, as the load
    /// generator's journey does. `None` when no user could be made or logged in.
    pub async fn prepare(&self) -> Option<(Customer, Vec<(Uuid, u32)>)> {
        let deadline = Instant::now() + RETRY_FOR;
        // Fresh credentials for every try: a registration whose answer was lost may have
        // taken the email.
        let registration = || {
            let id = Uuid::new_v4().simple();
            json!({ "email": format!("chaos-{id}@chaos.test"), "name": format!("Chaos {id}"), "password": format!("pw-{id}") })
        };
        let Some((id, registered)) = self.until(deadline, "/users", registration, 201, "id").await else {
            lock(&self.books).no_user += 1;
            return None;
        };
        let login = json!({ "email": registered["email"], "password": registered["password"] });
        let Some((token, _)) = self
            .until(deadline, "/auth/token", || login.clone(), 200, "access_token")
            .await
        else {
            lock(&self.books).no_user += 1;
            return None;
        };
        let user = Customer {
            id: id.parse().ok()?,
            token,
        };
        let count = fastrand::usize(1..=3).min(self.products.len());
        let items: Vec<(Uuid, u32)> = fastrand::choose_multiple(self.products.iter(), count)
            .into_iter()
            .map(|p| (*p, fastrand::u32(1..=3)))
            .collect();
        for (product, _) in &items {
            // Browsing only: its answer does not matter to the invariants.
            let _ = self
                .client
                .get(format!("{}/products/{product}", self.catalog))
                .send()
                .await;
        }
        Some((user, items))
    }

    /// POSTs a `body()` to user-service's `path` until it answers `status` or `deadline`
    /// passes, and returns `field` of the answer with the body that got it.
    async fn until(
        &self,
        deadline: Instant,
        path: &str,
        body: impl Fn() -> Value,
        status: u16,
        field: &str,
    ) -> Option<(String, Value)> {
        loop {
            let body = body();
            let sent = self
                .client
                .post(format!("{}{path}", self.user))
                .json(&body)
                .send()
                .await;
            if let Ok(r) = sent
                && r.status().as_u16() == status
                && let Ok(v) = r.json::<Value>().await
                && let Some(value) = v[field].as_str()
            {
                return Some((value.to_owned(), body));
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Orders `items` for `user` under a fresh key. The first request has
    /// `first_timeout` (a tiny one cuts the connection mid-request); what follows an
    /// unknown outcome depends on `on_doubt`. Records the attempt; `true` when an
    /// order was accepted.
    pub async fn order(
        &self,
        user: &Customer,
        items: &[(Uuid, u32)],
        first_timeout: Option<Duration>,
        on_doubt: OnDoubt,
    ) -> bool {
        let key = format!("chaos-{}", Uuid::new_v4());
        let lines: Vec<Value> = items
            .iter()
            .map(|(p, q)| json!({ "product_id": p, "quantity": q }))
            .collect();
        let body = json!({ "user_id": user.id, "items": lines });
        let deadline = Instant::now() + RETRY_FOR;
        let mut answers = Vec::new();
        let sent = Instant::now();
        let mut disconnected = false;
        let mut pause = Duration::from_millis(200);
        loop {
            let first = answers.is_empty();
            let mut request = self
                .client
                .post(format!("{}/orders", self.order))
                .bearer_auth(&user.token)
                .header("Idempotency-Key", &key)
                .json(&body);
            if first && let Some(t) = first_timeout {
                request = request.timeout(t);
            }
            let this = Instant::now();
            let answer = match request.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap_or_default();
                    let id = serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| v["id"].as_str()?.parse().ok());
                    if first && status == 201 {
                        lock(&self.books).latencies.push(this.elapsed());
                    }
                    // The order service words it "still in progress" (the key) or "still
                    // being placed" (the order), and asks for a retry either way; a 409
                    // for missing stock asks for nothing.
                    if status == 409 && text.contains("retry") {
                        (Answer::RetryLater, true)
                    } else {
                        (Answer::Status(status, id.filter(|_| status < 300)), status >= 500)
                    }
                }
                Err(e) => {
                    disconnected |= first && first_timeout.is_some() && e.is_timeout();
                    (Answer::Lost(e.to_string()), true)
                }
            };
            let (answer, doubt) = answer;
            if first && first_timeout.is_some() {
                self.cut.fetch_add(usize::from(disconnected), Ordering::SeqCst);
                self.short_ended.fetch_add(1, Ordering::SeqCst);
            }
            answers.push(answer);
            if !doubt || on_doubt == OnDoubt::WalkAway || Instant::now() + pause > deadline {
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
        let accepted = if let Some(Answer::Status(200 | 201, Some(id))) = answers.last() {
            // Reading the order back is part of the journey.
            let read = self.client.get(format!("{}/orders/{id}", self.order));
            let _ = read.bearer_auth(&user.token).send().await;
            true
        } else {
            false
        };
        lock(&self.books).attempts.push(Attempt {
            key,
            user: user.id,
            sent,
            answers,
            disconnected,
        });
        accepted
    }

    /// A whole journey with an ordinary client.
    pub async fn journey(self) {
        if let Some((user, items)) = self.prepare().await {
            self.order(&user, &items, None, OnDoubt::Retry).await;
        }
    }

    /// Journeys whose order request is cut by a client timeout drawn between 0.5 ms and
    /// `aim`, so that the cut lands anywhere from before the key is claimed to after
    /// the order is stored. Every other one retries with its key; the rest walk away.
    /// About 20 start a second, never more than could still be needed, until exactly
    /// `n` requests were cut (some finish before their timeout). Returns the journeys,
    /// which may still be retrying.
    pub async fn disconnects(&self, n: usize, aim: Duration) -> JoinSet<()> {
        let mut set = JoinSet::new();
        let mut started = 0;
        loop {
            let cut = self.cut.load(Ordering::SeqCst);
            if cut >= n {
                return set;
            }
            let undecided = started - self.short_ended.load(Ordering::SeqCst);
            if undecided < n - cut {
                let d = self.clone();
                let timeout = Duration::from_secs_f64(0.0005 + fastrand::f64() * aim.as_secs_f64());
                let on_doubt = if started % 2 == 0 {
                    OnDoubt::Retry
                } else {
                    OnDoubt::WalkAway
                };
                set.spawn(async move {
                    match d.prepare().await {
                        Some((user, items)) => _ = d.order(&user, &items, Some(timeout), on_doubt).await,
                        // Never sent: it can be cut no more.
                        None => _ = d.short_ended.fetch_add(1, Ordering::SeqCst),
                    }
                });
                started += 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts a journey every `1 / rate` seconds until `stop` is set, then waits for
    /// the ones in flight (each bounded by its retry window).
    pub async fn steady(self, rate: f64, stop: Arc<AtomicBool>) {
        let mut journeys = JoinSet::new();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            journeys.spawn(self.clone().journey());
            while journeys.try_join_next().is_some() {}
        }
        while journeys.join_next().await.is_some() {}
    }
}
