//! Bounded read caches: the labels of stored series, and each series' stored chunks per
//! partition (decoded on first use), so that repeated queries over the same series (a
//! dashboard refreshing, an alert rule) skip the key-value store and the decoder.
//!
//! Correctness rests on two facts:
//! * a series id is never reused and its labels never change, so cached labels never go
//!   stale;
//! * every write of chunks goes through [`ChunkCache::invalidate`] (and retention through
//!   [`ChunkCache::invalidate_partition`]) after the write, and a reader only caches what it
//!   read if no invalidation happened since it started reading ([`ChunkCache::generation`]).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use hashbrown::HashMap;
use model::{Labels, Sample, Timestamp};
use parking_lot::RwLock;

use crate::codec::SeriesId;

/// One stored chunk of a cached series partition.
pub(crate) struct CachedChunk {
    /// First sample's timestamp (the key's).
    pub(crate) mint: Timestamp,
    /// Last sample's timestamp, from the header; `None` when the header does not read (the
    /// chunk is then decoded, which reports the corruption).
    pub(crate) maxt: Option<Timestamp>,
    /// The encoded chunk.
    pub(crate) bytes: fjall::Slice,
    /// The samples, once decoded.
    decoded: OnceLock<Arc<[Sample]>>,
}

impl CachedChunk {
    /// A chunk read from the store.
    pub(crate) fn new(mint: Timestamp, bytes: fjall::Slice) -> Self {
        let maxt = chunkenc::sealed_meta(&bytes).ok().map(|m| m.maxt);
        Self {
            mint,
            maxt,
            bytes,
            decoded: OnceLock::new(),
        }
    }
}

/// The stored chunks of one series in one partition, in time order.
pub(crate) struct CachedPart {
    /// The chunks.
    pub(crate) chunks: Vec<CachedChunk>,
    /// Bytes this entry holds (encoded plus decoded so far).
    size: AtomicUsize,
}

impl CachedPart {
    /// A part holding `chunks`.
    pub(crate) fn new(chunks: Vec<CachedChunk>) -> Self {
        let size = chunks.iter().map(|c| c.bytes.len() + 64).sum();
        Self {
            chunks,
            size: AtomicUsize::new(size),
        }
    }
}

/// Chunks per (partition start, series id), bounded by bytes.
pub(crate) struct ChunkCache {
    budget: usize,
    bytes: AtomicUsize,
    generation: AtomicU64,
    parts: RwLock<HashMap<(Timestamp, SeriesId), Arc<CachedPart>>>,
}

impl ChunkCache {
    /// A cache holding at most about `budget` bytes (0 disables it).
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            budget,
            bytes: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            parts: RwLock::new(HashMap::new()),
        }
    }

    /// The invalidation count; read it before reading the store, pass it to [`Self::insert`].
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached part of series `id` in partition `part`.
    pub(crate) fn get(&self, part: Timestamp, id: SeriesId) -> Option<Arc<CachedPart>> {
        self.parts.read().get(&(part, id)).cloned()
    }

    /// Caches a part read while the generation was `seen`; does nothing if something was
    /// invalidated since.
    pub(crate) fn insert(&self, part: Timestamp, id: SeriesId, p: Arc<CachedPart>, seen: u64) {
        if self.budget == 0 {
            return;
        }
        let size = p.size.load(Ordering::Relaxed);
        {
            let mut parts = self.parts.write();
            if self.generation() != seen {
                return;
            }
            if let Some(old) = parts.insert((part, id), p) {
                self.bytes
                    .fetch_sub(old.size.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
        self.grow(size);
    }

    /// The samples of `chunk` (a chunk of cached `part`), decoding them on first use; they
    /// come back sorted by time.
    ///
    /// # Errors
    /// Whatever `decode` returns; nothing is cached then.
    pub(crate) fn samples<E>(
        &self,
        part: &CachedPart,
        chunk: &CachedChunk,
        decode: impl FnOnce(&[u8]) -> Result<Vec<Sample>, E>,
    ) -> Result<Arc<[Sample]>, E> {
        if let Some(s) = chunk.decoded.get() {
            return Ok(s.clone());
        }
        let mut decoded = decode(&chunk.bytes)?;
        if !decoded.is_sorted_by_key(|s| s.t) {
            decoded.sort_by_key(|s| s.t);
        }
        let samples: Arc<[Sample]> = decoded.into();
        if chunk.decoded.set(samples.clone()).is_ok() {
            let size = samples.len() * size_of::<Sample>();
            part.size.fetch_add(size, Ordering::Relaxed);
            self.grow(size);
        }
        Ok(samples)
    }

    /// Forgets series `id` in partition `part`; call after writing its chunks.
    pub(crate) fn invalidate(&self, part: Timestamp, id: SeriesId) {
        let mut parts = self.parts.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(old) = parts.remove(&(part, id)) {
            self.bytes
                .fetch_sub(old.size.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    /// Forgets everything of partition `part`; call when it is dropped.
    pub(crate) fn invalidate_partition(&self, part: Timestamp) {
        let mut parts = self.parts.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        parts.retain(|(p, _), v| {
            let keep = *p != part;
            if !keep {
                self.bytes
                    .fetch_sub(v.size.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            keep
        });
    }

    /// Bytes held now (approximately).
    #[cfg(test)]
    fn size(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Accounts `size` more bytes and evicts entries (in no particular order) down to three
    /// quarters of the budget when over it.
    fn grow(&self, size: usize) {
        let now = self.bytes.fetch_add(size, Ordering::Relaxed) + size;
        if now <= self.budget {
            return;
        }
        let target = self.budget / 4 * 3;
        let mut parts = self.parts.write();
        let victims: Vec<(Timestamp, SeriesId)> = {
            let mut freed = 0usize;
            let over = self.bytes.load(Ordering::Relaxed).saturating_sub(target);
            parts
                .iter()
                .take_while(|(_, v)| {
                    let go = freed < over;
                    freed += v.size.load(Ordering::Relaxed);
                    go
                })
                .map(|(k, _)| *k)
                .collect()
        };
        for k in victims {
            if let Some(old) = parts.remove(&k) {
                self.bytes
                    .fetch_sub(old.size.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
    }
}

/// Labels of stored series by id, bounded by entry count.
pub(crate) struct LabelsCache {
    max_entries: usize,
    map: RwLock<HashMap<SeriesId, Labels>>,
}

impl LabelsCache {
    /// A cache of at most `max_entries` label sets (0 disables it).
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            max_entries,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The cached labels of `id`.
    pub(crate) fn get(&self, id: SeriesId) -> Option<Labels> {
        self.map.read().get(&id).cloned()
    }

    /// Caches the labels of `id`; when full, starts over (label sets are cheap to re-read).
    pub(crate) fn insert(&self, id: SeriesId, labels: &Labels) {
        if self.max_entries == 0 {
            return;
        }
        let mut map = self.map.write();
        if map.len() >= self.max_entries {
            map.clear();
        }
        map.insert(id, labels.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: usize) -> Arc<CachedPart> {
        let bytes = fjall::Slice::from(vec![0u8; n]);
        Arc::new(CachedPart::new(vec![CachedChunk::new(0, bytes)]))
    }

    #[test]
    fn an_invalidation_during_a_read_keeps_the_stale_read_out() {
        let c = ChunkCache::new(1 << 20);
        let seen = c.generation();
        c.invalidate(0, 7);
        c.insert(0, 7, part(10), seen);
        assert!(c.get(0, 7).is_none());
        let seen = c.generation();
        c.insert(0, 7, part(10), seen);
        assert!(c.get(0, 7).is_some());
        c.invalidate_partition(0);
        assert!(c.get(0, 7).is_none());
        assert_eq!(c.size(), 0);
    }

    #[test]
    fn stays_within_its_budget() {
        let c = ChunkCache::new(10_000);
        for id in 0..1000 {
            c.insert(0, id, part(100), c.generation());
        }
        assert!(c.size() <= 10_000, "{}", c.size());
        assert!(c.parts.read().len() > 10);
    }

    #[test]
    fn decodes_once() {
        let c = ChunkCache::new(1 << 20);
        let p = part(10);
        let mut calls = 0;
        for _ in 0..3 {
            let s = c
                .samples(&p, &p.chunks[0], |_| {
                    calls += 1;
                    Ok::<_, ()>(vec![Sample::new(1, 2.0)])
                })
                .unwrap();
            assert_eq!(s.len(), 1);
        }
        assert_eq!(calls, 1);
    }
}
