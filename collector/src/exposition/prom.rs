//! Prometheus text format 0.0.4, with the token rules of Prometheus 2.42's `promlex.l`.
//!
//! ```text
//! entry    = blank* ( EOL | NUL | comment | help | type ) | sample
//! comment  = "#" [^\n]* EOL                     (unless it is a help or type line)
//! help     = "#" blank+ "HELP" blank+ metric-name text EOL
//! type     = "#" blank+ "TYPE" blank+ metric-name text EOL
//! sample   = metric-name blank* [ "{" labels "}" ] blank* value blank* [ digits blank* ] EOL
//! labels   = blank* ( label blank* [ "," ] blank* )*  -- commas are optional, one may trail
//! label    = label-name blank* "=" blank* label-value
//! value    = [^{ \t\n\0]+                       (parsed as a Go float)
//! blank    = " " | "\t"        EOL = "\n" | end of input
//! ```
//!
//! `text` is the rest of the line minus its first byte (Prometheus drops the separator,
//! whatever it is), or empty if the rest is only blanks. HELP texts resolve `\\` and `\n`;
//! label values also resolve `\"` and may contain raw line breaks. A NUL byte at the start
//! of an entry ends the input, as in Prometheus's lexer.

use nom::bytes::complete::tag;

use super::error::{PResult, expected, fail};
use super::float::{parse_text_timestamp, parse_value};
use super::lex::{
    QUOTED_METRIC_NAME, label_name, label_value, metric_name, quoted, split_while, starts_name,
    take_labels, unescape, until_eol,
};
use super::parser::Step;
use super::{Entry, LabelPairs, MetricType, SampleLine};

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Skips `[ \t]*`.
fn blanks(i: &str) -> &str {
    match i.as_bytes().first() {
        Some(&b) if is_blank(b) => split_while(i, is_blank).0,
        _ => i,
    }
}

/// Consumes the end of a line (`\n` or end of input), or fails with "expected {what}".
fn eol<'a>(i: &'a str, what: &str) -> PResult<'a, ()> {
    match i.as_bytes().first() {
        None => Ok((i, ())),
        Some(b'\n') => Ok((i.get(1..).unwrap_or(""), ())),
        Some(_) => expected(i, what),
    }
}

/// Parses the entry at the start of `i` (which begins a line).
///
/// `line` is its 1-based line number; `scratch` is an empty buffer lent for the labels.
pub(crate) fn entry<'a>(
    line_start: &'a str,
    line: usize,
    scratch: &mut LabelPairs<'a>,
) -> PResult<'a, Step<'a>> {
    let i = blanks(line_start);
    match i.as_bytes().first() {
        None | Some(b'\0') => Ok((i, Step::End)),
        Some(b'\n') => Ok((i.get(1..).unwrap_or(""), Step::Skip)),
        Some(b'#') => comment(i),
        Some(b'{') => fail(i, QUOTED_METRIC_NAME),
        Some(_) if starts_name(i) && i.len() < line_start.len() => fail(
            line_start,
            "blanks before a metric name are not allowed (Prometheus keeps them in the name and rejects it)",
        ),
        Some(_) if starts_name(i) => sample(i, line, scratch),
        Some(_) => expected(
            i,
            "a metric name, '#' or a line break at the start of a line",
        ),
    }
}

/// `#` lines: HELP, TYPE, or a comment that is skipped.
fn comment(i: &str) -> PResult<'_, Step<'_>> {
    let after_hash = i.get(1..).unwrap_or("");
    let spaced = blanks(after_hash);
    if spaced.len() < after_hash.len() {
        for (keyword, is_help) in [("HELP", true), ("TYPE", false)] {
            let kw: PResult<'_, &str> = tag(keyword)(spaced);
            if let Ok((rest, _)) = kw
                && rest.as_bytes().first().is_some_and(|&b| is_blank(b))
            {
                return metadata(blanks(rest), keyword, is_help);
            }
        }
    }
    let (rest, _) = until_eol(i);
    Ok((rest.get(1..).unwrap_or(""), Step::Skip))
}

/// The part of a HELP or TYPE line after the keyword and its blanks.
fn metadata<'a>(i: &'a str, keyword: &str, is_help: bool) -> PResult<'a, Step<'a>> {
    let what = if is_help {
        "a metric name after HELP"
    } else {
        "a metric name after TYPE"
    };
    let (i, family) = metric_name(i, what)?;
    let (after, text) = until_eol(i);
    let text = if text.bytes().all(is_blank) {
        ""
    } else {
        // Prometheus drops the first byte after the name, assuming a blank.
        match text.get(1..) {
            Some(t) => t,
            None => {
                return fail(
                    i,
                    format!("{keyword} text is not valid UTF-8 after dropping its first byte"),
                );
            }
        }
    };
    let (rest, ()) = eol(after, "a line break")?;
    let entry = if is_help {
        Entry::Help {
            family,
            text: unescape(text, false),
        }
    } else {
        match metric_type(text) {
            Ok(kind) => Entry::Type { family, kind },
            Err(m) => return fail(i, m),
        }
    };
    Ok((rest, Step::Entry(entry, 0)))
}

/// The type names of the text format.
fn metric_type(text: &str) -> Result<MetricType, String> {
    let kind = match text {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "summary" => MetricType::Summary,
        "untyped" => MetricType::Unknown,
        _ => {
            return Err(format!(
                "invalid metric type {text:?}: expected counter, gauge, histogram, summary or untyped"
            ));
        }
    };
    Ok(kind)
}

/// A sample line, from the metric name to the end of the line.
fn sample<'a>(i: &'a str, line: usize, scratch: &mut LabelPairs<'a>) -> PResult<'a, Step<'a>> {
    let (i, name) = metric_name(i, "a metric name")?;
    let mut i = blanks(i);
    let mut extra_lines = 0;
    if let Some(after) = i.strip_prefix('{') {
        let (rest, lines) = labels(after, scratch)?;
        extra_lines = lines;
        i = blanks(rest);
    }
    let at_value = i;
    let (i, token) = split_while(at_value, |b| {
        !matches!(b, b'{' | b' ' | b'\t' | b'\n' | b'\0')
    });
    if token.is_empty() {
        return expected(i, "a value after the metric name and labels");
    }
    let value = match parse_value(token) {
        Ok(v) => v,
        Err(m) => return fail(at_value, m),
    };
    let i = blanks(i);
    let (i, timestamp_ms) = match i.as_bytes().first() {
        Some(b) if b.is_ascii_digit() => {
            let (rest, digits) = split_while(i, |b| b.is_ascii_digit());
            let ts = match parse_text_timestamp(digits) {
                Ok(ts) => ts,
                Err(m) => return fail(i, m),
            };
            let (rest, ()) = eol(blanks(rest), "a line break after the timestamp")?;
            (rest, Some(ts))
        }
        _ => (
            eol(
                i,
                "a timestamp (integer milliseconds) or a line break after the value",
            )?
            .0,
            None,
        ),
    };
    let labels = take_labels(scratch);
    let sample = SampleLine {
        name,
        labels,
        value,
        timestamp_ms,
        exemplar: None,
        line,
    };
    Ok((i, Step::Entry(Entry::Sample(sample), extra_lines)))
}

/// The labels after `{`, through `}`; returns the line breaks seen inside label values.
fn labels<'a>(mut i: &'a str, out: &mut LabelPairs<'a>) -> PResult<'a, usize> {
    let mut newlines = 0;
    loop {
        i = blanks(i);
        if let Some(rest) = i.strip_prefix('}') {
            return Ok((rest, newlines));
        }
        let (rest, name) = label_name(i, "a label name or '}'")?;
        let rest = blanks(rest);
        let Some(rest) = rest.strip_prefix('=') else {
            return expected(rest, "'=' after the label name");
        };
        let (rest, raw) = quoted(blanks(rest), true)?;
        newlines += raw.newlines;
        out.push((name, label_value(raw)));
        i = blanks(rest);
        if let Some(rest) = i.strip_prefix(',') {
            i = rest;
        }
    }
}
