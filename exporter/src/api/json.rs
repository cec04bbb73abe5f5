//! Prometheus's API JSON, written by hand to match its encoder byte for byte
//! (`web/api/v1/json_codec.go`, `util/jsonutil/marshal.go`, `promql/value.go`):
//! * sample values are strings: `strconv.FormatFloat(v, 'f', -1, 64)`, switching to `'e'`
//!   below 1e-6 and from 1e21 (`"1e-07"`, `"1e+21"`), and `"NaN"`, `"+Inf"`, `"-Inf"`;
//! * sample timestamps are numbers of seconds with exactly the milliseconds written
//!   (`1435781451.781`, `1.500`, `7`);
//! * scalar and string results are `[t, "v"]` with `t` a Go float (`1.5`), a scalar's value
//!   always in `'f'` form;
//! * strings are escaped as jsoniter's standard-library mode does (`<`, `>`, `&`, U+2028 and
//!   U+2029 as `\uXXXX`).

use std::fmt::Write;

use model::Labels;
use query::engine::{Point, Sample, Series, Value};

/// Appends `s` as a JSON string.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that read back as `v`,
/// never an exponent; `NaN`, `+Inf`, `-Inf`.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// A sample value as Prometheus's API writes it (without the quotes): `'f'` form, but `'e'`
/// form with a two-digit-minimum exponent when `0 < |v| < 1e-6` or `|v| >= 1e21`.
pub fn format_value(v: f64) -> String {
    let abs = v.abs();
    if !v.is_finite() || abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format_float(v);
    }
    let e = format!("{v:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Appends a sample timestamp: seconds, then `.` and three digits when the milliseconds are
/// not zero (`jsonutil.MarshalTimestamp`).
pub(crate) fn write_timestamp(out: &mut String, t_ms: i64) {
    if t_ms < 0 {
        out.push('-');
    }
    let abs = t_ms.unsigned_abs();
    let _ = write!(out, "{}", abs / 1000);
    let frac = abs % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// Appends a scalar or string result's timestamp: Go's JSON encoding of `float64(t)/1000`.
fn write_float_seconds(out: &mut String, t_ms: i64) {
    let _ = write!(out, "{}", t_ms as f64 / 1000.0);
}

/// Appends `[t, "v"]` for one float sample.
fn write_point(out: &mut String, t_ms: i64, v: f64) {
    out.push('[');
    write_timestamp(out, t_ms);
    out.push_str(",\"");
    out.push_str(&format_value(v));
    out.push_str("\"]");
}

/// Appends a label set as an object, in label order.
pub(crate) fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, &l.name);
        out.push(':');
        write_str(out, &l.value);
    }
    out.push('}');
}

fn write_sample(out: &mut String, s: &Sample) {
    out.push_str("{\"metric\":");
    write_labels(out, &s.metric);
    out.push_str(",\"value\":");
    write_point(out, s.t, s.v);
    out.push('}');
}

/// A series with no points has no `values` key, as in Prometheus.
fn write_series(out: &mut String, s: &Series) {
    out.push_str("{\"metric\":");
    write_labels(out, &s.metric);
    if !s.points.is_empty() {
        out.push_str(",\"values\":[");
        for (i, Point { t, v }) in s.points.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_point(out, *t, *v);
        }
        out.push(']');
    }
    out.push('}');
}

/// Appends a query result's `result` member value.
fn write_result(out: &mut String, value: &Value) {
    match value {
        Value::Scalar { t, v } => {
            out.push('[');
            write_float_seconds(out, *t);
            out.push(',');
            write_str(out, &format_float(*v));
            out.push(']');
        }
        Value::String { t, v } => {
            out.push('[');
            write_float_seconds(out, *t);
            out.push(',');
            write_str(out, v);
            out.push(']');
        }
        Value::Vector(samples) => write_list(out, samples, write_sample),
        Value::Matrix(series) => write_list(out, series, write_series),
    }
}

fn write_list<T>(out: &mut String, items: &[T], each: fn(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

/// The `data` of a query answer: `{"resultType":"vector","result":[...]}`.
pub(crate) fn query_data(value: &Value) -> String {
    let mut out = String::with_capacity(64);
    out.push_str("{\"resultType\":");
    write_str(&mut out, value.type_name());
    out.push_str(",\"result\":");
    write_result(&mut out, value);
    out.push('}');
    out
}

/// A JSON array of strings.
pub(crate) fn string_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::with_capacity(16 * items.len() + 2);
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, s.as_ref());
    }
    out.push(']');
    out
}

/// A JSON array of label sets (the `/api/v1/series` answer).
pub(crate) fn labels_list(items: &[Labels]) -> String {
    let mut out = String::with_capacity(64 * items.len() + 2);
    write_list(&mut out, items, write_labels);
    out
}

/// The success envelope around raw JSON `data`: `warnings` and `infos` appear only when not
/// empty (Go's `omitempty`).
pub(crate) fn success(data: &str, warnings: &[String], infos: &[String]) -> String {
    let mut out = String::with_capacity(data.len() + 40);
    out.push_str("{\"status\":\"success\",\"data\":");
    out.push_str(data);
    if !warnings.is_empty() {
        out.push_str(",\"warnings\":");
        out.push_str(&string_list(warnings));
    }
    if !infos.is_empty() {
        out.push_str(",\"infos\":");
        out.push_str(&string_list(infos));
    }
    out.push('}');
    out
}

/// The error envelope: `{"status":"error","errorType":"...","error":"..."}`.
pub(crate) fn error(error_type: &str, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 60);
    out.push_str("{\"status\":\"error\",\"errorType\":");
    write_str(&mut out, error_type);
    out.push_str(",\"error\":");
    write_str(&mut out, message);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_format_as_prometheus() {
        for (v, want) in [
            (0.1, "0.1"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e-7, "1e-07"),
            (1.5e-10, "1.5e-10"),
            (1e-6, "0.000001"),
            (123456789.0, "123456789"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.30000000000000004, "0.30000000000000004"),
        ] {
            assert_eq!(format_value(v), want, "{v:e}");
        }
        assert_eq!(format_float(1e-7), "0.0000001");
        assert_eq!(format_float(1e21), "1000000000000000000000");
    }

    #[test]
    fn timestamps_keep_milliseconds() {
        for (t, want) in [
            (1_435_781_451_781, "1435781451.781"),
            (1500, "1.500"),
            (1050, "1.050"),
            (1005, "1.005"),
            (7000, "7"),
            (0, "0"),
            (-1500, "-1.500"),
            (i64::MIN, "-9223372036854775.808"),
        ] {
            let mut s = String::new();
            write_timestamp(&mut s, t);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn strings_escape_as_jsoniter() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\n<&>\u{1}\u{2028}é");
        assert_eq!(s, r#""a\"b\\c\n\u003c\u0026\u003e\u0001\u2028é""#);
    }

    #[test]
    fn results_have_prometheus_shapes() {
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", "a")]).unwrap();
        let vector = Value::Vector(vec![Sample {
            metric: l.clone(),
            t: 1500,
            v: 1.0,
        }]);
        assert_eq!(
            query_data(&vector),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1.500,"1"]}]}"#
        );
        let matrix = Value::Matrix(vec![
            Series {
                metric: l.clone(),
                points: vec![Point { t: 1000, v: 0.5 }, Point { t: 2001, v: 1e300 }],
            },
            Series {
                metric: l,
                points: vec![],
            },
        ]);
        assert_eq!(
            query_data(&matrix),
            r#"{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[1,"0.5"],[2.001,"1e+300"]]},{"metric":{"__name__":"up","job":"a"}}]}"#
        );
        let scalar = Value::Scalar { t: 1500, v: 1e-7 };
        assert_eq!(
            query_data(&scalar),
            r#"{"resultType":"scalar","result":[1.5,"0.0000001"]}"#
        );
        let string = Value::String {
            t: 2000,
            v: "x<y".into(),
        };
        assert_eq!(
            query_data(&string),
            r#"{"resultType":"string","result":[2,"x\u003cy"]}"#
        );
    }

    #[test]
    fn envelopes_omit_empty_annotations() {
        assert_eq!(success("[]", &[], &[]), r#"{"status":"success","data":[]}"#);
        assert_eq!(
            success("1", &["w".into()], &["i".into()]),
            r#"{"status":"success","data":1,"warnings":["w"],"infos":["i"]}"#
        );
        assert_eq!(
            error("bad_data", "x \"y\""),
            r#"{"status":"error","errorType":"bad_data","error":"x \"y\""}"#
        );
    }
}
