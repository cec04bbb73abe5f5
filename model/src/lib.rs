//! The shared vocabulary of promlet: [`Labels`], [`Matcher`], [`Sample`], [`Timestamp`] and the
//! storage traits ([`Appendable`]/[`Appender`] for writes, [`Queryable`]/[`Querier`] for reads).
//!
//! Storage engines (the `tsdb` crate) implement the traits; everything else (the PromQL engine,
//! the collector, the HTTP exporter) sees storage only through them, as Prometheus's `promql`
//! package sees `tsdb` only through `storage`. [`MemStorage`] implements both sides in memory so
//! other crates can test against it without a database.
#![deny(missing_docs)]

mod error;
mod labels;
mod matcher;
#[cfg(feature = "testutil")]
mod mem;
mod sample;
mod storage;
mod time;

pub use error::{Error, Result};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{MatchOp, Matcher};
#[cfg(feature = "testutil")]
pub use mem::MemStorage;
pub use sample::{STALE_NAN_BITS, Sample, Timestamp, is_stale_nan, stale_nan};
pub use storage::{
    Appendable, Appender, LateSamples, LateTake, Querier, Queryable, SelectHints, Series,
    SeriesRef, SeriesSet, matches_all,
};
pub use time::{now_ms, parse_duration_ms};
