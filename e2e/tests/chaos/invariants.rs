//! The invariants, read straight from the suite's own databases (not through the
//! services, whose caches are allowed to lag): the catalog's products and
//! reservations, the order service's orders and lines. Each violation names its
//! invariant and the product, order or key it is about.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::PgPool;
use uuid::Uuid;

use crate::driver::Attempt;

/// The invariants, as the issue words them; every violation carries one.
pub const STOCK: &str = "stock conserved (initial = current + held by pending/completed orders)";
pub const STUCK: &str = "no order pending or reserving older than the settle time";
pub const FAILED_HOLD: &str = "a failed order holds no stock";
pub const ONE_PER_KEY: &str = "one order per Idempotency-Key";
pub const LOST: &str = "an accepted order is never lost";
pub const COHERENT: &str = "the catalog API serves the stock its database holds";

/// One broken invariant, about one thing.
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

/// What the databases hold after the run.
pub struct State {
    /// Product id -> current stock.
    stock: HashMap<Uuid, i64>,
    /// Order id -> (user, status, age in seconds).
    orders: HashMap<Uuid, (Uuid, String, f64)>,
    /// (order, product, quantity) of every order line.
    lines: Vec<(Uuid, Uuid, i64)>,
    /// (order, product, quantity) of every reservation the catalog still holds.
    held: Vec<(Uuid, Uuid, i64)>,
    /// Failed orders by the step that failed them, most first.
    pub failures: Vec<(String, i64)>,
}

impl State {
    pub async fn read(catalog: &PgPool, orders: &PgPool) -> Result<Self, sqlx::Error> {
        let stock: Vec<(Uuid, i64)> = sqlx::query_as("SELECT id, stock::bigint FROM products")
            .fetch_all(catalog)
            .await?;
        let held = sqlx::query_as(
            "SELECT order_id, product_id, quantity::bigint FROM reservations
             WHERE released_at IS NULL AND quantity > 0",
        )
        .fetch_all(catalog)
        .await?;
        let rows: Vec<(Uuid, Uuid, String, f64)> =
            sqlx::query_as("SELECT id, user_id, status, extract(epoch FROM now() - created_at)::float8 FROM orders")
                .fetch_all(orders)
                .await?;
        let lines = sqlx::query_as("SELECT order_id, product_id, quantity::bigint FROM order_items")
            .fetch_all(orders)
            .await?;
        // Through jsonb so that a schema without `failure_kind` (before the saga) reads too.
        let failures = sqlx::query_as(
            "SELECT coalesce(to_jsonb(o) ->> 'failure_kind', 'unknown') AS kind, count(*)
             FROM orders o WHERE status = 'failed' GROUP BY kind ORDER BY count(*) DESC",
        )
        .fetch_all(orders)
        .await?;
        Ok(Self {
            stock: stock.into_iter().collect(),
            orders: rows.into_iter().map(|(id, u, s, a)| (id, (u, s, a))).collect(),
            lines,
            held,
            failures,
        })
    }

    /// Orders by status.
    pub fn count(&self, status: &str) -> usize {
        self.orders.values().filter(|(_, s, _)| s == status).count()
    }

    /// Orders still on their way (pending or reserving), whatever their age.
    pub fn unsettled(&self) -> usize {
        self.orders.values().filter(|(_, s, _)| unsettled(s)).count()
    }

    /// Every violation. `initial` is each seeded product's stock at creation, `accepted`
    /// every order id a client was given, `settle_secs` the age past which an order
    /// still on its way is stuck.
    pub fn violations(
        &self,
        initial: &BTreeMap<Uuid, i64>,
        attempts: &[Attempt],
        accepted: &BTreeSet<Uuid>,
        settle_secs: f64,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        self.stock_conserved(initial, &mut out);
        self.nothing_stuck(settle_secs, &mut out);
        self.failed_hold_nothing(&mut out);
        self.one_order_per_key(attempts, &mut out);
        for id in accepted.iter().filter(|id| !self.orders.contains_key(id)) {
            out.push(Violation {
                invariant: LOST,
                detail: format!("order {id} was answered 2xx but is not in the orders database"),
            });
        }
        out
    }

    /// Beyond the list: once settled, `GET /products/{id}` (served from the
    /// Redis cache when it can be) says what the database says, whatever the Redis
    /// restart and pause did to the cache and its invalidations.
    pub async fn cache_coherent(&self, client: &reqwest::Client, catalog: &str) -> Vec<Violation> {
        let mut out = Vec::new();
        for (product, stored) in &self.stock {
            let served = async {
                let r = client.get(format!("{catalog}/products/{product}")).send().await.ok()?;
                r.json::<serde_json::Value>().await.ok()?["stock"].as_i64()
            }
            .await;
            if served != Some(*stored) {
                out.push(Violation {
                    invariant: COHERENT,
                    detail: format!("product {product}: the database holds {stored}, the API serves {served:?}"),
                });
            }
        }
        out
    }

    fn status(&self, order: &Uuid) -> &str {
        self.orders.get(order).map_or("absent", |(_, s, _)| s.as_str())
    }

    fn stock_conserved(&self, initial: &BTreeMap<Uuid, i64>, out: &mut Vec<Violation>) {
        let holds = |status: &str| status == "pending" || status == "completed";
        for (&product, &start) in initial {
            let Some(&now) = self.stock.get(&product) else {
                out.push(Violation {
                    invariant: STOCK,
                    detail: format!("product {product} is gone from the catalog"),
                });
                continue;
            };
            let ordered: i64 = self
                .lines
                .iter()
                .filter(|(o, p, _)| *p == product && holds(self.status(o)))
                .map(|(_, _, q)| q)
                .sum();
            let gap = start - now - ordered;
            if gap == 0 {
                continue;
            }
            // Name the orders behind the gap: stock the catalog holds for orders that
            // do not (leak), or lines of live orders the catalog holds nothing for.
            let reserved: HashMap<Uuid, i64> = self
                .held
                .iter()
                .filter(|(_, p, _)| *p == product)
                .map(|(o, _, q)| (*o, *q))
                .collect();
            let mut suspects: Vec<String> = reserved
                .iter()
                .filter(|(o, _)| !holds(self.status(o)))
                .map(|(o, q)| format!("{q} held for {} order {o}", self.status(o)))
                .collect();
            suspects.extend(
                self.lines
                    .iter()
                    .filter(|(o, p, q)| *p == product && holds(self.status(o)) && reserved.get(o) != Some(q))
                    .map(|(o, _, q)| {
                        format!(
                            "{} order {o} has {q} but the catalog holds {}",
                            self.status(o),
                            reserved.get(o).copied().unwrap_or(0)
                        )
                    }),
            );
            let what = if gap > 0 { "leaked" } else { "oversold" };
            out.push(Violation {
                invariant: STOCK,
                detail: format!(
                    "product {product}: initial {start}, now {now}, held by orders {ordered}: {} {what}; {}",
                    gap.abs(),
                    brief(&suspects)
                ),
            });
        }
    }

    fn nothing_stuck(&self, settle_secs: f64, out: &mut Vec<Violation>) {
        let mut stuck: Vec<(&Uuid, &String, f64)> = self
            .orders
            .iter()
            .filter(|(_, (_, s, age))| unsettled(s) && *age > settle_secs)
            .map(|(id, (_, s, age))| (id, s, *age))
            .collect();
        stuck.sort_by(|a, b| b.2.total_cmp(&a.2));
        for (id, status, age) in stuck {
            out.push(Violation {
                invariant: STUCK,
                detail: format!("order {id} is {status} at {age:.0} s old"),
            });
        }
    }

    fn failed_hold_nothing(&self, out: &mut Vec<Violation>) {
        for (order, product, q) in &self.held {
            if self.status(order) == "failed" {
                out.push(Violation {
                    invariant: FAILED_HOLD,
                    detail: format!("failed order {order} holds {q} of product {product}"),
                });
            }
        }
    }

    fn one_order_per_key(&self, attempts: &[Attempt], out: &mut Vec<Violation>) {
        let mut by_user: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (id, (user, _, _)) in &self.orders {
            by_user.entry(*user).or_default().push(*id);
        }
        for a in attempts {
            let mut stored = by_user.get(&a.user).cloned().unwrap_or_default();
            stored.sort();
            let answered = a.order_ids();
            let agree = answered.iter().all(|id| stored.contains(id));
            if stored.len() > 1 || answered.len() > 1 || !agree {
                out.push(Violation {
                    invariant: ONE_PER_KEY,
                    detail: format!(
                        "key {} (user {}): stored orders {stored:?}, answered {answered:?} ({})",
                        a.key,
                        a.user,
                        a.history()
                    ),
                });
            }
        }
        // The load generator's journeys also register a user per order and send one
        // key each, so a user with two orders is a key with two orders there too.
        let ours: BTreeSet<Uuid> = attempts.iter().map(|a| a.user).collect();
        for (user, ids) in by_user.iter().filter(|(u, ids)| ids.len() > 1 && !ours.contains(u)) {
            out.push(Violation {
                invariant: ONE_PER_KEY,
                detail: format!("load-generator user {user} (one key) has orders {ids:?}"),
            });
        }
    }
}

fn unsettled(status: &str) -> bool {
    status == "pending" || status == "reserving"
}

/// The first few items and how many more.
fn brief(items: &[String]) -> String {
    match items.len() {
        0 => "no reservation or line explains it".into(),
        n if n <= 4 => items.join("; "),
        n => format!("{}; and {} more", items[..4].join("; "), n - 4),
    }
}
