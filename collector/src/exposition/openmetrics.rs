//! OpenMetrics 1.0 text, with the token rules of Prometheus 2.42's `openmetricslex.l`.
//!
//! ```text
//! entry    = metadata | "# EOF" [ "\n" ] end-of-input | sample
//! metadata = "# " ( "HELP" | "TYPE" | "UNIT" ) " " metric-name " " [^\n]* "\n"
//! sample   = metric-name [ "{" labels "}" ] " " token [ " " token ] [ exemplar ] "\n"
//! exemplar = " # {" labels "}" " " token [ " " token ]
//! labels   = [ label ( "," label )* ]          -- no blanks, no trailing comma
//! label    = label-name "=" label-value         -- label values exclude raw line breaks
//! token    = [^ \n\0]+                          (values and timestamps: Go floats)
//! ```
//!
//! Every separator is exactly one space. There are no other comments and no blank lines;
//! the input must end with `# EOF`. Only names ending in `_total` or `_bucket` may carry an
//! exemplar. A `# UNIT` text, unless empty, must be a `_`-separated suffix of the name.

use nom::bytes::complete::tag;

use super::error::{PResult, expected, fail};
use super::float::{parse_om_timestamp, parse_value};
use super::lex::{
    QUOTED_METRIC_NAME, label_name, label_value, metric_name, quoted, split_while, starts_name,
    take_labels, unescape, until_eol,
};
use super::parser::Step;
use super::{Entry, Exemplar, LabelPairs, MetricType, SampleLine};

const MISSING_EOF: &str = "unexpected end of input: OpenMetrics text must end with \"# EOF\"";

/// Parses the entry at the start of `i` (which begins a line).
///
/// `line` is its 1-based line number; `scratch` is an empty buffer lent for the labels.
pub(crate) fn entry<'a>(
    i: &'a str,
    line: usize,
    scratch: &mut LabelPairs<'a>,
) -> PResult<'a, Step<'a>> {
    match i.as_bytes().first() {
        None => fail(i, MISSING_EOF),
        Some(b'#') => hash_line(i),
        Some(b'{') => fail(i, QUOTED_METRIC_NAME),
        Some(_) if starts_name(i) => sample(i, line, scratch),
        Some(_) => expected(i, "a metric name or '#' at the start of a line"),
    }
}

/// `# HELP`, `# TYPE`, `# UNIT` or `# EOF`.
fn hash_line(i: &str) -> PResult<'_, Step<'_>> {
    for keyword in ["# HELP ", "# TYPE ", "# UNIT "] {
        let kw: PResult<'_, &str> = tag(keyword)(i);
        if let Ok((rest, _)) = kw {
            return metadata(rest, keyword.trim_matches([' ', '#']));
        }
    }
    let eof: PResult<'_, &str> = tag("# EOF")(i);
    if let Ok((rest, _)) = eof {
        let rest = rest.strip_prefix('\n').unwrap_or(rest);
        if !rest.is_empty() {
            return fail(
                rest,
                "unexpected data after \"# EOF\": it must end the input",
            );
        }
        return Ok((rest, Step::Entry(Entry::Eof, 0)));
    }
    expected(
        i,
        "\"# HELP \", \"# TYPE \", \"# UNIT \" or \"# EOF\" (OpenMetrics has no other comments)",
    )
}

/// The part of a metadata line after `# HELP `, `# TYPE ` or `# UNIT `.
fn metadata<'a>(i: &'a str, keyword: &str) -> PResult<'a, Step<'a>> {
    let what = match keyword {
        "HELP" => "a metric name after \"# HELP \"",
        "TYPE" => "a metric name after \"# TYPE \"",
        _ => "a metric name after \"# UNIT \"",
    };
    let (i, family) = metric_name(i, what)?;
    let Some(text_start) = i.strip_prefix(' ') else {
        return expected(
            i,
            &format!("' ' and the {keyword} text after the metric name"),
        );
    };
    let (after, text) = until_eol(text_start);
    let Some(rest) = after.strip_prefix('\n') else {
        return expected(after, &format!("a line break after the {keyword} text"));
    };
    let entry = match keyword {
        "HELP" => Entry::Help {
            family,
            text: unescape(text, true),
        },
        "TYPE" => match metric_type(text) {
            Ok(kind) => Entry::Type { family, kind },
            Err(m) => return fail(text_start, m),
        },
        _ => {
            if !unit_fits(family, text) {
                let m = format!(
                    "unit {text:?} is not a suffix of metric {family:?} (expected \"{family}\" to end in \"_{text}\")"
                );
                return fail(text_start, m);
            }
            Entry::Unit { family, unit: text }
        }
    };
    Ok((rest, Step::Entry(entry, 0)))
}

/// Whether `unit` may be the unit of `family`: empty, or `family` ends with `_` + `unit`.
fn unit_fits(family: &str, unit: &str) -> bool {
    unit.is_empty()
        || family
            .strip_suffix(unit)
            .is_some_and(|stem| stem.ends_with('_'))
}

/// The type names of OpenMetrics.
fn metric_type(text: &str) -> Result<MetricType, String> {
    Ok(match text {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "gaugehistogram" => MetricType::GaugeHistogram,
        "summary" => MetricType::Summary,
        "info" => MetricType::Info,
        "stateset" => MetricType::StateSet,
        "unknown" => MetricType::Unknown,
        _ => {
            return Err(format!(
                "invalid metric type {text:?}: expected counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown"
            ));
        }
    })
}

/// Splits `" " token` off `i`, where `token = [^ \n\0]+`; `None` if `i` does not start so.
fn spaced_token(i: &str) -> Option<(&str, &str)> {
    let after = i.strip_prefix(' ')?;
    let (rest, token) = split_while(after, |b| !matches!(b, b' ' | b'\n' | b'\0'));
    (!token.is_empty()).then_some((rest, token))
}

/// Parses a value token at `at` (which starts with the space before it).
fn value_at<'a>(at: &'a str, token: &str) -> PResult<'a, f64> {
    match parse_value(token) {
        Ok(v) => Ok((at, v)),
        Err(m) => fail(at.get(1..).unwrap_or(at), m),
    }
}

/// Parses a timestamp token at `at` (which starts with the space before it).
fn timestamp_at<'a>(at: &'a str, token: &str, what: &str) -> PResult<'a, i64> {
    match parse_om_timestamp(token) {
        Ok(ts) => Ok((at, ts)),
        Err(m) => fail(at.get(1..).unwrap_or(at), format!("invalid {what}: {m}")),
    }
}

/// Consumes the final `\n` of a sample line, or fails with "expected {what}".
fn line_end<'a>(i: &'a str, what: &str) -> PResult<'a, ()> {
    match i.strip_prefix('\n') {
        Some(rest) => Ok((rest, ())),
        None if i.is_empty() => fail(i, MISSING_EOF),
        None => expected(i, what),
    }
}

/// A sample line, from the metric name through its line break.
fn sample<'a>(i: &'a str, line: usize, scratch: &mut LabelPairs<'a>) -> PResult<'a, Step<'a>> {
    let (mut i, name) = metric_name(i, "a metric name")?;
    if let Some(after) = i.strip_prefix('{') {
        i = labels(after, scratch)?.0;
    }
    let Some((rest, token)) = spaced_token(i) else {
        return expected(i, "' ' and a value after the metric name and labels");
    };
    let value = value_at(i, token)?.1;
    let labels = take_labels(scratch);
    let mut sample = SampleLine {
        name,
        labels,
        value,
        timestamp_ms: None,
        exemplar: None,
        line,
    };
    let mut i = rest;
    if !i.starts_with(" # {")
        && let Some((rest, token)) = spaced_token(i)
    {
        sample.timestamp_ms = Some(timestamp_at(i, token, "timestamp")?.1);
        i = rest;
    }
    let rest = if let Some(after) = i.strip_prefix(" # {") {
        let (rest, exemplar) = exemplar(i, after, name, scratch)?;
        sample.exemplar = Some(exemplar);
        rest
    } else if sample.timestamp_ms.is_some() {
        line_end(
            i,
            "an exemplar (\" # {\") or a line break after the timestamp",
        )?
        .0
    } else {
        line_end(
            i,
            "a timestamp, an exemplar (\" # {\") or a line break after the value",
        )?
        .0
    };
    Ok((rest, Step::Entry(Entry::Sample(sample), 0)))
}

/// The exemplar after ` # {` (`at` starts at the space before `#`), through the line break.
fn exemplar<'a>(
    at: &'a str,
    after: &'a str,
    name: &str,
    scratch: &mut LabelPairs<'a>,
) -> PResult<'a, Exemplar<'a>> {
    if !(name.ends_with("_total") || name.ends_with("_bucket")) {
        let m = format!(
            "metric name {name} does not support exemplars: only names ending in _total or _bucket do"
        );
        return fail(at.get(1..).unwrap_or(at), m);
    }
    let (i, _) = labels(after, scratch)?;
    let labels = take_labels(scratch);
    let Some((rest, token)) = spaced_token(i) else {
        return expected(i, "' ' and a value after the exemplar labels");
    };
    let value = value_at(i, token)?.1;
    let mut exemplar = Exemplar {
        labels,
        value,
        timestamp_ms: None,
    };
    let mut i = rest;
    if let Some((rest, token)) = spaced_token(i) {
        exemplar.timestamp_ms = Some(timestamp_at(i, token, "exemplar timestamp")?.1);
        i = rest;
    }
    let what = if exemplar.timestamp_ms.is_some() {
        "a line break after the exemplar timestamp"
    } else {
        "a timestamp or a line break after the exemplar value"
    };
    let (rest, ()) = line_end(i, what)?;
    Ok((rest, exemplar))
}

/// The labels after `{`, through `}`: comma-separated, no blanks, no trailing comma.
fn labels<'a>(mut i: &'a str, out: &mut LabelPairs<'a>) -> PResult<'a, ()> {
    let mut first = true;
    loop {
        if let Some(rest) = i.strip_prefix('}') {
            return Ok((rest, ()));
        }
        if !first {
            match i.strip_prefix(',') {
                Some(rest) => i = rest,
                None if starts_name(i) => return expected(i, "',' between labels"),
                None => return expected(i, "',' or '}' after the label value"),
            }
        }
        let what = if first {
            "a label name or '}'"
        } else {
            "a label name after ','"
        };
        let (rest, name) = label_name(i, what)?;
        let Some(rest) = rest.strip_prefix('=') else {
            return expected(rest, "'=' after the label name");
        };
        let (rest, raw) = quoted(rest, false)?;
        out.push((name, label_value(raw)));
        i = rest;
        first = false;
    }
}
