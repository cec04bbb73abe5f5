//! `info(v, [selector])` (experimental in Prometheus 3.x): adds the data labels of matching
//! info series (by default `target_info`), joined on `instance` and `job`.

use std::collections::{BTreeSet, HashMap};

use model::{Label, Labels, MatchOp, Matcher};

use super::eval::{Ctx, EResult, OutSample, SSeries, StepSample, Steps, Val};
use super::functions::vector_arg;
use super::selector;
use super::value::QueryError;
use crate::parser::ast::{AtModifier, Expr};

/// The labels that identify the target an info series describes.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// Evaluates `info(args[0], args[1]?)`.
pub(super) fn eval(ctx: &Ctx<'_>, steps: &Steps, args: &[Expr]) -> EResult<Val> {
    let (at, offset) = select_time(&args[0]);
    let at = ctx.at_time(at);
    let base = vector_arg(ctx, steps, &args[0])?;
    let selector: &[Matcher] = match args.get(1) {
        Some(Expr::VectorSelector { matchers, .. }) => matchers,
        _ => &[],
    };
    let name_matchers: Vec<Matcher> = selector
        .iter()
        .filter(|m| m.name == "__name__")
        .cloned()
        .collect();
    let effective = effective_name_matchers(name_matchers.clone());
    let ignore: Vec<bool> = base
        .iter()
        .map(|s| {
            let name = s.metric.metric_name().unwrap_or("");
            effective.iter().all(|m| m.matches(name))
        })
        .collect();
    let data: Vec<Matcher> = selector
        .iter()
        .filter(|m| m.name != "__name__")
        .cloned()
        .collect();
    let info = fetch_info(
        ctx,
        steps,
        &base,
        &ignore,
        &data,
        &name_matchers,
        at,
        offset,
    )?;
    combine(ctx, steps, &base, &info, &ignore, &data).map(Val::Vector)
}

/// The `@` and offset that apply to the first vector selector of `e` (adding the offsets of
/// enclosing subqueries until one has an `@`).
fn select_time(e: &Expr) -> (Option<AtModifier>, i64) {
    fn walk(e: &Expr, path_offset: i64) -> Option<(Option<AtModifier>, i64)> {
        match e {
            Expr::VectorSelector { at, offset_ms, .. } => Some((*at, offset_ms + path_offset)),
            Expr::MatrixSelector { selector, .. } => walk(selector, path_offset),
            Expr::Subquery {
                expr,
                offset_ms,
                at,
                ..
            } => walk(expr, 0).map(|(inner_at, off)| match inner_at {
                Some(a) => (Some(a), off),
                None => (*at, off + offset_ms + path_offset),
            }),
            Expr::Call { args, .. } => args.iter().find_map(|a| walk(a, path_offset)),
            Expr::Aggregate { expr, param, .. } => param
                .as_deref()
                .and_then(|p| walk(p, path_offset))
                .or_else(|| walk(expr, path_offset)),
            Expr::Binary { lhs, rhs, .. } => {
                walk(lhs, path_offset).or_else(|| walk(rhs, path_offset))
            }
            Expr::Unary { expr, .. } | Expr::Paren(expr) => walk(expr, path_offset),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => None,
        }
    }
    walk(e, 0).unwrap_or((None, 0))
}

/// The name matchers info series must satisfy: the given ones when one is `=` or `=~`; with
/// only negative ones, also `__name__=~".+_info"`; by default `__name__="target_info"`.
fn effective_name_matchers(given: Vec<Matcher>) -> Vec<Matcher> {
    if given
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
    {
        return given;
    }
    if given.is_empty() {
        return vec![Matcher::equal("__name__", "target_info")];
    }
    let mut out: Vec<Matcher> = Matcher::new(MatchOp::Regex, "__name__", ".+_info")
        .into_iter()
        .collect();
    out.extend(given);
    out
}

/// Reads the info series of the targets the base series come from, as an instant selector
/// whose values are the chosen samples' timestamps (to prefer the newest on a clash).
#[allow(clippy::too_many_arguments)]
fn fetch_info(
    ctx: &Ctx<'_>,
    steps: &Steps,
    base: &[SSeries],
    ignore: &[bool],
    data: &[Matcher],
    name_matchers: &[Matcher],
    at: Option<i64>,
    offset: i64,
) -> EResult<Vec<SSeries>> {
    let mut values: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for (s, _) in base.iter().zip(ignore).filter(|(_, i)| !**i) {
        for l in IDENTIFYING {
            if let Some(v) = s.metric.get(l) {
                values.entry(l).or_default().insert(regex::escape(v));
            }
        }
    }
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let mut matchers = Vec::new();
    for (name, vals) in &values {
        let pattern = vals.iter().cloned().collect::<Vec<_>>().join("|");
        matchers.push(
            Matcher::new(MatchOp::Regex, *name, pattern)
                .map_err(|e| QueryError::exec(e.to_string()))?,
        );
    }
    matchers.extend(data.iter().cloned());
    matchers.extend(effective_name_matchers(name_matchers.to_vec()));
    selector::instant_timestamps(ctx, steps, &matchers, offset, at)
}

/// The join key of an info series or of a base series for one info metric: the info
/// metric's name and the identifying labels present.
fn signature(metric: &Labels, info_name: &str) -> Labels {
    let mut v = vec![Label::new("__name__", info_name)];
    v.extend(
        metric
            .iter()
            .filter(|l| IDENTIFYING.contains(&&*l.name))
            .cloned(),
    );
    Labels::new(v).unwrap_or_default()
}

/// Joins base and info series step by step.
fn combine(
    ctx: &Ctx<'_>,
    steps: &Steps,
    base: &[SSeries],
    info: &[SSeries],
    ignore: &[bool],
    data: &[Matcher],
) -> EResult<Vec<SSeries>> {
    let names: BTreeSet<&str> = info
        .iter()
        .map(|s| s.metric.metric_name().unwrap_or(""))
        .collect();
    let info_sig: Vec<Labels> = info
        .iter()
        .map(|s| signature(&s.metric, s.metric.metric_name().unwrap_or("")))
        .collect();
    let base_sigs: Vec<Vec<(&str, Labels)>> = base
        .iter()
        .map(|s| {
            names
                .iter()
                .map(|n| (*n, signature(&s.metric, n)))
                .collect()
        })
        .collect();
    let all_match_empty = data.iter().all(|m| m.matches(""));
    ctx.step_wise(steps, &[base, info], |_, inputs: &[Vec<StepSample>]| {
        if inputs[0].is_empty() {
            return Ok(Vec::new());
        }
        let by_sig = newest_by_signature(info, &info_sig, &inputs[1])?;
        let mut out = Vec::new();
        for &(i, v) in &inputs[0] {
            let b = &base[i];
            if ignore[i] {
                out.push(OutSample {
                    metric: b.metric.clone(),
                    drop_name: b.drop_name,
                    v,
                });
                continue;
            }
            let mut added: Vec<Label> = Vec::new();
            let mut seen = false;
            for (_, sig) in &base_sigs[i] {
                let Some(&k) = by_sig.get(sig) else { continue };
                seen = true;
                add_data_labels(&info[k].metric, &b.metric, data, &mut added)?;
            }
            if !seen && !all_match_empty {
                continue;
            }
            let mut labels: Vec<Label> = b.metric.iter().cloned().collect();
            labels.extend(added);
            out.push(OutSample {
                metric: Labels::new(labels).unwrap_or_else(|_| b.metric.clone()),
                drop_name: b.drop_name,
                v,
            });
        }
        Ok(out)
    })
}

/// The info sample to use per signature at one step: the one whose sample is newest.
fn newest_by_signature<'s>(
    info: &[SSeries],
    sigs: &'s [Labels],
    step: &[StepSample],
) -> EResult<HashMap<&'s Labels, usize>> {
    let mut by_sig: HashMap<&Labels, (usize, f64)> = HashMap::new();
    for &(k, t) in step {
        match by_sig.get(&sigs[k]) {
            Some(&(_, prev)) if prev > t => {}
            Some(&(j, prev)) if prev == t => {
                return Err(QueryError::exec(format!(
                    "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                    crate::gofmt::labels(&info[j].metric),
                    (prev * 1000.0).round() as i64,
                    crate::gofmt::labels(&info[k].metric),
                    (t * 1000.0).round() as i64
                )));
            }
            _ => {
                by_sig.insert(&sigs[k], (k, t));
            }
        }
    }
    Ok(by_sig.into_iter().map(|(s, (k, _))| (s, k)).collect())
}

/// Adds an info series' data labels that the base lacks (only those named by the selector
/// when it names any); a clash between two info series is an error.
fn add_data_labels(
    info: &Labels,
    base: &Labels,
    data: &[Matcher],
    added: &mut Vec<Label>,
) -> EResult<()> {
    for l in info.iter() {
        if &*l.name == "__name__" || (!data.is_empty() && !data.iter().any(|m| *m.name == *l.name))
        {
            continue;
        }
        if let Some(prev) = added.iter().find(|a| a.name == l.name) {
            if prev.value != l.value {
                return Err(QueryError::exec(format!("conflicting label: {}", l.name)));
            }
            continue;
        }
        if base.get(&l.name).is_none() {
            added.push(l.clone());
        }
    }
    Ok(())
}
