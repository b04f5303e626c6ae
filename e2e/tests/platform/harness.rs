//! Starting and stopping a platform of the test's own with the project's scripts, and
//! small clients for Prometheus and the load generator. up.sh makes the platform's token
//! secret and an admin token in the run directory; the generator seeds with that token
//! and registers and logs in its own customers.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub struct Platform {
    pub root: PathBuf,
    env: Vec<(String, String)>,
    run_dir: PathBuf,
    bin_dir: PathBuf,
    pub client: reqwest::Client,
    pub prometheus: String,
    pub catalog: String,
    pub orders: String,
    pub cost: String,
    pub predictor: String,
}

fn run(root: &Path, script: &str, env: &[(String, String)]) -> std::process::Output {
    Command::new("bash")
        .arg(root.join("scripts").join(script))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"))
}

impl Platform {
    /// Builds the binaries (a no-op when `make test` already did), makes sure the
    /// databases exist and runs `scripts/up.sh` on free ports.
    pub async fn up() -> Self {
        let root = e2e::workspace_root();
        let bin_dir = e2e::build_binaries();
        let id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let run_dir = e2e::target_dir().join("e2e").join(&id);
        let ports: Vec<u16> = (0..7).map(|_| e2e::free_port()).collect();
        let mut env: Vec<(String, String)> = [
            ("RUN_DIR", run_dir.display().to_string()),
            ("BIN_DIR", bin_dir.display().to_string()),
            ("PG_DB_PREFIX", format!("e2e_{id}_")),
            ("REDIS_PREFIX", format!("e2e:{id}:")),
            // Fast enough that a one-minute burst spans many samples.
            ("SCRAPE_INTERVAL", "2s".into()),
            ("PREDICTOR_STEP", "2s".into()),
            // Short enough that the 2 s step fits one query (a day would raise it to 8 s and
            // leave the burst a handful of samples).
            ("PREDICTOR_RECENT", "1h".into()),
            // A lead and a calibration that fit a two-minute test, so the HPA's series come
            // from the calibrated peak forecaster rather than its fallback.
            ("PREDICTOR_LEAD", "10s".into()),
            (
                "PREDICTOR_PEAK_CONFIG",
                r#"{"sample_every":1,"min_errors":20,"recalibrate_every":2}"#.into(),
            ),
            ("PREDICTOR_REFRESH", "2s".into()),
            ("PREDICTOR_RETRAIN", "20s".into()),
            // The labels Prometheus Adapter needs to attach a forecast to a Deployment.
            ("KUBERNETES_NAMESPACE", "shop".into()),
            ("RUST_LOG", "info".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let names = [
            "USER_PORT",
            "CATALOG_PORT",
            "ORDER_PORT",
            "PREDICTOR_PORT",
            "COST_PORT",
            "WORKER_PORT",
        ];
        for (name, port) in names.iter().chain(["PROMETHEUS_PORT"].iter()).zip(&ports) {
            env.push(((*name).to_owned(), port.to_string()));
        }
        let mut deps_env = env.clone();
        deps_env.push(("RUN_DIR".into(), String::new()));
        let deps = run(&root, "deps.sh", &deps_env);
        assert!(
            deps.status.success(),
            "deps.sh failed: {}",
            String::from_utf8_lossy(&deps.stderr)
        );
        let local = |i: usize| format!("http://127.0.0.1:{}", ports[i]);
        let p = Self {
            root: root.clone(),
            env,
            run_dir,
            bin_dir,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap(),
            prometheus: local(6),
            catalog: local(1),
            orders: local(2),
            predictor: local(3),
            cost: local(4),
        };
        let up = run(&root, "up.sh", &p.env);
        assert!(
            up.status.success(),
            "link 'make up': scripts/up.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&up.stdout),
            String::from_utf8_lossy(&up.stderr)
        );
        p
    }

    /// The admin token up.sh wrote.
    pub fn admin_token(&self) -> String {
        let path = self.run_dir.join("admin-token");
        let token = std::fs::read_to_string(&path);
        let token = token.unwrap_or_else(|e| panic!("link 'make up': no admin token at {}: {e}", path.display()));
        token.trim().to_owned()
    }

    /// Runs the load generator with the platform's URLs and admin token and returns its
    /// JSON summary.
    pub async fn loadgen(&self, name: &str, args: &[&str]) -> Value {
        let json = self.run_dir.join(format!("{name}.json"));
        let port = |k: &str| {
            self.env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let status = tokio::process::Command::new(self.bin_dir.join("load-generator"))
            .args(args)
            .args(["--quiet", "--json"])
            .arg(&json)
            .env("USER_SERVICE_URL", format!("http://127.0.0.1:{}", port("USER_PORT")))
            .env("CATALOG_SERVICE_URL", &self.catalog)
            .env("ORDER_SERVICE_URL", &self.orders)
            .env("ADMIN_TOKEN_FILE", self.run_dir.join("admin-token"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(self.run_dir.join(format!("{name}.log"))).unwrap())
            .status()
            .await
            .unwrap();
        assert!(
            status.success(),
            "link 'load generator': {name} run failed, see {}",
            self.run_dir.display()
        );
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
    }

    /// An instant query; panics naming the query when Prometheus refuses it.
    pub async fn query(&self, promql: &str) -> Vec<Value> {
        let url = format!("{}/api/v1/query", self.prometheus);
        let body: Value = self
            .client
            .get(reqwest::Url::parse_with_params(&url, &[("query", promql)]).unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["status"], "success", "query {promql} failed: {body}");
        body["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The largest value of `promql` between `start` and now.
    pub async fn max_since(&self, promql: &str, start: f64) -> Option<f64> {
        let now = self.prom_time().await;
        let params = [
            ("query", promql.to_owned()),
            ("start", start.to_string()),
            ("end", now.to_string()),
            ("step", "2".into()),
        ];
        let url = format!("{}/api/v1/query_range", self.prometheus);
        let body: Value = self
            .client
            .get(reqwest::Url::parse_with_params(&url, &params).unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["status"], "success", "query_range {promql} failed: {body}");
        body["data"]["result"]
            .as_array()?
            .iter()
            .flat_map(|s| s["values"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v[1].as_str()?.parse::<f64>().ok())
            .reduce(f64::max)
    }

    /// Prometheus' clock, so that ranges line up with its samples.
    pub async fn prom_time(&self) -> f64 {
        // A scalar result is `[time, "value"]`.
        let r = self.query("time()").await;
        r[1].as_str().and_then(|s| s.parse().ok()).unwrap()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let out = run(&self.root, "down.sh", &self.env);
        if !out.status.success() {
            eprintln!("down.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        // The databases are the test's own: left behind, thousands of runs fill the disk.
        let prefix = self
            .env
            .iter()
            .find(|(k, _)| k == "PG_DB_PREFIX")
            .map(|(_, v)| v.as_str());
        for db in ["users", "catalog", "orders"] {
            let Some(prefix) = prefix else { break };
            let sql = format!("DROP DATABASE IF EXISTS \"{prefix}{db}\" WITH (FORCE)");
            let dropped = Command::new("psql")
                .args([admin_database_url().as_str(), "-qc", &sql])
                .status();
            if !matches!(dropped, Ok(s) if s.success()) {
                eprintln!("could not drop database {prefix}{db}");
            }
        }
    }
}

/// The PostgreSQL admin URL, as service_kit::testing reads it (e2e does not depend on it).
fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}
