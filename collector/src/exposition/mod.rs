//! Parser for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text.
//!
//! [`Parser`] walks a `&str` once and yields one [`Entry`] per metadata line or sample
//! line. Names, label names, unit strings and label values without escapes borrow from the
//! input; only escaped label values and HELP texts are copied ([`Cow::Owned`]).
//!
//! # Compatibility contract
//!
//! By default the parser accepts and rejects exactly what Prometheus 2.42's
//! `model/textparse` accepts and rejects (`promparse.go` for [`Format::PrometheusText`],
//! `openmetricsparse.go` for [`Format::OpenMetrics`]), with these deliberate differences:
//!
//! - the input is `&str`, so invalid UTF-8 is impossible here (the caller's conversion
//!   rejects it, as Prometheus rejects invalid UTF-8 in label values and HELP texts);
//! - the first error ends the iteration, and it carries a line and a column;
//! - quoted (UTF-8) metric and label names, which Prometheus 2.42 does not know either, get
//!   a dedicated message;
//! - an OpenMetrics timestamp beyond ±9.2e15 s saturates to `i64::MIN`/`i64::MAX` ms;
//! - in Prometheus text, blanks before a sample's metric name are an error here:
//!   Prometheus's parser keeps them in the name, and its scrape then fails on the invalid
//!   name (`invalid metric name or label names: {__name__="  a"}`), so both reject the body;
//! - NUL bytes that Prometheus's OpenMetrics lexer skips by accident (inside the words
//!   `HELP`/`TYPE`/`UNIT`/`EOF` of a `# ` line, and right after `# EOF`) are errors here.
//!
//! The OpenMetrics side is checked against promtool 2.42 by the integration test
//! `promtool_diff` (and was by 3,000 randomly mutated bodies during development); the text
//! side was checked by letting Prometheus 2.42 scrape 36 edge-case bodies (missing commas between
//! labels are accepted, `a-1 2` is `a` = -1 at 2 ms, a NUL at the start of a line ends the
//! input, `# EOF` is just a comment, `untyped` is a type but `unknown` is not).
//!
//! Prometheus 2.42 does *not* check OpenMetrics family rules: samples before their `TYPE`,
//! interleaved families, a counter sample without `_total` all parse (verified with
//! `promtool tsdb create-blocks-from openmetrics`). [`Parser::strict`] adds those checks
//! (see [`strict`](Parser::strict) for the list) for callers that want the specification
//! rather than Prometheus's behaviour.
//!
//! ## Values and timestamps
//!
//! Values follow Go's `strconv.ParseFloat` as Prometheus calls it: decimal numbers with an
//! optional sign, fraction and exponent (`1`, `-1.5`, `.5`, `5.`, `1e-3`), `Inf`/`Infinity`
//! with an optional sign and `NaN` without one (all case-insensitive). Hexadecimal floats and
//! `_` separators are rejected (Prometheus refuses `p`, `P` and `_`, and Go needs a `p`
//! exponent for hex), as is a finite literal that overflows (`1e400`); underflow gives 0.
//! Every NaN is returned with Prometheus's bit pattern [`NORMAL_NAN_BITS`].
//!
//! Prometheus text timestamps are integer milliseconds (digits only, no sign). OpenMetrics
//! timestamps are float seconds, converted as Prometheus does: `int64(seconds * 1000)`, i.e.
//! the f64 product truncated toward zero (`1520879607.789` → `1520879607789`,
//! `1.0049` → `1004`, `-0.0015` → `-1`); NaN and ±Inf are rejected.
//!
//! # `promtool tsdb create-blocks-from openmetrics FILE DIR` (Prometheus 2.42)
//!
//! Read from `cmd/promtool/backfill.go`, `tsdb/blockwriter.go` and `tsdb/head_append.go` at
//! tag v2.42.0 and confirmed with the installed promtool 2.42.0:
//!
//! - **Parsing.** The whole file is parsed with `NewOpenMetricsParser` (so with everything
//!   above) once to find the min and max timestamps, then once more per 2 h block. Any parse
//!   error aborts before a block is written: `getting min and max timestamp: next: <err>`.
//!   HELP/TYPE/UNIT lines and exemplars are ignored; only sample lines are used.
//! - **Timestamps are required** on every sample: `getting min and max timestamp: expected
//!   timestamp for series got none` (exit 1, nothing written).
//! - **`# EOF`** is required: without it `... next: data does not end with # EOF`; anything
//!   after it, even one blank line, gives `... next: unexpected data after # EOF`.
//!   `# EOF` without a final newline is accepted. An empty file fails
//!   (`mmap, size 0: invalid argument`); a file holding only `# EOF` writes no block, exit 0.
//! - **Blocks** span 2 h (`tsdb.DefaultBlockDuration`), aligned to multiples of 2 h since the
//!   epoch: the first range starts at `7200000 * (mint / 7200000)` (Go division truncates
//!   toward zero). Each block's meta min/max are the first/last sample in it (max + 1 ms),
//!   not the range bounds. Samples with a **negative timestamp are silently dropped** (the
//!   first range starts at 0). A hidden `--max-block-duration` allows larger ranges.
//! - **Families** are not checked: interleaved families, samples before their TYPE and a
//!   counter without `_total` are all imported. Histograms and summaries become plain float
//!   series: `x_bucket{le="..."}` (the `le` text unchanged), `x_count`, `x_sum`, `x_created`,
//!   `x{quantile="..."}`, `x_gcount`, `x_gsum`; no native histograms.
//! - **Samples of one series** are appended through a head appender committed every 5000
//!   samples. Within one uncommitted batch, an out-of-order sample or a same-timestamp
//!   sample with another value is **dropped silently** (the earlier one wins). Across a
//!   commit it fails the run: `block creation: process blocks: add sample: out of order
//!   sample` or `... duplicate sample for timestamp`; blocks already written stay on disk
//!   (exit 1). An exact repeat (same timestamp and value) is accepted and stored once.
//!   A series listed several times (one line per timestamp) is the normal way to write a
//!   file; a label name repeated within one sample fails the run (`label name "b" is not
//!   unique: invalid sample`); empty label values are dropped.
//!
//! # Example
//!
//! ```
//! use collector::exposition::{Entry, Format, Parser};
//!
//! let text = "# TYPE up gauge\nup{job=\"node\"} 1 1700000000.5\n# EOF\n";
//! let mut samples = 0;
//! for entry in Parser::new(text, Format::OpenMetrics) {
//!     if let Entry::Sample(s) = entry? {
//!         assert_eq!((s.name, s.value, s.timestamp_ms), ("up", 1.0, Some(1_700_000_000_500)));
//!         samples += 1;
//!     }
//! }
//! assert_eq!(samples, 1);
//! # Ok::<(), collector::exposition::ParseError>(())
//! ```

use std::borrow::Cow;

mod error;
mod float;
mod lex;
mod openmetrics;
mod parser;
mod prom;
mod strict;

pub use error::ParseError;
pub use parser::Parser;

/// The bit pattern Prometheus gives every parsed NaN (`value.NormalNaN`, Go's `math.NaN()`).
///
/// It differs from the staleness marker [`model::STALE_NAN_BITS`], which no text can express.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// The text format of an exposition body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    PrometheusText,
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`).
    OpenMetrics,
}

/// A metric family's type, from a `# TYPE` line.
///
/// Prometheus text's `untyped` maps to [`MetricType::Unknown`]; the text format only knows
/// `counter`, `gauge`, `histogram`, `summary` and `untyped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics only).
    GaugeHistogram,
    /// `summary`.
    Summary,
    /// `info` (OpenMetrics only).
    Info,
    /// `stateset` (OpenMetrics only).
    StateSet,
    /// `unknown` (OpenMetrics) or `untyped` (Prometheus text).
    Unknown,
}

impl MetricType {
    /// The type's name as written in a `# TYPE` line of `format`.
    pub fn as_str(self, format: Format) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::GaugeHistogram => "gaugehistogram",
            Self::Summary => "summary",
            Self::Info => "info",
            Self::StateSet => "stateset",
            Self::Unknown if format == Format::PrometheusText => "untyped",
            Self::Unknown => "unknown",
        }
    }
}

/// Label pairs in input order: `(name, value)`, the value unescaped.
///
/// Neither `__name__` nor sorting is added; duplicate and empty-valued labels are kept as
/// written (Prometheus rejects or drops them only when appending).
pub type LabelPairs<'a> = Vec<(&'a str, Cow<'a, str>)>;

/// One parsed line (or, for samples whose label values span lines, one record).
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP family text`; `text` is unescaped (`\\`, `\n`, and in OpenMetrics `\"`).
    Help {
        /// The metric family name.
        family: &'a str,
        /// The help text, unescaped.
        text: Cow<'a, str>,
    },
    /// `# TYPE family kind`.
    Type {
        /// The metric family name.
        family: &'a str,
        /// The declared type.
        kind: MetricType,
    },
    /// `# UNIT family unit` (OpenMetrics only); `unit` may be empty.
    Unit {
        /// The metric family name.
        family: &'a str,
        /// The unit, a suffix of `family` after `_` unless empty.
        unit: &'a str,
    },
    /// A sample line.
    Sample(SampleLine<'a>),
    /// The OpenMetrics `# EOF` line; always the last entry. Prometheus text has none.
    Eof,
}

/// A sample line: name, labels, value, optional timestamp and exemplar.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleLine<'a> {
    /// The metric name as written (with any `_total`, `_bucket`, ... suffix).
    pub name: &'a str,
    /// The labels in input order.
    pub labels: LabelPairs<'a>,
    /// The value; NaN always has the bits [`NORMAL_NAN_BITS`].
    pub value: f64,
    /// The timestamp in ms since the epoch, if the line has one.
    pub timestamp_ms: Option<i64>,
    /// The exemplar after ` # ` (OpenMetrics only).
    pub exemplar: Option<Exemplar<'a>>,
    /// The 1-based line number where the sample starts.
    pub line: usize,
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's labels in input order (may be empty).
    pub labels: LabelPairs<'a>,
    /// The exemplar's value.
    pub value: f64,
    /// The exemplar's timestamp in ms, converted like sample timestamps.
    pub timestamp_ms: Option<i64>,
}

#[cfg(test)]
mod tests;
