//! Sample codecs for the tsdb. Pure: bytes in, bytes out, no I/O.
//!
//! * [`XorChunk`]: the head's open chunk, appended one sample at a time (Gorilla/Prometheus XOR).
//! * [`encode_sealed`]/[`decode_sealed`]: the compact format a full chunk is rewritten into
//!   before it is persisted.
#![deny(missing_docs)]

use model::Sample;

/// A chunk that cannot be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkError {
    /// The bytes end before the chunk does.
    #[error("chunk truncated at byte {offset}")]
    Truncated {
        /// Byte offset where more input was needed.
        offset: usize,
    },
    /// The encoding byte names no known encoding.
    #[error("unknown chunk encoding {encoding} at byte {offset}")]
    UnknownEncoding {
        /// The encoding byte found.
        encoding: u8,
        /// Byte offset of that byte.
        offset: usize,
    },
    /// The chunk is internally inconsistent.
    #[error("corrupt chunk at byte {offset}: {reason}")]
    Corrupt {
        /// Byte offset where the inconsistency was found.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Summary of a sealed chunk, read from its header without decoding the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Number of samples.
    pub count: u32,
    /// Timestamp of the first sample, ms.
    pub mint: i64,
    /// Timestamp of the last sample, ms.
    pub maxt: i64,
}

/// The head's open chunk (placeholder API; see the module docs).
#[derive(Debug, Default, Clone)]
pub struct XorChunk {
    samples: Vec<Sample>,
}

impl XorChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a sample; `t` must be greater than the last appended timestamp.
    pub fn append(&mut self, t: i64, v: f64) {
        self.samples.push(Sample::new(t, v));
    }
    /// Number of samples appended.
    pub fn len(&self) -> usize {
        self.samples.len()
    }
    /// Whether the chunk has no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
    /// Decodes every sample into `out` (appending).
    pub fn decode_into(&self, out: &mut Vec<Sample>) {
        out.extend_from_slice(&self.samples);
    }
    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.samples.capacity() * 16
    }
}

/// Encodes `samples` (strictly increasing timestamps, at least one) as a sealed chunk,
/// appending to `out`.
pub fn encode_sealed(samples: &[Sample], out: &mut Vec<u8>) {
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.t.to_le_bytes());
        out.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

/// Reads a sealed chunk's header.
///
/// # Errors
/// [`ChunkError`] when the bytes are not a chunk.
pub fn sealed_meta(bytes: &[u8]) -> Result<ChunkMeta, ChunkError> {
    let mut v = Vec::new();
    decode_sealed(bytes, &mut v)?;
    match (v.first(), v.last()) {
        (Some(a), Some(b)) => Ok(ChunkMeta { count: v.len() as u32, mint: a.t, maxt: b.t }),
        _ => Err(ChunkError::Corrupt { offset: 0, reason: "empty chunk" }),
    }
}

/// Decodes a sealed chunk, appending its samples to `out`.
///
/// # Errors
/// [`ChunkError`] when the bytes are not a valid chunk; `out` may then hold a prefix.
pub fn decode_sealed(bytes: &[u8], out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    let n = bytes.get(..4).ok_or(ChunkError::Truncated { offset: 0 })?;
    let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize;
    for i in 0..n {
        let off = 4 + i * 16;
        let rec = bytes.get(off..off + 16).ok_or(ChunkError::Truncated { offset: off })?;
        let mut t = [0u8; 8];
        let mut v = [0u8; 8];
        t.copy_from_slice(&rec[..8]);
        v.copy_from_slice(&rec[8..]);
        out.push(Sample::new(i64::from_le_bytes(t), f64::from_bits(u64::from_le_bytes(v))));
    }
    Ok(())
}
