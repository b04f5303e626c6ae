//! The shop's four processes (user, catalog, order API, order worker), started
//! directly with the command lines `scripts/up.sh` uses, pointed at the suite's own
//! stores. Starting them here rather than through up.sh keeps the `Child` of each, so
//! that a kill -9 hits exactly that process and the restart is the very same command;
//! it also leaves out Prometheus and the predictor, which this suite does not need and
//! a two-core machine should not pay for. Every part gets the run's token secret in
//! AUTH_SECRET; the suite mints its admin token with the same secret.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

/// One of the four processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    User,
    Catalog,
    Order,
    Worker,
}

impl Part {
    pub const ALL: [Part; 4] = [Part::User, Part::Catalog, Part::Order, Part::Worker];

    pub fn name(self) -> &'static str {
        match self {
            Part::User => "user-service",
            Part::Catalog => "catalog-service",
            Part::Order => "order-service",
            Part::Worker => "order-worker",
        }
    }
}

/// Settings that make a three-minute run meaningful: a worker that fails over in
/// seconds rather than the production half minute, and one slow enough (one order at
/// a time, about 15 ms of hashing per line in a debug build) that a burst of orders
/// leaves a backlog for a fault to meet, yet cheap beside the load; a reconciler that
/// passes every second, requeues what the queue lost after the visibility timeout, and
/// takes a `reserving` order for stuck after 15 s (above the saga's 8 s timeout plus a
/// 4 s downstream deadline, so that it never races a live saga). Each is set only when
/// the environment does not already say otherwise, so that a run can turn a safeguard
/// off from the command line (`RECONCILE=false make chaos`): the services read their
/// flags from the environment.
const DEFAULTS: [(&str, &str); 7] = [
    ("WORK_ROUNDS", "1000000"),
    ("WORKER_CONCURRENCY", "1"),
    ("VISIBILITY_TIMEOUT", "5s"),
    ("RECONCILE_INTERVAL", "1s"),
    ("RECONCILE_REQUEUE_AFTER", "5s"),
    ("RECONCILE_STUCK_AFTER", "15s"),
    ("RUST_LOG", "info"),
];

pub struct Shop {
    bin_dir: PathBuf,
    run_dir: PathBuf,
    children: Vec<(Part, Option<Child>)>,
    ports: [u16; 4],
    database: Box<dyn Fn(&str) -> String + Send + Sync>,
    redis_url: String,
    /// The token secret of this run (64 hex characters, as up.sh makes).
    secret: String,
    pub client: reqwest::Client,
}

impl Shop {
    /// Starts every part and waits until each is ready.
    pub async fn start(
        bin_dir: &Path,
        run_dir: &Path,
        database: impl Fn(&str) -> String + Send + Sync + 'static,
        redis_url: String,
    ) -> Self {
        let mut shop = Self {
            bin_dir: bin_dir.to_path_buf(),
            run_dir: run_dir.to_path_buf(),
            children: Part::ALL.iter().map(|&p| (p, None)).collect(),
            ports: [(); 4].map(|()| e2e::free_port()),
            database: Box::new(database),
            redis_url,
            secret: format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        };
        for part in Part::ALL {
            shop.spawn(part);
        }
        for part in Part::ALL {
            shop.wait_ready(part).await;
        }
        shop
    }

    fn port(&self, part: Part) -> u16 {
        self.ports[Part::ALL.iter().position(|&p| p == part).unwrap_or(0)]
    }

    /// The base URL of a part (the worker's is its metrics and health port).
    pub fn url(&self, part: Part) -> String {
        format!("http://127.0.0.1:{}", self.port(part))
    }

    fn command(&self, part: Part) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(match part {
            Part::User => "user-service",
            Part::Catalog => "catalog-service",
            Part::Order | Part::Worker => "order-service",
        }));
        if part == Part::Worker {
            cmd.arg("worker").args(["--metrics-port", &self.port(part).to_string()]);
        } else {
            cmd.args(["--port", &self.port(part).to_string()]);
        }
        let db = match part {
            Part::User => "users",
            Part::Catalog => "catalog",
            Part::Order | Part::Worker => "orders",
        };
        cmd.args(["--database-url", &(self.database)(db)]).args([
            "--redis-url",
            &self.redis_url,
            "--redis-prefix",
            "chaos:",
        ]);
        if part == Part::Order {
            cmd.args(["--user-service-url", &self.url(Part::User)])
                .args(["--catalog-service-url", &self.url(Part::Catalog)]);
        }
        for (key, value) in DEFAULTS {
            if std::env::var_os(key).is_none() {
                cmd.env(key, value);
            }
        }
        // The services take a secret or a file, not both: a file set outside would conflict.
        cmd.env("AUTH_SECRET", &self.secret).env_remove("AUTH_SECRET_FILE");
        cmd
    }

    /// An admin token (for seeding products) signed with the run's secret, as
    /// `issue-token --role admin --ttl 1h` would print it: service_kit::auth's claims.
    pub fn admin_token(&self) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let claims = json!({ "sub": "chaos", "role": "admin", "iat": now, "exp": now + 3600 });
        let key = jsonwebtoken::EncodingKey::from_secret(self.secret.as_bytes()).unwrap();
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    }

    // The child is kept in `children` and waited for in `kill`, which `Drop` calls.
    #[allow(clippy::zombie_processes)]
    fn spawn(&mut self, part: Part) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.run_dir.join(format!("{}.log", part.name())))
            .unwrap();
        let child = self
            .command(part)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("setup: cannot start {}: {e}", part.name()));
        std::fs::write(
            self.run_dir.join(format!("{}.pid", part.name())),
            child.id().to_string(),
        )
        .unwrap();
        if let Some(slot) = self.children.iter_mut().find(|(p, _)| *p == part) {
            slot.1 = Some(child);
        }
    }

    /// Polls `/ready` for up to a minute (migrations run at start-up).
    pub async fn wait_ready(&self, part: Part) {
        let url = format!("{}/ready", self.url(part));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.client.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} is not ready at {url}; see {}",
                part.name(),
                self.run_dir.join(format!("{}.log", part.name())).display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// kill -9: no drain, no cleanup, whatever was in flight is cut.
    pub fn kill(&mut self, part: Part) {
        if let Some((_, slot)) = self.children.iter_mut().find(|(p, _)| *p == part)
            && let Some(mut child) = slot.take()
        {
            // `Child::kill` is SIGKILL on Unix.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the part again with the same command and waits until it is ready.
    pub async fn restart(&mut self, part: Part) {
        self.spawn(part);
        self.wait_ready(part).await;
    }

    /// The three shop URLs, as the load generator reads them.
    pub fn urls(&self) -> [(&'static str, String); 3] {
        [
            ("USER_SERVICE_URL", self.url(Part::User)),
            ("CATALOG_SERVICE_URL", self.url(Part::Catalog)),
            ("ORDER_SERVICE_URL", self.url(Part::Order)),
        ]
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        for part in Part::ALL {
            self.kill(part);
            let _ = std::fs::remove_file(self.run_dir.join(format!("{}.pid", part.name())));
        }
    }
}
