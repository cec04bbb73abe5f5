//! The storage traits: the seam between storage engines and everything that reads or writes.
//!
//! Shaped after Prometheus's `storage` package: a [`Queryable`] is a factory of [`Querier`]s
//! scoped to a time range; an [`Appendable`] hands out [`Appender`]s, batches that become
//! visible and durable together at [`Appender::commit`].

use crate::{Labels, Matcher, Result, Sample, Timestamp};

/// A reference to a series that an [`Appender`] returned, valid for the life of the storage
/// instance that issued it (not across restarts). Passing it back skips the label lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// Something that accepts samples.
pub trait Appendable: Send + Sync {
    /// A new, empty batch. Appenders are not meant to be shared between threads; take one each.
    fn appender(&self) -> Box<dyn Appender + '_>;
}

/// A batch of samples that is committed or rolled back as a whole.
pub trait Appender {
    /// Adds a sample to the batch.
    ///
    /// `series` is a reference returned earlier for the same `labels`, or `None`. The sample is
    /// checked at once against what is committed and what this batch already holds: a timestamp
    /// older than the series' newest sample is [`crate::Error::OutOfOrderSample`]; the same
    /// timestamp with a different value (compared by bits) is
    /// [`crate::Error::DuplicateSampleForTimestamp`]; the same timestamp and value is accepted
    /// and ignored. A rejected sample leaves the rest of the batch usable.
    ///
    /// # Errors
    /// The rejections above, [`crate::Error::OutOfBounds`] for a sample outside retention,
    /// invalid labels, or a storage failure.
    fn append(
        &mut self,
        series: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef>;

    /// Makes every accepted sample of the batch visible to queries and durable as the storage's
    /// durability policy promises; once this returns `Ok`, the samples survive a process kill.
    ///
    /// # Errors
    /// A storage failure; then none of the batch's samples is guaranteed to be stored.
    fn commit(self: Box<Self>) -> Result<()>;

    /// Drops the batch; nothing of it is stored.
    fn rollback(self: Box<Self>);
}

/// Something that can be read.
pub trait Queryable: Send + Sync {
    /// A reader of the samples with `mint <= t <= maxt` (both in ms, both inclusive).
    ///
    /// # Errors
    /// A storage failure.
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier + '_>>;
}

/// Advisory information about a selection; a storage may use it or ignore it.
#[derive(Debug, Clone, Default)]
pub struct SelectHints {
    /// Start of the query range in ms (inclusive).
    pub start: Timestamp,
    /// End of the query range in ms (inclusive).
    pub end: Timestamp,
    /// Evaluation step in ms, 0 for an instant query.
    pub step_ms: i64,
    /// The function the selection feeds, such as `rate`, when there is one.
    pub func: Option<String>,
    /// The caller does not need the series sorted by labels (a storage may then skip
    /// sorting; one that ignores the hint still sorts).
    pub unordered: bool,
}

/// A series with its samples inside a querier's range, in ascending time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// The samples, strictly increasing in time.
    pub samples: Vec<Sample>,
}

/// The series a selection yields, sorted by labels; errors surface in the iteration.
pub type SeriesSet<'a> = Box<dyn Iterator<Item = Result<Series>> + 'a>;

/// A reader over a fixed time range.
pub trait Querier {
    /// The series matching every matcher (an empty list selects nothing), sorted by labels,
    /// each with its samples inside the querier's range. Series without samples in the range are
    /// left out.
    ///
    /// # Errors
    /// A storage failure, either here or from the returned iterator.
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet<'_>>;

    /// The sorted, distinct label names of the series matching `matchers` (all series when it is
    /// empty) that have samples in the range.
    ///
    /// # Errors
    /// A storage failure.
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>>;

    /// The sorted, distinct values of label `name` among the series matching `matchers` (all
    /// series when it is empty) that have samples in the range.
    ///
    /// # Errors
    /// A storage failure.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>>;

    /// Warnings about what the reads so far left out or could not read fully (damaged
    /// stored data, say), each naming what and where; shown to the user beside the result,
    /// as Prometheus's API shows storage warnings. Empty by default.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Samples committed after a reader had read past their time. A reader that forwards stored
/// samples in time order (a remote-write sender) sets its horizon before it reads up to it;
/// every sample committed from then on with a timestamp at or before the horizon is kept for
/// the reader until it takes them. Together with the read this misses nothing committed
/// while the process runs (a sample may be both read and kept: readers tolerate repeats).
pub trait LateSamples: Send + Sync {
    /// Sets reader `reader`'s horizon, ms (registering the reader the first time).
    fn set_horizon(&self, reader: &str, horizon: Timestamp);

    /// Takes what was kept for `reader` since the last take.
    ///
    /// # Errors
    /// A storage failure resolving the series' labels.
    fn take_late(&self, reader: &str) -> Result<LateTake>;
}

/// What [`LateSamples::take_late`] returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LateTake {
    /// The samples, by series, each series' samples in commit order.
    pub series: Vec<Series>,
    /// Samples that came when no more could be kept, and so are not in `series`.
    pub not_kept: u64,
}

/// Whether `labels` satisfies every matcher (a missing label counts as the empty value).
pub fn matches_all(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}
