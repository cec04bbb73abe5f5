//! The head: the in-memory state of the series being written, each with its open chunk.
//!
//! Label strings are interned in a symbol table, so a series costs its symbol ids rather than
//! copies of its strings. The head holds no index of its own: queries find series through the
//! store's postings and ask the head only for the open-chunk samples of those ids.

use std::sync::Arc;

use crate::head_chunk::HeadChunk;
use hashbrown::{HashMap, HashTable};
use model::{Labels, Sample, Timestamp};

use crate::codec::SeriesId;

/// Interned label strings: each distinct name or value once, with a number. The head only
/// compares label sets by these numbers; it never turns them back into strings (queries read
/// labels from the store), so the strings are kept once, as map keys.
#[derive(Default)]
struct Symbols {
    ids: HashMap<Box<str>, u32>,
}

impl Symbols {
    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(s.into(), id);
        id
    }

    fn heap_bytes(&self) -> usize {
        let strings: usize = self.ids.keys().map(|s| s.len()).sum();
        strings + self.ids.capacity() * 28
    }
}

/// One series in the head.
pub(crate) struct MemSeries {
    pub(crate) id: SeriesId,
    /// Where the series' alternating name and value symbol ids start in `Head::label_arena`.
    labels_at: u32,
    /// How many symbol ids (twice the label count).
    labels_len: u16,
    pub(crate) chunk: HeadChunk,
    /// The WAL segment holding the first sample of `chunk`; the WAL is kept from there on.
    pub(crate) chunk_segment: u32,
    /// Newest committed sample (also when `chunk` was just sealed and is empty).
    pub(crate) last_t: Timestamp,
    pub(crate) last_v_bits: u64,
}

impl MemSeries {
    /// Appends a sample that passed the ordering checks; `segment` is the WAL segment that
    /// logged it (it pins the WAL when it starts a chunk).
    pub(crate) fn push(&mut self, t: Timestamp, v: f64, segment: u32) {
        if self.chunk.is_empty() {
            self.chunk_segment = segment;
        }
        self.chunk.append(t, v);
        self.last_t = t;
        self.last_v_bits = v.to_bits();
    }

    /// [`MemSeries::push`], leaving the chunk's fold to the caller: returns whether it is due
    /// (see [`HeadChunk::append_unfolded`]).
    pub(crate) fn push_unfolded(&mut self, t: Timestamp, v: f64, segment: u32) -> bool {
        if self.chunk.is_empty() {
            self.chunk_segment = segment;
        }
        let due = self.chunk.append_unfolded(t, v);
        self.last_t = t;
        self.last_v_bits = v.to_bits();
        due
    }
}

/// A sealed chunk not yet confirmed written to the store.
pub(crate) struct Unpersisted {
    pub(crate) id: SeriesId,
    pub(crate) mint: Timestamp,
    pub(crate) maxt: Timestamp,
    pub(crate) bytes: Arc<[u8]>,
    pub(crate) segment: u32,
}

#[derive(Default)]
pub(crate) struct Head {
    symbols: Symbols,
    /// Symbol ids of every head series' labels, back to back (one allocation for all).
    label_arena: Vec<u32>,
    series: Vec<MemSeries>,
    by_labels: HashTable<u32>,
    /// Slots by series id (the id is read from the slot: 4 bytes per entry).
    by_id: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    /// Series created but not yet written to the WAL and the store.
    pub(crate) new_ids: Vec<(SeriesId, Labels)>,
    /// Symbol ids in `label_arena` that belong to no series any more.
    arena_garbage: usize,
    pub(crate) unpersisted: Vec<Unpersisted>,
    /// Set while a batch of `unpersisted`, from the front, is being written to the store;
    /// meanwhile chunks sealed later wait, and the front is not touched.
    pub(crate) persisting: bool,
    /// Newest sample timestamp committed, `i64::MIN` when empty.
    pub(crate) max_t: Timestamp,
    pub(crate) next_id: SeriesId,
}

fn hash_ids(hasher: &hashbrown::DefaultHashBuilder, ids: &[u32]) -> u64 {
    use std::hash::BuildHasher;
    hasher.hash_one(ids)
}

fn hash_id(hasher: &hashbrown::DefaultHashBuilder, id: SeriesId) -> u64 {
    use std::hash::BuildHasher;
    hasher.hash_one(id)
}

impl Head {
    pub(crate) fn new(next_id: SeriesId) -> Self {
        Self {
            max_t: i64::MIN,
            next_id,
            ..Self::default()
        }
    }

    /// Number of series held.
    pub(crate) fn len(&self) -> usize {
        self.series.len()
    }

    pub(crate) fn get(&self, slot: u32) -> Option<&MemSeries> {
        self.series.get(slot as usize)
    }

    pub(crate) fn get_mut(&mut self, slot: u32) -> Option<&mut MemSeries> {
        self.series.get_mut(slot as usize)
    }

    pub(crate) fn slot_of_id(&self, id: SeriesId) -> Option<u32> {
        let series = &self.series;
        self.by_id
            .find(hash_id(&self.hasher, id), |&slot| {
                series.get(slot as usize).is_some_and(|s| s.id == id)
            })
            .copied()
    }

    /// The slot of the series with these labels, if it is in the head.
    pub(crate) fn find(&self, labels: &Labels) -> Option<u32> {
        let mut ids = Vec::with_capacity(labels.len() * 2);
        for l in labels {
            ids.push(self.symbols.get(&l.name)?);
            ids.push(self.symbols.get(&l.value)?);
        }
        let hash = hash_ids(&self.hasher, &ids);
        self.by_labels
            .find(hash, |&slot| self.label_ids(slot) == ids.as_slice())
            .copied()
    }

    /// The symbol ids of the labels of the series in `slot`.
    fn label_ids(&self, slot: u32) -> &[u32] {
        self.series.get(slot as usize).map_or(&[], |s| {
            let at = s.labels_at as usize;
            self.label_arena
                .get(at..at + usize::from(s.labels_len))
                .unwrap_or(&[])
        })
    }

    /// Adds a series with a known id; the caller made sure it is not in the head yet.
    pub(crate) fn insert(&mut self, id: SeriesId, labels: &Labels, segment: u32) -> u32 {
        let mut ids = Vec::with_capacity(labels.len() * 2);
        for l in labels {
            ids.push(self.symbols.intern(&l.name));
            ids.push(self.symbols.intern(&l.value));
        }
        let slot = self.series.len() as u32;
        let hash = hash_ids(&self.hasher, &ids);
        let labels_at = self.label_arena.len() as u32;
        self.label_arena.extend_from_slice(&ids);
        self.series.push(MemSeries {
            id,
            labels_at,
            labels_len: ids.len() as u16,
            chunk: HeadChunk::new(),
            chunk_segment: segment,
            last_t: i64::MIN,
            last_v_bits: 0,
        });
        let (series, arena, hasher) = (&self.series, &self.label_arena, &self.hasher);
        self.by_labels.insert_unique(hash, slot, |&s| {
            series.get(s as usize).map_or(0, |m| {
                let at = m.labels_at as usize;
                hash_ids(
                    hasher,
                    arena.get(at..at + usize::from(m.labels_len)).unwrap_or(&[]),
                )
            })
        });
        let (series, hasher) = (&self.series, &self.hasher);
        self.by_id.insert_unique(hash_id(hasher, id), slot, |&s| {
            series.get(s as usize).map_or(0, |m| hash_id(hasher, m.id))
        });
        self.next_id = self.next_id.max(id + 1);
        slot
    }

    /// Seals the open chunk of `slot` (if it has samples) into an [`Unpersisted`] entry.
    pub(crate) fn seal(&mut self, slot: u32) {
        let Some(s) = self.series.get_mut(slot as usize) else {
            return;
        };
        let Some((bytes, mint, maxt)) = s.chunk.take_sealed() else {
            return;
        };
        self.unpersisted.push(Unpersisted {
            id: s.id,
            mint,
            maxt,
            bytes: bytes.into(),
            segment: s.chunk_segment,
        });
    }

    /// Seals every open chunk whose first sample is older than `before`.
    pub(crate) fn seal_older_than(&mut self, before: Timestamp) -> usize {
        let stale: Vec<u32> = (0..self.series.len() as u32)
            .filter(|&i| {
                self.series
                    .get(i as usize)
                    .and_then(|s| s.chunk.first_t())
                    .is_some_and(|t| t < before)
            })
            .collect();
        for &slot in &stale {
            self.seal(slot);
        }
        stale.len()
    }

    /// The oldest WAL segment still needed: by an open chunk or an unpersisted sealed chunk.
    pub(crate) fn oldest_needed_segment(&self, current: u32) -> u32 {
        let open = self
            .series
            .iter()
            .filter(|s| !s.chunk.is_empty())
            .map(|s| s.chunk_segment);
        let sealed = self.unpersisted.iter().map(|u| u.segment);
        open.chain(sealed).min().unwrap_or(current).min(current)
    }

    /// Samples of series `id` held only in memory (open and unpersisted chunks), within
    /// `[mint, maxt]`, appended to `out` unordered.
    pub(crate) fn samples_of(
        &self,
        id: SeriesId,
        mint: Timestamp,
        maxt: Timestamp,
        out: &mut Vec<Sample>,
    ) {
        let start = out.len();
        for u in self
            .unpersisted
            .iter()
            .filter(|u| u.id == id && u.maxt >= mint && u.mint <= maxt)
        {
            // The bytes were encoded by this process from valid samples.
            let _ = chunkenc::decode_sealed(&u.bytes, out);
        }
        if let Some(s) = self
            .slot_of_id(id)
            .and_then(|slot| self.series.get(slot as usize))
        {
            s.chunk.decode_into(out);
        }
        let mut i = start;
        while i < out.len() {
            let t = out.get(i).map_or(mint, |s| s.t);
            if t < mint || t > maxt {
                out.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// Drops from the head every series that has nothing in memory (no open chunk, no chunk
    /// waiting to be written, not waiting to be logged) and no sample since `before`: its data
    /// is in the store and its labels in the index, and an append brings it back. Returns how
    /// many were dropped. Slots move, ids do not: callers hold ids across this.
    pub(crate) fn drop_idle(&mut self, before: Timestamp) -> usize {
        let busy: hashbrown::HashSet<SeriesId> = self
            .unpersisted
            .iter()
            .map(|u| u.id)
            .chain(self.new_ids.iter().map(|(id, _)| *id))
            .collect();
        let mut dropped = 0;
        for slot in (0..self.series.len() as u32).rev() {
            let idle = self
                .series
                .get(slot as usize)
                .is_some_and(|s| s.chunk.is_empty() && s.last_t < before && !busy.contains(&s.id));
            if idle {
                self.remove(slot);
                dropped += 1;
            }
        }
        if self.arena_garbage > self.label_arena.len() / 2 {
            self.compact_arena();
        }
        dropped
    }

    /// Removes `slot`, moving the last series into it.
    fn remove(&mut self, slot: u32) {
        let last = (self.series.len() as u32).saturating_sub(1);
        let (Some(gone), Some(moved)) = (
            self.series.get(slot as usize),
            self.series.get(last as usize),
        ) else {
            return;
        };
        let (gone_id, moved_id) = (gone.id, moved.id);
        let gone_hash = hash_ids(&self.hasher, self.label_ids(slot));
        let moved_hash = hash_ids(&self.hasher, self.label_ids(last));
        if let Ok(e) = self.by_labels.find_entry(gone_hash, |&s| s == slot) {
            e.remove();
        }
        if let Ok(e) = self
            .by_id
            .find_entry(hash_id(&self.hasher, gone_id), |&s| s == slot)
        {
            e.remove();
        }
        if slot != last {
            if let Some(s) = self.by_labels.find_mut(moved_hash, |&s| s == last) {
                *s = slot;
            }
            if let Some(s) = self
                .by_id
                .find_mut(hash_id(&self.hasher, moved_id), |&s| s == last)
            {
                *s = slot;
            }
        }
        self.arena_garbage += self.label_ids(slot).len();
        self.series.swap_remove(slot as usize);
    }

    /// Rewrites the label arena without the ids of dropped series.
    fn compact_arena(&mut self) {
        let mut arena = Vec::with_capacity(self.label_arena.len() - self.arena_garbage);
        for s in &mut self.series {
            let at = s.labels_at as usize;
            let ids = self
                .label_arena
                .get(at..at + usize::from(s.labels_len))
                .unwrap_or(&[]);
            s.labels_at = arena.len() as u32;
            arena.extend_from_slice(ids);
        }
        self.label_arena = arena;
        self.arena_garbage = 0;
    }

    /// Heap bytes held by the head, approximately (for `/metrics` and the memory benchmark).
    pub(crate) fn heap_bytes(&self) -> usize {
        let per_series: usize = self.series.iter().map(|s| s.chunk.heap_bytes()).sum();
        per_series
            + self.label_arena.capacity() * 4
            + self.series.capacity() * std::mem::size_of::<MemSeries>()
            + self.by_labels.capacity() * 5
            + self.by_id.capacity() * 5
            + self.symbols.heap_bytes()
    }
}
