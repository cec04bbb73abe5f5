//! Options of a database.

use model::Timestamp;

use crate::{Error, Result};

/// When the write-ahead log is forced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// Every commit is written to the operating system before `commit` returns: it survives a
    /// process crash or `kill -9`, not a power loss. Highest throughput. The default, as in
    /// Prometheus, whose WAL is not fsynced per append either.
    #[default]
    Never,
    /// Every commit is `fdatasync`ed before `commit` returns: it survives a power loss.
    Always,
}

impl std::str::FromStr for FsyncPolicy {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "never" => Ok(Self::Never),
            "always" => Ok(Self::Always),
            other => Err(format!(
                "unknown fsync policy {other:?}, expected never or always"
            )),
        }
    }
}

/// Options of [`crate::Db::open`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Length of a time partition in ms. Chunks never span partitions, and retention drops whole
    /// partitions. Default 1 day.
    pub partition_ms: i64,
    /// How long data is kept, in ms, counted back from the newest sample. 0 keeps everything.
    /// Default 15 days.
    pub retention_ms: i64,
    /// The most samples in one chunk. Default 240 (one hour at a 15 s interval).
    pub chunk_max_samples: usize,
    /// An open chunk whose first sample is this much (ms) older than the newest sample in the
    /// head is sealed even if not full, so that idle series do not pin the WAL. Default 2 h.
    pub chunk_max_age_ms: i64,
    /// WAL segment size in bytes before a new segment starts. Default 32 MiB.
    pub wal_segment_bytes: u64,
    /// When the WAL is synced.
    pub fsync: FsyncPolicy,
    /// Block cache of the key-value store in bytes. Default 32 MiB.
    pub cache_bytes: u64,
    /// Cache of stored chunks (encoded, and decoded once read) for repeated queries, in
    /// bytes. Default 64 MiB; 0 disables it.
    pub read_cache_bytes: u64,
    /// The wall clock, ms since the epoch. Retention counts back from the newest sample but
    /// never from later than this, so one sample stamped far in the future (nanoseconds sent
    /// as milliseconds, a broken clock) cannot make retention drop everything.
    pub now: fn() -> Timestamp,
    /// Free bytes kept on the data directory's filesystem: a commit that finds less free is
    /// refused with [`model::Error::StorageFull`] before anything is written, so the
    /// key-value store never meets a full disk halfway through a write (which would leave it
    /// unusable until restarted). Default 32 MiB, more than a memtable flush needs; 0 turns
    /// the check off.
    pub min_free_bytes: u64,
    /// The most late samples kept in memory per reader of [`model::LateSamples`] (24 bytes
    /// each) before the reader is told to read again. Default 1 Mi samples.
    pub late_samples_kept: usize,
}

/// The system clock in ms since the epoch (0 if the clock is before 1970).
pub fn wall_clock_ms() -> Timestamp {
    model::now_ms()
}

impl Default for Options {
    fn default() -> Self {
        Self {
            partition_ms: 24 * 3600 * 1000,
            retention_ms: 15 * 24 * 3600 * 1000,
            chunk_max_samples: 240,
            chunk_max_age_ms: 2 * 3600 * 1000,
            wal_segment_bytes: 32 << 20,
            fsync: FsyncPolicy::Never,
            cache_bytes: 32 << 20,
            read_cache_bytes: 64 << 20,
            now: wall_clock_ms,
            min_free_bytes: 32 << 20,
            late_samples_kept: 1 << 20,
        }
    }
}

impl Options {
    /// Checks the options for values the engine cannot work with.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, reason: &str| {
            Err(Error::InvalidOption {
                name,
                reason: reason.into(),
            })
        };
        if self.partition_ms < 60_000 {
            return bad("partition_ms", "must be at least one minute");
        }
        if self.retention_ms < 0 {
            return bad("retention_ms", "must not be negative");
        }
        if !(2..=u16::MAX as usize).contains(&self.chunk_max_samples) {
            return bad("chunk_max_samples", "must be between 2 and 65535");
        }
        if self.wal_segment_bytes < 4096 {
            return bad("wal_segment_bytes", "must be at least 4096");
        }
        Ok(())
    }

    /// Start (inclusive, ms) of the partition holding `t`.
    pub fn partition_start(&self, t: Timestamp) -> Timestamp {
        t.div_euclid(self.partition_ms)
            .saturating_mul(self.partition_ms)
    }
}
