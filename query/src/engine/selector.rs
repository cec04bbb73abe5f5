//! Selectors and subqueries: reading series from storage and placing them on the grid.

use model::{Matcher, SelectHints, is_stale_nan};

use super::eval::{Ctx, EResult, SSeries, Steps, Val};
use super::value::{Point, QueryError};
use crate::parser::ast::{Expr, Extended};

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
    /// `anchored` or `smoothed`: the points reach one lookback before the window (and, when
    /// smoothed, one lookback after it).
    pub(super) extended: Option<Extended>,
    /// The lookback delta, ms (how far an extended window reaches).
    pub(super) lookback_ms: i64,
}

impl RangeData {
    /// End (inclusive) of the window evaluated at `ts`, ms.
    pub(super) fn window_end(&self, ts: i64) -> i64 {
        self.at.unwrap_or(ts) - self.offset_ms
    }

    /// Each series' points in the window at `t`, series without points left out (the value
    /// of `x[5m]` in an instant query). An extended window gets points at its two edges.
    pub(super) fn windows_at(self, _ctx: &Ctx<'_>, t: i64) -> Vec<SSeries> {
        let end = self.window_end(t);
        let start = end - self.range_ms;
        let (lo, hi) = self.reach(start, end);
        let extended = self.extended;
        self.series
            .into_iter()
            .filter_map(|mut s| {
                s.points.retain(|p| p.t > lo && p.t <= hi);
                if let Some(e) = extended {
                    s.points = extend_points(&s.points, start, end, e == Extended::Smoothed);
                }
                (!s.points.is_empty()).then_some(s)
            })
            .collect()
    }

    /// The exclusive start and inclusive end of the points a window `(start, end]` reads.
    fn reach(&self, start: i64, end: i64) -> (i64, i64) {
        match self.extended {
            None => (start, end),
            Some(Extended::Anchored) => (start - self.lookback_ms, end),
            Some(Extended::Smoothed) => (start - self.lookback_ms, end + self.lookback_ms),
        }
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
            let (start, end) = self.reach(end - self.range_ms, end);
            hi += points[hi..].partition_point(|p| p.t <= end);
            lo += points[lo..hi].partition_point(|p| p.t <= start);
            f(step, lo, hi);
        }
    }
}

/// Adds a selected series unless it has no points, accounting its samples.
fn push_series(
    ctx: &Ctx<'_>,
    out: &mut Vec<SSeries>,
    metric: model::Labels,
    points: Vec<Point>,
) -> EResult<()> {
    ctx.hold_samples(points.len())?;
    if !points.is_empty() {
        out.push(SSeries {
            metric,
            drop_name: false,
            points,
        });
    }
    Ok(())
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

/// Hands each series matching `matchers` with samples in `[mint, maxt]` to `f`, one at a
/// time, in label order (so a storage that decodes lazily holds one series at a time).
fn for_each_series(
    ctx: &Ctx<'_>,
    matchers: &[Matcher],
    mint: i64,
    maxt: i64,
    mut f: impl FnMut(model::Series) -> EResult<()>,
) -> EResult<()> {
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
    for (i, s) in set.enumerate() {
        if i % 1024 == 0 {
            ctx.check_deadline()?;
        }
        f(s.map_err(|e| QueryError::storage(&e))?)?;
    }
    for w in querier.warnings() {
        ctx.storage_warning(w);
    }
    Ok(())
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
    let n = steps.len();
    let mut out = Vec::new();
    let (mint, maxt) = (first - offset_ms - lookback + 1, last - offset_ms);
    for_each_series(ctx, matchers, mint, maxt, |s| {
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
        push_series(ctx, &mut out, s.labels, points)
    })?;
    Ok(out)
}

/// A range vector selector `x[range] offset o @ t`: the raw samples every step's window needs.
pub(super) fn matrix(
    ctx: &Ctx<'_>,
    steps: &Steps,
    selector: &Expr,
    range_ms: i64,
) -> EResult<RangeData> {
    let mut series = Vec::new();
    let mut data = matrix_each(ctx, steps, selector, range_ms, |_, s| {
        series.push(s);
        Ok(())
    })?;
    data.series = series;
    Ok(data)
}

/// As [`matrix`], but hands each series (staleness markers removed) to `f` as it is read
/// instead of keeping it; returns the geometry with no series.
pub(super) fn matrix_each(
    ctx: &Ctx<'_>,
    steps: &Steps,
    selector: &Expr,
    range_ms: i64,
    mut f: impl FnMut(&RangeData, SSeries) -> EResult<()>,
) -> EResult<RangeData> {
    let Expr::VectorSelector {
        matchers,
        offset_ms,
        at,
        extended,
        ..
    } = selector
    else {
        return Err(QueryError::exec("range selector without a vector selector"));
    };
    let at = ctx.at_time(*at);
    let (first, last) = eval_span(steps, at);
    let lookback = ctx.opts.lookback_delta_ms;
    let (before, after) = match extended {
        None => (0, 0),
        Some(Extended::Anchored) => (lookback, 0),
        Some(Extended::Smoothed) => (lookback, lookback),
    };
    let data = RangeData {
        series: Vec::new(),
        range_ms,
        offset_ms: *offset_ms,
        at,
        extended: *extended,
        lookback_ms: lookback,
    };
    let (mint, maxt) = (
        first - offset_ms - range_ms - before + 1,
        last - offset_ms + after,
    );
    for_each_series(ctx, matchers, mint, maxt, |s| {
        let mut points = s.samples;
        points.retain(|x| !is_stale_nan(x.v));
        if points.is_empty() {
            return Ok(());
        }
        let series = SSeries {
            metric: s.labels,
            drop_name: false,
            points,
        };
        f(&data, series)
    })?;
    Ok(data)
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
        extended: None,
        lookback_ms: ctx.opts.lookback_delta_ms,
    })
}

/// A smoothed instant selector: at each step the value at `t - offset` itself, interpolated
/// linearly between the samples on either side within one lookback, or the last sample
/// before it when none follows.
pub(super) fn smoothed(
    ctx: &Ctx<'_>,
    steps: &Steps,
    matchers: &[Matcher],
    offset_ms: i64,
    at: Option<i64>,
) -> EResult<Vec<SSeries>> {
    let lb = ctx.opts.lookback_delta_ms;
    let (first, last) = eval_span(steps, at);
    let mut out = Vec::new();
    let (mint, maxt) = (first - offset_ms - lb + 1, last - offset_ms + lb);
    for_each_series(ctx, matchers, mint, maxt, |s| {
        let samples: Vec<Point> = s
            .samples
            .into_iter()
            .filter(|x| !is_stale_nan(x.v))
            .collect();
        let mut points = Vec::new();
        for step in 0..steps.len() {
            let ts = steps.ts(step);
            let data_t = at.unwrap_or(ts) - offset_ms;
            let lo = samples.partition_point(|p| p.t <= data_t - lb);
            let hi = samples.partition_point(|p| p.t <= data_t + lb);
            let window = &samples[lo..hi];
            let i = window.partition_point(|p| p.t < data_t);
            let prev = i.checked_sub(1).and_then(|j| window.get(j));
            let v = match (window.get(i), prev) {
                (Some(next), _) if next.t == data_t => next.v,
                (Some(next), Some(prev)) => interpolate(*prev, *next, data_t, false),
                (None, Some(prev)) => prev.v,
                _ => continue,
            };
            points.push(Point { t: ts, v });
        }
        push_series(ctx, &mut out, s.labels, points)
    })?;
    Ok(out)
}

/// The value at `t` on the line from `a` to `b`; a counter that fell is taken to have
/// restarted from 0.
pub(super) fn interpolate(a: Point, b: Point, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && b.v < a.v { 0.0 } else { a.v };
    y1 + (b.v - y1) * (t - a.t) as f64 / (b.t - a.t) as f64
}

/// The indices of an extended window's edge samples in `points` (which reach one lookback
/// beyond `(start, end]`): the last at or before `start` (else the first), and the last
/// (when smoothed, the first at or after `end`). `None` when no point lies after `start`.
pub(super) fn edge_indices(
    points: &[Point],
    start: i64,
    end: i64,
    smoothed: bool,
) -> Option<(usize, usize)> {
    let last_idx = points.len().checked_sub(1)?;
    let first = points[..last_idx]
        .partition_point(|p| p.t <= start)
        .saturating_sub(1);
    let last = if smoothed {
        points[..last_idx].partition_point(|p| p.t < end)
    } else {
        last_idx
    };
    if points[last].t <= start || (smoothed && points[first].t > end) {
        return None;
    }
    Some((first, last))
}

/// The samples of an extended window `(start, end]` as a range vector shows them: a point at
/// each edge (the anchor sample's value, or interpolated when smoothed) around the samples
/// strictly inside.
fn extend_points(points: &[Point], start: i64, end: i64, smoothed: bool) -> Vec<Point> {
    let Some((mut first, last)) = edge_indices(points, start, end, smoothed) else {
        return Vec::new();
    };
    let left = edge_left(points, first, start, smoothed, false);
    let right = edge_right(points, last, end, smoothed, false);
    if points[first].t <= start {
        first += 1;
    }
    let inner_end = if points[last].t >= end {
        last
    } else {
        last + 1
    };
    let mut out = vec![Point { t: start, v: left }];
    if first < inner_end {
        out.extend_from_slice(&points[first..inner_end]);
    }
    out.push(Point { t: end, v: right });
    out
}

/// The value at a window's left edge: the anchor sample's, or interpolated when smoothed.
pub(super) fn edge_left(
    p: &[Point],
    first: usize,
    start: i64,
    smoothed: bool,
    counter: bool,
) -> f64 {
    match p.get(first + 1) {
        Some(next) if smoothed && p[first].t < start => {
            interpolate(p[first], *next, start, counter)
        }
        _ => p[first].v,
    }
}

/// The value at a window's right edge: the last sample's, or interpolated when smoothed.
pub(super) fn edge_right(p: &[Point], last: usize, end: i64, smoothed: bool, counter: bool) -> f64 {
    if smoothed && last > 0 && p[last].t > end {
        interpolate(p[last - 1], p[last], end, counter)
    } else {
        p[last].v
    }
}
