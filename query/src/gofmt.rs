//! Go's text formatting where Prometheus's messages and labels depend on it, so promlet's
//! texts match byte for byte, and Prometheus's `util/almost` float comparison.

use std::fmt::Write;

use model::Labels;

/// Go's `strconv.Quote` (`%q`) for valid UTF-8: double quotes, `\"`, `\\`, `\n`, `\r`, `\t`
/// and other control characters as `\xNN`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote` of bytes that may not be UTF-8: as [`quote`], with each invalid
/// byte as `\xNN`.
pub fn quote_bytes(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in b.utf8_chunks() {
        let valid = quote(chunk.valid());
        out.push_str(&valid[1..valid.len() - 1]);
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out.push('"');
    out
}

/// Go's `%g` of a float64 at the shortest precision: `1e+06`, `0.0001`, `NaN`, `+Inf`.
pub fn format_g(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{x}")
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: no exponent, shortest round trip, `NaN`,
/// `+Inf`, `-Inf`.
pub fn format_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Go's `labels.Labels.String()`: `{a="b", c="d"}` with `__name__` as a plain label.
pub fn labels(l: &Labels) -> String {
    let inner: Vec<String> = l
        .iter()
        .map(|x| format!("{}={}", x.name, quote(&x.value)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// `util/almost.Equal`: equal within a relative `epsilon` (of `|a| + |b|`); NaN equals NaN;
/// when either side is 0 or both are tiny, only (nearly) exact equality counts.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_does() {
        assert_eq!(format_g(1e6), "1e+06");
        assert_eq!(format_g(123456.0), "123456");
        assert_eq!(format_g(0.0001), "0.0001");
        assert_eq!(format_g(0.00001), "1e-05");
        assert_eq!(format_g(-1.5), "-1.5");
        assert_eq!(format_g(f64::NAN), "NaN");
        assert_eq!(format_f(1e21), "1000000000000000000000");
        assert_eq!(format_f(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn quoting_and_labels() {
        assert_eq!(quote("a\"b\\\n"), r#""a\"b\\\n""#);
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", "x")]).unwrap();
        assert_eq!(labels(&l), r#"{__name__="up", job="x"}"#);
        assert_eq!(quote_bytes(b"a\xffz\""), r#""a\xffz\"""#);
    }

    #[test]
    fn almost_equal_is_relative_and_strict_at_zero() {
        assert!(almost_equal(1.0, 1.0 + 1e-9, 1e-6));
        assert!(!almost_equal(1.0, 1.0001, 1e-6));
        assert!(!almost_equal(0.0, 1e-17, 1e-6));
        assert!(almost_equal(f64::NAN, f64::NAN, 1e-6));
        assert!(!almost_equal(f64::INFINITY, f64::NEG_INFINITY, 1e-6));
    }
}
