//! What every reader produces: metric families in Prometheus's data model, independent of
//! how they are exposed (`/metrics` through prometheus-client) or stored (the tsdb).

use std::sync::Arc;

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A monotonically increasing total (name ends in `_total`, except where node_exporter's
    /// or cAdvisor's own names do not, which are kept for dashboards).
    Counter,
    /// A value that goes up and down.
    Gauge,
}

/// A label name or value: a static string or a shared one, so that cloning is a copy or a
/// reference-count increment, never an allocation.
#[derive(Clone)]
pub enum LabelStr {
    /// A string known at compile time (names, and values such as `total`).
    Static(&'static str),
    /// A string read at run time, shared by every sample that carries it.
    Shared(Arc<str>),
}

impl std::ops::Deref for LabelStr {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            LabelStr::Static(s) => s,
            LabelStr::Shared(s) => s,
        }
    }
}

impl PartialEq for LabelStr {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for LabelStr {}

impl std::hash::Hash for LabelStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl std::fmt::Debug for LabelStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for LabelStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl From<&'static str> for LabelStr {
    fn from(s: &'static str) -> Self {
        LabelStr::Static(s)
    }
}

impl From<String> for LabelStr {
    fn from(s: String) -> Self {
        LabelStr::Shared(s.into())
    }
}

impl From<Arc<str>> for LabelStr {
    fn from(s: Arc<str>) -> Self {
        LabelStr::Shared(s)
    }
}

/// A label pair.
pub type LabelPair = (LabelStr, LabelStr);

/// A sample's labels: pairs shared with other samples (one cgroup's labels, say), then the
/// sample's own. Order is not significant; empty values mean "absent".
#[derive(Clone, Default)]
pub struct SampleLabels {
    shared: Option<Arc<[LabelPair]>>,
    own: Vec<LabelPair>,
}

impl SampleLabels {
    /// `shared` pairs (one reference, not copied) followed by `own`.
    pub fn new(shared: Option<Arc<[LabelPair]>>, own: Vec<LabelPair>) -> Self {
        SampleLabels { shared, own }
    }

    /// Static names with copies of the values.
    pub fn from_pairs(pairs: &[(&'static str, &str)]) -> Self {
        let own = pairs
            .iter()
            .map(|(n, v)| (LabelStr::Static(n), (*v).to_string().into()))
            .collect();
        SampleLabels { shared: None, own }
    }

    /// Every pair, shared ones first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let shared = self.shared.as_deref().unwrap_or_default();
        shared.iter().chain(&self.own).map(|(n, v)| (&**n, &**v))
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        self.shared.as_ref().map_or(0, |s| s.len()) + self.own.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Owned copies of every pair.
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }
}

impl PartialEq for SampleLabels {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for SampleLabels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One sample of a family: its labels (without `__name__`) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySample {
    /// The labels.
    pub labels: SampleLabels,
    /// The value.
    pub value: f64,
}

/// A metric family: name, help, type and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The metric name (for counters, the full name including `_total` when it has one).
    pub name: String,
    /// The HELP text.
    pub help: String,
    /// The type.
    pub kind: Kind,
    /// The samples.
    pub samples: Vec<FamilySample>,
}

impl Family {
    /// An empty family.
    pub fn new(name: impl Into<String>, help: impl Into<String>, kind: Kind) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            kind,
            samples: Vec::new(),
        }
    }

    /// Adds a sample with `labels` (name/value pairs).
    pub fn push(&mut self, labels: &[(&'static str, &str)], value: f64) -> &mut Self {
        self.samples.push(FamilySample {
            labels: SampleLabels::from_pairs(labels),
            value,
        });
        self
    }
}

/// How one collection went: what was skipped rather than failing the whole collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectStats {
    /// Things (a cgroup that vanished mid-read, an unreadable mount) skipped.
    pub skipped: u64,
}

/// A reader of some part of the node: procfs, cgroups, ...
pub trait Collect: Send + Sync {
    /// A short name for logs and self-metrics (`cpu`, `meminfo`, `cgroup`, ...).
    fn name(&self) -> &'static str;

    /// Appends this reader's families to `out`. A part that cannot be read (a vanished
    /// cgroup) is skipped and counted in the stats, never an error for the whole collection;
    /// an error means the reader could read nothing at all.
    ///
    /// # Errors
    /// When nothing at all could be read (e.g. `/proc` is not mounted).
    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError>;
}

/// A reader that could read nothing.
#[derive(Debug, thiserror::Error)]
#[error("{reader}: {message}")]
pub struct CollectError {
    /// The reader's name.
    pub reader: &'static str,
    /// What went wrong, naming the file.
    pub message: String,
}
