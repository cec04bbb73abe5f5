//! The error type of the storage traits.

/// An error of a storage operation.
///
/// The first three variants are the sample-level rejections that Prometheus's head gives
/// (`storage.ErrOutOfOrderSample`, `ErrDuplicateSampleForTimestamp`, `ErrOutOfBounds`), with the
/// same messages; callers such as a scrape loop count them and go on with the next sample.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The sample is older than the newest sample of its series.
    #[error("out of order sample")]
    OutOfOrderSample,
    /// A sample with the same timestamp but a different value is already stored.
    #[error("duplicate sample for timestamp")]
    DuplicateSampleForTimestamp,
    /// The sample is older than the storage accepts (outside retention).
    #[error("out of bounds")]
    OutOfBounds,
    /// The label set is not valid: an empty name, a duplicate name, or no labels at all.
    #[error("invalid labels {labels}: {reason}")]
    InvalidLabels {
        /// The labels as given.
        labels: String,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// A regular expression of a matcher does not compile.
    #[error("invalid regular expression {pattern:?}: {reason}")]
    InvalidRegex {
        /// The expression as written.
        pattern: String,
        /// The regex compiler's message.
        reason: String,
    },
    /// A reference handed to an appender does not name a live series.
    #[error("unknown series reference {0}")]
    UnknownSeriesRef(u64),
    /// The storage engine failed (I/O, corruption, ...); the message says what and where.
    #[error("storage: {0}")]
    Storage(Box<dyn std::error::Error + Send + Sync>),
    /// The data directory's filesystem has less free space than the storage keeps free;
    /// nothing was written, and writes succeed again once space is freed.
    #[error(
        "storage full: {available} bytes free on {path}, less than the {reserve} bytes kept free; free space to resume writing"
    )]
    StorageFull {
        /// The data directory.
        path: String,
        /// Free bytes (for unprivileged users).
        available: u64,
        /// The bytes kept free.
        reserve: u64,
    },
}

impl Error {
    /// Whether this is one of the per-sample rejections (out of order, duplicate, out of bounds)
    /// that leave the storage healthy and the rest of a batch appendable.
    pub fn is_sample_rejection(&self) -> bool {
        matches!(
            self,
            Self::OutOfOrderSample | Self::DuplicateSampleForTimestamp | Self::OutOfBounds
        )
    }
}

/// The result type of the storage traits.
pub type Result<T, E = Error> = std::result::Result<T, E>;
