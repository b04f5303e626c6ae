//! Wiring a parsed command line into a run: prepare the pools, drive the load, report. A plain
//! `--url` run takes the `fast` path (its own keep-alive connections); the shop scenarios go
//! through `driver` and reqwest.

use crate::auth;
use crate::bench_target;
use crate::cli::{Cli, Command, RunArgs};
use crate::conn::Target;
use crate::driver::{self, RunEnd, RunPlan};
use crate::fast;
use crate::report::Summary;
use crate::scenario::{Action, Mix};
use crate::seed::{self, SeedOptions};
use crate::shape::Shape;
use crate::shop::{Shop, Targets};
use crate::stats::{Recorder, SharedRecorder, lock};
use anyhow::{Context, bail};
use std::future::Future;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Exit status when `--max-error-rate` is exceeded, distinct from 1 (the run itself failed).
const EXIT_TOO_MANY_ERRORS: u8 = 2;

/// Runs the command line: a load run (table on stdout, optional JSON file) or the bench target.
pub async fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::BenchTarget { addr } = cli.command {
        let (local, server) = bench_target::spawn(addr).await?;
        // The address is output (scripts read it), not a log line.
        println!("listening on http://{local}/");
        tokio::select! {
            result = server => result.context("bench target task")?.context("bench target server")?,
            () = ctrl_c() => {}
        }
        return Ok(ExitCode::SUCCESS);
    }
    let summary = run_load(&cli, ctrl_c()).await?;
    print!("{}", summary.table());
    if let Some(path) = &cli.run.json {
        let json = serde_json::to_vec_pretty(&summary)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(max) = cli.run.max_error_rate
        && summary.error_rate > max
    {
        eprintln!("error rate {:.4} exceeds --max-error-rate {max}", summary.error_rate);
        return Ok(ExitCode::from(EXIT_TOO_MANY_ERRORS));
    }
    Ok(ExitCode::SUCCESS)
}

/// Prepares and runs the load described by `cli` until its duration passes or `stop` resolves,
/// and returns the summary. Prints only the progress line (unless `--quiet`).
pub async fn run_load(cli: &Cli, stop: impl Future<Output = ()>) -> anyhow::Result<Summary> {
    let args = &cli.run;
    let Some((shape, duration)) = cli.command.shape(args.duration)? else {
        bail!("not a traffic shape");
    };
    if is_idle(&shape, duration) {
        tracing::warn!("the traffic shape asks for no requests");
    }
    let mix = mix(args)?;
    let plan = RunPlan {
        shape,
        duration,
        max_in_flight: args.max_in_flight,
        // Long enough for every request in flight to answer or time out, so no order is left uncounted.
        drain_grace: args.timeout + Duration::from_secs(1),
        progress: !args.quiet,
    };
    let (shape_text, mix_text) = (plan.shape.describe(), mix.describe());
    let recorder = Arc::new(Mutex::new(Recorder::new()?));
    if let Some(url) = &args.url {
        let target = Target::resolve(url).await?;
        if !args.quiet {
            eprintln!(
                "{shape_text} for {:.0}s; GET {url} over {} keep-alive connections at first, at most {}",
                duration.as_secs_f64(),
                fast::pool_size(args.max_in_flight),
                args.max_in_flight
            );
        }
        let end = fast::run(plan, target, args.timeout, recorder.clone(), stop).await;
        return Ok(summary(&recorder, shape_text, mix_text, end));
    }
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .pool_max_idle_per_host(args.max_in_flight)
        .build()
        .context("building the HTTP client")?;
    let targets = Targets {
        user: args.user_url.trim_end_matches('/').to_owned(),
        catalog: args.catalog_url.trim_end_matches('/').to_owned(),
        order: args.order_url.trim_end_matches('/').to_owned(),
    };
    let options = SeedOptions {
        products: args.seed,
        product_count: args.seed_products,
        stock: args.seed_stock,
        user_count: args.seed_users,
    };
    let admin = auth::admin_token(args.admin_token.as_ref(), args.admin_token_file.as_deref())?;
    let pools = seed::prepare(&client, &targets, &mix, options, admin.as_ref()).await?;
    let shop = Arc::new(Shop::new(client, targets, args.url.clone(), pools, recorder.clone())?);
    if !args.quiet {
        eprintln!(
            "{shape_text} for {:.0}s; mix {mix_text}; at most {} in flight",
            duration.as_secs_f64(),
            args.max_in_flight
        );
    }
    let total_weight = mix.total();
    let perform = move |due| {
        let shop = shop.clone();
        let action = mix.pick(fastrand::u32(..total_weight));
        async move { shop.perform(action, due).await }
    };
    let end = driver::run(plan, recorder.clone(), perform, stop).await;
    Ok(summary(&recorder, shape_text, mix_text, end))
}

fn summary(recorder: &SharedRecorder, shape: String, mix: String, end: RunEnd) -> Summary {
    Summary::new(&lock(recorder), shape, mix, end.elapsed_secs, end.interrupted)
}

fn mix(args: &RunArgs) -> anyhow::Result<Mix> {
    if args.url.is_some() {
        return Mix::new(vec![(Action::Get, 1)]);
    }
    match &args.weights {
        Some(text) => Mix::parse(text),
        None => Ok(Mix::preset(args.scenario, args.service)),
    }
}

/// Resolves on Ctrl-C. If the handler cannot be installed the run goes on without it.
async fn ctrl_c() {
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!(error.message = %error, "cannot listen for ctrl-c");
        std::future::pending::<()>().await;
    }
}

/// Whether a shape asks for no load at all over the run (a mistake worth a warning).
fn is_idle(shape: &Shape, duration: Duration) -> bool {
    let total = duration.as_secs_f64();
    (0..=100).all(|i| shape.rate_at(total * f64::from(i) / 100.0, total) <= 0.0)
}
