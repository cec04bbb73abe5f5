//! Series descriptions: `metric{labels} v1 v2 …`, shared by `load` blocks and expected
//! results (`ParseSeriesDesc` in Prometheus).

use model::{Label, Labels};

/// Most values one line may expand to; guards against `1x99999999999`.
const MAX_VALUES: u64 = 10_000_000;

/// One value of an expanded series description.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A float sample.
    Float(f64),
    /// The staleness marker (stored as [`model::stale_nan`]).
    Stale,
    /// A native histogram, kept as text.
    Histogram(RawHistogram),
}

impl Value {
    /// The float sample value, with [`Value::Stale`] as the stale-marker NaN; `None` for
    /// histograms.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(v) => Some(*v),
            Value::Stale => Some(model::stale_nan()),
            Value::Histogram(_) => None,
        }
    }
}

/// A native histogram value not yet evaluated: `base` when `step` is `None`, else
/// `base ± k·increment`, computed by `k` repeated additions (`{{A}}+{{B}}xN` gives
/// `k = 0..=N`).
#[derive(Debug, Clone, PartialEq)]
pub struct RawHistogram {
    /// The text between `{{` and `}}` of the first literal, trimmed (`schema:0 sum:5 …`).
    pub base: String,
    /// The increment of an `{{A}}+{{B}}xN` / `{{A}}-{{B}}xN` item.
    pub step: Option<HistogramStep>,
    /// How many times the increment is applied.
    pub k: u64,
}

/// The increment of a histogram series item, as text between `{{` and `}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum HistogramStep {
    /// `{{A}}+{{B}}xN`.
    Add(String),
    /// `{{A}}-{{B}}xN`.
    Sub(String),
}

/// A parsed series line: its labels and its expanded values (`None` = omitted, `_`).
pub(crate) type SeriesLine = (Labels, Vec<Option<Value>>);

/// Parses a whole series line.
pub(crate) fn parse_series_line(line: &str) -> Result<SeriesLine, String> {
    let (labels, rest) = parse_metric(line)?;
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return Err(format!(
            "unexpected {:?} after the metric",
            first_char(rest)
        ));
    }
    let values = parse_values(rest)?;
    Ok((labels, values))
}

/// The first character of `s`, for messages.
fn first_char(s: &str) -> char {
    s.chars().next().unwrap_or(' ')
}

/// Whether `c` may start a metric name.
fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

/// Whether `c` may continue a metric name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Parses the metric part (`name`, `name{…}`, `{…}`) at the start of `s`; returns the
/// labels and the unparsed rest.
pub(crate) fn parse_metric(s: &str) -> Result<(Labels, &str), String> {
    let s = s.trim_start();
    let mut labels = Vec::new();
    let mut rest = s;
    if s.starts_with(is_name_start) {
        let end = s.find(|c: char| !is_name_char(c)).unwrap_or(s.len());
        labels.push(Label::new(model::METRIC_NAME, &s[..end]));
        rest = &s[end..];
    }
    if let Some(inner) = rest.strip_prefix('{') {
        rest = parse_label_set(inner, &mut labels)?;
    } else if labels.is_empty() {
        return Err(format!("expected a metric, found {:?}", first_char(s)));
    }
    let labels = Labels::new(labels).map_err(|e| e.to_string())?;
    Ok((labels, rest))
}

/// Parses `l="v", …}` (after the `{`); returns the rest after the `}`.
fn parse_label_set<'a>(mut s: &'a str, labels: &mut Vec<Label>) -> Result<&'a str, String> {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let name;
        if s.starts_with(['"', '\'', '`']) {
            let (len, text) = unquote_prefix(s)?;
            s = s[len..].trim_start();
            if !s.starts_with('=') {
                // A bare quoted string is the metric name.
                labels.push(Label::new(model::METRIC_NAME, text));
                s = after_label(s)?;
                continue;
            }
            name = text;
        } else {
            let end = s
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            if end == 0 || s.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("expected a label name, found {:?}", first_char(s)));
            }
            name = s[..end].to_string();
            s = s[end..].trim_start();
        }
        s = s
            .strip_prefix('=')
            .ok_or_else(|| format!("expected \"=\" after label {name:?}"))?
            .trim_start();
        if !s.starts_with(['"', '\'', '`']) {
            return Err(format!("expected a quoted value for label {name:?}"));
        }
        let (len, value) = unquote_prefix(s)?;
        labels.push(Label::new(name, value));
        s = after_label(&s[len..])?;
    }
}

/// Skips a `,` (or stops before the `}`) after a label.
fn after_label(s: &str) -> Result<&str, String> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix(',') {
        Ok(rest)
    } else if s.starts_with('}') {
        Ok(s)
    } else {
        Err(format!(
            "expected \",\" or \"}}\" in label set, found {:?}",
            first_char(s)
        ))
    }
}

/// Reads a quoted string (`"…"`, `'…'` with Go escapes, or `` `…` ``) at the start of `s`;
/// returns the bytes consumed and the unescaped text. The PromQL lexer's reader, with the
/// error turned into a message that names the string.
pub(crate) fn unquote_prefix(s: &str) -> Result<(usize, String), String> {
    crate::parser::literals::string(s).map_err(|(_, message)| format!("{message} in {s:?}"))
}

/// Parses and expands the value list of a series line.
pub(crate) fn parse_values(s: &str) -> Result<Vec<Option<Value>>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches([' ', '\t']);
    while !rest.is_empty() {
        rest = if rest.starts_with("{{") {
            histogram_item(rest, &mut out)?
        } else {
            let end = rest.find([' ', '\t']).unwrap_or(rest.len());
            scalar_item(&rest[..end], &mut out)?;
            &rest[end..]
        };
        if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
            return Err(format!(
                "unexpected {:?} in series values",
                first_char(rest)
            ));
        }
        rest = rest.trim_start_matches([' ', '\t']);
    }
    Ok(out)
}

/// Reads `{{…}}` at the start of `s`; returns the trimmed inner text and the rest.
fn histogram_literal(s: &str) -> Result<(String, &str), String> {
    let body = s.strip_prefix("{{").ok_or("expected \"{{\"")?;
    let end = body.find("}}").ok_or("unterminated histogram literal")?;
    let inner = body[..end].trim();
    if inner.contains(['{', '}']) {
        return Err(format!("malformed histogram literal {{{{{inner}}}}}"));
    }
    Ok((inner.to_string(), &body[end + 2..]))
}

/// Reads `xN` at the start of `s`: the repeat count and the rest.
fn times(s: &str) -> Result<(u64, &str), String> {
    let body = s.strip_prefix('x').ok_or("expected \"x\"")?;
    let end = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    if end == 0 {
        return Err("expected a repeat count after \"x\"".to_string());
    }
    let n: u64 = body[..end]
        .parse()
        .map_err(|_| format!("repeat count {:?} out of range", &body[..end]))?;
    if n >= MAX_VALUES {
        return Err(format!("repeat count {n} too large"));
    }
    Ok((n, &body[end..]))
}

/// Reads a histogram item (`{{H}}`, `{{H}}xN`, `{{A}}±{{B}}xN`) into `out`; returns the rest.
fn histogram_item<'a>(s: &'a str, out: &mut Vec<Option<Value>>) -> Result<&'a str, String> {
    let (base, rest) = histogram_literal(s)?;
    let one = |step: Option<HistogramStep>, k| {
        Some(Value::Histogram(RawHistogram {
            base: base.clone(),
            step,
            k,
        }))
    };
    if rest.starts_with('x') {
        let (n, rest) = times(rest)?;
        check_len(out.len(), n + 1)?;
        out.extend((0..=n).map(|_| one(None, 0)));
        return Ok(rest);
    }
    let add = match rest.chars().next() {
        Some('+') => true,
        Some('-') => false,
        _ => {
            out.push(one(None, 0));
            return Ok(rest);
        }
    };
    let (inc, rest) = histogram_literal(&rest[1..])?;
    let (n, rest) = times(rest)?;
    check_len(out.len(), n + 1)?;
    for k in 0..=n {
        let step = if add {
            HistogramStep::Add(inc.clone())
        } else {
            HistogramStep::Sub(inc.clone())
        };
        out.push(one(Some(step), k));
    }
    Ok(rest)
}

/// Fails when a line would expand to more than [`MAX_VALUES`] values.
fn check_len(have: usize, more: u64) -> Result<(), String> {
    if have as u64 + more > MAX_VALUES {
        return Err(format!("series expands to more than {MAX_VALUES} values"));
    }
    Ok(())
}

/// Reads a number at the start of `s`: optional sign (if `signed`), then a decimal
/// number (with `_` separators and exponent) or `Inf`/`NaN` in any case.
fn number(s: &str, signed: bool) -> Result<(f64, &str), String> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') if signed => (true, &s[1..]),
        Some(b'+') if signed => (false, &s[1..]),
        _ => (false, s),
    };
    let word = body.get(..3).map(str::to_ascii_lowercase);
    let (v, rest) = match word.as_deref() {
        Some("inf") => (f64::INFINITY, &body[3..]),
        Some("nan") => (f64::NAN, &body[3..]),
        _ => decimal(body).ok_or_else(|| format!("invalid number {s:?}"))?,
    };
    if rest.starts_with(|c: char| c.is_ascii_alphanumeric() && c != 'x') {
        return Err(format!("invalid number {s:?}"));
    }
    Ok((if neg { -v } else { v }, rest))
}

/// Scans an unsigned decimal float: digits (with `_`), optional fraction, optional exponent.
fn decimal(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
        i
    };
    let int_end = digits(0);
    let mut i = int_end;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        frac_digits = end - i - 1;
        i = end;
    }
    if int_end == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let end = digits(j);
        if end > j {
            i = end;
        }
    }
    let text: String = s[..i].chars().filter(|&c| c != '_').collect();
    Some((text.parse().ok()?, &s[i..]))
}

/// Expands one whitespace-free scalar item into `out`.
fn scalar_item(item: &str, out: &mut Vec<Option<Value>>) -> Result<(), String> {
    if let Some(rest) = item.strip_prefix('_') {
        if rest.is_empty() {
            out.push(None);
            return Ok(());
        }
        let (n, rest) = times(rest)?;
        if !rest.is_empty() {
            return Err(format!("invalid series item {item:?}"));
        }
        check_len(out.len(), n)?;
        out.extend((0..n).map(|_| None));
        return Ok(());
    }
    if item == "stale" {
        out.push(Some(Value::Stale));
        return Ok(());
    }
    let (start, rest) = number(item, true)?;
    if rest.is_empty() {
        out.push(Some(Value::Float(start)));
        return Ok(());
    }
    if rest.starts_with('x') {
        let (n, tail) = times(rest)?;
        if !tail.is_empty() {
            return Err(format!("invalid series item {item:?}"));
        }
        check_len(out.len(), n + 1)?;
        out.extend((0..=n).map(|_| Some(Value::Float(start))));
        return Ok(());
    }
    let add = match rest.as_bytes()[0] {
        b'+' => true,
        b'-' => false,
        _ => return Err(format!("invalid series item {item:?}")),
    };
    let (step, rest) = number(&rest[1..], false)?;
    let (n, tail) = times(rest).map_err(|e| format!("{e} in {item:?}"))?;
    if !tail.is_empty() {
        return Err(format!("invalid series item {item:?}"));
    }
    check_len(out.len(), n + 1)?;
    let mut v = start;
    out.push(Some(Value::Float(v)));
    for _ in 0..n {
        if add {
            v += step;
        } else {
            v -= step;
        }
        out.push(Some(Value::Float(v)));
    }
    Ok(())
}
