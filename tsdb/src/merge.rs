//! Chunks that land on the same key (series id, first timestamp) are merged, never
//! overwritten: a backfill over stored data, a chunk sealed again after a lost WAL marker, or
//! the same series given twice in one batch.

use std::sync::Arc;

use fjall::Keyspace;
use model::{Sample, Timestamp};

use crate::Result;
use crate::codec::{self, SeriesId};
use crate::store::SealedChunk;

/// The most samples one sealed chunk takes (the codec's limit).
const MAX_CHUNK_SAMPLES: usize = u16::MAX as usize;

/// Merges two sealed chunks of one series; on equal timestamps `newer` wins. Returns chunks of
/// at most [`MAX_CHUNK_SAMPLES`] samples, each with its first timestamp. An `older` chunk that
/// does not decode is dropped with an error log (it was unreadable anyway).
pub(crate) fn merge_chunks(
    id: SeriesId,
    older: &[u8],
    newer: &[u8],
) -> Vec<(Timestamp, Arc<[u8]>)> {
    let mut new_samples = Vec::new();
    if chunkenc::decode_sealed(newer, &mut new_samples).is_err() {
        tracing::error!(
            series = id,
            "merging chunks: the new chunk does not decode; keeping the old one"
        );
        return first_t(older)
            .map(|t| vec![(t, Arc::from(older))])
            .unwrap_or_default();
    }
    let mut all = Vec::with_capacity(new_samples.len() * 2);
    if let Err(e) = chunkenc::decode_sealed(older, &mut all) {
        tracing::error!(series = id, error = %e, "merging chunks: a stored chunk does not decode and is replaced");
        all.clear();
    }
    all.extend(new_samples);
    // Stable sort: for equal timestamps the newer sample comes last and is kept.
    all.sort_by_key(|s| s.t);
    let mut merged: Vec<Sample> = Vec::with_capacity(all.len());
    for s in all {
        match merged.last_mut() {
            Some(last) if last.t == s.t => *last = s,
            _ => merged.push(s),
        }
    }
    merged
        .chunks(MAX_CHUNK_SAMPLES)
        .filter_map(|part| {
            let mut bytes = Vec::new();
            chunkenc::encode_sealed(part, &mut bytes);
            part.first().map(|s| (s.t, Arc::from(bytes)))
        })
        .collect()
}

fn first_t(chunk: &[u8]) -> Option<Timestamp> {
    chunkenc::sealed_meta(chunk).ok().map(|m| m.mint)
}

/// A chunk with its partition-keyspace key.
pub(crate) type KeyedChunk = ([u8; 16], Arc<[u8]>);

/// The entries to write into partition keyspace `ks` for `chunks`: sorted by key, one per
/// key, each merged with the chunk already stored under its key.
pub(crate) fn resolve_collisions(ks: &Keyspace, chunks: &[SealedChunk]) -> Result<Vec<KeyedChunk>> {
    let mut sorted: Vec<&SealedChunk> = chunks.iter().collect();
    sorted.sort_by_key(|c| (c.0, c.1));
    let mut combined: Vec<SealedChunk> = Vec::with_capacity(sorted.len());
    for c in sorted {
        match combined.last_mut() {
            Some(last) if (last.0, last.1) == (c.0, c.1) => {
                let parts = merge_chunks(c.0, &last.2, &c.2);
                let (head, tail) = parts
                    .split_first()
                    .map_or((None, &[][..]), |(h, t)| (Some(h), t));
                if let Some((t, bytes)) = head {
                    *last = (c.0, *t, bytes.clone());
                }
                combined.extend(tail.iter().map(|(t, b)| (c.0, *t, b.clone())));
            }
            _ => combined.push(c.clone()),
        }
    }
    let mut out = Vec::with_capacity(combined.len());
    for (id, mint, bytes) in combined {
        let key = codec::chunk_key(id, mint);
        match ks.get(key)? {
            Some(old) => out.extend(
                merge_chunks(id, &old, &bytes)
                    .into_iter()
                    .map(|(t, b)| (codec::chunk_key(id, t), b)),
            ),
            None => out.push((key, bytes)),
        }
    }
    out.sort_by_key(|e| e.0);
    out.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(samples: &[(i64, f64)]) -> Vec<u8> {
        let s: Vec<Sample> = samples.iter().map(|&(t, v)| Sample::new(t, v)).collect();
        let mut out = Vec::new();
        chunkenc::encode_sealed(&s, &mut out);
        out
    }

    #[test]
    fn merging_keeps_both_and_the_newer_value_wins() {
        let parts = merge_chunks(
            1,
            &chunk(&[(1, 1.0), (3, 3.0), (5, 5.0)]),
            &chunk(&[(1, 9.0), (2, 2.0)]),
        );
        assert_eq!(parts.len(), 1);
        let mut got = Vec::new();
        chunkenc::decode_sealed(&parts[0].1, &mut got).unwrap();
        let want: Vec<Sample> = [(1, 9.0), (2, 2.0), (3, 3.0), (5, 5.0)]
            .iter()
            .map(|&(t, v)| Sample::new(t, v))
            .collect();
        assert_eq!(got, want);
        assert_eq!(parts[0].0, 1);
    }

    #[test]
    fn an_unreadable_old_chunk_is_replaced() {
        let parts = merge_chunks(1, b"\x01garbage", &chunk(&[(4, 4.0)]));
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].0, 4);
    }
}
