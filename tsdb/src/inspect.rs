//! A census of what a database holds (`promlet inspect`).

use model::Timestamp;

use crate::Result;
use crate::db::{Db, dir_disk_bytes};

/// What one time partition holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionCensus {
    /// Partition start, ms.
    pub start: Timestamp,
    /// Chunks stored in it.
    pub chunks: u64,
    /// Samples in those chunks.
    pub samples: u64,
    /// Bytes of chunk data (values only, without keys and file overhead).
    pub chunk_bytes: u64,
}

/// What a database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// Series ever written (indexed).
    pub series: u64,
    /// Sealed chunks in the store.
    pub chunks: u64,
    /// Samples in sealed chunks plus samples in the head's open chunks.
    pub samples: u64,
    /// Samples only in the head (open chunks, covered by the WAL).
    pub head_samples: u64,
    /// Bytes allocated on disk by the whole data directory.
    pub disk_bytes: u64,
    /// Oldest and newest sample timestamps, ms, when there is data.
    pub time_range: Option<(Timestamp, Timestamp)>,
    /// Per-partition figures, oldest first.
    pub partitions: Vec<PartitionCensus>,
}

impl Db {
    /// Counts series, chunks and samples by reading every chunk header.
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming the first chunk whose header does not decode; store errors.
    pub fn census(&self) -> Result<Census> {
        let mut partitions = Vec::new();
        let mut range: Option<(Timestamp, Timestamp)> = None;
        for start in self.store.partition_starts() {
            let mut p = PartitionCensus {
                start,
                chunks: 0,
                samples: 0,
                chunk_bytes: 0,
            };
            for (id, mint, bytes) in self.store.partition_chunks(start)? {
                let meta =
                    chunkenc::sealed_meta(&bytes).map_err(|e| self.chunk_error(id, mint, e))?;
                p.chunks += 1;
                p.samples += u64::from(meta.count);
                p.chunk_bytes += bytes.len() as u64;
                range = Some(widen(range, meta.mint, meta.maxt));
            }
            partitions.push(p);
        }
        let head_samples = {
            let st = self.state.lock();
            let mut n = 0u64;
            for slot in 0..st.head.len() as u32 {
                if let Some(s) = st.head.get(slot) {
                    n += s.chunk.len() as u64;
                    if let Some(first) = s.chunk.first_t() {
                        range = Some(widen(range, first, s.last_t));
                    }
                }
            }
            n
        };
        Ok(Census {
            series: self.store.all_ids()?.len() as u64,
            chunks: partitions.iter().map(|p| p.chunks).sum(),
            samples: partitions.iter().map(|p| p.samples).sum::<u64>() + head_samples,
            head_samples,
            disk_bytes: dir_disk_bytes(&self.dir),
            time_range: range,
            partitions,
        })
    }
}

fn widen(
    r: Option<(Timestamp, Timestamp)>,
    lo: Timestamp,
    hi: Timestamp,
) -> (Timestamp, Timestamp) {
    match r {
        None => (lo, hi),
        Some((a, b)) => (a.min(lo), b.max(hi)),
    }
}
