//! What `promlet query` and `query-range` print: a table, or the API's JSON; and the reader
//! of a server's JSON answer.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::{Context, Result, anyhow, bail};
use exporter::api::json::format_float;
use exporter::api::time::{ApiTime, format_rfc3339_nanos};
use model::Labels;
use query::engine::{Point, Sample, Series, Value};
use serde_json::Value as Json;

use crate::args::OutputFormat;

/// A query's answer, from a server or evaluated here.
pub(crate) struct Answer {
    /// The API's JSON text, printed verbatim for `--format json`.
    pub(crate) json: String,
    /// The result.
    pub(crate) value: Value,
    /// `PromQL warning: ...` and other warnings.
    pub(crate) warnings: Vec<String>,
    /// Infos.
    pub(crate) infos: Vec<String>,
}

/// Prints `answer` to stdout; a table's warnings and infos go to stderr.
pub(crate) fn print(answer: &Answer, format: OutputFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", answer.json)?,
        OutputFormat::Table => {
            for w in &answer.warnings {
                eprintln!("warning: {w}");
            }
            for i in &answer.infos {
                eprintln!("info: {i}");
            }
            out.write_all(table(&answer.value).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The table for a result: a scalar or string alone; a vector as SERIES and VALUE; a matrix
/// as SERIES, TIME (RFC 3339, UTC) and VALUE, one row per point, the series named on its
/// first row. Empty results print nothing.
pub(crate) fn table(value: &Value) -> String {
    match value {
        Value::Scalar { v, .. } => format!("{}\n", format_float(*v)),
        Value::String { v, .. } => format!("{v}\n"),
        Value::Vector(samples) => {
            let rows: Vec<[String; 2]> = samples
                .iter()
                .map(|s| [s.metric.to_string(), format_float(s.v)])
                .collect();
            render(["SERIES", "VALUE"], &rows)
        }
        Value::Matrix(series) => {
            let mut rows: Vec<[String; 3]> = Vec::new();
            for s in series {
                for (i, p) in s.points.iter().enumerate() {
                    let name = if i == 0 {
                        s.metric.to_string()
                    } else {
                        String::new()
                    };
                    let time = format_rfc3339_nanos(ApiTime::from_millis(p.t));
                    rows.push([name, time, format_float(p.v)]);
                }
            }
            render(["SERIES", "TIME", "VALUE"], &rows)
        }
    }
}

/// Left-aligned columns two spaces apart, the last column unpadded.
fn render<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<w$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}

/// An error answer of the API: `ERRORTYPE: MESSAGE`.
#[derive(Debug)]
pub(crate) struct ServerError(String);

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerError {}

/// Reads a Prometheus API answer. An error answer is an error `ERRORTYPE: MESSAGE`.
///
/// # Errors
/// Not JSON, not Prometheus's shape, or an error answer.
pub(crate) fn decode(body: &str) -> Result<Answer> {
    let j: Json = serde_json::from_str(body).context("the answer is not JSON")?;
    if j["status"] == "error" {
        return Err(ServerError(format!(
            "{}: {}",
            j["errorType"].as_str().unwrap_or("error"),
            j["error"].as_str().unwrap_or("")
        ))
        .into());
    }
    if j["status"] != "success" {
        bail!("the answer has no \"status\": \"success\"");
    }
    let data = &j["data"];
    let result = &data["result"];
    let value = match data["resultType"].as_str() {
        Some("scalar") => {
            let (t, v) = pair(result)?;
            Value::Scalar { t, v: float(v)? }
        }
        Some("string") => {
            let (t, v) = pair(result)?;
            Value::String {
                t,
                v: v.as_str().unwrap_or_default().to_string(),
            }
        }
        Some("vector") => Value::Vector(list(result, sample)?),
        Some("matrix") => Value::Matrix(list(result, series)?),
        other => bail!("unknown resultType {other:?}"),
    };
    Ok(Answer {
        json: body.trim_end().to_string(),
        value,
        warnings: strings(&j["warnings"]),
        infos: strings(&j["infos"]),
    })
}

fn strings(j: &Json) -> Vec<String> {
    j.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn list<T>(j: &Json, each: fn(&Json) -> Result<Option<T>>) -> Result<Vec<T>> {
    let items = j
        .as_array()
        .ok_or_else(|| anyhow!("result is not a list"))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.extend(each(item)?);
    }
    Ok(out)
}

/// A vector element; native-histogram samples (no `value`) are left out.
fn sample(j: &Json) -> Result<Option<Sample>> {
    if j.get("value").is_none() {
        return Ok(None);
    }
    let (t, v) = pair(&j["value"])?;
    Ok(Some(Sample {
        metric: labels(&j["metric"])?,
        t,
        v: float(v)?,
    }))
}

/// A matrix element; a series with only native-histogram points is left out.
fn series(j: &Json) -> Result<Option<Series>> {
    let Some(values) = j.get("values") else {
        return Ok(None);
    };
    let mut points = Vec::new();
    for p in values.as_array().into_iter().flatten() {
        let (t, v) = pair(p)?;
        points.push(Point { t, v: float(v)? });
    }
    Ok(Some(Series {
        metric: labels(&j["metric"])?,
        points,
    }))
}

fn labels(j: &Json) -> Result<Labels> {
    let obj = j
        .as_object()
        .ok_or_else(|| anyhow!("metric is not an object"))?;
    let pairs: Vec<(&str, &str)> = obj
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()))
        .collect();
    Labels::from_pairs(&pairs).map_err(|e| anyhow!("metric: {e}"))
}

/// `[seconds, x]` with the time in ms.
fn pair(j: &Json) -> Result<(i64, &Json)> {
    let secs = j[0]
        .as_f64()
        .ok_or_else(|| anyhow!("expected [time, value], got {j}"))?;
    Ok(((secs * 1000.0).round() as i64, &j[1]))
}

/// A value string: a number, `NaN`, `+Inf`, `-Inf`.
fn float(j: &Json) -> Result<f64> {
    let s = j
        .as_str()
        .ok_or_else(|| anyhow!("value {j} is not a string"))?;
    s.parse()
        .map_err(|_| anyhow!("value {s:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_the_api_writes() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1700000000.500,"+Inf"]}]},"warnings":["w"]}"#;
        let a = decode(body).unwrap();
        assert_eq!(a.warnings, ["w"]);
        let Value::Vector(v) = &a.value else {
            panic!("{:?}", a.value)
        };
        assert_eq!(v[0].t, 1_700_000_000_500);
        assert_eq!(v[0].v, f64::INFINITY);
        assert_eq!(v[0].metric.to_string(), r#"up{job="a"}"#);
        let m = decode(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1e-07"],[2,"NaN"]]}]}}"#).unwrap();
        let Value::Matrix(m) = &m.value else { panic!() };
        assert_eq!(m[0].points[0], Point { t: 1000, v: 1e-7 });
        assert!(m[0].points[1].v.is_nan());
        let e = decode(r#"{"status":"error","errorType":"bad_data","error":"boom"}"#);
        assert_eq!(e.err().unwrap().to_string(), "bad_data: boom");
    }

    #[test]
    fn tables_align_columns() {
        let l = |j: &str| Labels::from_pairs(&[("__name__", "up"), ("job", j)]).unwrap();
        let v = Value::Vector(vec![
            Sample {
                metric: l("a"),
                t: 0,
                v: 1.0,
            },
            Sample {
                metric: l("long"),
                t: 0,
                v: f64::NAN,
            },
        ]);
        assert_eq!(
            table(&v),
            "SERIES          VALUE\nup{job=\"a\"}     1\nup{job=\"long\"}  NaN\n"
        );
        let m = Value::Matrix(vec![Series {
            metric: l("a"),
            points: vec![Point { t: 0, v: 0.5 }, Point { t: 15_500, v: 1.0 }],
        }]);
        assert_eq!(
            table(&m),
            "SERIES       TIME                    VALUE\n\
             up{job=\"a\"}  1970-01-01T00:00:00Z    0.5\n\
             \x20            1970-01-01T00:00:15.5Z  1\n"
        );
        assert_eq!(
            table(&Value::Scalar { t: 0, v: 1e21 }),
            "1000000000000000000000\n"
        );
        assert_eq!(table(&Value::Vector(vec![])), "");
    }
}
