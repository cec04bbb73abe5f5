//! `eval` blocks: header, `expect` lines, result lines.

use super::series;
use super::{
    Eval, EvalKind, Expectation, ExpectedResult, ExpectedSeries, RangeVector, TestFileError,
    TextMatch, duration, split_word,
};

/// Old-style suffix of the `eval` word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Old {
    /// Plain `eval`.
    None,
    /// `eval_fail`.
    Fail,
    /// `eval_warn`.
    Warn,
    /// `eval_info`.
    Info,
    /// `eval_ordered`.
    Ordered,
}

/// Parses the header; returns the kind, the old-style suffix and the expression text.
fn header(line: &str, ln: usize) -> Result<(EvalKind, Old, &str), TestFileError> {
    let err = |m: &str| TestFileError::new(ln, format!("{m}: {line:?}"));
    let (word, rest) = split_word(line);
    let old = match word {
        "eval" => Old::None,
        "eval_fail" => Old::Fail,
        "eval_warn" => Old::Warn,
        "eval_info" => Old::Info,
        "eval_ordered" => Old::Ordered,
        _ => return Err(err("invalid eval command")),
    };
    let (mode, rest) = split_word(rest);
    match mode {
        "instant" => {
            let (at, rest) = split_word(rest);
            if at != "at" {
                return Err(err("expected \"at <time>\""));
            }
            let (t, expr) = split_word(rest);
            if expr.is_empty() {
                return Err(err("missing expression"));
            }
            let at_ms = duration(t, ln)?;
            Ok((EvalKind::Instant { at_ms }, old, expr))
        }
        "range" => {
            if old == Old::Ordered {
                return Err(err("eval_ordered is not allowed for range queries"));
            }
            let mut words = [""; 3];
            let mut rest = rest;
            for (slot, kw) in words.iter_mut().zip(["from", "to", "step"]) {
                let (w, r) = split_word(rest);
                if w != kw {
                    return Err(err(&format!("expected \"{kw}\"")));
                }
                let (v, r) = split_word(r);
                *slot = v;
                rest = r;
            }
            if rest.is_empty() {
                return Err(err("missing expression"));
            }
            let start_ms = duration(words[0], ln)?;
            let end_ms = duration(words[1], ln)?;
            let step_ms = duration(words[2], ln)?;
            if end_ms < start_ms {
                return Err(err("end timestamp must not be before start time"));
            }
            let kind = EvalKind::Range {
                start_ms,
                end_ms,
                step_ms,
            };
            Ok((kind, old, rest))
        }
        _ => Err(err("expected \"instant\" or \"range\"")),
    }
}

/// Parses `expect <type> [msg:|regex: text]` into `expect` / `ordered`.
fn expect_line(
    line: &str,
    ln: usize,
    expect: &mut Expectation,
    ordered: &mut bool,
    fails: &mut usize,
) -> Result<(), TestFileError> {
    let err = |m: &str| TestFileError::new(ln, format!("{m}: {line:?}"));
    let (_, rest) = split_word(line);
    let (kind, rest) = split_word(rest);
    let text = if rest.is_empty() {
        TextMatch::Any
    } else if let Some(m) = rest.strip_prefix("msg:") {
        TextMatch::Exact(m.trim().to_string())
    } else if let Some(r) = rest.strip_prefix("regex:") {
        TextMatch::Regex(r.trim().to_string())
    } else {
        return Err(err("invalid expect statement"));
    };
    if text == TextMatch::Exact(String::new()) || text == TextMatch::Regex(String::new()) {
        return Err(err("invalid expect statement"));
    }
    match kind {
        "ordered" => *ordered = true,
        "fail" => {
            *fails += 1;
            if *fails > 1 {
                return Err(err("more than one \"expect fail\""));
            }
            let checks = expect.fail.get_or_insert_with(Vec::new);
            if text != TextMatch::Any {
                checks.push(text);
            }
        }
        "warn" => expect.warn.push(text),
        "no_warn" => expect.no_warn = true,
        "info" => expect.info.push(text),
        "no_info" => expect.no_info = true,
        _ => return Err(err("invalid expect statement")),
    }
    if expect.no_warn && !expect.warn.is_empty() {
        return Err(err("\"expect warn\" and \"expect no_warn\" together"));
    }
    if expect.no_info && !expect.info.is_empty() {
        return Err(err("\"expect info\" and \"expect no_info\" together"));
    }
    Ok(())
}

/// Parses `expect range vector from <a> to <b> step <s>`.
fn range_vector(line: &str, ln: usize) -> Result<RangeVector, TestFileError> {
    let err = |m: &str| TestFileError::new(ln, format!("{m}: {line:?}"));
    let rest = line["expect range vector".len()..].trim_start();
    let mut vals = [0; 3];
    let mut rest = rest;
    for (slot, kw) in vals.iter_mut().zip(["from", "to", "step"]) {
        let (w, r) = split_word(rest);
        if w != kw {
            return Err(err(&format!("expected \"{kw}\"")));
        }
        let (v, r) = split_word(r);
        *slot = duration(v, ln)?;
        rest = r;
    }
    if !rest.is_empty() {
        return Err(err("unexpected text after step"));
    }
    if vals[1] < vals[0] {
        return Err(err("\"to\" must not be before \"from\""));
    }
    Ok(RangeVector {
        from_ms: vals[0],
        to_ms: vals[1],
        step_ms: vals[2],
    })
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseFloat(s, 64)`, as the scalar-line test.
fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    };
    if let Some(v) = int.filter(|_| !body.starts_with(['+', '-'])) {
        return Some(if neg { -(v as f64) } else { v as f64 });
    }
    if body.starts_with(['+', '-']) || body.contains('_') {
        return None;
    }
    let allowed = lower == "inf" || lower == "infinity" || lower == "nan";
    if !allowed && !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let v: f64 = body.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// Parses a Go-quoted string (`"…"` or `` `…` ``) that must make up all of `s`.
fn go_unquote(s: &str) -> Option<String> {
    if !s.starts_with(['"', '`']) {
        return None;
    }
    let (len, text) = series::unquote_prefix(s).ok()?;
    (len == s.len()).then_some(text)
}

/// Parses the eval block starting at `lines[start]`; returns the index after it.
pub(super) fn parse_eval(lines: &[&str], start: usize) -> Result<(usize, Eval), TestFileError> {
    let ln = start + 1;
    let (kind, old, expr_text) = header(lines[start], ln)?;
    let mut expect = Expectation::default();
    let mut ordered = old == Old::Ordered;
    match old {
        Old::Fail => expect.fail = Some(Vec::new()),
        Old::Warn => expect.warn.push(TextMatch::Any),
        Old::Info => expect.info.push(TextMatch::Any),
        Old::None | Old::Ordered => {}
    }
    let mut fails = 0;
    let mut series: Vec<ExpectedSeries> = Vec::new();
    let mut scalar = None;
    let mut string = None;
    let mut j = 0;
    let mut i = start + 1;
    while i < lines.len() && !lines[i].is_empty() {
        let line = lines[i];
        let ln = i + 1;
        i += 1;
        if old == Old::Fail {
            if let Some(m) = line.strip_prefix("expected_fail_message") {
                let checks = expect.fail.get_or_insert_with(Vec::new);
                checks.push(TextMatch::Exact(m.trim().to_string()));
                break;
            }
            if let Some(r) = line.strip_prefix("expected_fail_regexp") {
                let checks = expect.fail.get_or_insert_with(Vec::new);
                checks.push(TextMatch::Regex(r.trim().to_string()));
                break;
            }
        }
        if line.starts_with("expect range vector") {
            j += 1;
            expect.range_vector = Some(range_vector(line, ln)?);
            continue;
        }
        if let Some(rest) = line.strip_prefix("expect string") {
            j += 1;
            let quoted = rest.strip_prefix(' ').unwrap_or(rest);
            let text = go_unquote(quoted)
                .ok_or_else(|| TestFileError::new(ln, format!("invalid expect string {line:?}")))?;
            string = Some(text);
            continue;
        }
        if split_word(line).0 == "expect" {
            expect_line(line, ln, &mut expect, &mut ordered, &mut fails)?;
            continue;
        }
        j += 1;
        if let Some(v) = parse_number(line) {
            scalar = Some(v);
            break;
        }
        let (labels, values) =
            series::parse_series_line(line).map_err(|m| TestFileError::new(ln, m))?;
        let entry = ExpectedSeries {
            labels,
            values,
            position: j,
        };
        match series.iter_mut().find(|s| s.labels == entry.labels) {
            Some(slot) => *slot = entry,
            None => series.push(entry),
        }
    }
    let instant = matches!(kind, EvalKind::Instant { .. });
    if instant
        && expect.range_vector.is_none()
        && let Some(s) = series.iter().find(|s| s.values.len() > 1)
    {
        return Err(TestFileError::new(
            ln,
            format!(
                "expecting multiple values in instant evaluation not allowed ({} values for {:?})",
                s.values.len(),
                s.labels
            ),
        ));
    }
    if !instant && expect.range_vector.is_some() {
        return Err(TestFileError::new(
            ln,
            "\"expect range vector\" on a range eval",
        ));
    }
    let result = match (scalar, string) {
        (Some(v), None) => ExpectedResult::Scalar(v),
        (None, Some(s)) if series.is_empty() => ExpectedResult::String(s),
        (None, None) => ExpectedResult::Series(series),
        _ => {
            return Err(TestFileError::new(
                ln,
                "eval block mixes scalar, string and series expectations",
            ));
        }
    };
    expect.result = result;
    let expr = crate::parse(expr_text).map_err(|e| e.to_string());
    let ev = Eval {
        kind,
        expr_text: expr_text.to_string(),
        expr,
        expect,
        ordered,
        line: ln,
    };
    Ok((i, ev))
}
