//! Selectors and subqueries: reading series from storage and placing them on the grid.

use model::{Matcher, SelectHints, is_stale_nan};

use super::eval::{Ctx, EResult, SSeries, Steps, Val};
use super::value::{Point, QueryError};
use crate::parser::ast::Expr;

/// A range vector over the whole grid: raw points and where each step's window lies.
///
/// At step `ts` the window is `(end - range_ms, end]` with `end = at.unwrap_or(ts) - offset_ms`.
#[derive(Debug)]
pub(super) struct RangeData {
    /// Series with their raw points (staleness markers removed), sorted by time.
    pub(super) series: Vec<SSeries>,
    /// Window length, ms.
    pub(super) range_ms: i64,
    /// Offset, ms.
    pub(super) offset_ms: i64,
    /// The `@` time, if any, ms.
    pub(super) at: Option<i64>,
}

impl RangeData {
    /// End (inclusive) of the window evaluated at `ts`, ms.
    pub(super) fn window_end(&self, ts: i64) -> i64 {
        self.at.unwrap_or(ts) - self.offset_ms
    }

    /// Each series' points in the window at `t`, series without points left out (the value
    /// of `x[5m]` in an instant query).
    pub(super) fn windows_at(self, _ctx: &Ctx<'_>, t: i64) -> Vec<SSeries> {
        let end = self.window_end(t);
        let start = end - self.range_ms;
        self.series
            .into_iter()
            .filter_map(|mut s| {
                s.points.retain(|p| p.t > start && p.t <= end);
                (!s.points.is_empty()).then_some(s)
            })
            .collect()
    }

    /// For each step, the index range `lo..hi` of `points` inside that step's window;
    /// calls `f(step, lo, hi)` for every step, ascending.
    pub(super) fn for_each_window(
        &self,
        steps: &Steps,
        points: &[Point],
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let (mut lo, mut hi) = (0, 0);
        for step in 0..steps.len() {
            let end = self.window_end(steps.ts(step));
            let start = end - self.range_ms;
            hi += points[hi..].partition_point(|p| p.t <= end);
            lo += points[lo..hi].partition_point(|p| p.t <= start);
            f(step, lo, hi);
        }
    }
}

/// The first and last evaluation time of a node with an optional `@`.
fn eval_span(steps: &Steps, at: Option<i64>) -> (i64, i64) {
    match at {
        Some(t) => (t, t),
        None => (
            steps.start,
            steps.start + steps.interval * (steps.len() as i64 - 1),
        ),
    }
}

/// Reads the series matching `matchers` with samples in `[mint, maxt]`.
fn select(
    ctx: &Ctx<'_>,
    matchers: &[Matcher],
    mint: i64,
    maxt: i64,
) -> EResult<Vec<model::Series>> {
    let querier = ctx
        .storage()
        .querier(mint, maxt)
        .map_err(|e| QueryError::storage(&e))?;
    let hints = SelectHints {
        start: mint,
        end: maxt,
        ..SelectHints::default()
    };
    let set = querier
        .select(&hints, matchers)
        .map_err(|e| QueryError::storage(&e))?;
    let mut out = Vec::new();
    for (i, s) in set.enumerate() {
        if i % 1024 == 0 {
            ctx.check_deadline()?;
        }
        out.push(s.map_err(|e| QueryError::storage(&e))?);
    }
    Ok(out)
}

/// An instant vector selector: at each step the newest sample in
/// `(t - offset - lookback, t - offset]` (`t` the `@` time if given), unless it is a
/// staleness marker.
pub(super) fn instant(
    ctx: &Ctx<'_>,
    steps: &Steps,
    matchers: &[Matcher],
    offset_ms: i64,
    at: Option<i64>,
) -> EResult<Vec<SSeries>> {
    instant_with(ctx, steps, matchers, offset_ms, at, false)
}

/// As [`instant`], but each point's value is the chosen sample's timestamp in seconds
/// (`timestamp(x)`).
pub(super) fn instant_timestamps(
    ctx: &Ctx<'_>,
    steps: &Steps,
    matchers: &[Matcher],
    offset_ms: i64,
    at: Option<i64>,
) -> EResult<Vec<SSeries>> {
    instant_with(ctx, steps, matchers, offset_ms, at, true)
}

/// The instant selector, with values or with sample timestamps.
fn instant_with(
    ctx: &Ctx<'_>,
    steps: &Steps,
    matchers: &[Matcher],
    offset_ms: i64,
    at: Option<i64>,
    timestamps: bool,
) -> EResult<Vec<SSeries>> {
    let lookback = ctx.opts.lookback_delta_ms;
    let (first, last) = eval_span(steps, at);
    let raw = select(
        ctx,
        matchers,
        first - offset_ms - lookback + 1,
        last - offset_ms,
    )?;
    let n = steps.len();
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        let samples = &s.samples;
        let mut points = Vec::with_capacity(n.min(samples.len() * 2 + 1));
        let mut idx = 0usize; // samples[..idx] have t <= the current reference time
        for step in 0..n {
            let ts = steps.ts(step);
            let reference = at.unwrap_or(ts) - offset_ms;
            while idx < samples.len() && samples[idx].t <= reference {
                idx += 1;
            }
            if idx == 0 {
                continue;
            }
            let sample = &samples[idx - 1];
            if sample.t > reference - lookback && !is_stale_nan(sample.v) {
                let v = if timestamps {
                    sample.t as f64 / 1000.0
                } else {
                    sample.v
                };
                points.push(Point { t: ts, v });
            }
        }
        ctx.hold_samples(points.len())?;
        if !points.is_empty() {
            out.push(SSeries {
                metric: s.labels,
                drop_name: false,
                points,
            });
        }
    }
    Ok(out)
}

/// A range vector selector `x[range] offset o @ t`: the raw samples every step's window needs.
pub(super) fn matrix(
    ctx: &Ctx<'_>,
    steps: &Steps,
    selector: &Expr,
    range_ms: i64,
) -> EResult<RangeData> {
    let Expr::VectorSelector {
        matchers,
        offset_ms,
        at,
        ..
    } = selector
    else {
        return Err(QueryError::exec("range selector without a vector selector"));
    };
    let at = ctx.at_time(*at);
    let (first, last) = eval_span(steps, at);
    let raw = select(
        ctx,
        matchers,
        first - offset_ms - range_ms + 1,
        last - offset_ms,
    )?;
    let mut series = Vec::with_capacity(raw.len());
    for s in raw {
        let mut points = s.samples;
        points.retain(|x| !is_stale_nan(x.v));
        ctx.hold_samples(points.len())?;
        if !points.is_empty() {
            series.push(SSeries {
                metric: s.labels,
                drop_name: false,
                points,
            });
        }
    }
    Ok(RangeData {
        series,
        range_ms,
        offset_ms: *offset_ms,
        at,
    })
}

/// Range, resolution, offset and `@` of a subquery, ms.
#[derive(Debug, Clone, Copy)]
pub(super) struct SubqueryGeometry {
    /// Range.
    pub(super) range_ms: i64,
    /// Resolution (the default already applied).
    pub(super) step_ms: i64,
    /// Offset.
    pub(super) offset_ms: i64,
    /// The `@` time.
    pub(super) at: Option<i64>,
}

/// A subquery: evaluates `inner` at the multiples of its step covering every outer window.
pub(super) fn subquery(
    ctx: &Ctx<'_>,
    steps: &Steps,
    inner: &Expr,
    geo: &SubqueryGeometry,
) -> EResult<RangeData> {
    let (first, last) = eval_span(steps, geo.at);
    let interval = geo.step_ms.max(1);
    let lower = first - geo.offset_ms - geo.range_ms;
    // The first multiple of the step after `lower` (Go's truncating division).
    let mut start = interval * (lower / interval);
    if start <= lower {
        start += interval;
    }
    let end = last - geo.offset_ms;
    let inner_steps = Steps {
        start,
        end,
        interval,
    };
    let series = if end < start {
        Vec::new()
    } else {
        match ctx.eval(&inner_steps, inner)? {
            Val::Vector(s) => s,
            Val::Scalar(v) => vec![SSeries {
                metric: model::Labels::empty(),
                drop_name: false,
                points: v
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| Point {
                        t: inner_steps.ts(i),
                        v,
                    })
                    .collect(),
            }],
            _ => return Err(QueryError::exec("subquery of a non-instant expression")),
        }
    };
    Ok(RangeData {
        series,
        range_ms: geo.range_ms,
        offset_ms: geo.offset_ms,
        at: geo.at,
    })
}
