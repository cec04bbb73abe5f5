//! What every reader produces: metric families in Prometheus's data model, independent of
//! how they are exposed (`/metrics` through prometheus-client) or stored (the tsdb).

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A monotonically increasing total (name ends in `_total`, except where node_exporter's
    /// or cAdvisor's own names do not, which are kept for dashboards).
    Counter,
    /// A value that goes up and down.
    Gauge,
}

/// One sample of a family: its labels (without `__name__`) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySample {
    /// Label pairs, in any order; empty values mean "absent".
    pub labels: Vec<(String, String)>,
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
    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.samples.push(FamilySample {
            labels: labels
                .iter()
                .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
                .collect(),
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
