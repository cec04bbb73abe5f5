//! Comparing a query's value with an eval's expectation (§8 of the format specification):
//! `almost.Equal` floats, label sets matched exactly, matrices sorted by Go's
//! `labels.Compare`, `_` as "no point", and "ordered" vectors.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use model::Labels;

use super::super::{ExpectedResult, ExpectedSeries, Value as Expect};
use super::HISTOGRAMS;
use crate::engine::{Point, Sample, Series, Value};

/// `defaultEpsilon` of the Go runner: relative tolerance of float comparisons.
const EPSILON: f64 = 1e-6;

/// Where the values of an expected series line lie in time: value `k` at
/// `start_ms + k * step_ms`, none after `end_ms`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    /// Timestamp of the first value, ms.
    pub(super) start_ms: i64,
    /// Last allowed timestamp, ms; `None` (an instant eval without `expect range vector`)
    /// allows no values at all.
    pub(super) end_ms: Option<i64>,
    /// Gap between values, ms.
    pub(super) step_ms: i64,
}

/// The expectation a value is compared with.
pub(super) struct Expected<'a> {
    /// The expected result lines.
    pub(super) result: &'a ExpectedResult,
    /// `expect ordered`: vector samples must come in line order.
    pub(super) ordered: bool,
    /// Timestamps of matrix values.
    pub(super) window: Window,
}

impl Expected<'_> {
    /// The expected series lines (none for a scalar or string expectation).
    fn series(&self) -> &[ExpectedSeries] {
        match self.result {
            ExpectedResult::Series(s) => s,
            _ => &[],
        }
    }

    /// The series lines by label set.
    fn by_labels(&self) -> HashMap<&Labels, &ExpectedSeries> {
        self.series().iter().map(|s| (&s.labels, s)).collect()
    }
}

/// `almost.Equal(a, b, 1e-6)`: stale markers equal only each other, any other NaN equals any
/// NaN, and otherwise the difference relative to `|a| + |b|` must be below `1e-6` (exactly
/// equal when either side is 0 or both are subnormal).
pub(super) fn almost_equal(a: f64, b: f64) -> bool {
    let (sa, sb) = (model::is_stale_nan(a), model::is_stale_nan(b));
    if sa || sb {
        return sa && sb;
    }
    crate::gofmt::almost_equal(a, b, EPSILON)
}

/// Go's `labels.Compare`: at the first differing label compare the names, then the values,
/// byte-wise; when one set is a prefix of the other the shorter sorts first.
pub(super) fn labels_cmp(a: &Labels, b: &Labels) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let by_name = x.name.as_bytes().cmp(y.name.as_bytes());
        if by_name != Ordering::Equal {
            return by_name;
        }
        let by_value = x.value.as_bytes().cmp(y.value.as_bytes());
        if by_value != Ordering::Equal {
            return by_value;
        }
    }
    a.len().cmp(&b.len())
}

/// A matrix must be sorted by label set.
pub(super) fn check_sorted(series: &[Series]) -> Result<(), String> {
    for (i, pair) in series.windows(2).enumerate() {
        if labels_cmp(&pair[0].metric, &pair[1].metric) == Ordering::Greater {
            return Err(format!(
                "matrix results should always be sorted by labels, but series at index {} with labels {} sorts before series at index {i} with labels {}",
                i + 1,
                pair[1].metric,
                pair[0].metric
            ));
        }
    }
    Ok(())
}

/// Compares a query's value with the expectation; `Err` says what differs.
pub(super) fn compare(exp: &Expected<'_>, got: &Value) -> Result<(), String> {
    match got {
        Value::Matrix(series) => compare_matrix(exp, series),
        Value::Vector(samples) => compare_vector(exp, samples),
        Value::Scalar { v, .. } => match exp.result {
            ExpectedResult::Scalar(e) if almost_equal(*e, *v) => Ok(()),
            ExpectedResult::Scalar(e) => Err(format!(
                "expected scalar {} but got {}",
                go_float(*e),
                go_float(*v)
            )),
            _ => Err(format!(
                "expected vector or matrix result, but got scalar {}",
                go_float(*v)
            )),
        },
        Value::String { v, .. } => {
            let e = match exp.result {
                ExpectedResult::String(s) => s.as_str(),
                _ => "",
            };
            if e == v {
                Ok(())
            } else {
                Err(format!("expected string {e:?} but got {v:?}"))
            }
        }
    }
}

/// §8.1: every series expected, values at their window timestamps, `_` = no point.
fn compare_matrix(exp: &Expected<'_>, series: &[Series]) -> Result<(), String> {
    if exp.ordered {
        return Err("expected ordered result, but query returned a matrix".to_string());
    }
    if matches!(exp.result, ExpectedResult::Scalar(_)) {
        return Err(format!(
            "expected scalar result, but got matrix {}",
            show_matrix(series)
        ));
    }
    check_sorted(series)?;
    let by_labels = exp.by_labels();
    let mut seen = HashSet::new();
    for s in series {
        let Some(e) = by_labels.get(&s.metric) else {
            return Err(format!(
                "unexpected metric {} in result, has {}",
                s.metric,
                show_points(&s.points)
            ));
        };
        seen.insert(&s.metric);
        compare_points(&exp.window, e, s)?;
    }
    match exp.series().iter().find(|e| !seen.contains(&e.labels)) {
        Some(e) => Err(format!("expected metric {} not found", e.labels)),
        None => Ok(()),
    }
}

/// The points of one matrix series against its expected line.
fn compare_points(w: &Window, e: &ExpectedSeries, s: &Series) -> Result<(), String> {
    let mut want = Vec::new();
    for (k, v) in e.values.iter().enumerate() {
        let t = i64::try_from(k)
            .ok()
            .and_then(|k| k.checked_mul(w.step_ms))
            .and_then(|d| d.checked_add(w.start_ms));
        let t = match (t, w.end_ms) {
            (Some(t), Some(end)) if t <= end => t,
            _ => {
                return Err(format!(
                    "expected {} points for {}, but query time range cannot return this many points",
                    e.values.len(),
                    e.labels
                ));
            }
        };
        match v {
            None => {}
            Some(Expect::Histogram(_)) => {
                return Err(format!("{HISTOGRAMS}: expected a histogram"));
            }
            Some(v) => want.push(Point {
                t,
                v: v.as_f64().unwrap_or(f64::NAN),
            }),
        }
    }
    if want.len() != s.points.len() {
        return Err(format!(
            "expected {} float points for {}, but got {}",
            want.len(),
            e.labels,
            show_points(&s.points)
        ));
    }
    for (i, (w, a)) in want.iter().zip(&s.points).enumerate() {
        if w.t != a.t {
            return Err(format!(
                "expected float value at index {i} for {} to have timestamp {}, but it had timestamp {} (result has {})",
                e.labels,
                w.t,
                a.t,
                show_points(&s.points)
            ));
        }
        if !almost_equal(w.v, a.v) {
            return Err(format!(
                "expected float value at index {i} (t={}) for {} to be {}, but got {} (result has {})",
                a.t,
                e.labels,
                go_float(w.v),
                go_float(a.v),
                show_points(&s.points)
            ));
        }
    }
    Ok(())
}

/// §8.2: every sample expected (in line order if ordered), first expected value compared.
fn compare_vector(exp: &Expected<'_>, samples: &[Sample]) -> Result<(), String> {
    if matches!(exp.result, ExpectedResult::Scalar(_)) {
        return Err(format!(
            "expected scalar result, but got vector {}",
            show_vector(samples)
        ));
    }
    let by_labels = exp.by_labels();
    let mut seen = HashSet::new();
    for (pos, s) in samples.iter().enumerate() {
        let Some(e) = by_labels.get(&s.metric) else {
            return Err(format!(
                "unexpected metric {} in result, has value {}",
                s.metric,
                go_float(s.v)
            ));
        };
        if exp.ordered && e.position != pos + 1 {
            return Err(format!(
                "expected metric {} with {} at position {} but was at {}",
                s.metric,
                show_expected(e),
                e.position,
                pos + 1
            ));
        }
        // An omitted first value (`_`) compares as 0, as in the Go runner.
        let want = match e.values.first() {
            None => return Err(format!("expected metric {} has no value", e.labels)),
            Some(Some(Expect::Histogram(_))) => {
                return Err(format!("{HISTOGRAMS}: expected a histogram"));
            }
            Some(v) => v.as_ref().and_then(Expect::as_f64).unwrap_or(0.0),
        };
        if !almost_equal(want, s.v) {
            return Err(format!(
                "expected {} for {} but got {}",
                go_float(want),
                s.metric,
                go_float(s.v)
            ));
        }
        seen.insert(&s.metric);
    }
    match exp.series().iter().find(|e| !seen.contains(&e.labels)) {
        Some(e) => Err(format!(
            "expected metric {} with {} not found",
            e.labels,
            show_expected(e)
        )),
        None => Ok(()),
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(v, 'g', -1, 64)`): the shortest digits that
/// read back exactly, in exponent form (`1e+06`, `1.5e-07`) when the decimal exponent is below
/// -4 or at least 6; `+Inf`, `-Inf`, `NaN`.
pub(super) fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{v:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return format!("{v}");
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        format!("{v}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// `[v @[t] …]`.
fn show_points(points: &[Point]) -> String {
    let shown: Vec<String> = points
        .iter()
        .map(|p| format!("{} @[{}]", go_float(p.v), p.t))
        .collect();
    format!("{} float points [{}]", points.len(), shown.join(" "))
}

/// `labels => v @[t]` per sample.
fn show_vector(samples: &[Sample]) -> String {
    let shown: Vec<String> = samples
        .iter()
        .map(|s| format!("{} => {} @[{}]", s.metric, go_float(s.v), s.t))
        .collect();
    format!("[{}]", shown.join(", "))
}

/// `labels => [points]` per series.
fn show_matrix(series: &[Series]) -> String {
    let shown: Vec<String> = series
        .iter()
        .map(|s| format!("{} => {}", s.metric, show_points(&s.points)))
        .collect();
    format!("[{}]", shown.join(", "))
}

/// The values of an expected line, `_` for omitted ones.
fn show_expected(e: &ExpectedSeries) -> String {
    let shown: Vec<String> = e
        .values
        .iter()
        .map(|v| match v {
            None => "_".to_string(),
            Some(Expect::Histogram(h)) => format!("{{{{{}}}}}", h.base),
            Some(Expect::Stale) => "stale".to_string(),
            Some(Expect::Float(f)) => go_float(*f),
        })
        .collect();
    format!("[{}]", shown.join(" "))
}
