//! Reading API answers into a comparable form and finding the first difference between two.
//!
//! Values are equal when both are NaN, both are the same infinity, or they differ by at most a
//! relative 1e-9. Vectors compare as sets of label sets unless the query defines an order
//! (`sort`, `sort_desc`); matrices compare series by series, sorted by labels, with exactly the
//! same timestamps.

use std::collections::BTreeMap;
use std::fmt;

use crate::json::{self, Json};

/// The relative tolerance for sample values.
const REL_TOL: f64 = 1e-9;

pub(crate) type Labels = BTreeMap<String, String>;

/// An API answer, normalised.
#[derive(Debug)]
pub(crate) enum Answer {
    /// `status: error` (the message is shown, not compared).
    Error {
        kind: String,
        msg: String,
    },
    Scalar(i64, f64),
    Str(i64, String),
    /// Samples in answer order.
    Vector(Vec<(Labels, i64, f64)>),
    /// Series sorted by labels, points in time order.
    Matrix(Vec<(Labels, Vec<(i64, f64)>)>),
    /// `/api/v1/series`: label sets, sorted.
    Series(Vec<Labels>),
    /// `/api/v1/labels`, `/api/v1/label/<name>/values`: strings in answer order.
    Strings(Vec<String>),
}

impl Answer {
    fn kind(&self) -> &'static str {
        match self {
            Answer::Error { .. } => "error",
            Answer::Scalar(..) => "scalar",
            Answer::Str(..) => "string",
            Answer::Vector(_) => "vector",
            Answer::Matrix(_) => "matrix",
            Answer::Series(_) => "series list",
            Answer::Strings(_) => "string list",
        }
    }
}

/// Reads a sample value as the API writes it (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`).
pub(crate) fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

pub(crate) fn values_equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    a.is_finite() && b.is_finite() && (a - b).abs() <= REL_TOL * a.abs().max(b.abs())
}

fn labels_of(j: &Json) -> Result<Labels, String> {
    j.as_obj()
        .ok_or("metric is not an object")?
        .iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|v| (k.clone(), v.to_string()))
                .ok_or_else(|| format!("label {k} is not a string"))
        })
        .collect()
}

fn point_of(j: &Json) -> Result<(i64, f64), String> {
    let pair = j.as_arr().ok_or("a point is not an array")?;
    let [t, v] = pair else {
        return Err(format!("a point has {} elements", pair.len()));
    };
    let t = t.as_millis().ok_or("a point's time is not a number")?;
    let v = v.as_str().ok_or("a point's value is not a string")?;
    let v = parse_value(v).ok_or_else(|| format!("bad value {v:?}"))?;
    Ok((t, v))
}

/// Reads a `/api/v1/query`, `query_range`, `series`, `labels` or `label/../values` answer.
pub(crate) fn parse_answer(body: &str) -> Result<Answer, String> {
    let doc = json::parse(body).map_err(|e| e.to_string())?;
    let status = doc
        .get("status")
        .and_then(Json::as_str)
        .ok_or("no status")?;
    if status != "success" {
        let kind = doc.get("errorType").and_then(Json::as_str).unwrap_or("?");
        let msg = doc.get("error").and_then(Json::as_str).unwrap_or("?");
        return Ok(Answer::Error {
            kind: kind.into(),
            msg: msg.into(),
        });
    }
    let data = doc.get("data").ok_or("no data")?;
    if let Some(items) = data.as_arr() {
        // series (objects) or labels / label values (strings)
        if items.iter().all(|i| i.as_str().is_some()) {
            let strings = items.iter().filter_map(Json::as_str).map(String::from);
            return Ok(Answer::Strings(strings.collect()));
        }
        let mut sets = items.iter().map(labels_of).collect::<Result<Vec<_>, _>>()?;
        sets.sort();
        return Ok(Answer::Series(sets));
    }
    let kind = data
        .get("resultType")
        .and_then(Json::as_str)
        .ok_or("no resultType")?;
    let result = data.get("result").ok_or("no result")?;
    match kind {
        "scalar" => {
            let (t, v) = point_of(result)?;
            Ok(Answer::Scalar(t, v))
        }
        "string" => {
            let pair = result.as_arr().ok_or("string result is not an array")?;
            let t = pair
                .first()
                .and_then(Json::as_millis)
                .ok_or("string time")?;
            let s = pair.get(1).and_then(Json::as_str).ok_or("string value")?;
            Ok(Answer::Str(t, s.into()))
        }
        "vector" => {
            let samples = result.as_arr().ok_or("vector result is not an array")?;
            let samples = samples
                .iter()
                .map(|s| {
                    let labels = labels_of(s.get("metric").ok_or("sample without metric")?)?;
                    let (t, v) = point_of(s.get("value").ok_or("sample without value")?)?;
                    Ok((labels, t, v))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Answer::Vector(samples))
        }
        "matrix" => {
            let series = result.as_arr().ok_or("matrix result is not an array")?;
            let mut series = series
                .iter()
                .map(|s| {
                    let labels = labels_of(s.get("metric").ok_or("series without metric")?)?;
                    let values = match s.get("values") {
                        Some(v) => v.as_arr().ok_or("values is not an array")?,
                        None => &[],
                    };
                    let points = values.iter().map(point_of).collect::<Result<Vec<_>, _>>()?;
                    Ok((labels, points))
                })
                .collect::<Result<Vec<_>, String>>()?;
            series.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Answer::Matrix(series))
        }
        other => Err(format!("unknown resultType {other}")),
    }
}

/// Labels in PromQL's notation, for messages.
pub(crate) struct Show<'a>(pub(crate) &'a Labels);

impl fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.0.get("__name__").map(String::as_str).unwrap_or("");
        write!(f, "{name}{{")?;
        let mut first = true;
        for (k, v) in self.0.iter().filter(|(k, _)| *k != "__name__") {
            if !first {
                write!(f, ", ")?;
            }
            first = false;
            write!(f, "{k}={v:?}")?;
        }
        write!(f, "}}")
    }
}

/// The first difference between promlet's answer `ours` and Prometheus's `theirs`, or `None`
/// when they agree. `ordered`: a vector's order counts.
pub(crate) fn first_difference(ours: &Answer, theirs: &Answer, ordered: bool) -> Option<String> {
    use Answer::*;
    match (ours, theirs) {
        (Error { kind: a, .. }, Error { kind: b, .. }) => {
            (a != b).then(|| format!("errorType: promlet {a}, Prometheus {b}"))
        }
        (Scalar(ta, va), Scalar(tb, vb)) => point_difference("scalar", (*ta, *va), (*tb, *vb)),
        (Str(ta, a), Str(tb, b)) => (ta != tb || a != b)
            .then(|| format!("string: promlet {a:?}@{ta}, Prometheus {b:?}@{tb}")),
        (Vector(a), Vector(b)) => vector_difference(a, b, ordered),
        (Matrix(a), Matrix(b)) => matrix_difference(a, b),
        (Series(a), Series(b)) => set_difference(a, b),
        (Strings(a), Strings(b)) => (a != b).then(|| {
            let only_ours: Vec<_> = a.iter().filter(|x| !b.contains(x)).collect();
            let only_theirs: Vec<_> = b.iter().filter(|x| !a.contains(x)).collect();
            format!(
                "lists differ: only in promlet {only_ours:?}, only in Prometheus {only_theirs:?} \
                 (lengths {} and {})",
                a.len(),
                b.len()
            )
        }),
        _ => Some(format!(
            "result kinds differ: promlet {}, Prometheus {}",
            ours.kind(),
            theirs.kind()
        )),
    }
}

fn point_difference(what: &str, a: (i64, f64), b: (i64, f64)) -> Option<String> {
    if a.0 != b.0 {
        return Some(format!(
            "{what}: timestamps differ: promlet {} ms, Prometheus {} ms",
            a.0, b.0
        ));
    }
    (!values_equal(a.1, b.1)).then(|| {
        format!(
            "{what} at {} ms: promlet {:?}, Prometheus {:?}",
            a.0, a.1, b.1
        )
    })
}

fn vector_difference(
    a: &[(Labels, i64, f64)],
    b: &[(Labels, i64, f64)],
    ordered: bool,
) -> Option<String> {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    if !ordered {
        a.sort_by(|x, y| x.0.cmp(&y.0));
        b.sort_by(|x, y| x.0.cmp(&y.0));
        let la: Vec<Labels> = a.iter().map(|s| s.0.clone()).collect();
        let lb: Vec<Labels> = b.iter().map(|s| s.0.clone()).collect();
        if let Some(d) = set_difference(&la, &lb) {
            return Some(d);
        }
    }
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if x.0 != y.0 {
            return Some(format!(
                "sample {i} (order matters here): promlet {}, Prometheus {}",
                Show(&x.0),
                Show(&y.0)
            ));
        }
        if let Some(d) = point_difference(&Show(&x.0).to_string(), (x.1, x.2), (y.1, y.2)) {
            return Some(d);
        }
    }
    (a.len() != b.len())
        .then(|| format!("{} samples in promlet, {} in Prometheus", a.len(), b.len()))
}

fn set_difference(a: &[Labels], b: &[Labels]) -> Option<String> {
    if a == b {
        return None;
    }
    let only_a: Vec<_> = a.iter().filter(|x| !b.contains(x)).collect();
    let only_b: Vec<_> = b.iter().filter(|x| !a.contains(x)).collect();
    let show = |v: &[&Labels]| {
        let mut s: Vec<String> = v.iter().take(3).map(|l| Show(l).to_string()).collect();
        if v.len() > 3 {
            s.push(format!("... {} more", v.len() - 3));
        }
        s.join("; ")
    };
    Some(format!(
        "label sets differ ({} in promlet, {} in Prometheus): only in promlet: [{}]; \
         only in Prometheus: [{}]",
        a.len(),
        b.len(),
        show(&only_a),
        show(&only_b)
    ))
}

fn matrix_difference(
    a: &[(Labels, Vec<(i64, f64)>)],
    b: &[(Labels, Vec<(i64, f64)>)],
) -> Option<String> {
    let la: Vec<Labels> = a.iter().map(|s| s.0.clone()).collect();
    let lb: Vec<Labels> = b.iter().map(|s| s.0.clone()).collect();
    if let Some(d) = set_difference(&la, &lb) {
        return Some(d);
    }
    for ((labels, pa), (_, pb)) in a.iter().zip(b) {
        let name = Show(labels).to_string();
        for (x, y) in pa.iter().zip(pb) {
            if let Some(d) = point_difference(&name, *x, *y) {
                return Some(d);
            }
        }
        if pa.len() != pb.len() {
            let (longer, who, n) = if pa.len() > pb.len() {
                (pa, "promlet", pb.len())
            } else {
                (pb, "Prometheus", pa.len())
            };
            return Some(format!(
                "{name}: {} points in promlet, {} in Prometheus; {who} has more from {} ms",
                pa.len(),
                pb.len(),
                longer[n].0
            ));
        }
    }
    None
}

#[test]
fn differences_are_found_and_named() {
    let a = parse_answer(
        r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"a":"1"},"value":[10,"1"]},{"metric":{"a":"2"},"value":[10,"NaN"]}]}}"#,
    )
    .unwrap();
    let b = parse_answer(
        r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"a":"2"},"value":[10,"NaN"]},{"metric":{"a":"1"},"value":[10,"1.0000000000001"]}]}}"#,
    )
    .unwrap();
    assert_eq!(first_difference(&a, &b, false), None);
    assert!(
        first_difference(&a, &b, true)
            .unwrap()
            .contains("order matters")
    );
    let c = parse_answer(
        r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"a":"1"},"values":[[10,"1"],[70,"+Inf"]]}]}}"#,
    )
    .unwrap();
    let d = parse_answer(
        r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"a":"1"},"values":[[10,"1"],[70,"2"]]}]}}"#,
    )
    .unwrap();
    assert!(
        first_difference(&c, &d, false)
            .unwrap()
            .contains("70000 ms")
    );
    assert!(
        first_difference(&a, &c, false)
            .unwrap()
            .contains("kinds differ")
    );
    assert!(!values_equal(0.0, 1e-300));
    assert!(values_equal(f64::INFINITY, f64::INFINITY));
    assert!(!values_equal(f64::INFINITY, f64::NEG_INFINITY));
}
