//! Classic (bucket-series) histograms: `histogram_quantile` and `histogram_fraction`.
//!
//! Native histograms are not stored by promlet; their functions see only floats and
//! produce nothing from them.

use std::collections::HashMap;

use model::Labels;

use super::eval::{Ctx, EResult, OutSample, SSeries, StepSample, Steps};
use crate::parser::ast::Pos;

/// Relative tolerance under which adjacent bucket counts count as equal.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// One bucket: upper bound and cumulative count.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    upper: f64,
    count: f64,
}

/// What is computed over each group of buckets.
#[derive(Debug, Clone)]
pub(super) enum BucketOp {
    /// `histogram_quantile(φ, ...)`.
    Quantile,
    /// `histogram_fraction(lower, upper, ...)`.
    Fraction,
    /// `histogram_quantiles(..., "label", φ...)`: one series per φ, labelled with it.
    Quantiles(String),
}

/// Evaluates `histogram_quantile(q, v)` or `histogram_fraction(lo, hi, v)` over classic
/// buckets: the `le` series of each label set (without `le`) form one histogram per step.
pub(super) fn eval(
    ctx: &Ctx<'_>,
    steps: &Steps,
    op: BucketOp,
    scalars: &[Vec<f64>],
    input: &[SSeries],
    pos: Pos,
) -> EResult<Vec<SSeries>> {
    // Group each input series once: key = labels without `le`.
    let mut keys: Vec<Option<usize>> = Vec::with_capacity(input.len());
    let mut groups: Vec<Labels> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut bounds: Vec<f64> = Vec::with_capacity(input.len());
    for s in input {
        let le = s.metric.get("le").unwrap_or("");
        match parse_go_float(le) {
            Some(b) => {
                let key = s.metric.filtered(|l| &*l.name != "le");
                let next = groups.len();
                let g = *index.entry(key.clone()).or_insert(next);
                if g == next {
                    groups.push(key);
                }
                keys.push(Some(g));
                bounds.push(b);
            }
            None => {
                keys.push(None);
                bounds.push(f64::NAN);
                let name = if ctx.opts.delayed_name_removal {
                    s.metric.metric_name().unwrap_or("")
                } else {
                    ""
                };
                ctx.warn(bad_bucket_label(name, le), pos);
            }
        }
    }
    let mut per_group: Vec<Vec<Bucket>> = vec![Vec::new(); groups.len()];
    ctx.step_wise(steps, &[input], |step, inputs: &[Vec<StepSample>]| {
        per_group.iter_mut().for_each(Vec::clear);
        for &(i, v) in &inputs[0] {
            if let Some(g) = keys[i] {
                per_group[g].push(Bucket {
                    upper: bounds[i],
                    count: v,
                });
            }
        }
        let arg = |k: usize| scalars.get(k).and_then(|a| a.get(step)).copied();
        let mut out = Vec::new();
        for (g, buckets) in per_group.iter_mut().enumerate() {
            if buckets.is_empty() {
                continue;
            }
            let mut metric = groups[g].clone();
            if !ctx.opts.delayed_name_removal {
                metric = super::eval::without_metric_name(&metric);
            }
            let mut emit = |metric: Labels, v: f64| {
                out.push(OutSample {
                    metric,
                    drop_name: true,
                    v,
                })
            };
            match &op {
                BucketOp::Quantile => {
                    let q = arg(0).unwrap_or(f64::NAN);
                    let (v, forced) = bucket_quantile(q, buckets);
                    if forced {
                        ctx.info(forced_monotonicity(ctx, &groups[g]), pos);
                    }
                    emit(metric, v);
                }
                BucketOp::Fraction => emit(
                    metric,
                    bucket_fraction(
                        arg(0).unwrap_or(f64::NAN),
                        arg(1).unwrap_or(f64::NAN),
                        buckets,
                    ),
                ),
                BucketOp::Quantiles(label) => {
                    for k in 0..scalars.len() {
                        let q = arg(k).unwrap_or(f64::NAN);
                        let (v, forced) = bucket_quantile(q, &mut buckets.clone());
                        if forced {
                            ctx.info(forced_monotonicity(ctx, &groups[g]), pos);
                        }
                        let named =
                            super::functions::set_label(&metric, label, &format_om_float(q));
                        emit(named, v);
                    }
                }
            }
        }
        Ok(out)
    })
}

/// The info Prometheus gives when buckets had to be made monotonic.
fn forced_monotonicity(ctx: &Ctx<'_>, group: &Labels) -> String {
    let base = "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)";
    match group.metric_name() {
        Some(n) if ctx.opts.delayed_name_removal => format!("{base} for metric name \"{n}\""),
        _ => base.to_string(),
    }
}

/// The warning for an `le` label that is missing or not a number.
fn bad_bucket_label(name: &str, le: &str) -> String {
    let base = format!("bucket label \"le\" is missing or has a malformed value of \"{le}\"");
    if name.is_empty() {
        base
    } else {
        format!("{base} for metric name \"{name}\"")
    }
}

/// Parses an `le` value as Go's `strconv.ParseFloat` does (decimal, exponent, `Inf`, `NaN`).
pub(super) fn parse_go_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// Sorts by upper bound and merges buckets with equal bounds.
fn sort_and_coalesce(buckets: &mut Vec<Bucket>) {
    buckets.sort_by(|a, b| {
        a.upper
            .partial_cmp(&b.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
}

/// The φ-quantile from cumulative buckets, interpolating linearly inside the bucket; the
/// flag says whether non-monotonic counts had to be fixed.
fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    buckets.sort_by(|a, b| {
        a.upper
            .partial_cmp(&b.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return (f64::NAN, false);
    }
    sort_and_coalesce(buckets);
    let forced = ensure_monotonic(buckets);
    if buckets.len() < 2 {
        return (f64::NAN, forced);
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return (f64::NAN, forced);
    }
    let mut rank = q * observations;
    let n = buckets.len();
    let b = buckets[..n - 1]
        .iter()
        .position(|x| x.count >= rank)
        .unwrap_or(n - 1);
    let v = if b == n - 1 {
        buckets[n - 2].upper
    } else if b == 0 && buckets[0].upper <= 0.0 {
        buckets[0].upper
    } else {
        let mut start = 0.0;
        let end = buckets[b].upper;
        let mut count = buckets[b].count;
        if b > 0 {
            start = buckets[b - 1].upper;
            count -= buckets[b - 1].count;
            rank -= buckets[b - 1].count;
        }
        start + (end - start) * (rank / count)
    };
    (v, forced)
}

/// Makes counts non-decreasing; nearly equal counts are made equal. True when a decrease
/// (beyond the tolerance) was fixed.
fn ensure_monotonic(buckets: &mut [Bucket]) -> bool {
    let mut forced = false;
    let mut prev = buckets[0].count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if crate::gofmt::almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            b.count = prev;
            continue;
        }
        if curr < prev {
            b.count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    forced
}

/// The fraction of observations between `lower` and `upper`, interpolating linearly.
fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    buckets.sort_by(|a, b| {
        a.upper
            .partial_cmp(&b.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return f64::NAN;
    }
    sort_and_coalesce(buckets);
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if buckets[0].upper <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, b) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].upper;
        }
        let upper_bound = b.upper;
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                b.count
            } else {
                rank + (b.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

/// The warning for a quantile outside `[0, 1]`.
pub(super) fn invalid_quantile(q: f64) -> String {
    format!(
        "quantile value should be between 0 and 1, got {}",
        crate::gofmt::format_g(q)
    )
}

/// A float as OpenMetrics writes label values (`0.0`, `0.25`, `1.0`, `+Inf`, `NaN`).
fn format_om_float(q: f64) -> String {
    let s = crate::gofmt::format_g(q);
    if q.is_finite() && !s.contains(['.', 'e']) {
        format!("{s}.0")
    } else {
        s
    }
}
