//! Aggregation operators: `sum`, `avg`, `topk`, `quantile`, `count_values`, ...
//!
//! Each input series is assigned to its group once; then every step folds the samples of
//! that step into their groups.

use std::collections::HashMap;

use model::{Label, Labels};

use super::eval::{Ctx, EResult, SSeries, Steps, Val};
use super::functions::{scalar_arg, vector_arg};
use super::histogram::invalid_quantile;
use super::range_funcs::{kahan_inc, quantile};
use super::value::{Point, QueryError};
use crate::parser::ast::{AggregateOp, Expr, Pos};

/// An aggregation as written.
pub(super) struct AggSpec<'e> {
    /// The operator.
    pub(super) op: AggregateOp,
    /// The aggregated expression.
    pub(super) expr: &'e Expr,
    /// The parameter (`k`, `φ`, label name), if the operator takes one.
    pub(super) param: Option<&'e Expr>,
    /// `by`/`without` labels.
    pub(super) grouping: &'e [String],
    /// `without` rather than `by`.
    pub(super) without: bool,
    /// Where the parameter starts, for annotations.
    pub(super) param_pos: Pos,
}

/// Evaluates an aggregation.
pub(super) fn eval(ctx: &Ctx<'_>, steps: &Steps, spec: &AggSpec<'_>) -> EResult<Val> {
    use AggregateOp::*;
    if spec.op == CountValues {
        return count_values(ctx, steps, spec);
    }
    let param = match spec.param {
        Some(p) if spec.op != CountValues => Some(scalar_arg(ctx, steps, p)?),
        _ => None,
    };
    let input = vector_arg(ctx, steps, spec.expr)?;
    match spec.op {
        Topk | Bottomk | Limitk | LimitRatio => {
            let param = param.unwrap_or_default();
            check_k_param(ctx, spec.op, &param, spec.param_pos)?;
            select_k(ctx, steps, spec, &input, &param).map(Val::Vector)
        }
        _ => {
            if spec.op == Quantile
                && let Some(q) = &param
            {
                quantile_warnings(ctx, q, spec.param_pos);
            }
            fold(ctx, steps, spec, &input, param.as_deref()).map(Val::Vector)
        }
    }
}

/// Group keys and output labels of every input series.
struct Grouping {
    /// Group index of each input series.
    of_series: Vec<usize>,
    /// Output labels of each group.
    labels: Vec<Labels>,
}

/// Assigns each series to its group, in order of first appearance.
fn group_series(series: &[SSeries], names: &[String], without: bool) -> Grouping {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut of_series = Vec::with_capacity(series.len());
    let mut labels = Vec::new();
    for s in series {
        let key = group_labels(&s.metric, names, without);
        let next = labels.len();
        let g = *index.entry(key.clone()).or_insert(next);
        if g == next {
            labels.push(key);
        }
        of_series.push(g);
    }
    Grouping { of_series, labels }
}

/// The labels a series keeps in its group: only `names` (`by`), or all but `names` and
/// `__name__` (`without`).
pub(super) fn group_labels(l: &Labels, names: &[String], without: bool) -> Labels {
    if without {
        l.filtered(|x| &*x.name != "__name__" && !names.iter().any(|n| *n == *x.name))
    } else {
        l.filtered(|x| names.iter().any(|n| *n == *x.name))
    }
}

/// Running state of one group at one step.
#[derive(Debug, Clone, Default)]
struct Acc {
    seen: bool,
    value: f64,
    comp: f64,
    mean: f64,
    count: f64,
    incremental: bool,
    values: Vec<f64>,
}

/// Folding aggregations: sum, avg, count, min, max, group, stddev, stdvar, quantile.
fn fold(
    ctx: &Ctx<'_>,
    steps: &Steps,
    spec: &AggSpec<'_>,
    input: &[SSeries],
    param: Option<&[f64]>,
) -> EResult<Vec<SSeries>> {
    let grouping = group_series(input, spec.grouping, spec.without);
    let n_groups = grouping.labels.len();
    let mut out: Vec<SSeries> = grouping
        .labels
        .iter()
        .map(|l| SSeries {
            metric: l.clone(),
            drop_name: false,
            points: Vec::new(),
        })
        .collect();
    let mut accs = vec![Acc::default(); n_groups];
    let mut cursors = vec![0usize; input.len()];
    for step in 0..steps.len() {
        if step % 256 == 0 {
            ctx.check_deadline()?;
        }
        let ts = steps.ts(step);
        accs.iter_mut().for_each(|a| {
            a.seen = false;
            a.values.clear();
        });
        for (i, s) in input.iter().enumerate() {
            let c = &mut cursors[i];
            while *c < s.points.len() && s.points[*c].t < ts {
                *c += 1;
            }
            let Some(p) = s.points.get(*c).filter(|p| p.t == ts) else {
                continue;
            };
            let g = grouping.of_series[i];
            add(spec.op, &mut accs[g], p.v);
            if s.drop_name {
                out[g].drop_name = true;
            }
        }
        let q = param.and_then(|p| p.get(step)).copied().unwrap_or(f64::NAN);
        for (g, acc) in accs.iter_mut().enumerate() {
            if acc.seen {
                let v = finish(spec.op, acc, q);
                out[g].points.push(Point { t: ts, v });
            }
        }
    }
    out.retain(|s| !s.points.is_empty());
    Ok(out)
}

/// Adds one value to a group.
fn add(op: AggregateOp, a: &mut Acc, f: f64) {
    use AggregateOp::*;
    if !a.seen {
        *a = Acc {
            seen: true,
            value: f,
            comp: 0.0,
            mean: f,
            count: 1.0,
            incremental: false,
            values: std::mem::take(&mut a.values),
        };
        match op {
            Stddev | Stdvar => a.value = if f.is_finite() { 0.0 } else { f64::NAN },
            Quantile => a.values.push(f),
            Group => a.value = 1.0,
            _ => {}
        }
        return;
    }
    match op {
        Sum => (a.value, a.comp) = kahan_inc(f, a.value, a.comp),
        Avg => add_avg(a, f),
        Max if a.value < f || a.value.is_nan() => a.value = f,
        Min if a.value > f || a.value.is_nan() => a.value = f,
        Count => a.count += 1.0,
        Stddev | Stdvar => {
            a.count += 1.0;
            let delta = f - a.mean;
            a.mean += delta / a.count;
            a.value += delta * (f - a.mean);
        }
        Quantile => a.values.push(f),
        _ => {}
    }
}

/// `avg`: compensated direct mean, incremental once the sum would overflow.
fn add_avg(a: &mut Acc, f: f64) {
    a.count += 1.0;
    if !a.incremental {
        let (nv, nc) = kahan_inc(f, a.value, a.comp);
        if !nv.is_infinite() {
            (a.value, a.comp) = (nv, nc);
            return;
        }
        a.incremental = true;
        a.mean = a.value / (a.count - 1.0);
        a.comp /= a.count - 1.0;
    }
    let q = (a.count - 1.0) / a.count;
    (a.mean, a.comp) = kahan_inc(f / a.count, q * a.mean, q * a.comp);
}

/// The group's result.
fn finish(op: AggregateOp, a: &mut Acc, q: f64) -> f64 {
    use AggregateOp::*;
    match op {
        Sum => {
            if a.value.is_infinite() {
                a.value
            } else {
                a.value + a.comp
            }
        }
        Avg if a.incremental => a.mean + a.comp,
        Avg => a.value / a.count + a.comp / a.count,
        Count => a.count,
        Stdvar => a.value / a.count,
        Stddev => (a.value / a.count).sqrt(),
        Quantile => quantile(q, &mut a.values),
        _ => a.value,
    }
}

/// The warnings for quantile parameters outside `[0, 1]`.
fn quantile_warnings(ctx: &Ctx<'_>, q: &[f64], pos: Pos) {
    if q.iter().any(|x| x.is_nan()) {
        ctx.warn(invalid_quantile(f64::NAN), pos);
    }
    let max = q.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = q.iter().copied().fold(f64::INFINITY, f64::min);
    if max > 1.0 {
        ctx.warn(invalid_quantile(max), pos);
    }
    if min < 0.0 {
        ctx.warn(invalid_quantile(min), pos);
    }
}

/// Validates the parameter of `topk`, `bottomk`, `limitk` and `limit_ratio`.
fn check_k_param(ctx: &Ctx<'_>, op: AggregateOp, p: &[f64], pos: Pos) -> EResult<()> {
    let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = p.iter().copied().fold(f64::INFINITY, f64::min);
    let any_nan = p.iter().any(|x| x.is_nan());
    if op == AggregateOp::LimitRatio {
        if max == 0.0 && min == 0.0 {
            return Ok(());
        }
        if any_nan {
            return Err(QueryError::exec("Ratio value is NaN"));
        }
        if max > 1.0 {
            ctx.warn(
                format!(
                    "ratio value should be between -1 and 1, got {}, capping to 1",
                    crate::gofmt::format_g(max)
                ),
                pos,
            );
        }
        if min < -1.0 {
            ctx.warn(
                format!(
                    "ratio value should be between -1 and 1, got {}, capping to -1",
                    crate::gofmt::format_g(min)
                ),
                pos,
            );
        }
        return Ok(());
    }
    if max < 1.0 && !any_nan {
        return Ok(());
    }
    if any_nan {
        return Err(QueryError::exec("Parameter value is NaN"));
    }
    if min <= i64::MIN as f64 {
        return Err(QueryError::exec(format!(
            "Scalar value {} underflows int64",
            crate::gofmt::format_g(min)
        )));
    }
    if max >= i64::MAX as f64 {
        return Err(QueryError::exec(format!(
            "Scalar value {} overflows int64",
            crate::gofmt::format_g(max)
        )));
    }
    Ok(())
}

/// `topk`, `bottomk`, `limitk`, `limit_ratio`: select input series per group and step.
fn select_k(
    ctx: &Ctx<'_>,
    steps: &Steps,
    spec: &AggSpec<'_>,
    input: &[SSeries],
    param: &[f64],
) -> EResult<Vec<SSeries>> {
    let grouping = group_series(input, spec.grouping, spec.without);
    let mut heaps: Vec<Vec<(usize, f64)>> = vec![Vec::new(); grouping.labels.len()];
    let mut out: Vec<SSeries> = Vec::new();
    let mut out_of_series: Vec<Option<usize>> = vec![None; input.len()];
    let mut cursors = vec![0usize; input.len()];
    for step in 0..steps.len() {
        if step % 256 == 0 {
            ctx.check_deadline()?;
        }
        let ts = steps.ts(step);
        heaps.iter_mut().for_each(Vec::clear);
        let p = param.get(step).copied().unwrap_or(f64::NAN);
        let mut present = Vec::new();
        for (i, s) in input.iter().enumerate() {
            let c = &mut cursors[i];
            while *c < s.points.len() && s.points[*c].t < ts {
                *c += 1;
            }
            if let Some(pt) = s.points.get(*c).filter(|pt| pt.t == ts) {
                present.push((i, pt.v));
            }
        }
        choose(spec.op, p, &present, &grouping.of_series, &mut heaps);
        for heap in &heaps {
            for &(i, v) in heap {
                let point = Point { t: ts, v };
                match out_of_series[i] {
                    Some(o) if !steps.is_instant() => out[o].points.push(point),
                    _ => {
                        out_of_series[i] = Some(out.len());
                        out.push(SSeries {
                            metric: input[i].metric.clone(),
                            drop_name: input[i].drop_name,
                            points: vec![point],
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Fills each group's selection for one step, in output order.
fn choose(
    op: AggregateOp,
    p: f64,
    present: &[(usize, f64)],
    group_of: &[usize],
    heaps: &mut [Vec<(usize, f64)>],
) {
    use AggregateOp::*;
    if op == LimitRatio {
        if p == 0.0 {
            return;
        }
        let r = p.clamp(-1.0, 1.0);
        for &(i, v) in present {
            if ratio_keeps(r, i, present.len()) {
                heaps[group_of[i]].push((i, v));
            }
        }
        return;
    }
    let k = (p as i64).min(present.len() as i64);
    if k < 1 {
        return;
    }
    let k = usize::try_from(k).unwrap_or(usize::MAX);
    let less: fn(f64, f64) -> bool = match op {
        Bottomk => |a, b| a.is_nan() || a > b,
        _ => |a, b| a.is_nan() || a < b,
    };
    for &(i, v) in present {
        let heap = &mut heaps[group_of[i]];
        match op {
            Limitk => {
                if heap.len() < k {
                    heap.push((i, v));
                }
            }
            _ if heap.len() < k => {
                heap.push((i, v));
                let last = heap.len() - 1;
                heap_up(heap, last, less);
            }
            _ => {
                let top = heap[0].1;
                let replace = match op {
                    Topk => top < v || (top.is_nan() && !v.is_nan()),
                    _ => top > v || (top.is_nan() && !v.is_nan()),
                };
                if replace {
                    heap[0] = (i, v);
                    if k > 1 {
                        heap_down(heap, 0, less);
                    }
                }
            }
        }
    }
    if matches!(op, Topk | Bottomk) {
        for heap in heaps.iter_mut() {
            // Go's sort.Sort(sort.Reverse(heap)); insertion sort keeps small inputs' ties.
            for i in 1..heap.len() {
                let mut j = i;
                while j > 0 && less(heap[j - 1].1, heap[j].1) {
                    heap.swap(j, j - 1);
                    j -= 1;
                }
            }
        }
    }
}

/// Whether `limit_ratio(r, ...)` keeps series `i` of `n` (a deterministic spread by index).
fn ratio_keeps(r: f64, i: usize, n: usize) -> bool {
    let offset = (i as f64 + 0.5) / n.max(1) as f64;
    if r >= 0.0 {
        offset < r
    } else {
        offset >= 1.0 + r
    }
}

/// `container/heap`'s `up`.
fn heap_up(h: &mut [(usize, f64)], mut j: usize, less: fn(f64, f64) -> bool) {
    while j > 0 {
        let i = (j - 1) / 2;
        if !less(h[j].1, h[i].1) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

/// `container/heap`'s `down`.
fn heap_down(h: &mut [(usize, f64)], mut i: usize, less: fn(f64, f64) -> bool) {
    let n = h.len();
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        if j1 + 1 < n && less(h[j1 + 1].1, h[j1].1) {
            j = j1 + 1;
        }
        if !less(h[j].1, h[i].1) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
}

/// `count_values("label", v)`: how many series have each value.
fn count_values(ctx: &Ctx<'_>, steps: &Steps, spec: &AggSpec<'_>) -> EResult<Val> {
    let label = match spec.param {
        Some(Expr::StringLiteral(s)) => s.clone(),
        _ => return Err(QueryError::exec("count_values needs a string label name")),
    };
    if label.is_empty() {
        return Err(QueryError::exec(format!("invalid label name \"{label}\"")));
    }
    let input = vector_arg(ctx, steps, spec.expr)?;
    let mut grouping: Vec<String> = spec.grouping.to_vec();
    if !spec.without {
        grouping.push(label.clone());
    }
    ctx.step_wise(steps, &[&input], |_, inputs| {
        let mut counts: Vec<(Labels, f64)> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        for &(i, v) in &inputs[0] {
            let with_value = with_label(&input[i].metric, &label, &crate::gofmt::format_f(v));
            let key = group_labels(&with_value, &grouping, spec.without);
            match index.get(&key) {
                Some(&g) => counts[g].1 += 1.0,
                None => {
                    index.insert(key.clone(), counts.len());
                    counts.push((key, 1.0));
                }
            }
        }
        Ok(counts
            .into_iter()
            .map(|(metric, v)| super::eval::OutSample {
                metric,
                drop_name: false,
                v,
            })
            .collect())
    })
    .map(Val::Vector)
}

/// `l` with label `name` set to `value`.
fn with_label(l: &Labels, name: &str, value: &str) -> Labels {
    let mut v: Vec<Label> = l.iter().filter(|x| &*x.name != name).cloned().collect();
    v.push(Label::new(name, value));
    Labels::new(v).unwrap_or_else(|_| l.clone())
}
