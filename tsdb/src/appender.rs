//! The write path: [`model::Appender`] over the head, the WAL and the store.
//!
//! `append` resolves the series and checks the sample against what is committed and what the
//! batch holds. `commit` logs the batch to the WAL with one write, then applies it to the head;
//! chunks that fill up (or would cross a partition) are sealed into the compact format and
//! written to the store, and a marker in the WAL records that they are there.

use std::sync::atomic::Ordering;

use hashbrown::HashMap;
use model::{Appendable, Appender, Labels, SeriesRef, Timestamp};

use crate::codec::SeriesId;
use crate::db::{Db, State};
use crate::head::Head;
use crate::wal;
use crate::{Error, Result};

/// A batch of samples for a [`Db`].
pub struct DbAppender<'a> {
    db: &'a Db,
    /// (series id, t, v) in append order. Ids, not head slots: the head may drop idle series
    /// (and move others to their slots) before this batch commits.
    pending: Vec<(SeriesId, Timestamp, f64)>,
    /// Newest (t, value bits) per series in this batch.
    newest: HashMap<SeriesId, (Timestamp, u64)>,
    /// The wall clock when the batch started, ms (read once, not per sample).
    now: Timestamp,
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(DbAppender {
            db: self,
            pending: Vec::new(),
            newest: HashMap::new(),
            now: (self.opts.now)(),
        })
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
            .newest
            .get(&id)
            .copied()
            .or_else(|| committed_newest(&st.head, slot));
        drop(st);
        if check(newest, t, v)? {
            self.pending.push((id, t, v));
            self.newest.insert(id, (t, v.to_bits()));
        }
        Ok(SeriesRef(id))
    }

    fn try_commit(&mut self) -> Result<()> {
        let db = self.db;
        let mut st = db.state.lock();
        let mut slots = Vec::with_capacity(self.pending.len());
        for &(id, _, _) in &self.pending {
            slots.push(db.slot_for_commit(&mut st, id)?);
        }
        let State { head, wal } = &mut *st;
        let new: Vec<(SeriesId, Labels)> = std::mem::take(&mut head.new_ids);
        // Another appender may have committed to the same series since `append` checked.
        let mut last: HashMap<u32, (Timestamp, u64)> = HashMap::new();
        let mut accepted = Vec::with_capacity(self.pending.len());
        for (&(_, t, v), slot) in self.pending.iter().zip(slots) {
            let Some(slot) = slot else { continue };
            let newest = last
                .get(&slot)
                .copied()
                .or_else(|| committed_newest(head, slot));
            match check(newest, t, v) {
                Ok(true) => {
                    last.insert(slot, (t, v.to_bits()));
                    let id = head.get(slot).map_or(0, |s| s.id);
                    accepted.push((slot, id, t, v));
                }
                Ok(false) => {}
                Err(e) => self.count_rejection(&e),
            }
        }
        let mut payload = Vec::new();
        if !new.is_empty() {
            wal::encode_series(new.iter().map(|(id, l)| (*id, l)), &mut payload);
            let logged = db.store.add_series(&new).and_then(|()| wal.log(&payload));
            if let Err(e) = logged {
                // The series stay new: the next commit logs and indexes them again.
                head.new_ids.extend(new);
                return Err(e);
            }
        }
        payload.clear();
        let samples: Vec<(SeriesId, Timestamp, f64)> =
            accepted.iter().map(|&(_, id, t, v)| (id, t, v)).collect();
        wal::encode_samples(&samples, &mut payload);
        let rotated = wal.log(&payload)?;
        let segment = wal.segment();
        for &(slot, _, t, v) in &accepted {
            apply(head, &db.opts, slot, t, v, segment);
        }
        db.late.observe(
            accepted.iter().map(|&(_, id, t, v)| (id, t, v)),
            db.opts.late_samples_kept,
        );
        db.counters
            .samples_appended
            .fetch_add(accepted.len() as u64, Ordering::Relaxed);
        let idle_before = head.max_t.saturating_sub(db.opts.chunk_max_age_ms);
        if rotated {
            head.seal_older_than(idle_before);
        }
        db.persist_sealed(&mut st)?;
        if rotated {
            let dropped = st.head.drop_idle(idle_before);
            tracing::debug!(dropped, "head: dropped idle series");
            db.truncate_wal(&mut st)?;
        }
        Ok(())
    }
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
    if let Some(s) = head.get_mut(slot) {
        s.push(t, v, segment);
    }
    head.max_t = head.max_t.max(t);
}

impl Db {
    /// Writes the head's sealed chunks to the store and logs a marker for them. A failure is
    /// logged and counted and the chunks stay in memory for the next attempt: their samples
    /// are safe in the WAL, which is kept until they are written.
    pub(crate) fn persist_sealed(&self, st: &mut State) -> Result<()> {
        if st.head.unpersisted.is_empty() {
            return Ok(());
        }
        let cutoff = self
            .cutoff_at(st.head.max_t)
            .map(|c| self.opts.partition_start(c));
        let chunks: Vec<_> = st
            .head
            .unpersisted
            .iter()
            .filter(|u| cutoff.is_none_or(|c| u.maxt >= c))
            .map(|u| (u.id, u.mint, u.bytes.clone()))
            .collect();
        if let Err(e) = self
            .store
            .write_chunks(&chunks, |t| self.opts.partition_start(t))
        {
            self.counters
                .persist_failures
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, chunks = chunks.len(), "tsdb: writing sealed chunks failed; will retry");
            return Ok(());
        }
        // The marker below lets replay skip these samples: with `Always` the chunks must reach
        // stable storage before it does.
        if self.opts.fsync == crate::FsyncPolicy::Always {
            self.store.persist(true)?;
        }
        let sealed: Vec<(SeriesId, Timestamp)> =
            st.head.unpersisted.iter().map(|u| (u.id, u.maxt)).collect();
        st.head.unpersisted.clear();
        self.counters
            .chunks_sealed
            .fetch_add(sealed.len() as u64, Ordering::Relaxed);
        let mut payload = Vec::new();
        wal::encode_sealed(&sealed, &mut payload);
        st.wal.log(&payload)?;
        Ok(())
    }

    /// Deletes the WAL segments that no open or unpersisted chunk needs, after making the
    /// store durable (its journal holds the sealed chunks those segments covered).
    pub(crate) fn truncate_wal(&self, st: &mut State) -> Result<()> {
        let keep = st.head.oldest_needed_segment(st.wal.segment());
        self.store.persist(true)?;
        let removed = st.wal.truncate_before(keep)?;
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
        if self.pending.is_empty() && self.db.state.lock().head.new_ids.is_empty() {
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
