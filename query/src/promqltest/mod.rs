//! Reader for Prometheus's `promqltest` `.test` files: text → [`Command`]s, no evaluation.
//!
//! [`parse_file`] follows `promql/promqltest/test.go` (see the format specification in
//! `shared/reference/promqltest-FORMAT.md`):
//! * lines are trimmed; a line starting with `#` counts as blank; a blank line ends a block;
//! * `load <interval>` / `load_with_nhcb <interval>` blocks of series lines (and `@st`
//!   start-timestamp lines), value `k` at `k * interval` ms;
//! * `clear`;
//! * `eval instant at <t> <expr>` and `eval range from <a> to <b> step <s> <expr>`, with
//!   the old `eval_fail` / `eval_warn` / `eval_info` / `eval_ordered` spellings, followed by
//!   `expect …` lines, result lines, a scalar line or `expect string "…"`.
//!
//! All times are in milliseconds since the epoch. Native histogram literals are kept as
//! text ([`RawHistogram`]). The PromQL of each eval is parsed with [`crate::parse`], but a
//! parse failure is stored in [`Eval::expr`] rather than failing the file.

mod eval;
pub mod run;
mod series;
mod time;

#[cfg(test)]
mod tests;

use model::Labels;

use crate::parser::ast::Expr;

pub use series::{HistogramStep, RawHistogram, Value};

/// A reader error: the 1-based line where it applies and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TestFileError {
    /// 1-based line number in the file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl TestFileError {
    /// Builds an error at 1-based `line`.
    fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

/// One loaded sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Timestamp in ms since the epoch (`k * interval`).
    pub t_ms: i64,
    /// The sample value.
    pub value: Value,
    /// Start timestamp in ms, from a preceding `@st` line (`None` = unknown).
    pub st_ms: Option<i64>,
}

/// One command of a test file.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `load <interval>` or `load_with_nhcb <interval>`.
    Load {
        /// Gap between consecutive values, in ms.
        interval_ms: i64,
        /// The series, in file order; a repeated label set replaces the earlier line's
        /// samples (keeping the first line's position). Omitted values produce no point.
        series: Vec<(Labels, Vec<Point>)>,
        /// `load_with_nhcb`: also synthesise custom-bucket histograms from classic ones.
        with_nhcb: bool,
    },
    /// `clear`: drop all loaded data.
    Clear,
    /// An `eval` command.
    Eval(Box<Eval>),
}

/// An `eval` command with its expectations.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    /// Instant or range, with times.
    pub kind: EvalKind,
    /// The PromQL text, exactly as in the file.
    pub expr_text: String,
    /// [`crate::parse`] of `expr_text`; the error message if it failed.
    pub expr: Result<Expr, String>,
    /// What the evaluation must produce.
    pub expect: Expectation,
    /// `expect ordered` or `eval_ordered`: the result order must match the line order.
    pub ordered: bool,
    /// 1-based line number of the `eval` header.
    pub line: usize,
}

/// Instant or range evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    /// `eval instant at <t>`.
    Instant {
        /// Evaluation time in ms (the header's; see [`Expectation::range_vector`]).
        at_ms: i64,
    },
    /// `eval range from <start> to <end> step <step>`.
    Range {
        /// First step, ms.
        start_ms: i64,
        /// Last possible step, ms (≥ start).
        end_ms: i64,
        /// Step, ms.
        step_ms: i64,
    },
}

/// A text check on an error or annotation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    /// No `msg:`/`regex:` given: anything matches.
    Any,
    /// `msg:` (or `expected_fail_message`): the exact text.
    Exact(String),
    /// `regex:` (or `expected_fail_regexp`): an RE2 pattern, unanchored search.
    Regex(String),
}

/// `expect range vector from <a> to <b> step <s>` on an instant eval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeVector {
    /// Timestamp of the first expected value, ms.
    pub from_ms: i64,
    /// The evaluation time (overrides the `at` time), ms.
    pub to_ms: i64,
    /// Gap between expected values, ms.
    pub step_ms: i64,
}

/// Everything an eval block expects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectation {
    /// `Some` when the query must fail (`expect fail` or `eval_fail`); every check listed
    /// must hold against the error text (empty = any error).
    pub fail: Option<Vec<TextMatch>>,
    /// `expect warn` lines: at least one warning; each line matches some warning and each
    /// warning matches some line. `eval_warn` adds [`TextMatch::Any`].
    pub warn: Vec<TextMatch>,
    /// `expect no_warn`.
    pub no_warn: bool,
    /// `expect info` lines, as for `warn`. `eval_info` adds [`TextMatch::Any`].
    pub info: Vec<TextMatch>,
    /// `expect no_info`.
    pub no_info: bool,
    /// `expect range vector …` on an instant eval.
    pub range_vector: Option<RangeVector>,
    /// The expected result.
    pub result: ExpectedResult,
}

/// The expected result value.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedResult {
    /// Series lines (possibly none: an empty vector or matrix), in file order; a repeated
    /// label set replaces the earlier line.
    Series(Vec<ExpectedSeries>),
    /// A bare number line.
    Scalar(f64),
    /// `expect string "…"`.
    String(String),
}

impl Default for ExpectedResult {
    fn default() -> Self {
        Self::Series(Vec::new())
    }
}

/// One expected result line.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedSeries {
    /// The complete expected label set (`{a="b"}` means: no `__name__`).
    pub labels: Labels,
    /// Expanded values; `None` (`_`) = no point at that step. Value `k` belongs to
    /// `start + k * step` (range eval or `expect range vector`); instant evals use `[0]`.
    pub values: Vec<Option<Value>>,
    /// 1-based position among the block's body lines, not counting `expect` lines; what
    /// "ordered" compares with.
    pub position: usize,
}

/// The lines of a file as `test.go`'s `getLines` sees them: trimmed, comments blank.
fn lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') { "" } else { l }
        })
        .collect()
}

/// Parses a whole `.test` file into its commands.
///
/// # Errors
/// The first malformed command, series line or `expect` line, with its line number.
/// PromQL parse errors are not reader errors; see [`Eval::expr`].
pub fn parse_file(text: &str) -> Result<Vec<Command>, TestFileError> {
    let lines = lines(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.is_empty() {
            i += 1;
            continue;
        }
        let first = line
            .split([' ', '\t'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (next, cmd) = if first == "clear" {
            (i + 1, Command::Clear)
        } else if first.starts_with("load") {
            parse_load(&lines, i)?
        } else if first.starts_with("eval") {
            let (next, ev) = eval::parse_eval(&lines, i)?;
            (next, Command::Eval(Box::new(ev)))
        } else {
            return Err(TestFileError::new(
                i + 1,
                format!("invalid command {line:?}"),
            ));
        };
        out.push(cmd);
        i = next;
    }
    Ok(out)
}

/// Splits the first whitespace-delimited word off `s`; the rest has leading space removed.
fn split_word(s: &str) -> (&str, &str) {
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    (&s[..end], s[end..].trim_start())
}

/// Parses a duration header field, with a line-numbered error.
fn duration(s: &str, line: usize) -> Result<i64, TestFileError> {
    time::parse_duration(s)
        .ok_or_else(|| TestFileError::new(line, format!("invalid duration {s:?}")))
}

/// Parses the `load` block starting at `lines[start]`; returns the index after it.
fn parse_load(lines: &[&str], start: usize) -> Result<(usize, Command), TestFileError> {
    let header = lines[start];
    let ln = start + 1;
    let (word, rest) = split_word(header);
    let with_nhcb = match word {
        "load" => false,
        "load_with_nhcb" => true,
        _ => {
            return Err(TestFileError::new(
                ln,
                format!("invalid load command {header:?}"),
            ));
        }
    };
    if rest.is_empty() {
        return Err(TestFileError::new(ln, "load: missing interval"));
    }
    let interval_ms = duration(rest, ln)?;
    let mut series: Vec<(Labels, Vec<Point>)> = Vec::new();
    let mut pending_st: Option<(Labels, Vec<Option<i64>>, usize)> = None;
    let mut i = start + 1;
    while i < lines.len() && !lines[i].is_empty() {
        let line = lines[i];
        let ln = i + 1;
        i += 1;
        if is_st_line(line) {
            if pending_st.is_some() {
                return Err(TestFileError::new(
                    ln - 1,
                    "@st line not followed by its series",
                ));
            }
            let (labels, offsets) = parse_st_line(line).map_err(|m| TestFileError::new(ln, m))?;
            pending_st = Some((labels, offsets, ln));
            continue;
        }
        let (labels, values) =
            series::parse_series_line(line).map_err(|m| TestFileError::new(ln, m))?;
        let st = match pending_st.take() {
            Some((st_labels, offsets, st_ln)) => {
                if st_labels != labels || offsets.len() != values.len() {
                    return Err(TestFileError::new(
                        st_ln,
                        "@st line must be followed by the same series with as many values",
                    ));
                }
                offsets
            }
            None => vec![None; values.len()],
        };
        let mut points = Vec::new();
        for (k, (v, off)) in values.into_iter().zip(st).enumerate() {
            let t_ms = i64::try_from(k)
                .ok()
                .and_then(|k| k.checked_mul(interval_ms))
                .ok_or_else(|| TestFileError::new(ln, "timestamp overflow"))?;
            if let Some(value) = v {
                points.push(Point {
                    t_ms,
                    value,
                    st_ms: off.map(|o| t_ms + o),
                });
            }
        }
        match series.iter_mut().find(|(l, _)| *l == labels) {
            Some(slot) => slot.1 = points,
            None => series.push((labels, points)),
        }
    }
    if let Some((_, _, st_ln)) = pending_st {
        return Err(TestFileError::new(
            st_ln,
            "@st line not followed by its series",
        ));
    }
    let cmd = Command::Load {
        interval_ms,
        series,
        with_nhcb,
    };
    Ok((i, cmd))
}

/// Whether the first whitespace-delimited token ends in `@st`.
fn is_st_line(line: &str) -> bool {
    split_word(line).0.ends_with("@st")
}

/// Parses `metric@st items…`: the labels and one ST offset (ms) per expanded value.
fn parse_st_line(line: &str) -> Result<(Labels, Vec<Option<i64>>), String> {
    let (word, rest) = split_word(line);
    let metric = word.strip_suffix("@st").unwrap_or(word);
    let (labels, tail) = series::parse_metric(metric)?;
    if !tail.is_empty() {
        return Err(format!("unexpected {tail:?} in @st line"));
    }
    let mut out = Vec::new();
    for item in rest.split_whitespace() {
        parse_st_item(item, &mut out).map_err(|m| format!("{m} in @st item {item:?}"))?;
    }
    Ok((labels, out))
}

/// Expands one `@st` item: `_`, `_xN`, `<dur>`, `<dur>xN`, `<dur>±<dur>xN`.
fn parse_st_item(item: &str, out: &mut Vec<Option<i64>>) -> Result<(), String> {
    let count = |s: &str| -> Result<u64, String> {
        let n: u64 = s.parse().map_err(|_| "invalid repeat count".to_string())?;
        if n > 10_000_000 {
            return Err("repeat count too large".to_string());
        }
        Ok(n)
    };
    if item == "_" {
        out.push(None);
        return Ok(());
    }
    if let Some(n) = item.strip_prefix("_x") {
        let n = count(n)?;
        if n == 0 {
            return Err("repeat count must be at least 1".to_string());
        }
        out.extend((0..n).map(|_| None));
        return Ok(());
    }
    let (start, rest) = time::signed_unit_duration(item).ok_or("invalid duration")?;
    if rest.is_empty() {
        out.push(Some(start));
        return Ok(());
    }
    if let Some(n) = rest.strip_prefix('x') {
        out.extend((0..=count(n)?).map(|_| Some(start)));
        return Ok(());
    }
    let (delta, rest) = time::signed_unit_duration(rest).ok_or("invalid delta")?;
    let n = count(rest.strip_prefix('x').ok_or("expected \"x\"")?)?;
    let mut v = start;
    out.push(Some(v));
    for _ in 0..n {
        v = v.checked_add(delta).ok_or("overflow")?;
        out.push(Some(v));
    }
    Ok(())
}
