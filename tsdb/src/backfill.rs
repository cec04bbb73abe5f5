//! Bulk loading of whole series, bypassing the head and the WAL (the engine of `promlet import`).

use std::collections::HashMap;
use std::sync::Arc;

use model::{Labels, Sample};

use crate::Result;
use crate::codec::SeriesId;
use crate::db::Db;
use crate::store::SealedChunk;

/// What a backfill wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillStats {
    /// Series written.
    pub series: u64,
    /// Samples written.
    pub samples: u64,
    /// Chunks written.
    pub chunks: u64,
}

/// Chunks are collected up to about this many bytes, then bulk-loaded as table files.
const BATCH_BYTES: usize = 256 << 20;

impl Db {
    /// Writes whole series straight into sealed chunks, bulk-loaded as table files (they do not
    /// pass through the WAL or the store's journal). Each series' samples must have strictly
    /// increasing timestamps. Samples overlapping data already stored are merged at query time
    /// (one sample per timestamp). `progress` is called with the number of samples written so
    /// far after each batch. The data is durable once this returns (the store is synced).
    ///
    /// # Errors
    /// A store error; series written before it stay written.
    pub fn backfill(
        &self,
        series: impl IntoIterator<Item = (Labels, Vec<Sample>)>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<BackfillStats> {
        let mut stats = BackfillStats::default();
        let mut new_series: HashMap<Labels, SeriesId> = HashMap::new();
        let mut chunks: Vec<SealedChunk> = Vec::new();
        let mut pending_bytes = 0usize;
        for (labels, samples) in series {
            if samples.is_empty() {
                continue;
            }
            let id = self.backfill_id(&labels, &mut new_series)?;
            stats.series += 1;
            stats.samples += samples.len() as u64;
            for part in self.split_chunks(&samples) {
                let mut bytes = Vec::new();
                chunkenc::encode_sealed(part, &mut bytes);
                pending_bytes += bytes.len() + 16;
                let mint = part.first().map_or(0, |s| s.t);
                chunks.push((id, mint, Arc::from(bytes)));
                stats.chunks += 1;
            }
            if pending_bytes >= BATCH_BYTES {
                self.write_backfill_batch(&mut new_series, &mut chunks)?;
                pending_bytes = 0;
                progress(stats.samples);
            }
        }
        self.write_backfill_batch(&mut new_series, &mut chunks)?;
        progress(stats.samples);
        self.store.persist(true)?;
        if let Some(stored) = self.store.max_t()? {
            let mut st = self.state.lock();
            st.head.max_t = st.head.max_t.max(stored);
        }
        Ok(stats)
    }

    fn backfill_id(
        &self,
        labels: &Labels,
        new_series: &mut HashMap<Labels, SeriesId>,
    ) -> Result<SeriesId> {
        let mut st = self.state.lock();
        if let Some(id) = st
            .head
            .find(labels)
            .and_then(|slot| st.head.get(slot))
            .map(|s| s.id)
        {
            return Ok(id);
        }
        if let Some(id) = self.store.lookup(labels)? {
            return Ok(id);
        }
        if let Some(id) = new_series.get(labels) {
            return Ok(*id);
        }
        crate::check_storable(labels)?;
        let id = st.head.next_id;
        st.head.next_id += 1;
        new_series.insert(labels.clone(), id);
        Ok(id)
    }

    fn write_backfill_batch(
        &self,
        new_series: &mut HashMap<Labels, SeriesId>,
        chunks: &mut Vec<SealedChunk>,
    ) -> Result<()> {
        let series: Vec<(SeriesId, Labels)> = new_series.drain().map(|(l, id)| (id, l)).collect();
        self.store.ingest_series(&series)?;
        self.store
            .ingest_chunks(chunks, |t| self.opts.partition_start(t))
    }

    /// Splits sorted samples into chunks that hold at most `chunk_max_samples` and never cross
    /// a partition boundary.
    pub(crate) fn split_chunks<'s>(&self, samples: &'s [Sample]) -> Vec<&'s [Sample]> {
        let mut out = Vec::new();
        let mut rest = samples;
        while let Some(first) = rest.first() {
            let part = self.opts.partition_start(first.t);
            let same = rest.partition_point(|s| self.opts.partition_start(s.t) == part);
            let n = same.min(self.opts.chunk_max_samples).max(1);
            let (chunk, tail) = rest.split_at(n.min(rest.len()));
            out.push(chunk);
            rest = tail;
        }
        out
    }
}
