//! The database: opening a directory, recovery from the WAL, retention and statistics.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use model::Timestamp;
use parking_lot::Mutex;

use crate::codec::SeriesId;
use crate::head::Head;
use crate::head_chunk::HeadChunk;
use crate::options::Options;
use crate::store::Store;
use crate::wal::{self, Record, Wal};
use crate::{Error, Result};

/// The on-disk format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
const VERSION_FILE: &str = "VERSION";
const VERSION_PREFIX: &str = "promlet-tsdb ";

/// The head and the WAL, locked together so that WAL order is apply order.
pub(crate) struct State {
    pub(crate) head: Head,
    pub(crate) wal: Wal,
}

/// Counters of what the database did since it was opened.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) samples_appended: AtomicU64,
    pub(crate) out_of_order: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) out_of_bounds: AtomicU64,
    pub(crate) append_failures: AtomicU64,
    pub(crate) chunks_sealed: AtomicU64,
    pub(crate) persist_failures: AtomicU64,
}

/// A snapshot of the database's state and counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Series in the head (being written).
    pub head_series: u64,
    /// Approximate heap bytes held by the head.
    pub head_bytes: u64,
    /// Samples committed since open.
    pub samples_appended: u64,
    /// Samples rejected as out of order since open.
    pub out_of_order: u64,
    /// Samples rejected as duplicates since open.
    pub duplicates: u64,
    /// Samples rejected as outside retention since open.
    pub out_of_bounds: u64,
    /// Commits that failed since open.
    pub append_failures: u64,
    /// Chunks sealed and written since open.
    pub chunks_sealed: u64,
    /// Bytes the data directory takes on disk (allocated blocks).
    pub disk_bytes: u64,
    /// Newest sample timestamp, ms (`i64::MIN` when empty).
    pub max_t: Timestamp,
}

/// A time-series database in one directory. Cheap to share behind an `Arc`.
pub struct Db {
    pub(crate) dir: PathBuf,
    pub(crate) opts: Options,
    pub(crate) store: Store,
    pub(crate) state: Mutex<State>,
    pub(crate) counters: Counters,
    /// Samples committed at or before a reader's horizon (see `late.rs`).
    pub(crate) late: crate::late::LateFeed,
}

impl Db {
    /// [`model::Error::StorageFull`] when the data directory's filesystem has less than
    /// [`Options::min_free_bytes`] free.
    ///
    /// # Errors
    /// That, when it is so; a failing `statvfs` is not an error (the write then finds out).
    pub(crate) fn check_free_space(&self) -> model::Result<()> {
        let reserve = self.opts.min_free_bytes;
        if reserve == 0 {
            return Ok(());
        }
        let Ok(st) = rustix::fs::statvfs(&self.dir) else {
            return Ok(());
        };
        let available = st.f_bavail.saturating_mul(st.f_frsize);
        if available >= reserve {
            return Ok(());
        }
        Err(model::Error::StorageFull {
            path: self.dir.display().to_string(),
            available,
            reserve,
        })
    }

    /// Opens (creating if needed) the database in `dir` and replays its WAL.
    ///
    /// # Errors
    /// [`Error::VersionMismatch`] for another format version, [`Error::InvalidOption`],
    /// [`Error::Corrupt`] for damage that recovery cannot cut off, I/O and store errors.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Self> {
        opts.validate()?;
        let dir = dir.as_ref().to_owned();
        check_or_write_version(&dir)?;
        let store = Store::open(&dir.join("kv"), opts.cache_bytes, opts.read_cache_bytes)?;
        let mut head = Head::new(store.next_series_id()?);
        let wal_dir = dir.join("wal");
        replay_wal(&wal_dir, &store, &mut head, &opts)?;
        if let Some(stored) = store.max_t()? {
            head.max_t = head.max_t.max(stored);
        }
        let wal = Wal::open(&wal_dir, opts.wal_segment_bytes, opts.fsync)?;
        let segment = wal.segment();
        for slot in 0..head.len() as u32 {
            if let Some(s) = head.get_mut(slot) {
                s.chunk_segment = s.chunk_segment.min(segment);
            }
        }
        let db = Self {
            dir,
            opts,
            store,
            state: Mutex::new(State { head, wal }),
            counters: Counters::default(),
            late: crate::late::LateFeed::default(),
        };
        db.persist_sealed(&mut db.state.lock())?;
        db.apply_retention()?;
        Ok(db)
    }

    /// The directory the database lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options it was opened with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Drops the partitions that lie wholly before the newest sample minus the retention, and
    /// returns how many were dropped. Their disk space is returned once no query reads them.
    ///
    /// # Errors
    /// A store error.
    pub fn apply_retention(&self) -> Result<usize> {
        let Some(cutoff) = self.retention_cutoff() else {
            return Ok(0);
        };
        self.store
            .drop_partitions_before(cutoff, self.opts.partition_ms)
    }

    /// Samples before this time are out of bounds; `None` when retention is off or no data.
    pub(crate) fn retention_cutoff(&self) -> Option<Timestamp> {
        self.cutoff_at(self.max_time())
    }

    /// The retention cutoff when the newest sample is at `max_t`: retention counts back from
    /// it, or from the wall clock if that is earlier.
    pub(crate) fn cutoff_at(&self, max_t: Timestamp) -> Option<Timestamp> {
        self.cutoff_with_clock(max_t, (self.opts.now)())
    }

    /// [`Db::cutoff_at`] with the wall clock read by the caller (`now`, ms).
    pub(crate) fn cutoff_with_clock(&self, max_t: Timestamp, now: Timestamp) -> Option<Timestamp> {
        (self.opts.retention_ms > 0 && max_t > i64::MIN)
            .then(|| max_t.min(now).saturating_sub(self.opts.retention_ms))
    }

    /// The newest sample time in the database (committed or backfilled), `i64::MIN` when
    /// it is empty.
    pub fn max_time(&self) -> Timestamp {
        self.state.lock().head.max_t
    }

    /// Forces the WAL and the store's journal to stable storage.
    ///
    /// # Errors
    /// An I/O or store error.
    pub fn sync(&self) -> Result<()> {
        self.state.lock().wal.sync()?;
        self.store.persist(true)
    }

    /// Writes the store's memtables to table files (so its journal can be freed) and syncs.
    ///
    /// # Errors
    /// An I/O or store error.
    pub fn flush(&self) -> Result<()> {
        self.store.flush()?;
        self.sync()
    }

    /// A snapshot of state and counters.
    pub fn stats(&self) -> Stats {
        let (head_series, head_bytes, max_t) = {
            let st = self.state.lock();
            (
                st.head.len() as u64,
                st.head.heap_bytes() as u64,
                st.head.max_t,
            )
        };
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            head_series,
            head_bytes,
            samples_appended: get(&c.samples_appended),
            out_of_order: get(&c.out_of_order),
            duplicates: get(&c.duplicates),
            out_of_bounds: get(&c.out_of_bounds),
            append_failures: get(&c.append_failures),
            chunks_sealed: get(&c.chunks_sealed),
            disk_bytes: dir_disk_bytes(&self.dir),
            max_t,
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dir", &self.dir)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Err(e) = self.sync() {
            tracing::error!(error = %e, "tsdb: final sync failed");
        }
    }
}

fn check_or_write_version(dir: &Path) -> Result<()> {
    let path = dir.join(VERSION_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let found = text.trim();
            let ok = found
                .strip_prefix(VERSION_PREFIX)
                .and_then(|v| v.parse::<u32>().ok());
            if ok == Some(FORMAT_VERSION) {
                return Ok(());
            }
            Err(Error::VersionMismatch {
                path,
                found: found.into(),
                expected: FORMAT_VERSION,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
            let non_empty = fs::read_dir(dir)
                .map_err(|e| Error::io("read directory", dir, e))?
                .next()
                .is_some();
            if non_empty {
                return Err(Error::VersionMismatch {
                    path,
                    found: "none (the directory is not empty and has no VERSION file)".into(),
                    expected: FORMAT_VERSION,
                });
            }
            let text = format!("{VERSION_PREFIX}{FORMAT_VERSION}\n");
            fs::write(&path, text).map_err(|e| Error::io("write", &path, e))
        }
        Err(e) => Err(Error::io("read", &path, e)),
    }
}

/// Rebuilds the head from the WAL: series records re-create head series (and store entries a
/// crash may have lost), samples go into open chunks, and sealed markers drop the samples that
/// already reached the store.
fn replay_wal(wal_dir: &Path, store: &Store, head: &mut Head, opts: &Options) -> Result<()> {
    let mut missing = Vec::new();
    wal::replay(wal_dir, |segment, rec| {
        match rec {
            Record::Series(series) => {
                for (id, labels) in series {
                    if head.slot_of_id(id).is_none() {
                        head.insert(id, &labels, segment);
                    }
                    if !store.has_series(id)? {
                        missing.push((id, labels));
                    }
                }
            }
            Record::Samples(samples) => {
                for (id, t, v) in samples {
                    replay_sample(store, head, opts, segment, (id, t, v))?;
                }
            }
            Record::Sealed(sealed) => {
                let markers: hashbrown::HashMap<SeriesId, Timestamp> =
                    sealed.iter().copied().collect();
                head.unpersisted
                    .retain(|u| markers.get(&u.id).is_none_or(|&m| u.maxt > m));
                for (id, maxt) in sealed {
                    let Some(slot) = head.slot_of_id(id) else {
                        continue;
                    };
                    if let Some(s) = head.get_mut(slot) {
                        drop_persisted(&mut s.chunk, maxt);
                    }
                }
            }
        }
        Ok(())
    })?;
    store.add_series(&missing)
}

/// Removes the samples up to `maxt` (already in the store) from an open chunk. The samples
/// after it were appended in the same commit that sealed the chunk, and stay.
fn drop_persisted(chunk: &mut HeadChunk, maxt: Timestamp) {
    if chunk.first_t().is_none_or(|t| t > maxt) {
        return;
    }
    let mut samples = Vec::with_capacity(chunk.len());
    chunk.decode_into(&mut samples);
    let mut fresh = HeadChunk::new();
    for s in samples.iter().filter(|s| s.t > maxt) {
        fresh.append(s.t, s.v);
    }
    *chunk = fresh;
}

fn replay_sample(
    store: &Store,
    head: &mut Head,
    opts: &Options,
    segment: u32,
    (id, t, v): (SeriesId, Timestamp, f64),
) -> Result<()> {
    let slot = match head.slot_of_id(id) {
        Some(slot) => slot,
        None => {
            let Some(labels) = store.labels(id)? else {
                tracing::warn!(series = id, "wal: samples of an unknown series skipped");
                return Ok(());
            };
            head.insert(id, &labels, segment)
        }
    };
    let Some(s) = head.get_mut(slot) else {
        return Ok(());
    };
    if t <= s.last_t {
        return Ok(());
    }
    // Cut chunks by the same rules as appends, so a chunk never spans partitions even when a
    // sealed marker was lost; a chunk sealed here is written once the database is open (a
    // marker later in the log drops it again if the store has it already).
    crate::appender::apply(head, opts, slot, t, v, segment);
    Ok(())
}

/// Bytes allocated on disk under `dir` (like `du`): sparse files count what they use.
pub fn dir_disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_disk_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}
