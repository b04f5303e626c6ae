//! Observed usage of a service from Prometheus: replicas, CPU and memory now, and mean and p95
//! over the usage window.
//!
//! Mean and p95 are computed here from a `query_range` with [`crate::cost::mean`] and
//! [`crate::cost::percentile`] (nearest rank) rather than with `quantile_over_time`, which
//! interpolates: the p95 we report is then always a value Prometheus actually returned. The
//! PromQL is [`UsageQueries`], shared with the predictor; each query aggregates to one series,
//! so the first series is the answer.

use std::time::Duration;

use service_kit::prometheus::{PromError, Prometheus, UsageQueries, first_value, first_values};

use crate::cost::{Resources, UsageStats, mean, percentile};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

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
            self.prometheus.instant(&replicas, Some(now)),
            self.prometheus.instant(&cpu, Some(now)),
            self.prometheus.instant(&memory, Some(now)),
        )?;
        // Every query aggregates to one series: read the first.
        let (replicas, cpu, memory) = (first_value(&replicas), first_value(&cpu), first_value(&memory));
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
        let cpu = first_values(&cpu);
        let memory: Vec<f64> = first_values(&memory).iter().map(|b| b / GIB).collect();
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
