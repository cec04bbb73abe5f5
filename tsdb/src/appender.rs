//! The write path: [`model::Appender`] over the head, the WAL and the store.
//!
//! `append` resolves the series and checks the sample against what is committed and what the
//! batch holds, under the state lock for as long as that takes. `commit` encodes the batch's
//! WAL record before it takes the lock, then, holding it, checks the batch again against what
//! other batches committed meanwhile, logs the record with one write and applies it to the
//! head: WAL order is apply order. Chunks that fill up (or would cross a partition) are sealed
//! into the compact format; they are written to the store after the lock is released, and a
//! marker in the WAL then records that they are there. A new WAL segment's predecessor is
//! synced, and old segments deleted, outside the lock too.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chunkenc::XorChunk;
use hashbrown::HashMap;
use model::{Appendable, Appender, Labels, Sample, SeriesRef, Timestamp};

use crate::codec::SeriesId;
use crate::db::{Db, State};
use crate::head::{Head, MemSeries};
use crate::head_chunk;
use crate::wal;
use crate::{Error, Result};

/// One sample of a batch.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// The series id. Ids, not head slots, identify series in a batch: the head may drop idle
    /// series (and move others to their slots) before the batch commits.
    id: SeriesId,
    /// The series' head slot when the sample was appended: a hint that commit checks.
    slot: u32,
    t: Timestamp,
    v: f64,
}

/// A head chunk's fold, taken apart under the lock to be encoded after it is released.
struct FoldJob {
    id: SeriesId,
    slot: u32,
    /// The chunk's length and first timestamp when its parts were taken.
    len: usize,
    first_t: Option<Timestamp>,
    /// The chunk's sealed prefix, in `Buffers::fold_bytes`.
    prefix: std::ops::Range<usize>,
    tail: XorChunk,
}

/// A batch's buffers, kept per thread between batches so that a steady writer does not
/// allocate them for every batch.
#[derive(Default)]
struct Buffers {
    pending: Vec<Pending>,
    /// Newest (t, value bits) per series in the batch.
    newest: HashMap<SeriesId, (Timestamp, u64)>,
    /// The batch's WAL record.
    payload: Vec<u8>,
    /// Head slots whose chunk is due to be folded.
    due: Vec<u32>,
    folds: Vec<FoldJob>,
    fold_bytes: Vec<u8>,
    scratch: Vec<Sample>,
}

/// Buffers larger than this many samples are freed rather than kept for the next batch.
const MAX_KEPT_SAMPLES: usize = 1 << 15;

thread_local! {
    static SPARE: Cell<Option<Buffers>> = const { Cell::new(None) };
}

impl Buffers {
    fn take() -> Self {
        SPARE.with(Cell::take).unwrap_or_default()
    }

    /// Keeps the buffers for this thread's next batch, emptied, unless they grew large.
    fn give_back(mut self) {
        if self.pending.capacity() > MAX_KEPT_SAMPLES
            || self.newest.capacity() > MAX_KEPT_SAMPLES
            || self.fold_bytes.capacity() > MAX_KEPT_SAMPLES * 32
        {
            return;
        }
        self.pending.clear();
        self.newest.clear();
        self.payload.clear();
        self.due.clear();
        self.folds.clear();
        self.fold_bytes.clear();
        SPARE.with(|c| c.set(Some(self)));
    }
}

/// A batch of samples for a [`Db`].
pub struct DbAppender<'a> {
    db: &'a Db,
    buf: Buffers,
    /// The wall clock when the batch started, ms (read once, not per sample).
    now: Timestamp,
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(DbAppender {
            db: self,
            buf: Buffers::take(),
            now: (self.opts.now)(),
        })
    }
}

impl Drop for DbAppender<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.buf).give_back();
    }
}

impl Db {
    /// Finds or creates the head slot of a series. A reference is the series id.
    fn resolve(&self, st: &mut State, series: Option<SeriesRef>, labels: &Labels) -> Result<u32> {
        if let Some(slot) = series.and_then(|r| st.head.slot_of_id(r.0)) {
            return Ok(slot);
        }
        if let Some(slot) = st.head.find(labels) {
            return Ok(slot);
        }
        check_storable(labels)?;
        if let Some(id) = self.store.lookup(labels)? {
            return self.revive(st, id, labels);
        }
        let id = st.head.next_id;
        st.head.next_id += 1;
        let segment = st.wal.segment();
        let slot = st.head.insert(id, labels, segment);
        st.head.new_ids.push((id, labels.clone()));
        Ok(slot)
    }

    /// Brings a stored series (idle, or from before a restart) back into the head, with its
    /// newest stored sample as the one later samples are checked against.
    fn revive(&self, st: &mut State, id: SeriesId, labels: &Labels) -> Result<u32> {
        let newest = self.newest_stored(id)?;
        let segment = st.wal.segment();
        let slot = st.head.insert(id, labels, segment);
        if let (Some(s), Some(newest)) = (st.head.get_mut(slot), newest) {
            s.last_t = newest.t;
            s.last_v_bits = newest.v.to_bits();
        }
        Ok(slot)
    }

    /// The head slot of series `id`, bringing it back from the store if the head dropped it
    /// as idle after a batch referred to it.
    fn slot_for_commit(&self, st: &mut State, id: SeriesId) -> Result<Option<u32>> {
        if let Some(slot) = st.head.slot_of_id(id) {
            return Ok(Some(slot));
        }
        let Some(labels) = self.store.labels(id)? else {
            return Ok(None);
        };
        self.revive(st, id, &labels).map(Some)
    }
}

/// The most bytes a label name and value may take together: both go into index keys, which
/// the key-value store limits to 64 KiB.
pub(crate) const MAX_LABEL_BYTES: usize = 60_000;
/// The most labels a series may have.
pub(crate) const MAX_LABELS: usize = 10_000;

/// Rejects label sets the store cannot index: none at all, more than 10000 labels, or a label
/// whose name and value take more than 60000 bytes together.
///
/// # Errors
/// [`model::Error::InvalidLabels`] saying which limit the labels break.
pub fn check_storable(labels: &Labels) -> Result<()> {
    let reason = if labels.is_empty() {
        "a series needs at least one label"
    } else if labels.len() > MAX_LABELS {
        "a series may have at most 10000 labels"
    } else if labels
        .iter()
        .any(|l| l.name.len() + l.value.len() > MAX_LABEL_BYTES)
    {
        "a label name and value may take at most 60000 bytes together"
    } else {
        return Ok(());
    };
    let mut shown = labels.to_string();
    if shown.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|&i| shown.is_char_boundary(i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push_str("...");
    }
    Err(model::Error::InvalidLabels {
        labels: shown,
        reason,
    }
    .into())
}

/// Checks a sample against the newest one of its series (Prometheus's rules).
/// `Ok(false)`: same timestamp and value, accepted and ignored.
fn check(newest: Option<(Timestamp, u64)>, t: Timestamp, v: f64) -> model::Result<bool> {
    match newest {
        Some((nt, _)) if t < nt => Err(model::Error::OutOfOrderSample),
        Some((nt, bits)) if t == nt && bits != v.to_bits() => {
            Err(model::Error::DuplicateSampleForTimestamp)
        }
        Some((nt, _)) if t == nt => Ok(false),
        _ => Ok(true),
    }
}

fn committed_newest(head: &Head, slot: u32) -> Option<(Timestamp, u64)> {
    head.get(slot)
        .filter(|s| s.last_t > i64::MIN)
        .map(|s| (s.last_t, s.last_v_bits))
}

impl DbAppender<'_> {
    fn count_rejection(&self, e: &model::Error) {
        let c = &self.db.counters;
        let counter = match e {
            model::Error::OutOfOrderSample => &c.out_of_order,
            model::Error::DuplicateSampleForTimestamp => &c.duplicates,
            model::Error::OutOfBounds => &c.out_of_bounds,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn try_append(
        &mut self,
        series: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef> {
        let mut st = self.db.state.lock();
        if self
            .db
            .cutoff_with_clock(st.head.max_t, self.now)
            .is_some_and(|cutoff| t < cutoff)
        {
            return Err(model::Error::OutOfBounds.into());
        }
        let slot = self.db.resolve(&mut st, series, labels)?;
        let id = st.head.get(slot).map_or(0, |s| s.id);
        let newest = self
            .buf
            .newest
            .get(&id)
            .copied()
            .or_else(|| committed_newest(&st.head, slot));
        drop(st);
        if check(newest, t, v)? {
            self.buf.pending.push(Pending { id, slot, t, v });
            self.buf.newest.insert(id, (t, v.to_bits()));
        }
        Ok(SeriesRef(id))
    }

    fn try_commit(&mut self) -> Result<()> {
        let db = self.db;
        encode_pending(&self.buf.pending, &mut self.buf.payload);
        let mut st = db.state.lock();
        log_new_series(db, &mut st)?;
        if self.recheck(&mut st)? {
            encode_pending(&self.buf.pending, &mut self.buf.payload);
        }
        let State { head, wal } = &mut *st;
        let rotated = wal.log(&self.buf.payload)?;
        let segment = wal.segment();
        for p in &self.buf.pending {
            if apply_unfolded(head, &db.opts, p.slot, p.t, p.v, segment) {
                self.buf.due.push(p.slot);
            }
        }
        db.late.observe(
            self.buf.pending.iter().map(|p| (p.id, p.t, p.v)),
            db.opts.late_samples_kept,
        );
        self.take_fold_parts(head);
        db.counters
            .samples_appended
            .fetch_add(self.buf.pending.len() as u64, Ordering::Relaxed);
        let idle_before = head.max_t.saturating_sub(db.opts.chunk_max_age_ms);
        if rotated {
            head.seal_older_than(idle_before);
        }
        let sealed = db.claim_sealed(head);
        let unsynced = wal.take_unsynced();
        drop(st);
        self.fold_apart();
        if let Some(segment) = unsynced {
            segment.sync()?;
        }
        db.after_commit(sealed, rotated.then_some(idle_before))
    }

    /// Takes apart, under the lock, the chunks the commit made due for a fold.
    fn take_fold_parts(&mut self, head: &Head) {
        let b = &mut self.buf;
        b.due.sort_unstable();
        b.due.dedup();
        for &slot in &b.due {
            let Some(s) = head.get(slot) else { continue };
            let from = b.fold_bytes.len();
            let tail = s.chunk.fold_parts(&mut b.fold_bytes);
            b.folds.push(FoldJob {
                id: s.id,
                slot,
                len: s.chunk.len(),
                first_t: s.chunk.first_t(),
                prefix: from..b.fold_bytes.len(),
                tail,
            });
        }
    }

    /// Encodes the folds taken apart without the lock, then installs them with it, each on a
    /// chunk nothing was appended to meanwhile (a chunk that was gets its fold at a later
    /// commit).
    fn fold_apart(&mut self) {
        let b = &mut self.buf;
        if b.folds.is_empty() {
            return;
        }
        let folded: Vec<Box<[u8]>> = b
            .folds
            .iter()
            .map(|j| {
                let prefix = b.fold_bytes.get(j.prefix.clone()).unwrap_or_default();
                head_chunk::fold(prefix, &j.tail, &mut b.scratch)
            })
            .collect();
        let mut st = self.db.state.lock();
        for (j, prefix) in b.folds.iter().zip(folded) {
            if let Some(s) = st.head.get_mut(j.slot).filter(|s| s.id == j.id) {
                s.chunk.install_fold(j.len, j.first_t, prefix);
            }
        }
    }

    /// Checks the batch again, holding the lock, against what other batches committed since
    /// `append` checked it, and gives every sample its current head slot. The batch's samples
    /// of one series are in increasing time order, so comparing each with the newest sample
    /// committed before the batch is enough. Returns whether samples were dropped.
    fn recheck(&mut self, st: &mut State) -> Result<bool> {
        let mut dropped = false;
        for i in 0..self.buf.pending.len() {
            let Some(p) = self.buf.pending.get(i).copied() else {
                break;
            };
            let slot = match st.head.get(p.slot).filter(|s| s.id == p.id) {
                Some(_) => Some(p.slot),
                None => self.db.slot_for_commit(st, p.id)?,
            };
            let keep = match slot.map(|slot| check(committed_newest(&st.head, slot), p.t, p.v)) {
                Some(Ok(true)) => true,
                Some(Ok(false)) | None => false,
                Some(Err(e)) => {
                    self.count_rejection(&e);
                    false
                }
            };
            if let Some(p) = self.buf.pending.get_mut(i) {
                p.slot = if keep {
                    slot.unwrap_or(p.slot)
                } else {
                    DROPPED
                };
            }
            dropped |= !keep;
        }
        if dropped {
            self.buf.pending.retain(|p| p.slot != DROPPED);
        }
        Ok(dropped)
    }
}

/// The slot of a sample that commit drops.
const DROPPED: u32 = u32::MAX;

/// Encodes the WAL record of `pending` into `payload`.
fn encode_pending(pending: &[Pending], payload: &mut Vec<u8>) {
    payload.clear();
    wal::encode_samples(pending.iter().map(|p| (p.id, p.t, p.v)), payload);
}

/// Logs and indexes the series created since the last commit (by any batch): a batch's
/// samples may belong to them.
fn log_new_series(db: &Db, st: &mut State) -> Result<()> {
    if st.head.new_ids.is_empty() {
        return Ok(());
    }
    let new: Vec<(SeriesId, Labels)> = std::mem::take(&mut st.head.new_ids);
    let mut payload = Vec::new();
    wal::encode_series(new.iter().map(|(id, l)| (*id, l)), &mut payload);
    let logged = db
        .store
        .add_series(&new)
        .and_then(|()| st.wal.log(&payload));
    if let Err(e) = logged {
        // The series stay new: the next commit logs and indexes them again.
        st.head.new_ids.extend(new);
        return Err(e);
    }
    Ok(())
}

/// Appends one accepted sample to its series' open chunk, sealing the chunk first when it is
/// full or the sample belongs to another partition.
pub(crate) fn apply(
    head: &mut Head,
    opts: &crate::Options,
    slot: u32,
    t: Timestamp,
    v: f64,
    segment: u32,
) {
    if let Some(s) = series_for(head, opts, slot, t) {
        s.push(t, v, segment);
    }
    head.max_t = head.max_t.max(t);
}

/// [`apply`], leaving the chunk's fold to the caller: returns whether it is due.
fn apply_unfolded(
    head: &mut Head,
    opts: &crate::Options,
    slot: u32,
    t: Timestamp,
    v: f64,
    segment: u32,
) -> bool {
    let due = series_for(head, opts, slot, t).is_some_and(|s| s.push_unfolded(t, v, segment));
    head.max_t = head.max_t.max(t);
    due
}

/// The series in `slot`, its open chunk sealed first when it is full or `t` belongs to
/// another partition.
fn series_for<'h>(
    head: &'h mut Head,
    opts: &crate::Options,
    slot: u32,
    t: Timestamp,
) -> Option<&'h mut MemSeries> {
    // The newest sample is in the open chunk whenever it is not empty, and a chunk stays in
    // one partition: comparing with it tells whether `t` crosses into another.
    let needs_seal = head.get(slot).is_some_and(|s| {
        !s.chunk.is_empty()
            && (s.chunk.len() >= opts.chunk_max_samples
                || opts.partition_start(s.last_t) != opts.partition_start(t))
    });
    if needs_seal {
        head.seal(slot);
    }
    head.get_mut(slot)
}

/// Sealed chunks claimed (see [`Db::claim_sealed`]) for writing to the store while the state
/// lock is not held.
pub(crate) struct SealedBatch {
    /// How many of the head's unpersisted chunks, from the front, the batch covers.
    count: usize,
    /// Those within retention, to write: (series, first t, bytes).
    chunks: Vec<(SeriesId, Timestamp, Arc<[u8]>)>,
    /// All of them, for the WAL marker: (series, last t).
    sealed: Vec<(SeriesId, Timestamp)>,
}

impl Db {
    /// Claims the head's sealed chunks for writing, unless there are none or another batch
    /// is being written: until [`Db::finish_sealed`], later sealed chunks wait.
    fn claim_sealed(&self, head: &mut Head) -> Option<SealedBatch> {
        if head.persisting || head.unpersisted.is_empty() {
            return None;
        }
        head.persisting = true;
        let cutoff = self
            .cutoff_at(head.max_t)
            .map(|c| self.opts.partition_start(c));
        let chunks = head
            .unpersisted
            .iter()
            .filter(|u| cutoff.is_none_or(|c| u.maxt >= c))
            .map(|u| (u.id, u.mint, u.bytes.clone()))
            .collect();
        let sealed = head.unpersisted.iter().map(|u| (u.id, u.maxt)).collect();
        Some(SealedBatch {
            count: head.unpersisted.len(),
            chunks,
            sealed,
        })
    }

    /// Writes a claimed batch to the store; `Ok(false)` when that failed, which is logged and
    /// counted: the chunks stay in memory for the next attempt, their samples safe in the WAL,
    /// which is kept until they are written.
    fn write_sealed(&self, batch: &SealedBatch) -> Result<bool> {
        let chunks = &batch.chunks;
        if let Err(e) = self
            .store
            .write_chunks(chunks, |t| self.opts.partition_start(t))
        {
            self.counters
                .persist_failures
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, chunks = chunks.len(), "tsdb: writing sealed chunks failed; will retry");
            return Ok(false);
        }
        // The marker lets replay skip these samples: with `Always` the chunks must reach
        // stable storage before it does.
        if self.opts.fsync == crate::FsyncPolicy::Always {
            self.store.persist(true)?;
        }
        Ok(true)
    }

    /// Ends a claim; when the batch was `written`, drops its chunks from the head and logs a
    /// marker for them.
    fn finish_sealed(&self, st: &mut State, batch: &SealedBatch, written: bool) -> Result<()> {
        st.head.persisting = false;
        if !written {
            return Ok(());
        }
        st.head
            .unpersisted
            .drain(..batch.count.min(st.head.unpersisted.len()));
        self.counters
            .chunks_sealed
            .fetch_add(batch.count as u64, Ordering::Relaxed);
        let mut payload = Vec::new();
        wal::encode_sealed(&batch.sealed, &mut payload);
        st.wal.log(&payload)?;
        Ok(())
    }

    /// Writes the head's sealed chunks to the store and logs a marker for them, all under the
    /// caller's lock (when the database opens).
    pub(crate) fn persist_sealed(&self, st: &mut State) -> Result<()> {
        let Some(batch) = self.claim_sealed(&mut st.head) else {
            return Ok(());
        };
        let written = self.write_sealed(&batch);
        let finished = self.finish_sealed(st, &batch, matches!(written, Ok(true)));
        written.and(finished)
    }

    /// A commit's work after it released the lock: writes the chunks it sealed, and when its
    /// record started a WAL segment (`idle_before` is set), drops the series idle since then
    /// from the head and deletes the WAL segments nothing needs any more.
    fn after_commit(
        &self,
        sealed: Option<SealedBatch>,
        idle_before: Option<Timestamp>,
    ) -> Result<()> {
        let written = sealed.map(|batch| {
            let written = self.write_sealed(&batch);
            (batch, written)
        });
        if written.is_none() && idle_before.is_none() {
            return Ok(());
        }
        let mut st = self.state.lock();
        if let Some((batch, written)) = written {
            let finished = self.finish_sealed(&mut st, &batch, matches!(written, Ok(true)));
            written.and(finished)?;
        }
        let Some(idle_before) = idle_before else {
            return Ok(());
        };
        let dropped = st.head.drop_idle(idle_before);
        tracing::debug!(dropped, "head: dropped idle series");
        let keep = st.head.oldest_needed_segment(st.wal.segment());
        let dir = st.wal.dir().to_path_buf();
        let unsynced = st.wal.take_unsynced();
        drop(st);
        if let Some(segment) = unsynced {
            segment.sync()?;
        }
        self.truncate_wal(&dir, keep)
    }

    /// Deletes the WAL segments before `keep`, which no open or unpersisted chunk needed,
    /// after making the store durable (its journal holds the sealed chunks those segments
    /// covered).
    fn truncate_wal(&self, dir: &std::path::Path, keep: u32) -> Result<()> {
        self.store.persist(true)?;
        let removed = wal::truncate_before(dir, keep)?;
        tracing::debug!(removed, keep, "wal: truncated");
        Ok(())
    }
}

impl Appender for DbAppender<'_> {
    fn append(
        &mut self,
        series: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> model::Result<SeriesRef> {
        self.try_append(series, labels, t, v).map_err(|e| {
            if let Error::Model(m) = &e {
                self.count_rejection(m);
            }
            e.into()
        })
    }

    fn commit(mut self: Box<Self>) -> model::Result<()> {
        if self.buf.pending.is_empty() && self.db.state.lock().head.new_ids.is_empty() {
            return Ok(());
        }
        self.db.check_free_space()?;
        self.try_commit().map_err(|e| {
            self.db
                .counters
                .append_failures
                .fetch_add(1, Ordering::Relaxed);
            e.into()
        })
    }

    fn rollback(self: Box<Self>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{MatchOp, Matcher, Queryable, SelectHints};

    const WRITERS: usize = 4;
    const BATCHES: i64 = 1000;
    const OWN: usize = 6;

    fn labels(name: &str, i: usize) -> Labels {
        Labels::from_pairs(&[("__name__", name), ("i", &i.to_string())]).unwrap()
    }

    /// Every series' samples, by `i` label, for the series named `name`.
    fn read(db: &Db, name: &str) -> Vec<(String, Vec<(Timestamp, f64)>)> {
        let q = db.querier(i64::MIN, i64::MAX).unwrap();
        let m = [Matcher::new(MatchOp::Equal, "__name__", name).unwrap()];
        q.select(&SelectHints::default(), &m)
            .unwrap()
            .map(|s| {
                let s = s.unwrap();
                let i = s.labels.get("i").unwrap_or_default().to_string();
                (i, s.samples.iter().map(|p| (p.t, p.v)).collect())
            })
            .collect()
    }

    fn small() -> crate::Options {
        crate::Options {
            partition_ms: 3_600_000,
            retention_ms: 0,
            chunk_max_samples: 120,
            wal_segment_bytes: 16 << 10,
            ..crate::Options::default()
        }
    }

    /// One writer: a sample per batch for each of its own series, and one for the series all
    /// writers share (whose late samples are refused at append or dropped at commit).
    fn write(db: &Db, w: usize) {
        for b in 0..BATCHES {
            let mut app = db.appender();
            for k in 0..OWN {
                app.append(None, &labels("own", w * OWN + k), b * 1000, b as f64)
                    .unwrap();
            }
            let shared = app.append(None, &labels("shared", 0), b * 1000 + w as i64, 0.5);
            assert!(matches!(
                shared,
                Ok(_) | Err(model::Error::OutOfOrderSample)
            ));
            app.commit().unwrap();
        }
    }

    /// What a reader may see while writers commit: each own series a gapless prefix of its
    /// samples, the shared one in increasing time order.
    fn check(db: &Db, complete: bool) {
        for (_, samples) in read(db, "own") {
            let want: Vec<_> = (0..samples.len() as i64)
                .map(|b| (b * 1000, b as f64))
                .collect();
            assert_eq!(samples, want);
            assert!(!complete || samples.len() == BATCHES as usize);
        }
        for (_, samples) in read(db, "shared") {
            assert!(samples.windows(2).all(|w| w[0].0 < w[1].0), "{samples:?}");
        }
    }

    #[test]
    fn concurrent_batches_lose_nothing_and_readers_see_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), small()).unwrap();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    check(&db, false);
                }
            });
            let db = &db;
            let writers: Vec<_> = (0..WRITERS)
                .map(|w| s.spawn(move || write(db, w)))
                .collect();
            // The reader stops also when a writer panicked, so that the test fails, not hangs.
            let results: Vec<_> = writers.into_iter().map(|w| w.join()).collect();
            done.store(true, Ordering::Relaxed);
            reader.join().unwrap();
            for r in results {
                r.unwrap();
            }
        });
        check(&db, true);
        assert_eq!(read(&db, "own").len(), WRITERS * OWN);
        let shared = read(&db, "shared");
        drop(db);
        let db = Db::open(dir.path(), small()).unwrap();
        check(&db, true);
        assert_eq!(read(&db, "shared"), shared, "the same after a restart");
    }
}
