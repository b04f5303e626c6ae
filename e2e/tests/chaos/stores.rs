//! A PostgreSQL cluster and a Redis of the suite's own, so that restarting, pausing or
//! emptying them hits nobody else's tests. Each writes its pid under the run directory
//! (so that `scripts/chaos.sh` can clean up after a test that was killed) and is
//! stopped and removed when dropped, panics included.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian puts PostgreSQL's server programs; the newest version wins.
fn pg_bin(program: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    versions.sort_by_key(|p| p.file_name().and_then(|n| n.to_str()?.parse::<u32>().ok()).unwrap_or(0));
    match versions.last() {
        Some(v) if v.join("bin").join(program).exists() => v.join("bin").join(program),
        // Elsewhere (another distribution, a developer's Mac) they are on the PATH.
        _ => PathBuf::from(program),
    }
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output();
    out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL program as the `postgres` user when we are root (initdb and the
/// server refuse to run as root), as ourselves otherwise.
fn as_postgres(program: &str) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(pg_bin(program));
        cmd
    } else {
        Command::new(pg_bin(program))
    }
}

#[track_caller]
fn must(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("setup: cannot {what}: {e}"));
    assert!(
        out.status.success(),
        "setup: cannot {what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway cluster on a free loopback port, in a directory of its own under the
/// system's temporary directory (the `postgres` user must be able to write there,
/// which it cannot under a root-owned target directory).
pub struct Postgres {
    data: PathBuf,
    log: PathBuf,
    /// The port it listens on (127.0.0.1 only).
    pub port: u16,
    password: String,
}

impl Postgres {
    /// initdb, start, create `databases`.
    pub async fn start(run_dir: &Path, id: &str, databases: &[&str]) -> Self {
        let data = std::env::temp_dir().join(format!("chaos-pg-{id}"));
        let password = uuid::Uuid::new_v4().simple().to_string();
        let pwfile = std::env::temp_dir().join(format!("chaos-pg-{id}.pw"));
        std::fs::write(&pwfile, &password).unwrap();
        if is_root() {
            must(
                Command::new("chown").arg("postgres").arg(&pwfile),
                "chown the password file",
            );
        }
        // Password auth over TCP, as the shared cluster has; `fsync=off` because the
        // cluster dies with the test: a crash restart still replays the WAL the
        // operating system holds, so committed data survives `restart` all the same.
        must(
            as_postgres("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--no-sync",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
            "initdb",
        );
        let _ = std::fs::remove_file(&pwfile);
        let log = run_dir.join("postgres.log");
        if is_root() {
            // The server writes its log there; the run directory belongs to root.
            std::fs::write(&log, "").unwrap();
            must(Command::new("chown").arg("postgres").arg(&log), "chown the log");
        }
        std::fs::write(run_dir.join("postgres.datadir"), data.display().to_string()).unwrap();
        let pg = Self {
            data,
            log,
            port: e2e::free_port(),
            password,
        };
        pg.start_server();
        let admin = pg.url("postgres");
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        for db in databases {
            // The names are the suite's own constants, and DDL takes no bind parameters.
            let create = sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"));
            sqlx::query(create).execute(&pool).await.unwrap();
        }
        pool.close().await;
        pg
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=200",
            self.port,
            self.data.display()
        );
        must(
            as_postgres("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(&self.log)
                .args(["-o", &options, "-w", "-t", "60", "start"]),
            "start PostgreSQL",
        );
    }

    /// The URL of `database` for the `postgres` role.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// Crash restart: `immediate` is what a killed server looks like to its clients
    /// (connections cut, no checkpoint), and `down` keeps it away long enough for
    /// requests to meet the outage rather than slip between stop and start.
    pub async fn restart(&self, down: Duration) {
        must(
            as_postgres("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"]),
            "stop PostgreSQL",
        );
        tokio::time::sleep(down).await;
        self.start_server();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// A Redis that keeps nothing on disk, so that a restart loses every key.
pub struct Redis {
    child: Option<Child>,
    /// The port it listens on (127.0.0.1 only).
    pub port: u16,
    run_dir: PathBuf,
}

impl Redis {
    /// Starts it and waits until it answers.
    pub async fn start(run_dir: &Path) -> Self {
        let mut redis = Self {
            child: None,
            port: e2e::free_port(),
            run_dir: run_dir.to_path_buf(),
        };
        redis.spawn().await;
        redis
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--logfile")
            .arg(self.run_dir.join("redis.log"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("setup: cannot start redis-server (scripts/deps.sh installs it): {e}"));
        std::fs::write(self.run_dir.join("redis.pid"), child.id().to_string()).unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(Instant::now() < deadline, "setup: redis did not start on {}", self.port);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The URL services connect to.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> String {
        self.child.as_ref().map(|c| c.id().to_string()).unwrap_or_default()
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// kill -9 and start again: everything Redis held (queue, caches) is gone.
    pub async fn restart_empty(&mut self, down: Duration) {
        self.kill();
        tokio::time::sleep(down).await;
        self.spawn().await;
    }

    /// SIGSTOP for `length`, then SIGCONT: connections stay open and every command
    /// hangs, which is harder on clients than a refused connection.
    pub async fn pause(&self, length: Duration) {
        signal(&self.pid(), "STOP");
        tokio::time::sleep(length).await;
        signal(&self.pid(), "CONT");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped process, should a panic land mid-pause.
        self.kill();
        let _ = std::fs::remove_file(self.run_dir.join("redis.pid"));
    }
}

/// `kill -SIG pid`.
pub fn signal(pid: &str, sig: &str) {
    let status = Command::new("kill").arg(format!("-{sig}")).arg(pid).status();
    assert!(status.is_ok_and(|s| s.success()), "cannot send SIG{sig} to {pid}");
}
