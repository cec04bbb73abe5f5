//! Readers for procfs and cgroups, the exposition-format parser and the scrape loop.
//!
//! Every reader implements [`Collect`] and produces [`Family`]s; the exporter serves them on
//! `/metrics` and `promlet serve` stores them.

pub mod cgroup;
pub mod exposition;
mod family;
pub mod k8s;
pub mod node;
pub mod remote_write;
pub mod scrape;

pub use family::{
    Collect, CollectError, CollectStats, Family, FamilySample, Kind, LabelPair, LabelStr,
    SampleLabels,
};
