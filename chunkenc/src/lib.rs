//! Sample codecs for the tsdb. Pure: bytes in, bytes out, no I/O.
//!
//! * [`XorChunk`]: the head's open chunk, appended one sample at a time (Gorilla/Prometheus XOR,
//!   bit-compatible with Prometheus's chunk body). 48 bytes inline plus a small buffer.
//! * [`encode_sealed`]/[`decode_sealed`]/[`sealed_meta`]: the compact format a full chunk is
//!   rewritten into before it is persisted: timestamps as grid residuals or deltas and values
//!   as exact decimals, both frame-of-reference bit-packed with patched exceptions, and a
//!   Gorilla fallback for values that are not decimal. `FORMAT.md` has the byte layout.
//!
//! Timestamps are milliseconds. Values round-trip bit-exactly (NaN payloads, the staleness
//! marker, `-0.0`, infinities). Decoders never panic on arbitrary bytes.
#![deny(missing_docs)]

mod bits;
mod sealed;
mod xor;

pub use sealed::{
    MAX_SEALED_SAMPLES, SEALED_V1, SealedModes, TsMode, ValueMode, decode_sealed, encode_sealed,
    sealed_meta, sealed_modes,
};
pub use xor::XorChunk;

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
