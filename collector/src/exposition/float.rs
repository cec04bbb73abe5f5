//! Float and timestamp parsing with the acceptance rules of Prometheus 2.42.
//!
//! Prometheus calls Go's `strconv.ParseFloat(s, 64)` after refusing `p`, `P` and `_`. Rust's
//! `f64::from_str` accepts the same decimal grammar; it differs in accepting a signed NaN
//! and in returning ±Inf instead of a range error for finite literals that overflow, so
//! both are checked here.

use super::NORMAL_NAN_BITS;

/// The largest number of decimal digits whose integer value an f64 holds exactly.
const EXACT_DIGITS: usize = 15;

/// Parses a sample or exemplar value (see the module docs for the accepted forms).
///
/// NaN comes back with the bits [`NORMAL_NAN_BITS`].
///
/// # Errors
///
/// A message naming the offending text when Prometheus would reject it.
pub(crate) fn parse_value(s: &str) -> Result<f64, String> {
    if let Some(v) = small_integer(s) {
        return Ok(v);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) if v.is_nan() && !s.starts_with(['+', '-']) => Ok(f64::from_bits(NORMAL_NAN_BITS)),
        Ok(v) if v.is_infinite() && spells_infinity(s) => Ok(v),
        Ok(v) if v.is_infinite() => Err(format!("float value {s:?} is out of range")),
        _ if s.contains(['p', 'P', '_']) => Err(format!(
            "unsupported character in float {s:?}: hexadecimal floats and '_' are not allowed"
        )),
        _ => Err(format!("expected a float value, found {s:?}")),
    }
}

/// Fast path for the most common values: up to 15 plain decimal digits.
fn small_integer(s: &str) -> Option<f64> {
    if s.is_empty() || s.len() > EXACT_DIGITS {
        return None;
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    // At most 15 digits, so `n < 2^53` and the conversion is exact.
    #[expect(
        clippy::cast_precision_loss,
        reason = "n < 10^15 < 2^53 is exact in f64"
    )]
    Some(n as f64)
}

/// Whether `s` is an infinity literal (`inf`/`infinity`, any case, optional sign), as opposed
/// to a finite literal that overflowed.
fn spells_infinity(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    unsigned.starts_with(['i', 'I'])
}

/// Parses a Prometheus text timestamp: digits only, integer milliseconds.
///
/// # Errors
///
/// A message if the digits overflow an i64.
pub(crate) fn parse_text_timestamp(digits: &str) -> Result<i64, String> {
    digits
        .parse::<i64>()
        .map_err(|_| format!("timestamp {digits:?} is out of range for int64 milliseconds"))
}

/// Parses an OpenMetrics timestamp (float seconds) into ms like Prometheus:
/// `int64(seconds * 1000)`, i.e. the f64 product truncated toward zero (saturating here).
///
/// # Errors
///
/// A message if the text is not a float, or is NaN or ±Inf.
pub(crate) fn parse_om_timestamp(s: &str) -> Result<i64, String> {
    let seconds = parse_value(s)?;
    if !seconds.is_finite() {
        return Err(format!("invalid timestamp {s:?}: must be finite"));
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "truncation toward zero is Prometheus's conversion; `as` saturates"
    )]
    Ok((seconds * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_values() {
        let cases: [(&str, f64); 17] = [
            ("0", 0.0),
            ("1", 1.0),
            ("-1.5", -1.5),
            ("+5", 5.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1.e5", 1e5),
            ("1E+2", 100.0),
            ("4.9e-324", 4.9e-324),
            ("1e-400", 0.0),
            ("Inf", f64::INFINITY),
            ("+Inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("123456789012345", 123_456_789_012_345.0),
            ("1234567890123456789", 1_234_567_890_123_456_789.0),
        ];
        for (s, want) in cases {
            assert_eq!(parse_value(s), Ok(want), "{s}");
        }
        for s in ["NaN", "nan", "nAn"] {
            assert_eq!(parse_value(s).map(f64::to_bits), Ok(NORMAL_NAN_BITS), "{s}");
        }
    }

    #[test]
    fn rejected_values() {
        for s in [
            "", ".", "e5", "1e", "+-1", "0x10", "0x1p-3", "1_000", "+nan", "-NaN", "1e400", "true",
            "1z", "Inf ", "infinit",
        ] {
            assert!(parse_value(s).is_err(), "{s:?} must be rejected");
        }
        assert!(
            parse_value("0x1P-3")
                .expect_err("rejected")
                .starts_with("unsupported character")
        );
        assert!(
            parse_value("-1e400")
                .expect_err("rejected")
                .contains("out of range")
        );
    }

    #[test]
    fn om_timestamps_truncate_like_prometheus() {
        let cases = [
            ("1520879607.789", 1_520_879_607_789),
            ("1.001", 1000), // 1.001 * 1000 = 1000.9999999999999
            ("1.0049", 1004),
            ("-0.0015", -1),
            ("1.5e3", 1_500_000),
            ("+7", 7000),
            (".5", 500),
            ("1234567890.1234", 1_234_567_890_123),
        ];
        for (s, want) in cases {
            assert_eq!(parse_om_timestamp(s), Ok(want), "{s}");
        }
        for s in ["NaN", "Inf", "-Inf", "x"] {
            assert!(parse_om_timestamp(s).is_err(), "{s}");
        }
        assert_eq!(parse_om_timestamp("1e300"), Ok(i64::MAX));
    }

    #[test]
    fn text_timestamps() {
        assert_eq!(parse_text_timestamp("1520879607789"), Ok(1_520_879_607_789));
        assert!(parse_text_timestamp("99999999999999999999").is_err());
    }
}
