//! The opt-in family rules of the format specifications (see [`Parser::strict`]).
//!
//! [`Parser::strict`]: super::Parser::strict

use std::collections::HashSet;

use super::{Entry, Format, LabelPairs, MetricType, SampleLine};

/// The most characters an exemplar's label names and values may hold together.
const EXEMPLAR_MAX_CHARS: usize = 128;

/// Sample-name suffixes no type adds to a family name in the given format, for messages.
const KNOWN_SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

/// The suffixes a family of `kind` gives its sample names in `format`.
fn suffixes(format: Format, kind: MetricType) -> &'static [&'static str] {
    match (format, kind) {
        (Format::OpenMetrics, MetricType::Counter) => &["_total", "_created"],
        (Format::OpenMetrics, MetricType::Histogram) => &["_bucket", "_count", "_sum", "_created"],
        (Format::OpenMetrics, MetricType::Summary) => &["", "_count", "_sum", "_created"],
        (Format::PrometheusText, MetricType::Histogram) => &["_bucket", "_count", "_sum"],
        (Format::PrometheusText, MetricType::Summary) => &["", "_count", "_sum"],
        (_, MetricType::GaugeHistogram) => &["_bucket", "_gcount", "_gsum"],
        (_, MetricType::Info) => &["_info"],
        _ => &[""],
    }
}

/// The family whose lines are being read.
#[derive(Debug, Clone)]
struct Family<'a> {
    name: &'a str,
    kind: MetricType,
    typed: bool,
    help: bool,
    unit: bool,
    samples: bool,
}

/// Tracks families across entries to check their order and names.
#[derive(Debug, Clone)]
pub(crate) struct Families<'a> {
    format: Format,
    current: Option<Family<'a>>,
    closed: HashSet<&'a str>,
}

impl<'a> Families<'a> {
    /// Starts with no family seen.
    pub(crate) fn new(format: Format) -> Self {
        Self {
            format,
            current: None,
            closed: HashSet::new(),
        }
    }

    /// Checks one entry against the entries before it.
    ///
    /// # Errors
    ///
    /// A message saying which rule the entry breaks.
    pub(crate) fn check(&mut self, entry: &Entry<'a>) -> Result<(), String> {
        match entry {
            Entry::Help { family, .. } => self.metadata(family, "HELP", |f| &mut f.help),
            Entry::Type { family, kind } => {
                self.metadata(family, "TYPE", |f| &mut f.typed)?;
                if let Some(f) = &mut self.current {
                    f.kind = *kind;
                }
                Ok(())
            }
            Entry::Unit { family, .. } => self.metadata(family, "UNIT", |f| &mut f.unit),
            Entry::Sample(sample) => self.sample(sample),
            Entry::Eof => Ok(()),
        }
    }

    /// A HELP, TYPE or UNIT line; `flag` selects the family's "seen" flag for it.
    fn metadata(
        &mut self,
        name: &'a str,
        keyword: &str,
        flag: for<'f> fn(&'f mut Family<'a>) -> &'f mut bool,
    ) -> Result<(), String> {
        if self.current.as_ref().is_none_or(|f| f.name != name) {
            self.open(name)?;
        }
        let Some(family) = &mut self.current else {
            return Ok(());
        };
        if family.samples {
            return Err(format!(
                "{keyword} line for family {name} after its samples: metadata must come first"
            ));
        }
        let seen = flag(family);
        if *seen {
            return Err(format!("second {keyword} line for family {name}"));
        }
        *seen = true;
        Ok(())
    }

    /// Closes the current family and opens `name` (of unknown type so far).
    fn open(&mut self, name: &'a str) -> Result<(), String> {
        if let Some(previous) = self.current.take() {
            self.closed.insert(previous.name);
        }
        if self.closed.contains(name) {
            return Err(format!(
                "family {name} appears again after other families: a family's lines must be contiguous"
            ));
        }
        self.current = Some(Family {
            name,
            kind: MetricType::Unknown,
            typed: false,
            help: false,
            unit: false,
            samples: false,
        });
        Ok(())
    }

    /// A sample line: it continues the current family or starts an untyped one.
    fn sample(&mut self, sample: &SampleLine<'a>) -> Result<(), String> {
        let suffix = match &self.current {
            Some(f) => self.suffix_in(f, sample.name)?,
            None => None,
        };
        let suffix = match suffix {
            Some(suffix) => suffix,
            None => {
                self.open(sample.name)?;
                ""
            }
        };
        let Some(family) = &mut self.current else {
            return Ok(());
        };
        family.samples = true;
        let family = family.clone();
        check_labels(&family, suffix, &sample.labels)?;
        match &sample.exemplar {
            Some(exemplar) => check_exemplar(&family, suffix, &exemplar.labels),
            None => Ok(()),
        }
    }

    /// The suffix by which `name` belongs to `family`, `None` if it starts another family.
    ///
    /// # Errors
    ///
    /// If `family` has a TYPE and `name` is its name plus a suffix that type does not use.
    fn suffix_in(&self, family: &Family<'a>, name: &str) -> Result<Option<&'static str>, String> {
        let allowed = suffixes(self.format, family.kind);
        let Some(tail) = name.strip_prefix(family.name) else {
            return Ok(None);
        };
        if let Some(suffix) = allowed.iter().find(|s| **s == tail) {
            return Ok(Some(suffix));
        }
        if family.typed && (tail.is_empty() || KNOWN_SUFFIXES.contains(&tail)) {
            let kind = family.kind.as_str(self.format);
            let list: Vec<String> = allowed
                .iter()
                .map(|s| format!("{}{s}", family.name))
                .collect();
            return Err(format!(
                "sample {name} does not fit {kind} family {}: expected one of {}",
                family.name,
                list.join(", ")
            ));
        }
        Ok(None)
    }
}

/// Label rules of a sample in `family` whose name has `suffix`.
fn check_labels(family: &Family<'_>, suffix: &str, labels: &LabelPairs<'_>) -> Result<(), String> {
    if let Some(name) = duplicate(labels) {
        return Err(format!(
            "label {name} appears twice in a sample of family {}",
            family.name
        ));
    }
    let needed = match (family.kind, suffix) {
        (MetricType::Histogram | MetricType::GaugeHistogram, "_bucket") => Some("le"),
        (MetricType::Summary, "") => Some("quantile"),
        _ => None,
    };
    match needed {
        Some(label) if !labels.iter().any(|(n, _)| *n == label) => Err(format!(
            "sample {}{suffix} lacks the {label} label its type requires",
            family.name
        )),
        _ => Ok(()),
    }
}

/// Exemplar rules for a sample in `family` whose name has `suffix`.
fn check_exemplar(
    family: &Family<'_>,
    suffix: &str,
    labels: &LabelPairs<'_>,
) -> Result<(), String> {
    let allowed = matches!(
        (family.kind, suffix),
        (MetricType::Counter, "_total")
            | (
                MetricType::Histogram | MetricType::GaugeHistogram,
                "_bucket"
            )
    );
    if !allowed {
        return Err(format!(
            "exemplar on {}{suffix}: only counter _total and histogram _bucket samples may have one",
            family.name
        ));
    }
    if let Some(name) = duplicate(labels) {
        return Err(format!("label {name} appears twice in an exemplar"));
    }
    let chars: usize = labels
        .iter()
        .map(|(n, v)| n.chars().count() + v.chars().count())
        .sum();
    if chars > EXEMPLAR_MAX_CHARS {
        return Err(format!(
            "exemplar labels hold {chars} characters, more than the {EXEMPLAR_MAX_CHARS} allowed"
        ));
    }
    Ok(())
}

/// The first label name that occurs twice, if any.
fn duplicate<'a>(labels: &LabelPairs<'a>) -> Option<&'a str> {
    labels
        .iter()
        .enumerate()
        .find(|(i, (name, _))| labels.iter().skip(i + 1).any(|(other, _)| other == name))
        .map(|(_, (name, _))| *name)
}
