//! `make chaos`: the shop under faults. It starts the shop on a PostgreSQL cluster and
//! a Redis of its own (so that restarting them disturbs no other test), runs the load
//! generator's journeys and keyed orders of its own (customers that register and log
//! in, as the shop's authentication asks), and injects, one after another:
//! kill -9 of the order service mid-flight, kill -9 of the worker, a Redis restart that
//! loses every key, Redis paused for 8 s, a PostgreSQL restart, and 200 client
//! disconnects at random points of an order. Then it stops the faults, lets the
//! reconciler settle, and checks against the databases the four invariants
//! (stock conserved, nothing stuck, failed orders hold nothing, one order per key) and
//! two more (no accepted order lost, the catalog API agrees with its database); it
//! prints a table and fails naming every violated invariant. Run it alone: it measures
//! nothing, but it kills and pauses processes on a timetable other load would blur.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, unreachable_pub)]

mod driver;
mod invariants;
mod shop;
mod stores;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use driver::{Driver, OnDoubt};
use invariants::State;
use serde_json::{Value, json};
use shop::{Part, Shop};
use stores::{Postgres, Redis};
use tokio::task::JoinSet;
use uuid::Uuid;

/// Journeys per second from the load generator, and from the suite's own driver.
const LOADGEN_RPS: &str = "4";
const DRIVER_RATE: f64 = 3.0;
/// Load between two faults, so that each meets a platform that recovered from the last.
const GAP: Duration = Duration::from_secs(8);
/// Client disconnects to inject.
const DISCONNECTS: usize = 200;
/// Products: most with ample stock, a few scarce ones that run out under the load, so
/// that refusals and the release of a half-reserved order happen too.
const AMPLE: (usize, i64) = (10, 5_000);
const SCARCE: (usize, i64) = (2, 40);

/// Progress on stderr (shown with `--no-capture`, as `make chaos` runs it), each line
/// stamped with the seconds since the start.
struct Clock(Instant);

impl Clock {
    fn say(&self, what: impl AsRef<str>) {
        eprintln!("chaos {:>6.1}s  {}", self.0.elapsed().as_secs_f64(), what.as_ref());
    }
}

/// `CHAOS_SETTLE`, in whole seconds: a duration in the services' grammar (`90s`, `2m`).
fn settle_secs() -> u64 {
    assert!(
        std::env::var_os("CHAOS_SETTLE_SECS").is_none(),
        "CHAOS_SETTLE_SECS is retired: set CHAOS_SETTLE to a duration (e.g. 90s)"
    );
    std::env::var("CHAOS_SETTLE").map_or(60, |s| {
        humantime::parse_duration(s.trim())
            .unwrap_or_else(|e| panic!("CHAOS_SETTLE={s:?}: {e} (expected e.g. 90s, 2m)"))
            .as_secs()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_faults_no_stock_leaks_and_no_order_is_lost_stuck_or_doubled() {
    // Arrange: stores and shop of the suite's own, products with known stock.
    let clock = Clock(Instant::now());
    // CHAOS_BIN_DIR runs a given build (say, a copy made before a change) as it is.
    let bin_dir = std::env::var_os("CHAOS_BIN_DIR").map_or_else(e2e::build_binaries, PathBuf::from);
    let id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let run_dir =
        std::env::var_os("CHAOS_RUN_DIR").map_or_else(|| e2e::target_dir().join("chaos").join(&id), PathBuf::from);
    std::fs::create_dir_all(&run_dir).unwrap();
    clock.say(format!("run directory {}", run_dir.display()));
    let pg = Postgres::start(&run_dir, &id, &["users", "catalog", "orders"]).await;
    let mut redis = Redis::start(&run_dir).await;
    clock.say(format!("PostgreSQL on {}, Redis on {}", pg.port, redis.port));
    let urls = {
        let pg_urls: Vec<String> = ["users", "catalog", "orders"].iter().map(|d| pg.url(d)).collect();
        move |db: &str| {
            pg_urls
                .iter()
                .find(|u| u.ends_with(&format!("/{db}")))
                .cloned()
                .unwrap_or_default()
        }
    };
    let mut shop = Shop::start(&bin_dir, &run_dir, urls, redis.url()).await;
    clock.say("shop ready (user, catalog, order, worker)");
    let initial = seed(&shop).await;
    let driver = Driver::new(
        shop.url(Part::User),
        shop.url(Part::Catalog),
        shop.url(Part::Order),
        initial.keys().copied().collect(),
    );

    // Act: load throughout, the faults one after another.
    // What each fault was, and when it began.
    let mut faults: Vec<(String, Instant)> = Vec::new();
    let loadgen = tokio::spawn(loadgen(bin_dir.clone(), run_dir.clone(), shop.urls()));
    let stop = Arc::new(AtomicBool::new(false));
    let steady = tokio::spawn(driver.clone().steady(DRIVER_RATE, stop.clone()));
    clock.say(format!(
        "load: load-generator journeys at {LOADGEN_RPS}/s, keyed journeys at {DRIVER_RATE}/s"
    ));
    tokio::time::sleep(GAP).await;

    // Each process fault comes right after a burst of orders, so that it meets work
    // in flight (fault 1) or queued (2 and 3) rather than an idle moment.
    let mut bursts: JoinSet<bool> = JoinSet::new();
    let burst = order_burst(&driver, 12, &mut bursts).await;
    tokio::time::sleep(driver.median_latency() / 2).await;
    let at = Instant::now();
    shop.kill(Part::Order);
    clock.say(format!("fault 1: kill -9 order-service with {burst} orders just sent"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    shop.restart(Part::Order).await;
    faults.push(("kill -9 order-service mid-flight, restarted after 1 s".into(), at));
    clock.say("order-service restarted");
    tokio::time::sleep(GAP).await;

    let queued = settled_burst(&driver, 30).await;
    let at = Instant::now();
    shop.kill(Part::Worker);
    clock.say(format!(
        "fault 2: kill -9 order-worker right after {queued} orders were queued"
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    shop.restart(Part::Worker).await;
    faults.push(("kill -9 order-worker with a backlog, restarted after 2 s".into(), at));
    clock.say("order-worker restarted");
    tokio::time::sleep(GAP).await;

    let queued = settled_burst(&driver, 30).await;
    clock.say(format!(
        "fault 3: Redis restart, every key lost, right after {queued} orders were queued"
    ));
    let at = Instant::now();
    redis.restart_empty(Duration::from_secs(1)).await;
    faults.push((
        "Redis kill -9 and restart with no data (queue and caches lost), down 1 s".into(),
        at,
    ));
    clock.say("Redis back, empty");
    tokio::time::sleep(GAP).await;

    clock.say("fault 4: Redis paused (SIGSTOP) for 8 s");
    let at = Instant::now();
    redis.pause(Duration::from_secs(8)).await;
    faults.push(("Redis paused 8 s (SIGSTOP, then SIGCONT)".into(), at));
    clock.say("Redis resumed");
    tokio::time::sleep(GAP).await;

    clock.say("fault 5: PostgreSQL crash restart, down 3 s");
    let at = Instant::now();
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(pg.restart(Duration::from_secs(3)));
    });
    faults.push(("PostgreSQL restart (-m immediate), down 3 s".into(), at));
    clock.say("PostgreSQL back");
    tokio::time::sleep(GAP).await;

    let aim = driver.median_latency();
    clock.say(format!(
        "fault 6: {DISCONNECTS} client disconnects, client timeouts up to {aim:?} (the median order latency)"
    ));
    let at = Instant::now();
    let mut cut_short = driver.disconnects(DISCONNECTS, aim).await;
    faults.push((
        format!("{DISCONNECTS} client disconnects (timeouts 0.5 ms to {aim:?}), half retried"),
        at,
    ));
    clock.say(format!(
        "{DISCONNECTS} requests cut; faults over, waiting for the journeys in flight"
    ));

    stop.store(true, Ordering::Relaxed);
    steady.await.unwrap();
    while cut_short.join_next().await.is_some() {}
    while bursts.join_next().await.is_some() {}
    let summary = loadgen.await.unwrap();
    let load_over = Instant::now();
    clock.say("load over");

    // Settle: give the worker and the reconciler time, then read the databases.
    let catalog_db = sqlx::PgPool::connect(&pg.url("catalog")).await.unwrap();
    let orders_db = sqlx::PgPool::connect(&pg.url("orders")).await.unwrap();
    let attempts = driver.attempts();
    let mut accepted: BTreeSet<Uuid> = attempts.iter().flat_map(|a| a.order_ids()).collect();
    accepted.extend(
        summary["orders"]["created_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()?.parse::<Uuid>().ok()),
    );
    let settle = settle_secs();
    let settled = Instant::now();
    let mut clean_in_a_row = 0;
    let state = loop {
        let state = State::read(&catalog_db, &orders_db).await.unwrap();
        let mut found = state.violations(&initial, &attempts, &accepted, settle as f64);
        found.extend(state.cache_coherent(&shop.client, &shop.url(Part::Catalog)).await);
        let clean = found.is_empty() && state.unsettled() == 0;
        clean_in_a_row = if clean { clean_in_a_row + 1 } else { 0 };
        let waited = settled.elapsed().as_secs();
        if clean_in_a_row >= 2 || waited > settle + 2 {
            break state;
        }
        if waited % 10 < 2 {
            clock.say(format!(
                "settling ({waited}/{settle} s): {} orders pending or reserving, {} violations for now",
                state.unsettled(),
                found.len()
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    clock.say(format!("settled after {} s", settled.elapsed().as_secs()));

    // Assert: the table, then every violation named.
    let mut violations = state.violations(&initial, &attempts, &accepted, settle as f64);
    violations.extend(state.cache_coherent(&shop.client, &shop.url(Part::Catalog)).await);
    let loadgen_orders = summary["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["endpoint"] == "POST /orders")
        .and_then(|e| e["count"].as_u64())
        .unwrap_or(0);
    let ours_accepted = attempts.iter().filter(|a| !a.order_ids().is_empty()).count();
    let rows = [
        (
            "orders attempted",
            (loadgen_orders as usize + attempts.len()).to_string(),
        ),
        (
            "orders accepted",
            (summary["orders"]["created"].as_u64().unwrap_or(0) as usize + ours_accepted).to_string(),
        ),
        ("orders completed", state.count("completed").to_string()),
        ("orders failed", state.count("failed").to_string()),
        ("faults injected", (faults.len() - 1 + DISCONNECTS).to_string()),
        ("violations", violations.len().to_string()),
    ];
    println!(
        "\nfaults, in order, and how the keyed orders begun around each ended (from 1 s before it to 1 s before the next):"
    );
    for (i, (what, at)) in faults.iter().enumerate() {
        let second = Duration::from_secs(1);
        let (from, to) = (*at - second, faults.get(i + 1).map_or(load_over, |f| f.1 - second));
        let mut ended: BTreeMap<String, usize> = BTreeMap::new();
        for a in attempts.iter().filter(|a| (from..to).contains(&a.sent)) {
            *ended.entry(a.outcome()).or_default() += 1;
        }
        let ended: Vec<String> = ended.iter().map(|(a, n)| format!("{a} x{n}")).collect();
        println!("  {}. {what}\n     {}", i + 1, ended.join(", "));
    }
    println!("\n| {:<18} | {:>8} |\n|{:-<20}|{:->10}|", "chaos run", "", "", ":");
    for (name, value) in rows {
        println!("| {name:<18} | {value:>8} |");
    }
    println!(
        "\n(keyed journeys {}, {} of them cut short; {} without a user; load-generator orders {loadgen_orders}; \
         settle {} s of at most {settle}; run directory {})",
        attempts.len(),
        attempts.iter().filter(|a| a.disconnected).count(),
        driver.without_user(),
        settled.elapsed().as_secs(),
        run_dir.display()
    );
    let failures: Vec<String> = state.failures.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
    println!("(failed orders by failing step: {})", failures.join(", "));
    let mut by_invariant: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for v in &violations {
        by_invariant.entry(v.invariant).or_default().push(&v.detail);
    }
    for (invariant, details) in &by_invariant {
        println!("\nVIOLATED: {invariant} ({} times)", details.len());
        for d in details.iter().take(10) {
            println!("  - {d}");
        }
        if details.len() > 10 {
            println!("  - and {} more", details.len() - 10);
        }
    }
    assert!(
        violations.is_empty(),
        "{} violations of: {}",
        violations.len(),
        by_invariant.keys().copied().collect::<Vec<_>>().join("; ")
    );
}

/// Creates the products (an admin's writes) and returns each one's initial stock.
async fn seed(shop: &Shop) -> BTreeMap<Uuid, i64> {
    let mut initial = BTreeMap::new();
    let admin = shop.admin_token();
    let plan = std::iter::repeat_n(AMPLE.1, AMPLE.0).chain(std::iter::repeat_n(SCARCE.1, SCARCE.0));
    for (i, stock) in plan.enumerate() {
        let body = json!({
            "sku": format!("CHAOS-{i}"),
            "name": format!("Chaos product {i}"),
            "category": if stock == SCARCE.1 { "scarce" } else { "ample" },
            "price_cents": 100 + i,
            "stock": stock,
        });
        let r = shop
            .client
            .post(format!("{}/products", shop.url(Part::Catalog)))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "setup: cannot create a product");
        let created: Value = r.json().await.unwrap();
        initial.insert(created["id"].as_str().unwrap().parse().unwrap(), stock);
    }
    initial
}

/// The load generator's journey scenario for as long as the faults last (planned; it
/// stops by itself), with a client timeout that outlasts the Redis pause.
async fn loadgen(bin_dir: PathBuf, run_dir: PathBuf, urls: [(&'static str, String); 3]) -> Value {
    let json = run_dir.join("loadgen.json");
    let status = tokio::process::Command::new(bin_dir.join("load-generator"))
        .args([
            "steady",
            "--rps",
            LOADGEN_RPS,
            "--scenario",
            "journey",
            "--duration",
            "95s",
        ])
        .args(["--timeout", "10s", "--quiet", "--json"])
        .arg(&json)
        .envs(urls)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(run_dir.join("loadgen.log")).unwrap())
        .kill_on_drop(true)
        .status()
        .await
        .unwrap();
    assert!(
        status.success(),
        "the load generator failed, see {}",
        log(&run_dir, "loadgen")
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

fn log(run_dir: &Path, name: &str) -> String {
    run_dir.join(format!("{name}.log")).display().to_string()
}

/// Users registered first, then `n` orders sent at once (into `into`), so that a
/// kill right after meets them in flight; they retry with their keys against the
/// restarted service. Returns how many were sent.
async fn order_burst(driver: &Driver, n: usize, into: &mut JoinSet<bool>) -> usize {
    let mut prepared = JoinSet::new();
    for _ in 0..n {
        let d = driver.clone();
        prepared.spawn(async move { d.prepare().await });
    }
    let mut sent = 0;
    while let Some(p) = prepared.join_next().await {
        if let Ok(Some((user, items))) = p {
            let d = driver.clone();
            into.spawn(async move { d.order(&user, &items, None, OnDoubt::Retry).await });
            sent += 1;
        }
    }
    sent
}

/// A burst of `n` orders, waited for: when it returns they are answered and queued,
/// more than the worker takes at once, so a fault now meets a backlog. Returns how
/// many were accepted.
async fn settled_burst(driver: &Driver, n: usize) -> usize {
    let mut set = JoinSet::new();
    order_burst(driver, n, &mut set).await;
    set.join_all().await.into_iter().filter(|&accepted| accepted).count()
}
