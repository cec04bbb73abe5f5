//! Lexical pieces shared by both formats: names, quoted label values, unescaping, tokens.
//!
//! Every function takes the unparsed rest of the input and returns nom's `(rest, output)`.
//! They scan bytes: all delimiters are ASCII, so every split lands on a char boundary.

use std::borrow::Cow;

use super::LabelPairs;
use super::error::{PResult, expected, fail};

const NAME_START: u8 = 1; // [a-zA-Z_:]
const NAME_CONT: u8 = 2; // [a-zA-Z0-9_:]
const LABEL_START: u8 = 4; // [a-zA-Z_]
const LABEL_CONT: u8 = 8; // [a-zA-Z0-9_]

/// Character classes of ASCII bytes; all other bytes are in none.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let mut v = 0;
        if alpha || c == b':' {
            v |= NAME_START | NAME_CONT;
        }
        if c.is_ascii_digit() {
            v |= NAME_CONT | LABEL_CONT;
        }
        if alpha {
            v |= LABEL_START | LABEL_CONT;
        }
        t[b] = v;
        b += 1;
    }
    t
};

fn is(b: u8, class: u8) -> bool {
    CLASS[usize::from(b)] & class != 0
}

/// Splits `i` after the leading bytes matching `keep`.
pub(crate) fn split_while(i: &str, keep: impl Fn(u8) -> bool) -> (&str, &str) {
    let n = i.bytes().position(|b| !keep(b)).unwrap_or(i.len());
    // `keep` only accepts ASCII bytes, so `n` is a char boundary.
    let (head, tail) = i.split_at_checked(n).unwrap_or((i, ""));
    (tail, head)
}

/// Splits `i` at its first line break: `(rest from the line break on, text before it)`.
/// Without a line break the text is all of `i` and the rest is empty.
pub(crate) fn until_eol(i: &str) -> (&str, &str) {
    let n = i.find('\n').unwrap_or(i.len());
    let (head, tail) = i.split_at_checked(n).unwrap_or((i, ""));
    (tail, head)
}

/// The error for a `{` where a metric name should start (newer Prometheus's quoted names).
pub(crate) const QUOTED_METRIC_NAME: &str = "quoted (UTF-8) metric names are not supported: expected a metric name [a-zA-Z_:][a-zA-Z0-9_:]*";

/// Whether `i` could start a metric name.
pub(crate) fn starts_name(i: &str) -> bool {
    i.as_bytes().first().is_some_and(|&b| is(b, NAME_START))
}

/// `metric-name = [a-zA-Z_:] [a-zA-Z0-9_:]*`
pub(crate) fn metric_name<'a>(i: &'a str, what: &str) -> PResult<'a, &'a str> {
    if !starts_name(i) {
        return expected(i, what);
    }
    Ok(split_while(i, |b| is(b, NAME_CONT)))
}

/// `label-name = [a-zA-Z_] [a-zA-Z0-9_]*`
pub(crate) fn label_name<'a>(i: &'a str, what: &str) -> PResult<'a, &'a str> {
    match i.as_bytes().first() {
        Some(&b) if is(b, LABEL_START) => Ok(split_while(i, |b| is(b, LABEL_CONT))),
        Some(b'"') => fail(
            i,
            "quoted (UTF-8) label names are not supported: expected a label name [a-zA-Z_][a-zA-Z0-9_]*",
        ),
        _ => expected(i, what),
    }
}

/// A label value as written between its quotes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawValue<'a> {
    /// The text between the quotes, escapes not yet resolved.
    pub(crate) text: &'a str,
    /// Whether `text` holds a backslash (so unescaping may change it).
    pub(crate) escaped: bool,
    /// How many raw line breaks `text` holds (Prometheus text allows them).
    pub(crate) newlines: usize,
}

/// `label-value = '"' ( '\' any-but-newline | [^\"] )* '"'`, where OpenMetrics
/// (`newline_ok == false`) also excludes raw line breaks.
///
/// `i` must start at the opening quote; the result's rest starts after the closing one.
pub(crate) fn quoted(i: &str, newline_ok: bool) -> PResult<'_, RawValue<'_>> {
    let bytes = i.as_bytes();
    if bytes.first() != Some(&b'"') {
        return expected(i, "a quoted label value");
    }
    let mut escaped = false;
    let mut newlines = 0;
    let mut pos = 1;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'"' => {
                let text = i.get(1..pos).unwrap_or("");
                let rest = i.get(pos + 1..).unwrap_or("");
                return Ok((
                    rest,
                    RawValue {
                        text,
                        escaped,
                        newlines,
                    },
                ));
            }
            b'\\' => {
                escaped = true;
                if matches!(bytes.get(pos + 1), None | Some(b'\n')) {
                    let at = i.get(pos..).unwrap_or("");
                    return fail(
                        at,
                        "expected an escaped character after '\\' in label value",
                    );
                }
                // The escaped byte may start a multi-byte character; its continuation bytes
                // are never special, so stepping one byte is enough.
                pos += 2;
            }
            b'\n' if !newline_ok => {
                let at = i.get(pos..).unwrap_or("");
                return fail(
                    at,
                    "expected '\"' to close the label value, found end of line",
                );
            }
            b'\n' => {
                newlines += 1;
                pos += 1;
            }
            _ => pos += 1,
        }
    }
    fail(
        "",
        "expected '\"' to close the label value, found end of input",
    )
}

/// Resolves `\\`, `\n` and, if `quote` is set, `\"`; any other backslash is kept as written
/// (Go's `strings.Replacer` as Prometheus uses it).
pub(crate) fn unescape(text: &str, quote: bool) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let mut lookahead = chars.clone();
        match lookahead.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars = lookahead;
    }
    Cow::Owned(out)
}

/// Turns a [`RawValue`] of a label into its final text.
pub(crate) fn label_value(raw: RawValue<'_>) -> Cow<'_, str> {
    if raw.escaped {
        unescape(raw.text, true)
    } else {
        Cow::Borrowed(raw.text)
    }
}

/// Moves the labels gathered in `scratch` into a `Vec` of exactly their number, leaving
/// `scratch` empty with its capacity kept for the next sample.
pub(crate) fn take_labels<'a>(scratch: &mut LabelPairs<'a>) -> LabelPairs<'a> {
    let mut labels = Vec::with_capacity(scratch.len());
    labels.append(scratch);
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_matches_go_replacer() {
        let cases = [
            (r"plain", "plain", true),
            (r#"a\"b"#, "a\"b", true),
            (r#"a\"b"#, "a\\\"b", false),
            (r"a\\b", "a\\b", true),
            (r"a\nb", "a\nb", true),
            (r"a\\n", "a\\n", true),
            (r"a\tb", "a\\tb", true),
            (r"\x \", "\\x \\", true),
            (r"é\né", "é\né", true),
        ];
        for (input, want, quote) in cases {
            assert_eq!(unescape(input, quote), want, "input {input:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(metric_name("a:b_1{", "x"), Ok(("{", "a:b_1")));
        assert!(metric_name("1a", "x").is_err());
        assert_eq!(label_name("_a1=", "x"), Ok(("=", "_a1")));
        assert!(label_name(":a", "x").is_err());
    }

    #[test]
    fn quoted_values() {
        let (rest, raw) = quoted(r#""a\"b" x"#, false).expect("valid");
        assert_eq!((rest, raw.text, raw.escaped), (" x", r#"a\"b"#, true));
        assert!(quoted("\"a\nb\"", false).is_err());
        let (_, raw) = quoted("\"a\nb\"", true).expect("valid in text format");
        assert_eq!(raw.newlines, 1);
        assert!(quoted("\"abc", true).is_err());
        assert!(quoted("\"a\\\nb\"", true).is_err());
    }
}
