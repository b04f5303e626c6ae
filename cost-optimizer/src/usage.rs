//! Observed usage of a service from Prometheus: replicas, CPU and memory now, and mean and p95
//! over the usage window.
//!
//! Mean and p95 are computed here from a `query_range` with [`crate::cost::mean`] and
//! [`crate::cost::percentile`] (nearest rank) rather than with `quantile_over_time`, which
//! interpolates: the p95 we report is then always a value Prometheus actually returned.

use std::time::Duration;

use crate::config::Setup;
use crate::cost::{Resources, UsageStats, mean, percentile};
use crate::prometheus::{PromError, Prometheus, label_value, promql_duration};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The PromQL of one setup. Each query aggregates to a single series for the whole service.
#[derive(Debug, Clone)]
pub struct UsageQueries {
    setup: Setup,
    namespace: String,
    rate_window: String,
}

impl UsageQueries {
    /// Queries for `setup`; `namespace` is used on Kubernetes only.
    pub fn new(setup: Setup, namespace: &str, rate_window: Duration) -> Self {
        Self {
            setup,
            namespace: namespace.to_owned(),
            rate_window: promql_duration(rate_window),
        }
    }

    fn selector(&self, service: &str) -> String {
        match self.setup {
            Setup::Native => format!("service={}", label_value(service)),
            // Deployments and their containers are named after the service in `k8s/`.
            Setup::Kubernetes => format!(
                "namespace={},container={}",
                label_value(&self.namespace),
                label_value(service)
            ),
        }
    }

    /// Total CPU in use, in cores.
    pub fn cpu_cores(&self, service: &str) -> String {
        let metric = match self.setup {
            Setup::Native => "process_cpu_seconds_total",
            Setup::Kubernetes => "container_cpu_usage_seconds_total",
        };
        format!(
            "sum(rate({metric}{{{}}}[{}]))",
            self.selector(service),
            self.rate_window
        )
    }

    /// Total memory in use, in bytes (working set on Kubernetes: what the OOM killer counts).
    pub fn memory_bytes(&self, service: &str) -> String {
        let metric = match self.setup {
            Setup::Native => "process_resident_memory_bytes",
            Setup::Kubernetes => "container_memory_working_set_bytes",
        };
        format!("sum({metric}{{{}}})", self.selector(service))
    }

    /// Running replicas. Natively one process is one replica, counted by a series every
    /// process exports (`up` has no `service` label, so it cannot be used).
    pub fn replicas(&self, service: &str) -> String {
        match self.setup {
            Setup::Native => format!("count(process_start_time_seconds{{{}}})", self.selector(service)),
            Setup::Kubernetes => format!(
                "sum(kube_deployment_status_replicas{{namespace={},deployment={}}})",
                label_value(&self.namespace),
                label_value(service)
            ),
        }
    }
}

/// Usage at one instant; `None` where Prometheus has no series.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CurrentUsage {
    /// Replicas running.
    pub replicas: Option<u32>,
    /// Total CPU, cores.
    pub cpu_cores: Option<f64>,
    /// Total memory, GiB.
    pub memory_gib: Option<f64>,
}

/// Usage over the window, with how many points each figure rests on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WindowUsage {
    /// Mean and p95 (zero where there were no points).
    pub stats: UsageStats,
    /// CPU points in the window.
    pub cpu_points: usize,
    /// Memory points in the window.
    pub memory_points: usize,
}

/// Reads usage from Prometheus.
#[derive(Debug, Clone)]
pub struct UsageSource {
    prometheus: Prometheus,
    queries: UsageQueries,
    window: Duration,
    step: Duration,
}

impl UsageSource {
    /// `window` and `step` define the range that mean and p95 are taken over.
    pub fn new(prometheus: Prometheus, queries: UsageQueries, window: Duration, step: Duration) -> Self {
        Self {
            prometheus,
            queries,
            window,
            step,
        }
    }

    /// The Prometheus client (for readiness).
    pub fn prometheus(&self) -> &Prometheus {
        &self.prometheus
    }

    /// The usage window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Replicas, CPU and memory now; fails only when Prometheus cannot answer.
    pub async fn current(&self, service: &str) -> Result<CurrentUsage, PromError> {
        let now = now_seconds();
        let q = &self.queries;
        let (replicas, cpu, memory) = (q.replicas(service), q.cpu_cores(service), q.memory_bytes(service));
        let (replicas, cpu, memory) = tokio::try_join!(
            self.prometheus.instant(&replicas, now),
            self.prometheus.instant(&cpu, now),
            self.prometheus.instant(&memory, now),
        )?;
        Ok(CurrentUsage {
            // Replica counts are whole numbers; rounding guards against a float sum.
            replicas: replicas.map(|r| r.round().clamp(0.0, f64::from(u32::MAX)) as u32),
            cpu_cores: cpu,
            memory_gib: memory.map(|b| b / GIB),
        })
    }

    /// Mean and p95 of CPU and memory over the window ending now.
    pub async fn over_window(&self, service: &str) -> Result<WindowUsage, PromError> {
        let end = now_seconds();
        let start = end - self.window.as_secs_f64();
        let step = self.step.as_secs_f64().max(1.0);
        let q = &self.queries;
        let (cpu, memory) = (q.cpu_cores(service), q.memory_bytes(service));
        let (cpu, memory) = tokio::try_join!(
            self.prometheus.range(&cpu, start, end, step),
            self.prometheus.range(&memory, start, end, step),
        )?;
        let memory: Vec<f64> = memory.iter().map(|b| b / GIB).collect();
        let stat = |v: &[f64], f: fn(&[f64]) -> Option<f64>| f(v).unwrap_or(0.0);
        let p95 = |v: &[f64]| percentile(v, 0.95);
        Ok(WindowUsage {
            stats: UsageStats {
                mean: Resources {
                    cpu_cores: stat(&cpu, mean),
                    memory_gib: stat(&memory, mean),
                },
                p95: Resources {
                    cpu_cores: stat(&cpu, p95),
                    memory_gib: stat(&memory, p95),
                },
            },
            cpu_points: cpu.len(),
            memory_points: memory.len(),
        })
    }
}

fn now_seconds() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_queries_use_the_service_label() {
        let q = UsageQueries::new(Setup::Native, "ns", Duration::from_secs(60));
        assert_eq!(
            q.cpu_cores("catalog-service"),
            r#"sum(rate(process_cpu_seconds_total{service="catalog-service"}[60s]))"#
        );
        assert_eq!(
            q.memory_bytes("x"),
            r#"sum(process_resident_memory_bytes{service="x"})"#
        );
        assert_eq!(q.replicas("x"), r#"count(process_start_time_seconds{service="x"})"#);
    }

    #[test]
    fn kubernetes_queries_use_cadvisor_and_kube_state_metrics() {
        let q = UsageQueries::new(Setup::Kubernetes, "shop", Duration::from_secs(120));
        assert_eq!(
            q.cpu_cores("x"),
            r#"sum(rate(container_cpu_usage_seconds_total{namespace="shop",container="x"}[120s]))"#
        );
        assert_eq!(
            q.memory_bytes("x"),
            r#"sum(container_memory_working_set_bytes{namespace="shop",container="x"})"#
        );
        assert_eq!(
            q.replicas("x"),
            r#"sum(kube_deployment_status_replicas{namespace="shop",deployment="x"})"#
        );
    }
}
