//! Kubernetes wire formats for the resource metrics API (`metrics.k8s.io`): quantities
//! (`resource.Quantity` in canonical form), durations (Go's `time.Duration.String()`, used for
//! `window`) and times (`metav1.Time`, used for `timestamp`).
//!
//! Every function here is pure and total: no input panics.

use crate::api::time::{ApiTime, format_rfc3339_nanos};

/// Decimal SI suffixes by power-of-ten exponent, as apimachinery's `quantitySuffixer` prints
/// them.
const DECIMAL_SUFFIXES: [(i32, &str); 10] = [
    (-9, "n"),
    (-6, "u"),
    (-3, "m"),
    (0, ""),
    (3, "k"),
    (6, "M"),
    (9, "G"),
    (12, "T"),
    (15, "P"),
    (18, "E"),
];

/// Binary SI suffixes, index `i` meaning a factor of `1024^(i + 1)`.
const BINARY_SUFFIXES: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

const NANOS_PER_MICRO: u128 = 1_000;
const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Formats a CPU usage given in nanocores (billionths of a core) as the canonical string of
/// the `resource.Quantity` `value × 10⁻⁹` in `DecimalSI` format, as apimachinery serializes
/// it: trailing zeros of the mantissa are removed in groups of three, moving the suffix up.
///
/// `0` → `"0"`, `2082398` → `"2082398n"`, `250000000` → `"250m"`, `1000000000` → `"1"`,
/// `2000000000000` → `"2k"`.
pub fn cpu_quantity(nanocores: u64) -> String {
    decimal_si(nanocores, -9)
}

/// Formats a memory size given in bytes as the canonical string of the `resource.Quantity`
/// `bytes` in `BinarySI` format, as apimachinery serializes it.
///
/// Values below 1024 fall back to `DecimalSI` (so `1000` → `"1k"`, `512` → `"512"`), as
/// apimachinery does. Otherwise the value is divided by 1024 while the division is exact and
/// suffixed `Ki` … `Ei`; a value not divisible by 1024 is printed as plain bytes.
///
/// `0` → `"0"`, `2048` → `"2Ki"`, `1073741824` → `"1Gi"`, `1536` → `"1536"`.
pub fn memory_quantity(bytes: u64) -> String {
    if bytes < 1024 {
        return decimal_si(bytes, 0);
    }
    let mut mantissa = bytes;
    let mut steps = 0;
    while steps < BINARY_SUFFIXES.len() && mantissa.is_multiple_of(1024) {
        mantissa /= 1024;
        steps += 1;
    }
    match steps.checked_sub(1).and_then(|i| BINARY_SUFFIXES.get(i)) {
        Some(suffix) => format!("{mantissa}{suffix}"),
        None => mantissa.to_string(),
    }
}

/// A metric value as prometheus-adapter writes it: a milli-quantity (`value × 1000`
/// truncated), canonical `DecimalSI` (0.016 → `16m`, 1200 → `1200`, -0.5 → `-500m`). `None`
/// for NaN and infinities, which have no quantity.
pub fn milli_quantity(value: f64) -> Option<String> {
    let milli = (value * 1000.0).trunc();
    if !milli.is_finite() || milli.abs() >= u64::MAX as f64 {
        return None;
    }
    let text = decimal_si(milli.abs() as u64, -3);
    Some(if milli < 0.0 {
        format!("-{text}")
    } else {
        text
    })
}

/// Canonical `DecimalSI` text of `mantissa × 10^exponent`: zeros stripped in groups of three.
fn decimal_si(mut mantissa: u64, mut exponent: i32) -> String {
    if mantissa == 0 {
        return "0".to_owned();
    }
    while mantissa.is_multiple_of(1000) && exponent < 18 {
        mantissa /= 1000;
        exponent += 3;
    }
    match DECIMAL_SUFFIXES.iter().find(|(e, _)| *e == exponent) {
        Some((_, suffix)) => format!("{mantissa}{suffix}"),
        None => format!("{mantissa}e{exponent}"),
    }
}

/// Parses any Kubernetes quantity string into its value.
///
/// Accepted: an optional sign, a decimal number (`1`, `1.5`, `.5`, `5.`), then an optional
/// suffix: a decimal SI suffix (`n u m k M G T P E`), a binary one (`Ki Mi Gi Ti Pi Ei`), or
/// a decimal exponent (`e3`, `E-3`, `e+3`). No whitespace is allowed.
///
/// # Errors
/// A message quoting the text, when it is not a quantity or its value is not finite.
pub fn parse_quantity(s: &str) -> Result<f64, String> {
    let bad = || format!("quantity {s:?} is not a valid Kubernetes quantity");
    let (number, scale) = split_quantity(s).ok_or_else(bad)?;
    let value = match scale {
        Scale::Decimal(exponent) => format!("{number}e{exponent}").parse::<f64>(),
        Scale::Binary(power) => number.parse::<f64>().map(|v| v * 1024f64.powi(power)),
    };
    value.ok().filter(|v| v.is_finite()).ok_or_else(bad)
}

/// A quantity's decimal number (`[+-]digits[.digits]`) and the scale of its suffix; `None`
/// when either is malformed.
fn split_quantity(s: &str) -> Option<(&str, Scale)> {
    let split = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '+' || c == '-'))))
        .map_or(s.len(), |(i, _)| i);
    let (number, suffix) = s.split_at(split);
    if !is_decimal_number(number) {
        return None;
    }
    Some((number, suffix_scale(suffix)?))
}

/// A quantity in milli-units, exactly, as Kubernetes's `Quantity.MilliValue()`: rounded up
/// (`1n` → 1, `0.1` → 100, `1Ki` → 1024000).
///
/// # Errors
/// Not a quantity (see [`parse_quantity`]), or beyond the `i64` range in milli-units.
pub fn parse_milli(s: &str) -> Result<i64, String> {
    let bad = || format!("quantity {s:?} is not a valid Kubernetes quantity");
    let too_big = || format!("quantity {s:?} is too large");
    let (number, scale) = split_quantity(s).ok_or_else(bad)?;
    let negative = number.starts_with('-');
    let unsigned = number.trim_start_matches(['+', '-']);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let mantissa: i128 = if digits.is_empty() {
        0
    } else if digits.len() > 36 {
        return Err(too_big());
    } else {
        digits.parse().map_err(|_| bad())?
    };
    let frac_len = i32::try_from(frac.len()).map_err(|_| bad())?;
    // value × 1000 = mantissa × factor × 10^(3 - frac_len)
    let (factor, exp10) = match scale {
        Scale::Decimal(e) => (1i128, e + 3 - frac_len),
        Scale::Binary(p) => (1i128 << (10 * p), 3 - frac_len),
    };
    let scaled = mantissa.checked_mul(factor).ok_or_else(too_big)?;
    let magnitude = if exp10 >= 0 {
        let mul = 10i128
            .checked_pow(exp10.unsigned_abs())
            .ok_or_else(too_big)?;
        scaled.checked_mul(mul).ok_or_else(too_big)?
    } else {
        match 10i128.checked_pow(exp10.unsigned_abs()) {
            // Rounded toward +infinity, as Kubernetes rounds.
            Some(div) if negative => scaled / div,
            Some(div) => (scaled + div - 1) / div,
            None => i128::from(scaled > 0 && !negative),
        }
    };
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| too_big())
}

/// Milli-units as a canonical `DecimalSI` quantity, as `resource.NewMilliQuantity(v,
/// DecimalSI).String()` writes it: 1500 → `1500m`, 2000 → `2`, 20000000 → `20k`.
pub fn format_milli(milli: i64) -> String {
    let text = decimal_si(milli.unsigned_abs(), -3);
    if milli < 0 { format!("-{text}") } else { text }
}

/// The multiplier a quantity suffix stands for.
enum Scale {
    /// A factor of `10^n`.
    Decimal(i32),
    /// A factor of `1024^n`.
    Binary(i32),
}

/// `[+-]digits[.digits]` with at least one digit; `.` alone is not a number.
fn is_decimal_number(number: &str) -> bool {
    let unsigned = number.strip_prefix(['+', '-']).unwrap_or(number);
    let mut parts = unsigned.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    !(int.is_empty() && frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// The scale of a suffix (`""`, SI, binary SI or `e`/`E` exponent), `None` if unknown.
fn suffix_scale(suffix: &str) -> Option<Scale> {
    if let Some((e, _)) = DECIMAL_SUFFIXES.iter().find(|(_, s)| *s == suffix) {
        return Some(Scale::Decimal(*e));
    }
    if let Some(i) = BINARY_SUFFIXES.iter().position(|s| *s == suffix) {
        return i32::try_from(i + 1).ok().map(Scale::Binary);
    }
    let exponent = suffix.strip_prefix(['e', 'E'])?;
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    exponent.parse::<i32>().ok().map(Scale::Decimal)
}

/// Parses a Go duration (`time.ParseDuration`: `300ms`, `1.5s`, `1m0s`, `2h45m`, units
/// `ns us µs ms s m h`, an optional sign) into milliseconds, rounded toward zero.
///
/// # Errors
/// Text that is not a Go duration, or beyond the `i64` range of nanoseconds.
pub fn parse_go_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("invalid duration {s:?}");
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (number, after) = rest.split_at(num_len);
        if !is_decimal_number(number) {
            return Err(bad());
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        nanos += number.parse::<f64>().map_err(|_| bad())? * scale;
        rest = next;
    }
    if nanos > i64::MAX as f64 {
        return Err(bad());
    }
    let ms = (nanos / 1e6).trunc() as i64;
    Ok(if negative { -ms } else { ms })
}

/// Formats `ms` milliseconds as Go's `time.Duration.String()` does: `"0s"`, `"500ms"`,
/// `"1.5ms"`, `"15s"`, `"20.021s"`, `"1m0s"`, `"1h0m0s"`, `"25h1m1.001s"`; negative values
/// get a leading `-`. Values beyond Go's ±292-year range are printed exactly, unlike Go.
pub fn go_duration(ms: i64) -> String {
    format_duration(ms < 0, u128::from(ms.unsigned_abs()) * NANOS_PER_MILLI)
}

/// Formats `ns` nanoseconds as Go's `time.Duration.String()` does: `"0s"`, `"1ns"`,
/// `"1.5µs"` (U+00B5), `"1.000001ms"`, `"1m0.000000001s"`; negative values get a leading `-`.
pub fn go_duration_nanos(ns: i64) -> String {
    format_duration(ns < 0, u128::from(ns.unsigned_abs()))
}

/// Go's duration text for a magnitude of `nanos` nanoseconds, negated if `negative`.
fn format_duration(negative: bool, nanos: u128) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let body = if nanos < NANOS_PER_MICRO {
        format!("{nanos}ns")
    } else if nanos < NANOS_PER_MILLI {
        format!("{}µs", with_fraction(nanos, NANOS_PER_MICRO, 3))
    } else if nanos < NANOS_PER_SEC {
        format!("{}ms", with_fraction(nanos, NANOS_PER_MILLI, 6))
    } else {
        hours_minutes_seconds(nanos)
    };
    if negative { format!("-{body}") } else { body }
}

/// `value / unit` printed with up to `digits` fraction digits, trailing zeros (and a bare
/// point) removed; `unit` must be `10^digits`.
fn with_fraction(value: u128, unit: u128, digits: usize) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let text = format!("{frac:0digits$}");
    format!("{whole}.{}", text.trim_end_matches('0'))
}

/// `[H"h"][M"m"]S[.fraction]"s"` for a magnitude of at least one second.
fn hours_minutes_seconds(nanos: u128) -> String {
    let seconds = with_fraction(nanos % (60 * NANOS_PER_SEC), NANOS_PER_SEC, 9);
    let minutes = nanos / (60 * NANOS_PER_SEC);
    match (minutes / 60, minutes % 60) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

/// Formats `ms` milliseconds since the Unix epoch as `metav1.Time` serializes in JSON:
/// RFC 3339 in UTC at second precision, e.g. `2022-11-12T03:46:47Z`. The sub-second part is
/// dropped toward the past (`-1` → `1969-12-31T23:59:59Z`). `0` is the epoch, not `null`.
pub fn rfc3339_seconds(ms: i64) -> String {
    let seconds = i128::from(ms.div_euclid(1000));
    format_rfc3339_nanos(ApiTime::from_nanos(seconds * 1_000_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milli_quantities_as_prometheus_adapter_writes_them() {
        assert_eq!(milli_quantity(0.016).as_deref(), Some("16m"));
        assert_eq!(milli_quantity(1200.0).as_deref(), Some("1200"));
        assert_eq!(milli_quantity(2000.0).as_deref(), Some("2k"));
        assert_eq!(milli_quantity(-0.5).as_deref(), Some("-500m"));
        assert_eq!(milli_quantity(0.0).as_deref(), Some("0"));
        assert_eq!(milli_quantity(f64::NAN), None);
    }

    #[test]
    fn cpu_quantities_are_canonical_decimal_si() {
        let cases = [
            (0, "0"),
            (1, "1n"),
            (999, "999n"),
            (1000, "1u"),
            (1_000_000, "1m"),
            (10_000, "10u"),
            (2_082_398, "2082398n"),
            (2_082_390, "2082390n"),
            (67_330_954, "67330954n"),
            (250_000_000, "250m"),
            (1_000_000_000, "1"),
            (1_500_000_000, "1500m"),
            (2_000_000_000_000, "2k"),
            (3_000_000_000_000_000, "3M"),
            (10_000_000_000_000_000_000, "10G"),
            (u64::MAX, "18446744073709551615n"),
        ];
        for (nanocores, want) in cases {
            assert_eq!(cpu_quantity(nanocores), want, "{nanocores}");
        }
    }

    #[test]
    fn memory_quantities_are_canonical_binary_si() {
        let cases = [
            (0, "0"),
            (1, "1"),
            (512, "512"),
            (1000, "1k"),
            (1023, "1023"),
            (1024, "1Ki"),
            (1025, "1025"),
            (1536, "1536"),
            (2048, "2Ki"),
            (1_000_000, "1000000"),
            (123_456_789, "123456789"),
            (1_481_633_792, "1446908Ki"),
            (3_886_972_928, "3795872Ki"),
            (1_073_741_824, "1Gi"),
            (1_610_612_736, "1536Mi"),
            (1 << 40, "1Ti"),
            (1 << 50, "1Pi"),
            (1 << 60, "1Ei"),
            (15 << 60, "15Ei"),
            (u64::MAX, "18446744073709551615"),
        ];
        for (bytes, want) in cases {
            assert_eq!(memory_quantity(bytes), want, "{bytes}");
        }
    }

    #[test]
    fn formatted_quantities_parse_back() {
        for n in [
            0,
            7,
            1000,
            2_082_398,
            250_000_000,
            1_000_000_000,
            2_000_000_000_000,
        ] {
            let parsed = parse_quantity(&cpu_quantity(n)).map(|v| (v * 1e9).round());
            assert_eq!(parsed, Ok(n as f64), "{n}");
        }
        for n in [0, 1000, 1536, 2048, 1_481_633_792, 1 << 40, 15 << 60] {
            assert_eq!(parse_quantity(&memory_quantity(n)), Ok(n as f64), "{n}");
        }
    }

    #[test]
    fn parses_every_quantity_form() {
        let cases = [
            ("0", 0.0),
            ("1", 1.0),
            ("-1", -1.0),
            ("+2", 2.0),
            ("1.5", 1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("3900m", 3.9),
            ("100n", 1e-7),
            ("250u", 2.5e-4),
            ("2k", 2000.0),
            ("1M", 1e6),
            ("1G", 1e9),
            ("1T", 1e12),
            ("1P", 1e15),
            ("1E", 1e18),
            ("1Ki", 1024.0),
            ("15000Mi", 15000.0 * 1_048_576.0),
            ("1.5Gi", 1_610_612_736.0),
            ("1Ti", 1_099_511_627_776.0),
            ("1Pi", 1_125_899_906_842_624.0),
            ("1Ei", 1_152_921_504_606_846_976.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("2e+2", 200.0),
            ("67330954n", 0.067_330_954),
        ];
        for (text, want) in cases {
            assert_eq!(parse_quantity(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_quantities_naming_them() {
        for text in [
            "", "+", ".", "-.", "abc", "1x", "1 Ki", " 1", "1K", "1ki", "1e", "1e+", "1.2.3",
            "1Ki2", "--1", "1e3.5", "m", "1e999",
        ] {
            let err = parse_quantity(text).expect_err(text);
            assert!(err.contains(&format!("{text:?}")), "{err}");
        }
    }

    #[test]
    fn durations_print_as_go_does() {
        let cases = [
            (0, "0s"),
            (1, "1ms"),
            (500, "500ms"),
            (999, "999ms"),
            (1000, "1s"),
            (15_000, "15s"),
            (19_070, "19.07s"),
            (20_021, "20.021s"),
            (59_999, "59.999s"),
            (60_000, "1m0s"),
            (60_500, "1m0.5s"),
            (3_599_000, "59m59s"),
            (3_600_000, "1h0m0s"),
            (3_661_000, "1h1m1s"),
            (90_061_001, "25h1m1.001s"),
            (-1500, "-1.5s"),
            (-60_000, "-1m0s"),
        ];
        for (ms, want) in cases {
            assert_eq!(go_duration(ms), want, "{ms}");
        }
        assert_eq!(go_duration(i64::MIN), "-2562047788015h12m55.808s");
    }

    #[test]
    fn sub_second_durations_use_one_unit() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (1000, "1µs"),
            (1500, "1.5µs"),
            (999_999, "999.999µs"),
            (1_000_000, "1ms"),
            (1_500_000, "1.5ms"),
            (1_000_001, "1.000001ms"),
            (999_999_999, "999.999999ms"),
            (1_000_000_001, "1.000000001s"),
            (60_000_000_001, "1m0.000000001s"),
            (-1, "-1ns"),
            (-1_500_000, "-1.5ms"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (ns, want) in cases {
            assert_eq!(go_duration_nanos(ns), want, "{ns}");
        }
        assert!(go_duration_nanos(1000).contains('\u{b5}'));
    }

    #[test]
    fn times_are_rfc3339_utc_seconds() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (999, "1970-01-01T00:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (-1000, "1969-12-31T23:59:59Z"),
            (-1001, "1969-12-31T23:59:58Z"),
            (1_668_224_807_999, "2022-11-12T03:46:47Z"),
            (1_647_146_824_000, "2022-03-13T04:47:04Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (253_402_300_799_000, "9999-12-31T23:59:59Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00Z"),
        ];
        for (ms, want) in cases {
            assert_eq!(rfc3339_seconds(ms), want, "{ms}");
        }
        assert!(rfc3339_seconds(i64::MIN).ends_with('Z'));
        assert!(rfc3339_seconds(i64::MAX).ends_with('Z'));
    }

    #[test]
    fn milli_values_are_exact_and_round_up() {
        for (text, milli) in [
            ("0.1", 100),
            ("100m", 100),
            ("1", 1000),
            ("1.5", 1500),
            ("1n", 1),
            ("1500u", 2),
            ("1Ki", 1_024_000),
            ("2e3", 2_000_000),
            ("20k", 20_000_000),
            ("0", 0),
            ("-1.5", -1500),
            ("-1n", 0),
        ] {
            assert_eq!(parse_milli(text), Ok(milli), "{text}");
        }
        assert!(parse_milli("9E").unwrap_err().contains("too large"));
        assert!(parse_milli("1x").unwrap_err().contains("\"1x\""));
        assert!(parse_milli("").is_err());
    }

    #[test]
    fn milli_quantities_are_canonical() {
        assert_eq!(format_milli(1500), "1500m");
        assert_eq!(format_milli(2000), "2");
        assert_eq!(format_milli(20_000_000), "20k");
        assert_eq!(format_milli(0), "0");
        assert_eq!(format_milli(-500), "-500m");
        for m in [1, 999, 1000, 123_456, 7_000_000_000] {
            assert_eq!(parse_milli(&format_milli(m)), Ok(m));
        }
    }

    #[test]
    fn go_durations_parse() {
        for (text, ms) in [
            ("0", 0),
            ("30s", 30_000),
            ("1m0s", 60_000),
            ("19.931s", 19_931),
            ("1h2m3.5s", 3_723_500),
            ("300ms", 300),
            ("1500us", 1),
            ("-1.5s", -1500),
        ] {
            assert_eq!(parse_go_duration(text), Ok(ms), "{text}");
        }
        for bad in ["", "5", "1d", "s", "1..2s", "-"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
        for ms in [0, 1, 999, 60_000, 3_723_500] {
            assert_eq!(parse_go_duration(&go_duration(ms)), Ok(ms));
        }
    }
}
