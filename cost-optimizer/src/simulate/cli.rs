//! `cost-optimizer simulate`: its flags, the runs it makes (each interpolation with each
//! forecaster, every trace on all cores) and what it prints.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use forecast::peak::PeakConfig;
use forecast::trace::Interpolation;
use rayon::prelude::*;

use super::report::{Summary, summarize, summary_table, trace_table};
use super::{SimConfig, Strategy, TraceResult, simulate};
use crate::forecast::{Forecaster, LastValueTrend, Oracle, Peak};
use crate::pricing::{CostModel, Pricing};
use crate::trace::Trace;
use service_kit::duration::seconds as parse_seconds;

/// The flags of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Trace CSV files (`timestamp,value`).
    #[arg(long, num_args = 1.., required = true)]
    trace: Vec<PathBuf>,
    /// Policies to compare, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "reactive,predictive,cost-aware")]
    policy: Vec<Strategy>,
    /// Forecasters of the predictive and cost-aware policies, comma-separated; each is a run
    /// of its own. `oracle` knows the future: the limit any forecaster could reach.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "predictor,last-value-trend,oracle"
    )]
    forecaster: Vec<ForecasterKind>,
    /// How trace points are spread over the 15 s grid, comma-separated: `linear` draws a line
    /// between points (which a short trend extrapolates perfectly), `hold` keeps each value
    /// until the next point (every point is a step). Each is a run of its own.
    #[arg(long, value_delimiter = ',', default_value = "linear,hold")]
    interpolate: Vec<Interpolation>,
    /// Quantile of the lead-time peak the predictor serves.
    #[arg(long, default_value_t = PeakConfig::default().quantile)]
    quantile: f64,
    /// Settings of the predictor's peak forecaster as JSON (fields of `forecast::peak::PeakConfig`,
    /// e.g. `{"trend_steps": 4}`); `--quantile` and the lead override theirs.
    #[arg(long, value_parser = PeakConfig::from_json)]
    peak_config: Option<PeakConfig>,
    /// Print a table per trace, not only the summary.
    #[arg(long)]
    per_trace: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Write an SVG chart of demand and each policy's ready capacity (first run only).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Width of the SVG plot area in pixels (also the number of points per line).
    #[arg(long, default_value_t = 1000)]
    svg_width: usize,
    /// Pod start-up delay (e.g. 60s, 2m).
    #[arg(long, default_value = "60s", value_parser = parse_seconds)]
    startup_delay: f64,
    /// How far ahead the forecast peak is taken; default: start-up + rate window (60 s) +
    /// scrape lag (15 s) + one sync (15 s).
    #[arg(long, value_parser = parse_seconds)]
    lead: Option<f64>,
    /// Demand is scaled so that the trace's 99th percentile needs this many pods of capacity 1.
    #[arg(long, default_value_t = 10.0)]
    p99_pods: f64,
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

/// Which model forecasts demand in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ForecasterKind {
    /// The predictor's lead-time peak forecaster at `--quantile`: what the service exports.
    Predictor,
    /// Last value plus the damped recent trend (a reference).
    LastValueTrend,
    /// The true future peak (the limit).
    Oracle,
}

impl ForecasterKind {
    /// The flag's spelling, for reports.
    fn name(self) -> &'static str {
        match self {
            Self::Predictor => "predictor",
            Self::LastValueTrend => "last-value-trend",
            Self::Oracle => "oracle",
        }
    }
}

/// Runs the simulation the flags ask for and prints its tables (or JSON) to stdout.
pub fn run(args: &SimulateArgs) -> Result<()> {
    let model = CostModel::load(args.pricing_file.as_deref())?;
    let pricing: Pricing = model.pricing.with_overrides(args.cpu_core_hour, args.memory_gib_hour)?;
    let tier = model.tiers.get(&args.tier)?;
    anyhow::ensure!(args.target > 0.0 && args.target <= 1.0, "--target must be in (0, 1]");
    anyhow::ensure!(args.p99_pods > 0.0, "--p99-pods must be positive");
    anyhow::ensure!(
        args.quantile > 0.0 && args.quantile < 1.0,
        "--quantile must be in (0, 1)"
    );
    let mut config = SimConfig {
        startup_delay_seconds: args.startup_delay,
        target_utilization: args.target,
        pod_hour_usd: pricing.tier_hourly(tier),
        ..SimConfig::default()
    };
    config.lead_seconds = args.lead.unwrap_or_else(|| config.default_lead_seconds());
    anyhow::ensure!(
        config.lead_seconds >= config.step_seconds,
        "--lead must be at least 15s"
    );
    let started = Instant::now();
    let mut runs = Vec::new();
    for &how in &args.interpolate {
        for &forecaster in &args.forecaster {
            let traces = run_all(args, &config, how, forecaster)?;
            let summary = summarize(&traces);
            eprintln!(
                "{} / {}: {} traces, {:.1} s so far",
                how.as_str(),
                forecaster.name(),
                traces.len(),
                started.elapsed().as_secs_f64()
            );
            runs.push(Run {
                interpolation: how,
                forecaster: forecaster.name(),
                traces,
                summary,
            });
        }
    }
    print_runs(args, &config, tier.name.as_str(), &runs)?;
    if let (Some(path), Some(run)) = (&args.svg, runs.first()) {
        let svg = super::svg::chart(&run.traces, args.svg_width)
            .map_err(|e| anyhow::anyhow!("cannot draw the chart: {e}"))?;
        std::fs::write(path, svg).with_context(|| format!("failed to write {}", path.display()))?;
    }
    // Timing goes to stderr so that stdout stays a clean table or JSON document.
    eprintln!(
        "simulated {} traces x {} runs in {:.1} s",
        args.trace.len(),
        runs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One (interpolation, forecaster) pass over every trace.
#[derive(Debug, serde::Serialize)]
struct Run {
    interpolation: Interpolation,
    forecaster: &'static str,
    traces: Vec<TraceResult>,
    summary: Summary,
}

fn print_runs(args: &SimulateArgs, config: &SimConfig, tier: &str, runs: &[Run]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({ "config": config, "quantile": args.quantile, "runs": runs });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    if args.per_trace {
        for run in runs {
            writeln!(
                out,
                "## {} interpolation, {} forecaster\n",
                run.interpolation.as_str(),
                run.forecaster
            )?;
            for r in &run.traces {
                writeln!(out, "{}", trace_table(r))?;
            }
        }
    }
    writeln!(
        out,
        "summary over {} traces (99th percentile = {} pods, start-up {} s, lead {} s, quantile {}, {} pods at {:.6} USD/h)\n",
        args.trace.len(),
        args.p99_pods,
        args.startup_delay,
        config.lead_seconds,
        args.quantile,
        tier,
        config.pod_hour_usd
    )?;
    let rows: Vec<_> = runs
        .iter()
        .map(|r| (r.interpolation.as_str(), r.forecaster, &r.summary))
        .collect();
    write!(out, "{}", summary_table(&rows))?;
    Ok(())
}

/// Runs every trace, on all cores (rayon keeps the results in the traces' order).
fn run_all(
    args: &SimulateArgs,
    config: &SimConfig,
    how: Interpolation,
    kind: ForecasterKind,
) -> Result<Vec<TraceResult>> {
    let peak = PeakConfig {
        quantile: args.quantile,
        ..args.peak_config.clone().unwrap_or_default()
    };
    let factory = |demand: &[f64]| match kind {
        ForecasterKind::Predictor => Box::new(Peak::new(peak.clone())) as Box<dyn Forecaster>,
        ForecasterKind::LastValueTrend => Box::new(LastValueTrend::default()),
        ForecasterKind::Oracle => Box::new(Oracle::new(demand.to_vec())),
    };
    let keep_series = args.svg.is_some();
    args.trace
        .par_iter()
        .map(|path| {
            Trace::load(path, config.step_seconds, how)
                .and_then(|t| t.scaled_to_p99(args.p99_pods))
                .map_err(anyhow::Error::from)
                .and_then(|t| simulate(&t, config, &args.policy, &factory, keep_series).map_err(anyhow::Error::msg))
                .with_context(|| format!("trace {}", path.display()))
        })
        .collect()
}
