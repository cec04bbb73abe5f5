//! Prometheus's duration syntax and the wall clock, shared by every crate that reads a
//! duration from a user (flags, config files, API parameters).

use crate::Timestamp;

/// Milliseconds per unit, largest first: the order units must appear in.
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// Parses Prometheus's duration syntax (`model.ParseDuration`): `0`, or whole numbers with
/// units `y w d h m s ms`, each at most once and largest first (`1h30m`), into milliseconds.
/// `None` for anything else, or when the total does not fit in an `i64`.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let (mut rest, mut total, mut next) = (s, 0i64, 0usize);
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (num, tail) = rest.split_at(digits);
        let n: i64 = num.parse().ok()?;
        let unit_len = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        let idx = UNITS.iter().position(|(u, _)| *u == unit)?;
        if idx < next {
            return None;
        }
        next = idx + 1;
        total = total.checked_add(n.checked_mul(UNITS[idx].1)?)?;
        rest = tail;
    }
    Some(total)
}

/// The wall clock, in ms since the epoch (0 before 1970).
pub fn now_ms() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_prometheus_reads_them() {
        assert_eq!(parse_duration_ms("0"), Some(0));
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(
            parse_duration_ms("1y2w3d4h5m6s7ms"),
            Some(
                365 * 86_400_000
                    + 14 * 86_400_000
                    + 3 * 86_400_000
                    + 4 * 3_600_000
                    + 5 * 60_000
                    + 6000
                    + 7
            )
        );
        for bad in ["", "5", "1m1h", "1h1h", "1.5h", "-1m", "5mins", "1m "] {
            assert_eq!(parse_duration_ms(bad), None, "{bad:?}");
        }
        assert_eq!(parse_duration_ms("99999999999999999y"), None);
    }
}
