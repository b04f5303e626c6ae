//! `cost-optimizer` binary. Subcommands: `simulate` replays traces through autoscaling policies.
//! The HTTP `serve` subcommand is added as another [`Command`] variant on top of the same library.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};
use cost_optimizer::forecast::{Forecaster, LastValueTrend};
use cost_optimizer::pricing::{CostModel, Pricing};
use cost_optimizer::report::{summarize, summary_table, trace_table};
use cost_optimizer::simulate::{PolicyKind, SimConfig, TraceResult, simulate};
use cost_optimizer::trace::Trace;

/// Prices resources, decides scaling, and simulates autoscaling policies.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay demand traces through reactive, predictive and cost-aware scaling.
    Simulate(SimulateArgs),
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// Trace CSV files (`timestamp,value`).
    #[arg(long, num_args = 1.., required = true)]
    trace: Vec<PathBuf>,
    /// Policies to compare, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "reactive,predictive,cost-aware")]
    policy: Vec<PolicyKind>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Write an SVG chart of demand and each policy's ready capacity.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Width of the SVG plot area in pixels (also the number of points per line).
    #[arg(long, default_value_t = 1000)]
    svg_width: usize,
    /// Pod start-up delay (e.g. 60s, 2m).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    startup_delay: f64,
    /// How far ahead forecasts are used for scale-ups.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    lead: f64,
    /// Demand is scaled so that the trace's peak needs this many pods of capacity 1.
    #[arg(long, default_value_t = 10.0)]
    peak_pods: f64,
    /// Target CPU utilization for every policy (fraction).
    #[arg(long, default_value_t = 0.7)]
    target: f64,
    /// Pod tier used to price pod-hours.
    #[arg(long, default_value = "medium")]
    tier: String,
    /// Optional pricing file (JSON: pricing, tiers, services).
    #[arg(long, env = "COST_PRICING_FILE")]
    pricing_file: Option<PathBuf>,
    /// Override the price of a CPU core-hour (USD).
    #[arg(long, env = "COST_CPU_CORE_HOUR")]
    cpu_core_hour: Option<f64>,
    /// Override the price of a GiB-hour of memory (USD).
    #[arg(long, env = "COST_MEMORY_GIB_HOUR")]
    memory_gib_hour: Option<f64>,
}

/// Parses `90`, `90s`, `2m` or `1h` into seconds.
fn parse_duration(s: &str) -> Result<f64, String> {
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.trim().parse().map_err(|e| format!("{s:?}: {e}"))?;
    let k = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("{s:?}: unit must be s, m or h")),
    };
    if n.is_finite() && n >= 0.0 {
        Ok(n * k)
    } else {
        Err(format!("{s:?}: must be non-negative"))
    }
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Simulate(args) => run_simulate(&args),
    }
}

fn run_simulate(args: &SimulateArgs) -> Result<()> {
    let model = CostModel::load(args.pricing_file.as_deref())?;
    let pricing: Pricing = model.pricing.with_overrides(args.cpu_core_hour, args.memory_gib_hour)?;
    let tier = model.tiers.get(&args.tier)?;
    anyhow::ensure!(args.target > 0.0 && args.target <= 1.0, "--target must be in (0, 1]");
    anyhow::ensure!(args.peak_pods > 0.0, "--peak-pods must be positive");
    let config = SimConfig {
        startup_delay_seconds: args.startup_delay,
        lead_seconds: args.lead,
        target_utilization: args.target,
        max_replicas: ((args.peak_pods / args.target).ceil() as u32).saturating_mul(3).max(10),
        pod_hour_usd: pricing.tier_hourly(tier),
        ..SimConfig::default()
    };
    let started = Instant::now();
    let results = run_all(args, &config)?;
    let summary = summarize(&results);
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({ "config": config, "traces": results, "summary": summary });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        for r in &results {
            writeln!(out, "{}", trace_table(r))?;
        }
        writeln!(
            out,
            "summary over {} traces (peak {} pods, start-up {} s, lead {} s, {} pods at {:.6} USD/h)\n",
            results.len(),
            args.peak_pods,
            args.startup_delay,
            args.lead,
            tier.name,
            config.pod_hour_usd
        )?;
        write!(out, "{}", summary_table(&summary))?;
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, cost_optimizer::svg::chart(&results, args.svg_width))
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    // Timing goes to stderr so that stdout stays a clean table or JSON document.
    eprintln!(
        "simulated {} traces in {:.1} s",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs traces on all cores; each worker takes the next trace, so one long trace does not
/// leave the other cores idle at the end.
fn run_all(args: &SimulateArgs, config: &SimConfig) -> Result<Vec<TraceResult>> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<TraceResult>>>> = Mutex::new((0..args.trace.len()).map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(args.trace.len());
    let factory = |_: &[f64]| Box::new(LastValueTrend::default()) as Box<dyn Forecaster>;
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = args.trace.get(i) else { break };
                    let result = Trace::load(path, config.step_seconds)
                        .and_then(|t| t.scaled_to_peak(args.peak_pods))
                        .map(|t| simulate(&t, config, &args.policy, &factory, args.svg.is_some()))
                        .with_context(|| format!("trace {}", path.display()));
                    if let Ok(mut slots) = slots.lock()
                        && let Some(slot) = slots.get_mut(i)
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    let slots = slots
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a simulation thread panicked"))?;
    slots
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a trace was not simulated"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Ok(60.0));
        assert_eq!(parse_duration("2m"), Ok(120.0));
        assert_eq!(parse_duration("90"), Ok(90.0));
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
