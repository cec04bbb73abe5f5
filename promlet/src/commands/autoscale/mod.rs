//! `promlet autoscale`: HPA decisions from a state file (`decide`), from promlet's own data in
//! a loop (`run`), and over stored history (`backtest`). The algorithm is the `autoscale`
//! crate's; this module reads Kubernetes objects and promlet's data into its input.

mod backtest;
mod config;
mod observe;
mod output;
mod run;
mod simulate;
mod spec;
mod state;
mod target;

use anyhow::{Context, Result};

use super::query::Evaluator;
use crate::args::{
    AutoscaleArgs, AutoscaleBacktestArgs, AutoscaleCommand, AutoscaleRunArgs, AutoscaleSource,
    EngineArgs, OutputFormat, SourceArgs,
};

pub(crate) fn run(args: AutoscaleArgs) -> Result<()> {
    match args.command {
        AutoscaleCommand::Decide { input } => decide(&input),
        AutoscaleCommand::Run(a) => run_loop(a),
        AutoscaleCommand::Backtest(a) => backtest(&a),
    }
}

/// Reads an autoscaler configuration file.
fn load_config(path: &std::path::Path) -> Result<config::Config> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    config::load(&text)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}: not a valid autoscaler configuration", path.display()))
}

/// Runs the autoscalers of `path` inside `promlet serve`, on its own storage; returns what
/// `/api/v1/autoscale` shows.
///
/// # Errors
/// The configuration cannot be read or is invalid.
pub(crate) fn start_in_server(
    path: &std::path::Path,
    db: std::sync::Arc<tsdb::Db>,
    engine: query::Engine,
) -> Result<std::sync::Arc<dyn Fn() -> serde_json::Value + Send + Sync>> {
    let config = load_config(path)?;
    let published = run::spawn(Evaluator::Shared(db, engine), config);
    Ok(std::sync::Arc::new(move || {
        published.lock().unwrap_or_else(|e| e.into_inner()).list()
    }))
}

/// The configuration and the evaluator `source` names.
fn open(source: &AutoscaleSource) -> Result<(config::Config, Evaluator)> {
    let config = load_config(&source.config)?;
    let eval = Evaluator::open(&SourceArgs {
        server: source.server.clone(),
        data: source.data.clone(),
        format: OutputFormat::Table,
        engine: EngineArgs::default(),
    })?;
    Ok((config, eval))
}

fn run_loop(args: AutoscaleRunArgs) -> Result<()> {
    let (config, eval) = open(&args.source)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(run::run(eval, config, args.listen, args.apply, args.once))
}

fn backtest(args: &AutoscaleBacktestArgs) -> Result<()> {
    let (config, eval) = open(&args.source)?;
    let now = model::now_ms();
    let time = |t: &str, flag: &str| state::time_ms(t, flag).map_err(anyhow::Error::msg);
    let end = args.end.as_deref().map_or(Ok(now), |t| time(t, "--end"))?;
    let start = match &args.start {
        Some(t) => time(t, "--start")?,
        None => end - args.since.as_millis(),
    };
    anyhow::ensure!(start < end, "--start must be before --end");
    let timelines = backtest::run(&eval, &config, start, end, autoscale::Options::default())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&backtest::json(&timelines))?
        );
    } else {
        print!("{}", backtest::table(&timelines));
    }
    if let Some(path) = &args.output {
        backtest::graph(&timelines, path)?;
    }
    Ok(())
}

/// Prints the decision for the state in `path`.
fn decide(path: &std::path::Path) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let state = state::parse(&text)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}: not a valid state file", path.display()))?;
    let input = state
        .input(model::now_ms())
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", path.display()))?;
    let decision = autoscale::decide(&input);
    let json = output::decision_json(&decision, input.current_replicas);
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}
