//! Durations in command headers (Prometheus `model.ParseDuration`) and `@st` offsets.

/// Units in the order `model.ParseDuration` requires them, with their length in ms.
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Limit of `model.ParseDuration`: the total must stay below 2^63 ns.
const MAX_MS: i64 = i64::MAX / 1_000_000;

/// Reads the unit at the start of `s` (`ms` before `m`); returns its index in [`UNITS`].
fn unit_at(s: &str) -> Option<usize> {
    if s.starts_with("ms") {
        return Some(6);
    }
    let c = s.chars().next()?;
    UNITS
        .iter()
        .position(|(u, _)| u.len() == 1 && u.starts_with(c))
}

/// Parses a Prometheus duration (`0`, `1h30m`, `10s53ms`) into milliseconds, with the
/// PromQL lexer's duration reader.
///
/// Units must appear in the order `y w d h m s ms`, each at most once; no sign, no
/// fraction, no spaces.
pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    let (rest, total) = crate::parser::literals::duration(s)?;
    (rest.is_empty() && total <= MAX_MS).then_some(total)
}

/// Parses one signed single-unit duration at the start of `s` (`-30s`, `+1m`, `-59999ms`),
/// as used by `@st` lines; returns the value in ms and the rest of the input.
pub(crate) fn signed_unit_duration(s: &str) -> Option<(i64, &str)> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = body.len() - body.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let n: i64 = body[..digits].parse().ok()?;
    let rest = &body[digits..];
    let Some(rank) = unit_at(rest) else {
        // A bare zero needs no unit, as in `model.ParseDuration`.
        return (n == 0).then_some((0, rest));
    };
    let v = n.checked_mul(UNITS[rank].1)?;
    Some((if neg { -v } else { v }, &rest[UNITS[rank].0.len()..]))
}
