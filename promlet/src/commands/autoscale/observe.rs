//! What an autoscaler's metrics read from promlet's series, at one time or at every step of
//! a range, through PromQL (a server's API or a data directory):
//!
//! - resource usage per pod and container, as metrics.k8s.io computes it: CPU as the rate
//!   between the last two samples (`irate`), memory as the working set;
//! - Pods metrics: the configured expression's value per `pod` label;
//! - Object metrics: the expression's first value; External metrics: every value.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use autoscale::{MetricSpec, Metrics, PodUsage};
use exporter::api::time::ApiTime;
use query::engine::Value;

use super::config::Autoscaler;
use crate::commands::query::Evaluator;

/// The window metrics.k8s.io reports for a CPU rate here, ms (the scrape interval is not
/// known per series; 30 s is a typical kubelet housekeeping window).
const USAGE_WINDOW_MS: i64 = 30_000;

/// One time's values.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Observation {
    /// When, ms.
    pub(crate) t_ms: i64,
    /// The values, keyed as the algorithm reads them.
    pub(crate) metrics: Metrics,
}

/// The PromQL of one thing to read, and how its series map into [`Metrics`].
#[derive(Debug, Clone)]
enum Read {
    /// Per pod and container usage of a resource (`cpu` cores or `memory` bytes).
    Resource { resource: String, expr: String },
    /// A Pods metric: value per `pod` label.
    Pods { metric: String, expr: String },
    /// An Object metric: one value.
    Object { metric: String, expr: String },
    /// An External metric: every value.
    External { metric: String, expr: String },
}

/// What `a` needs read, one query each.
fn reads(a: &Autoscaler) -> Vec<Read> {
    let mut out: Vec<Read> = Vec::new();
    let matchers = format!(
        "namespace=\"{}\",pod=~\"{}\",container!=\"\",container!=\"POD\"",
        a.namespace.replace('\\', "\\\\").replace('"', "\\\""),
        a.pod_name_pattern
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    );
    for m in &a.spec.metrics {
        let query = |metric: &String| a.queries.get(metric).cloned().unwrap_or_default();
        let read = match m {
            MetricSpec::Resource { name, .. } | MetricSpec::ContainerResource { name, .. } => {
                let expr = match name.as_str() {
                    "cpu" => format!(
                        "sum by (pod, container) (irate(container_cpu_usage_seconds_total{{{matchers}}}[5m]))"
                    ),
                    "memory" => format!(
                        "sum by (pod, container) (container_memory_working_set_bytes{{{matchers}}})"
                    ),
                    _ => continue,
                };
                Read::Resource {
                    resource: name.clone(),
                    expr,
                }
            }
            MetricSpec::Pods { metric, .. } => Read::Pods {
                metric: metric.clone(),
                expr: query(metric),
            },
            MetricSpec::Object { metric, .. } => Read::Object {
                metric: metric.clone(),
                expr: query(metric),
            },
            MetricSpec::External { metric, .. } => Read::External {
                metric: metric.clone(),
                expr: query(metric),
            },
        };
        let dup = out.iter().any(|r| match (r, &read) {
            (Read::Resource { resource: x, .. }, Read::Resource { resource: y, .. }) => x == y,
            _ => false,
        });
        if !dup {
            out.push(read);
        }
    }
    out
}

/// `v` (cores, bytes, or a metric's unit) in milli-units, rounded up as `MilliValue()` does.
fn to_milli(v: f64) -> Option<i64> {
    let m = (v * 1000.0).ceil();
    (m.is_finite() && m.abs() < 9.2e18).then_some(m as i64)
}

/// One series' labels and value, for [`apply`].
struct Point<'a> {
    labels: &'a model::Labels,
    v: f64,
}

/// Adds the series of one read at one time to `m`.
fn apply(read: &Read, points: &[Point<'_>], t_ms: i64, m: &mut Metrics) {
    match read {
        Read::Resource { resource, .. } => {
            for p in points {
                let (Some(pod), Some(milli)) = (p.labels.get("pod"), to_milli(p.v)) else {
                    continue;
                };
                let container = p.labels.get("container").unwrap_or("").to_string();
                let usage = m.resource.entry(pod.to_string()).or_insert(PodUsage {
                    timestamp_ms: t_ms,
                    window_ms: USAGE_WINDOW_MS,
                    containers: BTreeMap::new(),
                });
                usage
                    .containers
                    .entry(container)
                    .or_default()
                    .insert(resource.clone(), milli);
            }
        }
        Read::Pods { metric, .. } => {
            let per_pod = m.pods.entry(metric.clone()).or_default();
            for p in points {
                if let (Some(pod), Some(milli)) = (p.labels.get("pod"), to_milli(p.v)) {
                    per_pod.insert(pod.to_string(), milli);
                }
            }
        }
        Read::Object { metric, .. } => {
            if let Some(milli) = points.first().and_then(|p| to_milli(p.v)) {
                m.objects.insert(metric.clone(), milli);
            }
        }
        Read::External { metric, .. } => {
            let values: Vec<i64> = points.iter().filter_map(|p| to_milli(p.v)).collect();
            if !values.is_empty() {
                m.external.insert(metric.clone(), values);
            }
        }
    }
}

fn expr_of(read: &Read) -> &str {
    match read {
        Read::Resource { expr, .. }
        | Read::Pods { expr, .. }
        | Read::Object { expr, .. }
        | Read::External { expr, .. } => expr,
    }
}

/// `a`'s values at `t_ms`.
///
/// # Errors
/// A query that fails (naming it) or answers something other than a vector or scalar.
pub(crate) fn at(eval: &Evaluator, a: &Autoscaler, t_ms: i64) -> Result<Observation> {
    let mut obs = Observation {
        t_ms,
        metrics: Metrics::default(),
    };
    let no_labels = model::Labels::default();
    for read in reads(a) {
        let expr = expr_of(&read);
        let answer = eval
            .instant(expr, ApiTime::from_millis(t_ms))
            .with_context(|| format!("autoscaler {}: evaluating {expr}", a.name))?;
        let points: Vec<Point<'_>> = match &answer.value {
            Value::Vector(samples) => samples
                .iter()
                .map(|s| Point {
                    labels: &s.metric,
                    v: s.v,
                })
                .collect(),
            Value::Scalar { v, .. } => vec![Point {
                labels: &no_labels,
                v: *v,
            }],
            other => bail!(
                "autoscaler {}: {expr} gives a {}, not a vector",
                a.name,
                other.type_name()
            ),
        };
        apply(&read, &points, t_ms, &mut obs.metrics);
    }
    Ok(obs)
}

/// `a`'s values at every step from `start_ms` to `end_ms` (inclusive), one range query per
/// metric.
///
/// # Errors
/// As [`at`].
pub(crate) fn range(
    eval: &Evaluator,
    a: &Autoscaler,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
) -> Result<Vec<Observation>> {
    let steps = ((end_ms - start_ms) / step_ms).max(0) + 1;
    let mut out: Vec<Observation> = (0..steps)
        .map(|i| Observation {
            t_ms: start_ms + i * step_ms,
            metrics: Metrics::default(),
        })
        .collect();
    let index: BTreeMap<i64, usize> = out.iter().enumerate().map(|(i, o)| (o.t_ms, i)).collect();
    for read in reads(a) {
        let expr = expr_of(&read);
        let answer = eval
            .range(
                expr,
                ApiTime::from_millis(start_ms),
                ApiTime::from_millis(end_ms),
                step_ms * 1_000_000,
            )
            .with_context(|| format!("autoscaler {}: evaluating {expr}", a.name))?;
        let Value::Matrix(series) = &answer.value else {
            bail!("autoscaler {}: {expr} is not a range query result", a.name);
        };
        let mut by_step: BTreeMap<usize, Vec<Point<'_>>> = BTreeMap::new();
        for s in series {
            for p in &s.points {
                if let Some(i) = index.get(&p.t) {
                    by_step.entry(*i).or_default().push(Point {
                        labels: &s.metric,
                        v: p.v,
                    });
                }
            }
        }
        for (i, points) in by_step {
            let t = out[i].t_ms;
            apply(&read, &points, t, &mut out[i].metrics);
        }
    }
    Ok(out)
}
