//! Times and durations as Prometheus's HTTP API reads and writes them (`web/api/v1/api.go`
//! `parseTime`, `parseDuration`, `MinTime`, `MaxTime`).
//!
//! An [`ApiTime`] keeps nanoseconds, as Go's `time.Time` does, so that comparisons such as
//! "end before start" see what Prometheus sees; storage and the engine get milliseconds
//! ([`ApiTime::millis`], Prometheus's `timestamp.FromTime`: the floor to the millisecond).

use std::fmt::Write;

const NANOS_PER_MILLI: i128 = 1_000_000;
const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: i128 = 86_400;

/// A point in time, in nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiTime(i128);

/// Prometheus's default start of an optional time range (`MinTime`,
/// `-292273086-05-16T16:47:06Z`).
pub const MIN_TIME: ApiTime = ApiTime((i64::MIN as i128 / 1000 + 62_135_596_801) * NANOS_PER_SEC);

/// Prometheus's default end of an optional time range (`MaxTime`,
/// `292277025-08-18T07:12:54.999999999Z`).
pub const MAX_TIME: ApiTime =
    ApiTime((i64::MAX as i128 / 1000 - 62_135_596_801) * NANOS_PER_SEC + 999_999_999);

impl ApiTime {
    /// The time `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms as i128 * NANOS_PER_MILLI)
    }

    /// The time `ns` nanoseconds after the epoch.
    pub const fn from_nanos(ns: i128) -> Self {
        Self(ns)
    }

    /// Nanoseconds since the epoch.
    pub const fn nanos(self) -> i128 {
        self.0
    }

    /// Milliseconds since the epoch, rounded down (Prometheus's `timestamp.FromTime`); times
    /// beyond the `i64` range saturate.
    pub fn millis(self) -> i64 {
        let ms = self.0.div_euclid(NANOS_PER_MILLI);
        i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
    }
}

/// Parses a time parameter: Unix seconds with an optional fraction (rounded to the
/// millisecond, as Prometheus does) or RFC 3339 (`2015-06-03T13:21:58.555Z`, `+01:00`
/// offsets, up to nanoseconds).
///
/// # Errors
/// Prometheus's text: `cannot parse "X" to a valid timestamp`.
pub fn parse_time(s: &str) -> Result<ApiTime, String> {
    if let Some(t) = parse_unix_seconds(s) {
        return Ok(t);
    }
    if let Some(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    Err(format!("cannot parse {} to a valid timestamp", go_quote(s)))
}

/// Go's `time.Unix(int64(s), int64(round(frac*1000)/1000*1e9))` for a float `s`, with the
/// same float operations so that the result matches to the nanosecond. Non-finite numbers and
/// numbers outside Go's `int64` seconds are not times.
fn parse_unix_seconds(s: &str) -> Option<ApiTime> {
    let t = parse_go_float(s)?;
    if !t.is_finite() || t.abs() >= 9.2e18 {
        return None;
    }
    let secs = t.trunc();
    let frac = ((t - secs) * 1000.0).round() / 1000.0;
    let ns = (frac * 1e9) as i64;
    Some(ApiTime(secs as i128 * NANOS_PER_SEC + i128::from(ns)))
}

/// A float as Go's `strconv.ParseFloat` accepts it (decimal forms; `Inf`/`NaN` spellings).
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let special = ["inf", "infinity", "nan"]
        .iter()
        .any(|w| body.eq_ignore_ascii_case(w));
    let decimal = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if special || decimal {
        s.parse().ok()
    } else {
        None
    }
}

/// RFC 3339 as Go's `time.Parse(time.RFC3339Nano, s)` reads it, plus Prometheus's two
/// boundary times whose years have more than four digits.
fn parse_rfc3339(s: &str) -> Option<ApiTime> {
    for boundary in [MIN_TIME, MAX_TIME] {
        if s == format_rfc3339_nanos(boundary) {
            return Some(boundary);
        }
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i128> {
        let digits = b.get(from..from + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut pos = 19;
    let mut frac_ns: i128 = 0;
    if sep(pos, b'.') {
        let digits = b.get(pos + 1..)?.iter().take_while(|c| c.is_ascii_digit());
        let n = digits.count();
        if n == 0 {
            return None;
        }
        let kept = n.min(9);
        frac_ns = num(pos + 1, kept)? * 10i128.pow(9 - kept as u32);
        pos += 1 + n;
    }
    let offset_secs = parse_zone(b.get(pos..)?)?;
    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY + hour * 3600 + min * 60 + sec - offset_secs;
    Some(ApiTime(secs * NANOS_PER_SEC + frac_ns))
}

/// `Z` or `+hh:mm`/`-hh:mm`, as seconds east of UTC.
fn parse_zone(z: &[u8]) -> Option<i128> {
    if z == b"Z" {
        return Some(0);
    }
    let [sign, h1, h2, b':', m1, m2] = *z else {
        return None;
    };
    let digit = |c: u8| c.is_ascii_digit().then(|| i128::from(c - b'0'));
    let hours = digit(h1)? * 10 + digit(h2)?;
    let mins = digit(m1)? * 10 + digit(m2)?;
    if hours > 23 || mins > 59 {
        return None;
    }
    let secs = hours * 3600 + mins * 60;
    match sign {
        b'+' => Some(secs),
        b'-' => Some(-secs),
        _ => None,
    }
}

fn is_leap(year: i128) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i128, month: i128) -> i128 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i128, month: i128, day: i128) -> i128 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i128) -> (i128, i128, i128) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

/// Formats as Go's `t.UTC().Format(time.RFC3339Nano)`: `2015-06-03T13:21:58.555Z`, the
/// fraction without trailing zeros and left out when zero.
pub fn format_rfc3339_nanos(t: ApiTime) -> String {
    let secs = t.0.div_euclid(NANOS_PER_SEC);
    let frac = t.0.rem_euclid(NANOS_PER_SEC);
    let mut out = format_date_time(secs);
    if frac != 0 {
        let digits = format!("{frac:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// `YYYY-MM-DDThh:mm:ss` in UTC for `secs` seconds since the epoch.
fn format_date_time(secs: i128) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let mut out = String::with_capacity(24);
    if year < 0 {
        out.push('-');
    }
    let _ = write!(
        out,
        "{:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        year.abs(),
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    out
}

/// Parses a duration parameter: float seconds (`1.5`) or a Prometheus duration (`1h30m`,
/// `100ms`; units y w d h m s ms, largest first, each at most once). Returns nanoseconds,
/// possibly negative or zero (the caller judges).
///
/// # Errors
/// Prometheus's texts: `cannot parse "X" to a valid duration` or
/// `cannot parse "X" to a valid duration. It overflows int64`.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Some(d) = parse_go_float(s).filter(|d| !d.is_nan()) {
        let ns = d * 1e9;
        if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(format!(
                "cannot parse {} to a valid duration. It overflows int64",
                go_quote(s)
            ));
        }
        return Ok(ns as i64);
    }
    model::parse_duration_ms(s)
        .and_then(|ms| ms.checked_mul(1_000_000))
        .ok_or_else(|| format!("cannot parse {} to a valid duration", go_quote(s)))
}

/// Go's `%q` for the strings a user typed.
pub(crate) fn go_quote(s: &str) -> String {
    query::gofmt::quote(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        parse_time(s).unwrap().millis()
    }

    #[test]
    fn parses_unix_seconds_like_prometheus() {
        assert_eq!(ms("123"), 123_000);
        assert_eq!(ms("123.123"), 123_123);
        assert_eq!(ms("1543578564.705"), 1_543_578_564_705);
        assert_eq!(ms("1.0006"), 1001);
        assert_eq!(ms("-1.5"), -1500);
        assert_eq!(ms("1e3"), 1_000_000);
        for bad in ["", "abc", "30s", "NaN", "+Inf", "0x10"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_time("30s").unwrap_err(),
            r#"cannot parse "30s" to a valid timestamp"#
        );
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(ms("2015-06-03T13:21:58.555Z"), 1_433_337_718_555);
        assert_eq!(ms("2015-06-03T14:21:58.555+01:00"), 1_433_337_718_555);
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("2024-02-29T00:00:00Z"), 1_709_164_800_000);
        assert_eq!(
            parse_time("2015-06-03T13:21:58.5555559Z").unwrap().nanos(),
            1_433_337_718_555_555_900
        );
        for bad in [
            "2015-06-03 13:21:58Z",
            "2015-06-03T13:21:58",
            "2023-02-29T00:00:00Z",
            "2015-06-03T24:00:00Z",
            "2015-06-03T13:21:58.Z",
            "2015-06-03T13:21:58+1:00",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn boundary_times_format_and_parse_as_go_does() {
        assert_eq!(format_rfc3339_nanos(MIN_TIME), "-292273086-05-16T16:47:06Z");
        assert_eq!(
            format_rfc3339_nanos(MAX_TIME),
            "292277025-08-18T07:12:54.999999999Z"
        );
        assert_eq!(parse_time("-292273086-05-16T16:47:06Z"), Ok(MIN_TIME));
        assert_eq!(
            parse_time("292277025-08-18T07:12:54.999999999Z"),
            Ok(MAX_TIME)
        );
        assert_eq!(MIN_TIME.millis(), -9_223_309_901_257_974_000);
        assert_eq!(MAX_TIME.millis(), 9_223_309_901_257_974_999);
        assert_eq!(
            format_rfc3339_nanos(ApiTime::from_millis(1_433_337_718_550)),
            "2015-06-03T13:21:58.55Z"
        );
    }

    #[test]
    fn parses_durations_like_prometheus() {
        let s = 1_000_000_000i64;
        assert_eq!(parse_duration("123"), Ok(123 * s));
        assert_eq!(parse_duration("123.333"), Ok(123_333_000_000));
        assert_eq!(parse_duration("15s"), Ok(15 * s));
        assert_eq!(parse_duration("5m"), Ok(300 * s));
        assert_eq!(parse_duration("1h30m"), Ok(5400 * s));
        assert_eq!(parse_duration("100ms"), Ok(100_000_000));
        assert_eq!(parse_duration("1m30s500ms"), Ok(90_500_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-1"), Ok(-s));
        for bad in ["", "abc", "1m1h", "1s1s", "2015-06-03T13:21:58.555Z"] {
            assert_eq!(
                parse_duration(bad),
                Err(format!(
                    "cannot parse {} to a valid duration",
                    go_quote(bad)
                ))
            );
        }
        assert_eq!(
            parse_duration("148966367200.372"),
            Err(
                r#"cannot parse "148966367200.372" to a valid duration. It overflows int64"#.into()
            )
        );
        assert!(parse_duration("-148966367200.372").is_err());
    }
}
