//! `promlet graph EXPR -o FILE.png|FILE.svg`: a range query drawn as the server's
//! `/api/v1/render` draws it, evaluated against a server or a data directory.

use anyhow::{Context, Result, anyhow};
use exporter::api::time::parse_duration;
use exporter::graph::{self, Format};

use super::query::{Evaluator, default_step_ns, now_ms, resolve_time};
use crate::args::{EngineArgs, GraphArgs, OutputFormat, SourceArgs};

pub(crate) fn run(args: &GraphArgs) -> Result<()> {
    let format = Format::from_path(&args.output).map_err(anyhow::Error::msg)?;
    let now = now_ms();
    let start = resolve_time(&args.start, now).context("--start")?;
    let end = resolve_time(&args.end, now).context("--end")?;
    anyhow::ensure!(start.nanos() < end.nanos(), "--start must be before --end");
    let step_ns = match &args.step {
        Some(s) => parse_duration(s).map_err(|e| anyhow!("--step: {e}"))?,
        None => default_step_ns(start, end),
    };
    let eval = Evaluator::open(&SourceArgs {
        server: args.server.clone(),
        data: args.data.clone(),
        format: OutputFormat::Table,
        engine: EngineArgs::default(),
    })?;
    let answer = eval.range(&args.expr, start, end, step_ns)?;
    for w in &answer.warnings {
        eprintln!("warning: {w}");
    }
    let title = args.title.clone().unwrap_or_else(|| args.expr.clone());
    let step_ms = exporter::api::step_millis(step_ns);
    let mut chart = graph::chart_of(&answer.value, &args.expr, step_ms, &title);
    chart.width = args.width;
    chart.height = args.height;
    let bytes = graph::render(&chart, format).map_err(anyhow::Error::msg)?;
    std::fs::write(&args.output, bytes)
        .with_context(|| format!("writing {}", args.output.display()))
}
