//! Number, duration and string literals: scanning (with nom) and printing back.

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::{char, digit0, digit1, hex_digit1, one_of};
use nom::combinator::opt;
use nom::multi::many1;
use nom::{IResult, Parser};

/// Duration units in the order they must appear, with their length in milliseconds.
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("ms", 1),
    ("m", 60_000),
    ("s", 1000),
];

/// Rank of a unit in the required order `y w d h m s ms`.
fn unit_rank(unit: &str) -> usize {
    ["y", "w", "d", "h", "m", "s", "ms"]
        .iter()
        .position(|u| *u == unit)
        .unwrap_or(usize::MAX)
}

/// Whether `c` may continue an identifier.
pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Whether `c` must not directly follow a number or duration.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// One `<digits><unit>` component of a duration.
fn duration_part(input: &str) -> IResult<&str, (&str, &str)> {
    let unit = alt((
        tag("ms"),
        tag("y"),
        tag("w"),
        tag("d"),
        tag("h"),
        tag("m"),
        tag("s"),
    ));
    (digit1, unit).parse(input)
}

/// Scans a duration such as `1h30m`; returns the rest and the length in milliseconds.
///
/// Fails (returns `None`) unless units are strictly ordered and no identifier character
/// follows; overflow also yields `None`.
pub(crate) fn duration(input: &str) -> Option<(&str, i64)> {
    let (rest, parts) = many1(duration_part).parse(input).ok()?;
    if rest.starts_with(is_word_char) {
        return None;
    }
    let mut total: i64 = 0;
    let mut last_rank = None;
    for (digits, unit) in parts {
        let rank = unit_rank(unit);
        if last_rank.is_some_and(|r| r >= rank) {
            return None;
        }
        last_rank = Some(rank);
        let per = UNITS.iter().find(|(u, _)| *u == unit)?.1;
        let n: i64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(per)?)?;
    }
    Some((rest, total))
}

/// Recognizes a decimal float with optional fraction and exponent.
fn decimal(input: &str) -> IResult<&str, &str> {
    let mantissa = alt((
        (digit1, opt((char('.'), digit0))).map(|_| ()),
        (char('.'), digit1).map(|_| ()),
    ));
    let exponent = opt((one_of("eE"), opt(one_of("+-")), digit1));
    let (rest, _) = (mantissa, exponent).parse(input)?;
    Ok((rest, &input[..input.len() - rest.len()]))
}

/// Recognizes a hexadecimal integer such as `0x1F`.
fn hex(input: &str) -> IResult<&str, &str> {
    let (rest, _) = (char('0'), one_of("xX"), hex_digit1).parse(input)?;
    Ok((rest, &input[..input.len() - rest.len()]))
}

/// Scans an unsigned number (decimal, exponent or hex); `None` if it is malformed or is
/// followed by an identifier character.
pub(crate) fn number(input: &str) -> Option<(&str, f64)> {
    if let Ok((rest, text)) = hex(input) {
        if rest.starts_with(is_word_char) {
            return None;
        }
        let v = u64::from_str_radix(&text[2..], 16).ok()?;
        return Some((rest, v as f64));
    }
    let (rest, text) = decimal(input).ok()?;
    if rest.starts_with(is_word_char) || rest.starts_with('.') {
        return None;
    }
    Some((rest, text.parse().ok()?))
}

/// Parses `Inf`/`NaN` in any case.
pub(crate) fn special_float(word: &str) -> Option<f64> {
    match word.to_ascii_lowercase().as_str() {
        "inf" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    }
}

/// Scans a quoted string starting at `input` (which begins with `"`, `'` or `` ` ``).
///
/// Returns the byte length consumed and the unescaped value, or an error message with the
/// byte offset (relative to `input`) where it applies.
pub(crate) fn string(input: &str) -> Result<(usize, String), (usize, String)> {
    let quote = input
        .chars()
        .next()
        .ok_or((0, "unterminated quoted string".to_string()))?;
    if quote == '`' {
        return match input[1..].find('`') {
            Some(end) => Ok((end + 2, input[1..=end].to_string())),
            None => Err((0, "unterminated raw string".to_string())),
        };
    }
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b if b == quote as u8 => {
                let s = String::from_utf8(out)
                    .map_err(|_| (0, "invalid UTF-8 in string".to_string()))?;
                return Ok((i + 1, s));
            }
            b'\n' => break,
            b'\\' => i = unescape(input, i, &mut out)?,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Err((0, "unterminated quoted string".to_string()))
}

/// Decodes the escape sequence at `input[i]` (a backslash) into `out`; returns the next index.
fn unescape(input: &str, i: usize, out: &mut Vec<u8>) -> Result<usize, (usize, String)> {
    let bytes = input.as_bytes();
    let bad = || (i, "unknown escape sequence".to_string());
    let c = *bytes.get(i + 1).ok_or_else(bad)?;
    let simple = match c {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' | b'\'' | b'"' => Some(c),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return Ok(i + 2);
    }
    let (len, radix) = match c {
        b'x' => (2, 16),
        b'u' => (4, 16),
        b'U' => (8, 16),
        b'0'..=b'7' => (3, 8),
        _ => return Err(bad()),
    };
    let start = if radix == 8 { i + 1 } else { i + 2 };
    let digits = input.get(start..start + len).ok_or_else(bad)?;
    let v = u32::from_str_radix(digits, radix).map_err(|_| bad())?;
    if matches!(c, b'x' | b'0'..=b'7') {
        out.push(u8::try_from(v).map_err(|_| bad())?);
    } else {
        let ch = char::from_u32(v).ok_or_else(bad)?;
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
    }
    Ok(start + len)
}

/// Prints a string as a double-quoted PromQL literal that [`string`] reads back.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prints milliseconds as a PromQL duration such as `1h30m` (negative values get a `-`).
pub(crate) fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for unit in ["y", "w", "d", "h", "m", "s", "ms"] {
        let per = UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map_or(1, |(_, p)| *p as u64);
        if rest >= per {
            out.push_str(&format!("{}{unit}", rest / per));
            rest %= per;
        }
    }
    out
}

/// Prints a float so that [`number`] / [`special_float`] read it back exactly.
pub(crate) fn format_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "Inf" } else { "-Inf" }.to_string()
    } else if v != 0.0 && (v.abs() >= 1e21 || v.abs() < 1e-6) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("5m"), Some(("", 300_000)));
        assert_eq!(duration("1h30m]"), Some(("]", 5_400_000)));
        let all = 365 * 86_400_000
            + 2 * 7 * 86_400_000
            + 3 * 86_400_000
            + 4 * 3_600_000
            + 5 * 60_000
            + 6_000
            + 7;
        assert_eq!(duration("1y2w3d4h5m6s7ms"), Some(("", all)));
        assert_eq!(duration("5m1h"), None);
        assert_eq!(duration("5mm"), None);
        assert_eq!(duration("5"), None);
        assert_eq!(duration("1e3"), None);
        assert_eq!(format_duration(all), "1y2w3d4h5m6s7ms");
        assert_eq!(format_duration(-300_000), "-5m");
    }

    #[test]
    fn numbers() {
        assert_eq!(number("1.5e3 "), Some((" ", 1500.0)));
        assert_eq!(number("0x1f"), Some(("", 31.0)));
        assert_eq!(number(".5"), Some(("", 0.5)));
        assert_eq!(number("1."), Some(("", 1.0)));
        assert_eq!(number("5x"), None);
        assert!(special_float("nAn").is_some_and(f64::is_nan));
        assert_eq!(special_float("INF"), Some(f64::INFINITY));
        for v in [1.0f64, 0.1, 1e300, 1e-300, 123.456, -2.5] {
            let s = format_number(v.abs());
            assert_eq!(number(&s).map(|x| x.1), Some(v.abs()), "{s}");
        }
    }

    #[test]
    fn strings() {
        assert_eq!(string(r#""a\"b" x"#), Ok((6, "a\"b".to_string())));
        assert_eq!(
            string(r"'\x41\101\u00e9\U0001F600\n'"),
            Ok((28, "AAé😀\n".to_string()))
        );
        assert_eq!(string(r"`a\nb`"), Ok((6, r"a\nb".to_string())));
        assert!(string("\"abc").is_err());
        assert!(string(r#""\q""#).is_err());
        let s = "x\"\\\n\t\u{1}é";
        assert_eq!(string(&quote(s)).map(|r| r.1), Ok(s.to_string()));
    }
}
