//! [`Parser`]: the iterator over entries, shared by both formats.

use super::error::{Failure, ParseError};
use super::strict::Families;
use super::{Entry, Format, LabelPairs, openmetrics, prom};

/// What one call of a format's entry parser found.
#[derive(Debug)]
pub(crate) enum Step<'a> {
    /// An entry, and how many raw line breaks its label values held.
    Entry(Entry<'a>, usize),
    /// A comment or a blank line (Prometheus text only).
    Skip,
    /// The end of the input (Prometheus text only; OpenMetrics ends with `# EOF`).
    End,
}

/// Parses an exposition body into [`Entry`]s, one per [`Iterator::next`].
///
/// The iterator stops after the first error (which it yields) and after the last entry; for
/// OpenMetrics the last entry is always [`Entry::Eof`]. Comments and blank lines of the
/// Prometheus text format are skipped. Borrowed strings live as long as the input.
///
/// Allocation: one `Vec` per sample (and per exemplar) sized to its labels; a `String`
/// only for label values and HELP texts with escapes.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    input: &'a str,
    rest: &'a str,
    /// The 1-based line number where `rest` starts.
    line: usize,
    format: Format,
    done: bool,
    scratch: LabelPairs<'a>,
    families: Option<Families<'a>>,
}

impl<'a> Parser<'a> {
    /// Creates a parser over `input` in the given format, as lenient or strict as
    /// Prometheus 2.42 (see the [module docs](super)).
    pub fn new(input: &'a str, format: Format) -> Self {
        Self {
            input,
            rest: input,
            line: 1,
            format,
            done: false,
            scratch: Vec::new(),
            families: None,
        }
    }

    /// Also enforces the format specification's family rules, which Prometheus 2.42 does
    /// not check:
    ///
    /// - a family's HELP, TYPE and UNIT come before its samples, at most once each;
    /// - a family's lines are contiguous: once another family starts, the name may not
    ///   come back (metadata or samples);
    /// - sample names carry the suffixes of their family's type: OpenMetrics counters
    ///   `_total`/`_created`; histograms `_bucket`/`_count`/`_sum` (+`_created` in
    ///   OpenMetrics); gauge histograms `_bucket`/`_gcount`/`_gsum`; summaries none,
    ///   `_count`/`_sum` (+`_created`); info `_info`; other types none;
    /// - `_bucket` samples have an `le` label and summary quantiles a `quantile` label;
    /// - no label name repeats within a sample or an exemplar;
    /// - exemplars only on counter `_total` and (gauge) histogram `_bucket` samples, with at
    ///   most 128 characters of label names and values.
    ///
    /// A sample whose name fits no open family starts a family of type unknown (untyped)
    /// named after the sample.
    #[must_use]
    pub fn strict(mut self) -> Self {
        self.families = Some(Families::new(self.format));
        self
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Parses the next entry that is not a comment or blank line.
    fn step(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        loop {
            let entry_start = self.input.len().saturating_sub(self.rest.len());
            let result = match self.format {
                Format::PrometheusText => prom::entry(self.rest, self.line, &mut self.scratch),
                Format::OpenMetrics => openmetrics::entry(self.rest, self.line, &mut self.scratch),
            };
            let (rest, step) = match result {
                Ok(ok) => ok,
                Err(nom::Err::Error(f) | nom::Err::Failure(f)) => {
                    return Err(f.locate(self.input, entry_start, self.line));
                }
                Err(nom::Err::Incomplete(_)) => {
                    let f = Failure {
                        rest: "",
                        message: "unexpected end of input".into(),
                    };
                    return Err(f.locate(self.input, entry_start, self.line));
                }
            };
            self.rest = rest;
            let line = self.line;
            match step {
                Step::Skip => self.line += 1,
                Step::End => return Ok(None),
                Step::Entry(entry, extra_lines) => {
                    self.line += 1 + extra_lines;
                    if let Some(families) = &mut self.families {
                        families.check(&entry).map_err(|message| ParseError {
                            line,
                            column: 1,
                            message,
                        })?;
                    }
                    return Ok(Some(entry));
                }
            }
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = self.step();
        match &result {
            Ok(Some(Entry::Eof)) | Ok(None) | Err(_) => self.done = true,
            Ok(Some(_)) => {}
        }
        result.transpose()
    }
}

impl std::iter::FusedIterator for Parser<'_> {}
