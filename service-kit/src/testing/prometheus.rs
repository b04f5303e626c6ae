//! A real Prometheus server for tests: its own port, data directory and config,
//! optionally backfilled with history through `promtool tsdb create-blocks-from`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// A running Prometheus, stopped on drop.
pub struct PrometheusServer {
    /// The port it listens on, kept across restarts.
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrometheusServer {
    /// Starts Prometheus with `config` (YAML; `scrape_configs` may be empty), after
    /// backfilling `openmetrics` (OpenMetrics text ending in `# EOF`) when given.
    /// Waits until it reports ready.
    pub fn start(config: &str, openmetrics: Option<&str>) -> Self {
        let dir = std::env::temp_dir().join(format!("prom-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        if let Some(text) = openmetrics {
            let input = dir.join("backfill.om");
            std::fs::write(&input, text).unwrap();
            let out = Command::new("promtool")
                .args(["tsdb", "create-blocks-from", "openmetrics"])
                .arg(&input)
                .arg(dir.join("data"))
                .output()
                .expect("promtool is not installed: run scripts/deps.sh");
            assert!(
                out.status.success(),
                "backfill failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut s = Self {
            port: free_port(),
            dir,
            child: None,
        };
        s.restart();
        s
    }

    /// Base URL of its HTTP API.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server, keeping its data.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it (again) on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::File::create(self.dir.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", self.dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", self.dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            // Backfilled blocks may be older than the default 15 days.
            .arg("--storage.tsdb.retention.time=3650d")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus is not installed: run scripts/deps.sh");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let probe = format!("127.0.0.1:{}", self.port);
        while Instant::now() < deadline {
            if ready(&probe) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default();
        panic!("prometheus did not become ready on {probe}:\n{log}");
    }
}

/// `GET /-/ready` over a raw socket, so that this helper needs no async runtime.
fn ready(addr: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /-/ready HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
