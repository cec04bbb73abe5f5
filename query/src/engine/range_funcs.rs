//! Functions over range vectors (`rate`, `*_over_time`, `deriv`, ...), slid over the grid one
//! series at a time.

use super::eval::{Ctx, EResult, SSeries, Steps};
use super::selector::RangeData;
use super::selector::{edge_indices, edge_left, edge_right};
use super::value::{Point, QueryError};
use crate::parser::ast::Extended;

/// The window of one step, as a range function sees it.
pub(super) struct Window<'p> {
    /// The points in the window, ascending in time.
    pub(super) points: &'p [Point],
    /// Evaluation time of the step, ms.
    pub(super) ts: i64,
    /// Exclusive start of the window, ms.
    pub(super) start: i64,
    /// Inclusive end of the window, ms.
    pub(super) end: i64,
    /// The window's length, ms.
    pub(super) range_ms: i64,
    /// Scalar arguments at this step (`quantile_over_time`'s φ, `predict_linear`'s t, ...).
    pub(super) args: &'p [f64],
    /// False when the window is known to hold no counter reset (a value below its
    /// predecessor), so `rate` and `increase` can skip looking for one.
    pub(super) may_reset: bool,
    /// `anchored` or `smoothed`: `points` reach one lookback beyond `(start, end]`.
    pub(super) extended: Option<Extended>,
}

/// A range function: the value for one window, `None` for no output.
pub(super) type RangeFn = fn(&Window<'_>) -> Option<f64>;

/// Looks up a range function by name.
pub(super) fn lookup(name: &str) -> Option<RangeFn> {
    Some(match name {
        "rate" => |w| extrapolated_rate(w, true, true),
        "increase" => |w| extrapolated_rate(w, true, false),
        "delta" => |w| extrapolated_rate(w, false, false),
        "irate" => |w| instant_value(w, true),
        "idelta" => |w| instant_value(w, false),
        "avg_over_time" => |w| Some(avg(w.points)),
        "sum_over_time" => |w| Some(sum(w.points)),
        "count_over_time" => |w| Some(w.points.len() as f64),
        "min_over_time" => |w| compare(w.points, |c, m| c < m || m.is_nan(), false),
        "max_over_time" => |w| compare(w.points, |c, m| c > m || m.is_nan(), false),
        "ts_of_min_over_time" => |w| compare(w.points, |c, m| c <= m || m.is_nan(), true),
        "ts_of_max_over_time" => |w| compare(w.points, |c, m| c >= m || m.is_nan(), true),
        "last_over_time" => |w| w.points.last().map(|p| p.v),
        "first_over_time" => |w| w.points.first().map(|p| p.v),
        "ts_of_last_over_time" => |w| w.points.last().map(|p| p.t as f64 / 1000.0),
        "ts_of_first_over_time" => |w| w.points.first().map(|p| p.t as f64 / 1000.0),
        "present_over_time" => |_| Some(1.0),
        "stddev_over_time" => |w| Some(variance(w.points).sqrt()),
        "stdvar_over_time" => |w| Some(variance(w.points)),
        "quantile_over_time" => |w| {
            let mut v: Vec<f64> = w.points.iter().map(|p| p.v).collect();
            Some(quantile(
                w.args.first().copied().unwrap_or(f64::NAN),
                &mut v,
            ))
        },
        "mad_over_time" => |w| mad(w.points),
        "changes" => |w| anchored_points(w).map(changes),
        "resets" => |w| {
            let pts = anchored_points(w)?;
            Some(if w.may_reset { resets(pts) } else { 0.0 })
        },
        "deriv" => |w| {
            let first = w.points.first()?;
            (w.points.len() >= 2).then(|| linear_regression(w.points, first.t).0)
        },
        "predict_linear" => |w| {
            if w.points.len() < 2 {
                return None;
            }
            let (slope, intercept) = linear_regression(w.points, w.ts);
            Some(slope * w.args.first().copied().unwrap_or(0.0) + intercept)
        },
        "double_exponential_smoothing" | "holt_winters" => double_exponential_smoothing,
        "absent_over_time" => |_| Some(1.0),
        _ => return None,
    })
}

/// A range function applied series by series, with its scalar arguments per step.
pub(super) struct RangeCall<'a> {
    f: RangeFn,
    /// `args[i][step]`: the scalar arguments.
    args: &'a [Vec<f64>],
    /// `last_over_time`/`first_over_time` act like an offset and keep the metric name;
    /// every other function drops it.
    keep_name: bool,
    step_args: Vec<f64>,
    resets: Vec<u32>,
}

impl<'a> RangeCall<'a> {
    /// A call of `f` with scalar arguments `args[i][step]`.
    pub(super) fn new(f: RangeFn, args: &'a [Vec<f64>], keep_name: bool) -> Self {
        Self {
            f,
            args,
            keep_name,
            step_args: vec![0.0; args.len()],
            resets: Vec::new(),
        }
    }

    /// The function's value at every step for one series of `data`; `None` when no step
    /// has a value.
    pub(super) fn series(
        &mut self,
        ctx: &Ctx<'_>,
        steps: &Steps,
        data: &RangeData,
        s: &SSeries,
    ) -> EResult<Option<SSeries>> {
        count_resets(&s.points, &mut self.resets);
        let mut points = Vec::new();
        let (f, args, resets) = (self.f, self.args, &self.resets);
        let step_args = &mut self.step_args;
        data.for_each_window(steps, &s.points, |step, lo, hi| {
            if lo == hi {
                return;
            }
            for (a, v) in args.iter().zip(step_args.iter_mut()) {
                *v = a.get(step).copied().unwrap_or(f64::NAN);
            }
            let ts = steps.ts(step);
            let end = data.window_end(ts);
            let w = Window {
                points: &s.points[lo..hi],
                ts,
                start: end - data.range_ms,
                end,
                range_ms: data.range_ms,
                args: step_args,
                may_reset: resets[hi - 1] != resets[lo],
                extended: data.extended,
            };
            if let Some(v) = f(&w) {
                points.push(Point { t: ts, v });
            }
        });
        ctx.hold_samples(points.len())?;
        if points.is_empty() {
            return Ok(None);
        }
        let mut series = SSeries {
            metric: s.metric.clone(),
            drop_name: s.drop_name,
            points,
        };
        if !self.keep_name || s.drop_name {
            ctx.drop_name(&mut series);
        }
        Ok(Some(series))
    }
}

/// `out[i]` = how many of `points[1..=i]` are below their predecessor.
fn count_resets(points: &[Point], out: &mut Vec<u32>) {
    out.clear();
    let mut n = 0;
    out.push(0);
    for w in points.windows(2) {
        n += u32::from(w[1].v < w[0].v);
        out.push(n);
    }
}

/// Checks the scalar arguments of `double_exponential_smoothing` at every step.
pub(super) fn check_smoothing_args(args: &[Vec<f64>]) -> EResult<()> {
    let check = |v: &[f64], what: &str| {
        v.iter().try_for_each(|&x| {
            if x <= 0.0 || x >= 1.0 {
                Err(QueryError::exec(format!(
                    "invalid {what} factor. Expected: 0 < {} < 1, got: {}",
                    if what == "smoothing" { "sf" } else { "tf" },
                    go_f(x)
                )))
            } else {
                Ok(())
            }
        })
    };
    if let [sf, tf] = args {
        check(sf, "smoothing")?;
        check(tf, "trend")?;
    }
    Ok(())
}

/// Go's `%f`: six decimals.
fn go_f(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{x:.6}")
    }
}

/// Kahan–Neumaier summation step: adds `inc` to `sum` with compensation `c`.
pub(super) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// `sum_over_time`: compensated sum.
fn sum(points: &[Point]) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for p in points {
        (s, c) = kahan_inc(p.v, s, c);
    }
    if s.is_infinite() { s } else { s + c }
}

/// `avg_over_time`: the compensated direct mean, switching to an incremental mean when the
/// running sum would overflow.
fn avg(points: &[Point]) -> f64 {
    let Some(first) = points.first() else {
        return f64::NAN;
    };
    let (mut sum, mut count) = (first.v, 1.0);
    let (mut mean, mut c) = (0.0, 0.0);
    let mut incremental = false;
    for (i, p) in points[1..].iter().enumerate() {
        count = (i + 2) as f64;
        if !incremental {
            let (ns, nc) = kahan_inc(p.v, sum, c);
            if !ns.is_infinite() {
                (sum, c) = (ns, nc);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(p.v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// `min_over_time`/`max_over_time` and their `ts_of_` forms.
fn compare(points: &[Point], better: fn(f64, f64) -> bool, timestamp: bool) -> Option<f64> {
    let first = points.first()?;
    let (mut best, mut at) = (first.v, first.t);
    for p in points {
        if better(p.v, best) {
            best = p.v;
            at = p.t;
        }
    }
    Some(if timestamp { at as f64 / 1000.0 } else { best })
}

/// Population variance, compensated (Welford with Kahan sums).
fn variance(points: &[Point]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Sorts NaN first, then ascending (Prometheus's `vectorByValueHeap` order).
pub(super) fn sort_nan_first(v: &mut [f64]) {
    v.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.total_cmp(b),
    });
}

/// The φ-quantile of `values` by linear interpolation between closest ranks; `-Inf`/`+Inf`
/// for φ outside `[0, 1]`, NaN for no values or φ NaN.
pub(super) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    sort_nan_first(values);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// `mad_over_time`: median absolute deviation from the median.
fn mad(points: &[Point]) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    if points.iter().any(|p| p.v.is_nan()) {
        return Some(f64::NAN);
    }
    let mut v: Vec<f64> = points.iter().map(|p| p.v).collect();
    let median = quantile(0.5, &mut v);
    v.iter_mut().for_each(|x| *x = (*x - median).abs());
    Some(quantile(0.5, &mut v))
}

/// `changes`: how often the value changed (NaN to NaN is no change).
fn changes(points: &[Point]) -> f64 {
    points
        .windows(2)
        .filter(|w| w[1].v != w[0].v && !(w[1].v.is_nan() && w[0].v.is_nan()))
        .count() as f64
}

/// `resets`: how often the value decreased.
fn resets(points: &[Point]) -> f64 {
    points.windows(2).filter(|w| w[1].v < w[0].v).count() as f64
}

/// Least-squares slope and intercept (at `intercept_t`), with times in seconds from
/// `intercept_t`. A constant series has slope 0.
pub(super) fn linear_regression(points: &[Point], intercept_t: i64) -> (f64, f64) {
    let init_y = points[0].v;
    let mut const_y = true;
    let (mut n, mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    for (i, p) in points.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(p.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * p.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

/// `rate`, `increase` and `delta`: the change over the window, corrected for counter resets
/// and extrapolated towards the window's edges as Prometheus does.
fn extrapolated_rate(w: &Window<'_>, is_counter: bool, is_rate: bool) -> Option<f64> {
    if let Some(e) = w.extended {
        return extended_rate(w, e == Extended::Smoothed, is_counter, is_rate);
    }
    let pts = w.points;
    if pts.len() < 2 {
        return None;
    }
    let (first, last) = (pts[0], pts[pts.len() - 1]);
    let mut result = last.v - first.v;
    if is_counter && w.may_reset {
        for pair in pts.windows(2) {
            if pair[1].v < pair[0].v {
                result += pair[0].v;
            }
        }
    }
    let mut to_start = (first.t - w.start) as f64 / 1000.0;
    let mut to_end = (w.end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg_gap = sampled / (pts.len() - 1) as f64;
    let threshold = avg_gap * 1.1;
    if to_start >= threshold {
        to_start = avg_gap / 2.0;
    }
    if is_counter {
        let mut to_zero = to_start;
        if result > 0.0 && first.v >= 0.0 {
            to_zero = sampled * (first.v / result);
        }
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg_gap / 2.0;
    }
    let mut factor = if sampled != 0.0 {
        (sampled + to_start + to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= w.range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `rate`, `increase` and `delta` over an anchored or smoothed window: the change between
/// the values at the window's edges, with counter resets added back, and no extrapolation.
fn extended_rate(w: &Window<'_>, smoothed: bool, is_counter: bool, is_rate: bool) -> Option<f64> {
    let f = w.points;
    let (mut first, mut last) = edge_indices(f, w.start, w.end, smoothed)?;
    let left = edge_left(f, first, w.start, smoothed, is_counter);
    let right = edge_right(f, last, w.end, smoothed, is_counter);
    let mut result = right - left;
    if is_counter {
        if f[first].t <= w.start {
            first += 1;
        }
        let inner = if f[last].t >= w.end {
            last.checked_sub(1)
        } else {
            Some(last)
        };
        let mut prev = left;
        if let Some(l) = inner {
            last = l;
            for p in f.get(first..=last).unwrap_or_default() {
                if p.v < prev {
                    result += prev;
                }
                prev = p.v;
            }
        }
        if right < prev {
            result += prev;
        }
    }
    if is_rate {
        result /= w.range_ms as f64 / 1000.0;
    }
    Some(result)
}

/// The points `resets` and `changes` look at: with `anchored`, from the last sample at or
/// before the window's start; `None` when no sample lies inside the window.
fn anchored_points<'p>(w: &Window<'p>) -> Option<&'p [Point]> {
    if w.extended != Some(Extended::Anchored) {
        return Some(w.points);
    }
    let after = w.points.partition_point(|p| p.t <= w.start);
    if after >= w.points.len() {
        return None;
    }
    Some(&w.points[after.saturating_sub(1)..])
}

/// The functions each extended modifier allows, sorted as Prometheus lists them.
pub(super) fn allowed_with(e: Extended) -> &'static [&'static str] {
    match e {
        Extended::Anchored => &["changes", "delta", "increase", "rate", "resets"],
        Extended::Smoothed => &["delta", "increase", "rate"],
    }
}

/// `irate` and `idelta`: from the last two samples.
fn instant_value(w: &Window<'_>, is_rate: bool) -> Option<f64> {
    let n = w.points.len();
    if n < 2 {
        return None;
    }
    let (prev, last) = (w.points[n - 2], w.points[n - 1]);
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    let mut v = last.v;
    if !is_rate || last.v >= prev.v || last.v.is_nan() || prev.v.is_nan() {
        v = last.v - prev.v;
    }
    if is_rate {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

/// `double_exponential_smoothing(v, sf, tf)` (Holt's linear method).
fn double_exponential_smoothing(w: &Window<'_>) -> Option<f64> {
    let (sf, tf) = (*w.args.first()?, *w.args.get(1)?);
    let pts = w.points;
    if pts.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, pts[0].v);
    let mut b = pts[1].v - pts[0].v;
    for (i, p) in pts.iter().enumerate().skip(1) {
        let x = sf * p.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}
