//! Function calls: dispatch, element-wise math, label functions, sorting, `absent`, time.

use std::cmp::Ordering;

use model::{Label, Labels, MatchOp};
use regex::Regex;

use super::eval::{Ctx, EResult, SSeries, Steps, Val, merge_same_labels};
use super::histogram::{self, BucketOp};
use super::range_funcs;
use super::selector::{self, RangeData};
use super::value::{Point, QueryError};
use crate::parser::ast::{Expr, Extended, Pos, ValueType};
use crate::signatures::Function;

/// Evaluates `func(args)`.
pub(super) fn call(
    ctx: &Ctx<'_>,
    steps: &Steps,
    func: &'static Function,
    args: &[Expr],
    pos: Pos,
    arg_pos: &[Pos],
) -> EResult<Val> {
    let name = func.name;
    let at = |i: usize| arg_pos.get(i).copied().unwrap_or(pos);
    if let Some(f) = range_funcs::lookup(name) {
        return range_call(ctx, steps, name, f, args, arg_pos);
    }
    match name {
        "time" => Ok(Val::Scalar(
            (0..steps.len())
                .map(|i| steps.ts(i) as f64 / 1000.0)
                .collect(),
        )),
        "pi" => Ok(Val::Scalar(vec![std::f64::consts::PI; steps.len()])),
        "step" | "range" | "start" | "end" => {
            let secs = ctx.query_value(name) as f64 / 1000.0;
            Ok(Val::Scalar(vec![secs; steps.len()]))
        }
        "min_of" | "max_of" => {
            let a = scalar_arg(ctx, steps, &args[0])?;
            let b = scalar_arg(ctx, steps, &args[1])?;
            let f = if name == "min_of" { go_min } else { go_max };
            Ok(Val::Scalar(
                a.iter().zip(&b).map(|(&x, &y)| f(x, y)).collect(),
            ))
        }
        "vector" => {
            let v = scalar_arg(ctx, steps, &args[0])?;
            Ok(Val::Vector(vec![SSeries {
                metric: Labels::empty(),
                drop_name: false,
                points: v
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| Point { t: steps.ts(i), v })
                    .collect(),
            }]))
        }
        "scalar" => scalar_of(ctx, steps, &args[0]),
        "absent" => absent(ctx, steps, &args[0]),
        "label_replace" => label_replace(ctx, steps, args),
        "label_join" => label_join(ctx, steps, args),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            sort(ctx, steps, name, args, pos)
        }
        "histogram_quantile" => {
            let q = scalar_arg(ctx, steps, &args[0])?;
            if let Some(&bad) = q.iter().find(|q| q.is_nan() || **q < 0.0 || **q > 1.0) {
                ctx.warn(histogram::invalid_quantile(bad), at(0));
            }
            let input = vector_arg(ctx, steps, &args[1])?;
            histogram::eval(ctx, steps, BucketOp::Quantile, &[q], &input, at(1)).map(Val::Vector)
        }
        "histogram_fraction" => {
            let lo = scalar_arg(ctx, steps, &args[0])?;
            let hi = scalar_arg(ctx, steps, &args[1])?;
            let input = vector_arg(ctx, steps, &args[2])?;
            histogram::eval(ctx, steps, BucketOp::Fraction, &[lo, hi], &input, at(2))
                .map(Val::Vector)
        }
        "timestamp" => timestamp(ctx, steps, &args[0]),
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour" | "minute"
        | "month" | "year" => date_function(ctx, steps, name, args),
        "histogram_quantiles" => {
            let label = string_arg(&args[1])?.to_string();
            let mut qs = Vec::new();
            for (i, a) in args.iter().enumerate().skip(2) {
                let q = scalar_arg(ctx, steps, a)?;
                if let Some(&bad) = q.iter().find(|q| q.is_nan() || **q < 0.0 || **q > 1.0) {
                    ctx.warn(histogram::invalid_quantile(bad), at(i));
                }
                qs.push(q);
            }
            let input = vector_arg(ctx, steps, &args[0])?;
            histogram::eval(ctx, steps, BucketOp::Quantiles(label), &qs, &input, at(0))
                .map(Val::Vector)
        }
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" | "start_timestamp" => {
            // Native histograms and start timestamps are not stored: nothing to report.
            for a in args {
                ctx.eval(steps, a)?;
            }
            Ok(Val::Vector(Vec::new()))
        }
        "info" => super::info::eval(ctx, steps, args),
        _ => elementwise(ctx, steps, name, args),
    }
}

/// Evaluates an argument that must be a scalar: one value per step.
pub(super) fn scalar_arg(ctx: &Ctx<'_>, steps: &Steps, e: &Expr) -> EResult<Vec<f64>> {
    match ctx.eval(steps, e)? {
        Val::Scalar(v) => Ok(v),
        _ => Err(QueryError::exec("expected a scalar argument")),
    }
}

/// Evaluates an argument that must be an instant vector.
pub(super) fn vector_arg(ctx: &Ctx<'_>, steps: &Steps, e: &Expr) -> EResult<Vec<SSeries>> {
    match ctx.eval(steps, e)? {
        Val::Vector(v) => Ok(v),
        _ => Err(QueryError::exec("expected an instant vector argument")),
    }
}

/// The value of a string literal argument.
fn string_arg(e: &Expr) -> EResult<&str> {
    match e {
        Expr::StringLiteral(s) => Ok(s),
        Expr::Paren(inner) => string_arg(inner),
        _ => Err(QueryError::exec("expected a string literal argument")),
    }
}

/// A function with a range-vector argument.
fn range_call(
    ctx: &Ctx<'_>,
    steps: &Steps,
    name: &str,
    f: range_funcs::RangeFn,
    args: &[Expr],
    arg_pos: &[Pos],
) -> EResult<Val> {
    let at = |i: usize| arg_pos.get(i).copied().unwrap_or_default();
    let matrix_idx = args
        .iter()
        .position(|a| a.value_type() == ValueType::Matrix)
        .ok_or_else(|| QueryError::exec(format!("{name}: no range vector argument")))?;
    let mut scalars = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i != matrix_idx {
            scalars.push(scalar_arg(ctx, steps, a)?);
        }
    }
    if name == "double_exponential_smoothing" || name == "holt_winters" {
        range_funcs::check_smoothing_args(&scalars)?;
    }
    if name == "quantile_over_time"
        && let Some(&bad) = scalars
            .first()
            .and_then(|q| q.iter().find(|q| q.is_nan() || **q < 0.0 || **q > 1.0))
    {
        ctx.warn(histogram::invalid_quantile(bad), at(0));
    }
    let keep_name = matches!(name, "last_over_time" | "first_over_time");
    let mut call = range_funcs::RangeCall::new(f, &scalars, keep_name);
    let counter = matches!(name, "rate" | "increase");
    let mut out = Vec::new();
    let mut each = |data: &RangeData, s: &SSeries| -> EResult<()> {
        if let Some(o) = call.series(ctx, steps, data, s)? {
            if counter {
                counter_name_info(ctx, &s.metric, at(matrix_idx));
            }
            out.push(o);
        }
        Ok(())
    };
    if let Expr::MatrixSelector { selector, range_ms } = &args[matrix_idx] {
        // Stream: one series' raw samples in memory at a time.
        if let Expr::VectorSelector {
            extended: Some(e), ..
        } = selector.as_ref()
        {
            check_extended(*e, name)?;
        }
        selector::matrix_each(ctx, steps, selector, *range_ms, |data, s| each(data, &s))?;
    } else {
        let Val::Matrix(data) = ctx.eval(steps, &args[matrix_idx])? else {
            return Err(QueryError::exec(format!("{name}: expected a range vector")));
        };
        for s in &data.series {
            each(&data, s)?;
        }
    }
    if name == "absent_over_time" {
        return Ok(Val::Vector(absent_series(
            steps,
            &out,
            absent_labels(&args[matrix_idx]),
        )));
    }
    ctx.merge_if_names_dropped(out).map(Val::Vector)
}

/// Fails when an `anchored`/`smoothed` selector feeds a function that cannot take it.
fn check_extended(e: Extended, name: &str) -> EResult<()> {
    let allowed = range_funcs::allowed_with(e);
    if allowed.contains(&name) {
        return Ok(());
    }
    Err(QueryError::exec(format!(
        "{} modifier can only be used with: {} - not with {name}",
        e.name(),
        allowed.join(", ")
    )))
}

/// The info Prometheus gives for `rate`/`increase` over a metric whose name does not look
/// like a counter's.
fn counter_name_info(ctx: &Ctx<'_>, metric: &Labels, pos: Pos) {
    if let Some(name) = metric.metric_name()
        && !["_total", "_sum", "_count", "_bucket"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
    {
        ctx.info(format!(
            "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"{name}\""
        ), pos);
    }
}

/// The labels `absent(x{...})` reports: the equality matchers, except `__name__` and
/// names matched more than once.
fn absent_labels(e: &Expr) -> Labels {
    let matchers = match e {
        Expr::VectorSelector { matchers, .. } => matchers,
        Expr::MatrixSelector { selector, .. } => match selector.as_ref() {
            Expr::VectorSelector { matchers, .. } => matchers,
            _ => return Labels::empty(),
        },
        _ => return Labels::empty(),
    };
    let mut out: Vec<Label> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name == "__name__" {
            continue;
        }
        if m.op == MatchOp::Equal && !seen.contains(&m.name.as_str()) {
            out.push(Label::new(m.name.as_str(), m.value.as_str()));
            seen.push(&m.name);
        } else {
            out.retain(|l| *l.name != *m.name);
            seen.push(&m.name);
        }
    }
    Labels::new(out).unwrap_or_default()
}

/// One series with 1 at every step where no series of `present` has a point.
fn absent_series(steps: &Steps, present: &[SSeries], labels: Labels) -> Vec<SSeries> {
    let mut has = vec![false; steps.len()];
    for s in present {
        for p in &s.points {
            if let Some(i) = steps.index(p.t) {
                has[i] = true;
            }
        }
    }
    let points: Vec<Point> = has
        .iter()
        .enumerate()
        .filter(|(_, h)| !**h)
        .map(|(i, _)| Point {
            t: steps.ts(i),
            v: 1.0,
        })
        .collect();
    if points.is_empty() {
        return Vec::new();
    }
    vec![SSeries {
        metric: labels,
        drop_name: false,
        points,
    }]
}

/// `absent(v)`.
fn absent(ctx: &Ctx<'_>, steps: &Steps, arg: &Expr) -> EResult<Val> {
    let input = vector_arg(ctx, steps, arg)?;
    Ok(Val::Vector(absent_series(
        steps,
        &input,
        absent_labels(arg),
    )))
}

/// `scalar(v)`: the value of a one-element vector, NaN otherwise.
fn scalar_of(ctx: &Ctx<'_>, steps: &Steps, arg: &Expr) -> EResult<Val> {
    let input = vector_arg(ctx, steps, arg)?;
    let mut count = vec![0u32; steps.len()];
    let mut value = vec![f64::NAN; steps.len()];
    for s in &input {
        for p in &s.points {
            if let Some(i) = steps.index(p.t) {
                count[i] += 1;
                value[i] = p.v;
            }
        }
    }
    Ok(Val::Scalar(
        value
            .into_iter()
            .zip(count)
            .map(|(v, c)| if c == 1 { v } else { f64::NAN })
            .collect(),
    ))
}

/// Compiles a `label_replace` regular expression, anchored as Prometheus anchors it.
fn anchored_regex(pattern: &str) -> EResult<Regex> {
    Regex::new(&format!("^(?s:{pattern})$")).map_err(|_| {
        QueryError::exec(format!(
            "invalid regular expression in label_replace(): {pattern}"
        ))
    })
}

/// `label_replace(v, dst, replacement, src, regex)`.
fn label_replace(ctx: &Ctx<'_>, steps: &Steps, args: &[Expr]) -> EResult<Val> {
    let dst = string_arg(&args[1])?;
    let repl = string_arg(&args[2])?;
    let src = string_arg(&args[3])?;
    let re = anchored_regex(string_arg(&args[4])?)?;
    if dst.is_empty() {
        return Err(QueryError::exec(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut series = vector_arg(ctx, steps, &args[0])?;
    for s in &mut series {
        let value = s.metric.get(src).unwrap_or("");
        if let Some(caps) = re.captures(value) {
            let mut res = String::new();
            caps.expand(repl, &mut res);
            s.metric = set_label(&s.metric, dst, &res);
            if dst == "__name__" {
                s.drop_name = false;
            }
        }
    }
    merge_same_labels(series).map(Val::Vector)
}

/// `label_join(v, dst, separator, src...)`.
fn label_join(ctx: &Ctx<'_>, steps: &Steps, args: &[Expr]) -> EResult<Val> {
    let dst = string_arg(&args[1])?;
    let sep = string_arg(&args[2])?;
    let srcs = args[3..]
        .iter()
        .map(string_arg)
        .collect::<EResult<Vec<&str>>>()?;
    if let Some(bad) = srcs.iter().find(|s| s.is_empty()) {
        return Err(QueryError::exec(format!(
            "invalid source label name in label_join(): {bad}"
        )));
    }
    if dst.is_empty() {
        return Err(QueryError::exec(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let mut series = vector_arg(ctx, steps, &args[0])?;
    for s in &mut series {
        let joined: Vec<&str> = srcs.iter().map(|n| s.metric.get(n).unwrap_or("")).collect();
        let value = joined.join(sep);
        s.metric = set_label(&s.metric, dst, &value);
        if dst == "__name__" {
            s.drop_name = false;
        }
    }
    merge_same_labels(series).map(Val::Vector)
}

/// `labels` with `name` set to `value` (removed when `value` is empty).
pub(super) fn set_label(labels: &Labels, name: &str, value: &str) -> Labels {
    let mut v: Vec<Label> = labels
        .iter()
        .filter(|l| &*l.name != name)
        .cloned()
        .collect();
    if !value.is_empty() {
        v.push(Label::new(name, value));
    }
    Labels::new(v).unwrap_or_else(|_| labels.clone())
}

/// `sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc`: order an instant result;
/// a range query's result is always sorted by labels, so there they only warn.
fn sort(ctx: &Ctx<'_>, steps: &Steps, name: &str, args: &[Expr], pos: Pos) -> EResult<Val> {
    let mut series = vector_arg(ctx, steps, &args[0])?;
    if !steps.is_instant() {
        ctx.warn(
            "sort is ineffective for range queries since results are always ordered by labels"
                .into(),
            pos,
        );
        return Ok(Val::Vector(series));
    }
    let value = |s: &SSeries| s.points.first().map_or(f64::NAN, |p| p.v);
    match name {
        "sort" => series.sort_by(|a, b| nan_last(value(a), value(b), false)),
        "sort_desc" => series.sort_by(|a, b| nan_last(value(a), value(b), true)),
        _ => {
            let names = args[1..]
                .iter()
                .map(string_arg)
                .collect::<EResult<Vec<&str>>>()?;
            let desc = name == "sort_by_label_desc";
            series.sort_by(|a, b| {
                let ord = by_labels(&a.metric, &b.metric, &names);
                if desc { ord.reverse() } else { ord }
            });
        }
    }
    Ok(Val::Vector(series))
}

/// Ascending (or descending) by value with NaN last either way.
fn nan_last(a: f64, b: f64, desc: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if desc => b.total_cmp(&a),
        _ => a.total_cmp(&b),
    }
}

/// Orders by the given labels' values in natural order, then by the whole label set.
fn by_labels(a: &Labels, b: &Labels, names: &[&str]) -> Ordering {
    for n in names {
        let (x, y) = (a.get(n).unwrap_or(""), b.get(n).unwrap_or(""));
        if x != y {
            return natural_cmp(x, y);
        }
    }
    a.cmp(b)
}

/// Natural string order: runs of digits compare by numeric value.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let x = std::str::from_utf8(&a[si..i])
                .unwrap_or("")
                .trim_start_matches('0');
            let y = std::str::from_utf8(&b[sj..j])
                .unwrap_or("")
                .trim_start_matches('0');
            let ord = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// `timestamp(v)`: the sample's own timestamp for a plain selector, else the step's.
fn timestamp(ctx: &Ctx<'_>, steps: &Steps, arg: &Expr) -> EResult<Val> {
    let mut series = if let Expr::VectorSelector {
        matchers,
        offset_ms,
        at,
        ..
    } = arg
    {
        let at = ctx.at_time(*at);
        selector::instant_timestamps(ctx, steps, matchers, *offset_ms, at)?
    } else {
        let mut s = vector_arg(ctx, steps, arg)?;
        for x in &mut s {
            x.points.iter_mut().for_each(|p| p.v = p.t as f64 / 1000.0);
        }
        s
    };
    for s in &mut series {
        ctx.drop_name(s);
    }
    ctx.merge_if_names_dropped(series).map(Val::Vector)
}

/// Date functions: of each sample's value as Unix seconds, or of the step time without an
/// argument.
fn date_function(ctx: &Ctx<'_>, steps: &Steps, name: &str, args: &[Expr]) -> EResult<Val> {
    let f = date_part(name);
    if args.is_empty() {
        return Ok(Val::Vector(vec![SSeries {
            metric: Labels::empty(),
            drop_name: false,
            points: (0..steps.len())
                .map(|i| {
                    let t = steps.ts(i);
                    Point {
                        t,
                        v: f(t.div_euclid(1000)),
                    }
                })
                .collect(),
        }]));
    }
    let mut series = vector_arg(ctx, steps, &args[0])?;
    for s in &mut series {
        ctx.drop_name(s);
        s.points.iter_mut().for_each(|p| p.v = f(p.v as i64));
    }
    ctx.merge_if_names_dropped(series).map(Val::Vector)
}

/// The calendar function for a date function's name (UTC).
fn date_part(name: &str) -> fn(i64) -> f64 {
    match name {
        "days_in_month" => |s| {
            let (y, m, _) = civil(s);
            days_in_month(y, m) as f64
        },
        "day_of_month" => |s| civil(s).2 as f64,
        "day_of_week" => |s| (s.div_euclid(86400) + 4).rem_euclid(7) as f64,
        "day_of_year" => |s| {
            let (y, m, d) = civil(s);
            ((1..m).map(|mm| days_in_month(y, mm)).sum::<i64>() + d) as f64
        },
        "hour" => |s| s.rem_euclid(86400).div_euclid(3600) as f64,
        "minute" => |s| s.rem_euclid(3600).div_euclid(60) as f64,
        "month" => |s| civil(s).1 as f64,
        _ => |s| civil(s).0 as f64,
    }
}

/// Year, month (1–12) and day (1–31) of Unix seconds `s`, UTC.
fn civil(s: i64) -> (i64, i64, i64) {
    let z = s.div_euclid(86400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days in month `m` of year `y`.
fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Element-wise functions of one instant vector, with optional scalar parameters.
fn elementwise(ctx: &Ctx<'_>, steps: &Steps, name: &str, args: &[Expr]) -> EResult<Val> {
    let mut scalars = Vec::new();
    for a in &args[1..] {
        scalars.push(scalar_arg(ctx, steps, a)?);
    }
    let mut series = vector_arg(ctx, steps, &args[0])?;
    let arg = |k: usize, step: usize| -> f64 {
        scalars
            .get(k)
            .and_then(|v| v.get(step))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let op = math_op(name)
        .ok_or_else(|| QueryError::exec(format!("function {name:?} is not supported")))?;
    for s in &mut series {
        ctx.drop_name(s);
        s.points.retain_mut(|p| {
            let step = steps.index(p.t).unwrap_or(0);
            match op(p.v, arg(0, step), arg(1, step)) {
                Some(v) => {
                    p.v = v;
                    true
                }
                None => false,
            }
        });
    }
    series.retain(|s| !s.points.is_empty());
    ctx.merge_if_names_dropped(series).map(Val::Vector)
}

/// An element-wise operation: value and up to two scalar parameters to the new value, `None`
/// to drop the sample.
type MathOp = fn(f64, f64, f64) -> Option<f64>;

/// Looks up an element-wise function.
fn math_op(name: &str) -> Option<MathOp> {
    Some(match name {
        "abs" => |v, _, _| Some(v.abs()),
        "ceil" => |v, _, _| Some(v.ceil()),
        "floor" => |v, _, _| Some(v.floor()),
        "exp" => |v, _, _| Some(v.exp()),
        "sqrt" => |v, _, _| Some(v.sqrt()),
        "ln" => |v, _, _| Some(v.ln()),
        "log2" => |v, _, _| Some(v.log2()),
        "log10" => |v, _, _| Some(v.log10()),
        "sin" => |v, _, _| Some(v.sin()),
        "cos" => |v, _, _| Some(v.cos()),
        "tan" => |v, _, _| Some(v.tan()),
        "asin" => |v, _, _| Some(v.asin()),
        "acos" => |v, _, _| Some(v.acos()),
        "atan" => |v, _, _| Some(v.atan()),
        "sinh" => |v, _, _| Some(v.sinh()),
        "cosh" => |v, _, _| Some(v.cosh()),
        "tanh" => |v, _, _| Some(v.tanh()),
        "asinh" => |v, _, _| Some(v.asinh()),
        "acosh" => |v, _, _| Some(v.acosh()),
        "atanh" => |v, _, _| Some(v.atanh()),
        "rad" => |v, _, _| Some(v * std::f64::consts::PI / 180.0),
        "deg" => |v, _, _| Some(v * 180.0 / std::f64::consts::PI),
        "sgn" => |v, _, _| {
            Some(if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            })
        },
        "round" => |v, to, _| {
            let to = if to.is_nan() { 1.0 } else { to };
            let inv = 1.0 / to;
            Some((v * inv + 0.5).floor() / inv)
        },
        "clamp" => |v, lo, hi| (hi >= lo).then(|| go_max(lo, go_min(hi, v))),
        "clamp_min" => |v, lo, _| Some(go_max(lo, v)),
        "clamp_max" => |v, hi, _| Some(go_min(hi, v)),
        _ => return None,
    })
}

/// Go's `math.Max`: NaN if either is NaN.
pub(super) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN if either is NaN.
pub(super) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}
