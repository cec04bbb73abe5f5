//! `promlet autoscale backtest`: what the HPA would have done over stored history, as a
//! replica timeline (a table of the changes, or JSON of every step) and a graph image.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use autoscale::{MetricSpec, MetricStatus, Target};
use exporter::k8s::format::{format_milli, rfc3339_seconds};
use serde_json::json;

use super::config::{Autoscaler, Config};
use super::simulate::{Step, replay};
use super::{observe, output};
use crate::commands::query::Evaluator;

/// One autoscaler's replayed steps.
pub(crate) struct Timeline<'a> {
    /// The autoscaler.
    pub(crate) autoscaler: &'a Autoscaler,
    /// Every step.
    pub(crate) steps: Vec<Step>,
}

/// Replays `[start_ms, end_ms]` for every autoscaler of `config`.
///
/// # Errors
/// A query that fails.
pub(crate) fn run<'a>(
    eval: &Evaluator,
    config: &'a Config,
    start_ms: i64,
    end_ms: i64,
    options: autoscale::Options,
) -> Result<Vec<Timeline<'a>>> {
    config
        .autoscalers
        .iter()
        .map(|a| {
            let obs = observe::range(eval, a, start_ms, end_ms, config.interval_ms)?;
            Ok(Timeline {
                autoscaler: a,
                steps: replay(a, &obs, options),
            })
        })
        .collect()
}

/// The table: a row per change of replicas (and the first and last step), then a summary.
pub(crate) fn table(timelines: &[Timeline<'_>]) -> String {
    let mut out = String::new();
    for tl in timelines {
        let a = tl.autoscaler;
        let _ = writeln!(out, "autoscaler {}/{}", a.namespace, a.name);
        let header = ["TIME", "REPLICAS", "DESIRED", "REASON", "METRICS"].map(String::from);
        let rows: Vec<Vec<String>> = std::iter::once(header.to_vec())
            .chain(
                tl.steps
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| {
                        *i == 0
                            || *i + 1 == tl.steps.len()
                            || s.decision.desired_replicas != s.current
                    })
                    .map(|(_, s)| {
                        vec![
                            rfc3339_seconds(s.t_ms),
                            s.current.to_string(),
                            s.decision.desired_replicas.to_string(),
                            s.decision.reason.to_string(),
                            metrics_text(&s.decision.metrics, &s.decision.errors),
                        ]
                    }),
            )
            .collect();
        out.push_str(&super::super::top_table::render(&rows));
        out.push_str(&summary(tl));
        out.push('\n');
    }
    out
}

/// `scale-ups 3, scale-downs 1, replicas 2..8, average 5.25 over 160 steps`.
fn summary(tl: &Timeline<'_>) -> String {
    let ups = tl
        .steps
        .iter()
        .filter(|s| s.decision.desired_replicas > s.current)
        .count();
    let downs = tl
        .steps
        .iter()
        .filter(|s| s.decision.desired_replicas < s.current)
        .count();
    let replicas: Vec<i32> = tl
        .steps
        .iter()
        .map(|s| s.decision.desired_replicas)
        .collect();
    let (min, max) = (
        replicas.iter().min().copied().unwrap_or(0),
        replicas.iter().max().copied().unwrap_or(0),
    );
    let avg = if replicas.is_empty() {
        0.0
    } else {
        replicas.iter().map(|r| f64::from(*r)).sum::<f64>() / replicas.len() as f64
    };
    format!(
        "scale-ups {ups}, scale-downs {downs}, replicas {min}..{max}, average {avg:.2} over {} steps\n",
        tl.steps.len()
    )
}

/// `cpu 63%/60%, queue_depth 120/30 (avg)`, or the errors.
pub(crate) fn metrics_text(metrics: &[MetricStatus], errors: &[String]) -> String {
    let mut parts: Vec<String> = metrics.iter().map(metric_text).collect();
    parts.extend(errors.iter().map(|e| format!("error: {e}")));
    if parts.is_empty() {
        return "-".into();
    }
    parts.join(", ")
}

fn metric_text(m: &MetricStatus) -> String {
    let (name, target) = match &m.spec {
        MetricSpec::Resource { name, target } => (name.clone(), target),
        MetricSpec::ContainerResource {
            name,
            container,
            target,
        } => (format!("{container}/{name}"), target),
        MetricSpec::Pods { metric, target }
        | MetricSpec::Object { metric, target, .. }
        | MetricSpec::External { metric, target } => (metric.clone(), target),
    };
    let current = match (target, m.average_utilization, m.average_value, m.value) {
        (Target::Utilization(_), Some(u), _, _) => format!("{u}%"),
        (_, _, Some(v), _) | (_, _, None, Some(v)) => format_milli(v),
        _ => "?".into(),
    };
    let target = match target {
        Target::Utilization(u) => format!("{u}%"),
        Target::AverageValue(v) => format!("{} (avg)", format_milli(*v)),
        Target::Value(v) => format_milli(*v),
    };
    format!("{name} {current}/{target}")
}

/// Every step as JSON: `[{autoscaler, steps: [{time, currentReplicas, desiredReplicas,
/// reason, metrics, errors}]}]`.
pub(crate) fn json(timelines: &[Timeline<'_>]) -> serde_json::Value {
    timelines
        .iter()
        .map(|tl| {
            let steps: Vec<_> = tl
                .steps
                .iter()
                .map(|s| {
                    json!({
                        "time": rfc3339_seconds(s.t_ms),
                        "currentReplicas": s.current,
                        "desiredReplicas": s.decision.desired_replicas,
                        "reason": s.decision.reason,
                        "metrics": s.decision.metrics.iter().map(output::metric_status).collect::<Vec<_>>(),
                        "errors": s.decision.errors,
                    })
                })
                .collect();
            json!({
                "autoscaler": tl.autoscaler.name,
                "namespace": tl.autoscaler.namespace,
                "steps": steps,
            })
        })
        .collect()
}

/// The graph image of every timeline: replicas over time, the recommendation of each step,
/// and the maximum replicas.
///
/// # Errors
/// Drawing fails.
pub(crate) fn graph(timelines: &[Timeline<'_>], path: &std::path::Path) -> Result<()> {
    let mut series = Vec::new();
    for tl in timelines {
        let a = tl.autoscaler;
        let points = |f: &dyn Fn(&Step) -> i32| -> Vec<(i64, f64)> {
            tl.steps.iter().map(|s| (s.t_ms, f64::from(f(s)))).collect()
        };
        series.push(exporter::graph::Series {
            name: format!("{} replicas", a.name),
            points: points(&|s| s.decision.desired_replicas),
            step: true,
        });
        // What the metrics alone asked for at each step (the recommendation recorded then),
        // before stabilization and rate limits: the gap to the replicas is what they did.
        series.push(exporter::graph::Series {
            name: format!("{} recommendation", a.name),
            points: tl
                .steps
                .iter()
                .map(|s| {
                    let rec = s
                        .decision
                        .history
                        .recommendations
                        .iter()
                        .rfind(|r| r.time_ms == s.t_ms)
                        .map_or(f64::NAN, |r| f64::from(r.replicas));
                    (s.t_ms, rec)
                })
                .collect(),
            step: true,
        });
        series.push(exporter::graph::Series {
            name: format!("{} max", a.name),
            points: points(&|_| a.spec.max_replicas),
            step: true,
        });
    }
    let format = exporter::graph::Format::from_path(path).map_err(anyhow::Error::msg)?;
    let chart = exporter::graph::Chart {
        title: "promlet autoscale backtest".into(),
        y_unit: exporter::graph::Unit::Plain,
        series,
        width: 1000,
        height: 500,
    };
    let bytes = exporter::graph::render(&chart, format).map_err(anyhow::Error::msg)?;
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
