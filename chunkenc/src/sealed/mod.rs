//! The sealed chunk format: what a full head chunk is rewritten into before it is persisted.
//! See `FORMAT.md` in the crate root for the byte layout.
//!
//! ```text
//! +------+------------+-----------+--------------+-------+------------+---------------+
//! | enc  | uvarint n  | varint t0 | uvarint span | modes | timestamps | values        |
//! | 0x01 | 0..=65536  | ms        | t_last - t0  |  u8   | (ts.rs)    | (values.rs)   |
//! +------+------------+-----------+--------------+-------+------------+---------------+
//! n == 0: the chunk ends after n.   modes: bits 0-1 ts mode, 2-3 value mode,
//!                                          bit 4 value exceptions, bits 5-7 zero
//! ```

mod decimal;
mod intseq;
mod pfor;
#[cfg(test)]
mod tests;
mod ts;
mod values;

use crate::bits::{ByteReader, put_uvarint, put_varint};
use crate::{ChunkError, ChunkMeta};
use model::Sample;

pub use ts::TsMode;
pub use values::ValueMode;

/// Encoding byte of the sealed format, version 1.
pub const SEALED_V1: u8 = 0x01;

/// The most samples one sealed chunk holds.
pub const MAX_SEALED_SAMPLES: usize = 1 << 16;

/// Bit of the modes byte flagging a value exception list.
const EXCEPTIONS_BIT: u8 = 1 << 4;

/// A lane of a [`Sample`] that blocks are decoded into as raw 64-bit words.
pub(crate) trait Lane {
    /// The lane's bits.
    fn get(s: &Sample) -> u64;
    /// Stores `x` in the lane.
    fn set(s: &mut Sample, x: u64);
}

/// The timestamp lane.
pub(crate) struct TLane;
/// The value lane (bits, as `f64::from_bits`, which preserves every pattern).
pub(crate) struct VLane;

impl Lane for TLane {
    #[inline(always)]
    fn get(s: &Sample) -> u64 {
        s.t as u64
    }
    #[inline(always)]
    fn set(s: &mut Sample, x: u64) {
        s.t = x as i64;
    }
}

impl Lane for VLane {
    #[inline(always)]
    fn get(s: &Sample) -> u64 {
        s.v.to_bits()
    }
    #[inline(always)]
    fn set(s: &mut Sample, x: u64) {
        s.v = f64::from_bits(x);
    }
}

/// The modes a sealed chunk was written with (for tests and size reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedModes {
    /// How the timestamps are coded.
    pub ts: TsMode,
    /// How the values are coded.
    pub values: ValueMode,
    /// Whether the values carry an exception list (raw values patched into DECIMAL).
    pub exceptions: bool,
}

/// Encodes `samples` as a sealed chunk, appending it to `out`.
///
/// Timestamps (ms) are normally strictly increasing, but any sequence round-trips bit-exactly;
/// [`ChunkMeta`] reports the first and last timestamps as `mint` and `maxt`. An empty slice
/// gives an empty chunk, which decodes to nothing and has no [`ChunkMeta`].
///
/// # Panics
/// If `samples.len() > MAX_SEALED_SAMPLES` (a caller bug: chunks hold a few hundred).
pub fn encode_sealed(samples: &[Sample], out: &mut Vec<u8>) {
    assert!(
        samples.len() <= MAX_SEALED_SAMPLES,
        "sealed chunk of {} samples",
        samples.len()
    );
    out.push(SEALED_V1);
    put_uvarint(out, samples.len() as u64);
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return;
    };
    put_varint(out, first.t);
    let span = (last.t as u64).wrapping_sub(first.t as u64);
    put_uvarint(out, span);
    let modes_at = out.len();
    out.push(0);
    let (ts_mode, (v_mode, exc)) = with_scratch(|s| {
        (
            ts::encode(out, samples, span, &mut s.words),
            values::encode(out, samples, s),
        )
    });
    let modes = ts_mode as u8 | (v_mode as u8) << 2 | if exc { EXCEPTIONS_BIT } else { 0 };
    if let Some(m) = out.get_mut(modes_at) {
        *m = modes;
    }
}

/// Reusable encoder memory (one per thread), so that encoding allocates nothing in steady
/// state.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) words: [Vec<u64>; 3],
    pub(crate) dec: decimal::Decimal,
    pub(crate) bytes: Vec<u8>,
}

impl Scratch {
    /// Elements kept between calls; a rare huge chunk does not pin its memory.
    const KEEP: usize = 4096;

    fn trim(&mut self) {
        for w in &mut self.words {
            w.truncate(Self::KEEP);
            w.shrink_to(Self::KEEP);
        }
        self.dec.m.shrink_to(Self::KEEP);
        self.dec.exceptions.shrink_to(Self::KEEP);
        self.bytes.shrink_to(Self::KEEP * 8);
    }
}

thread_local! {
    static SCRATCH: std::cell::Cell<Option<Box<Scratch>>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with this thread's scratch memory (or fresh memory if it is in use).
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut s = SCRATCH
        .try_with(std::cell::Cell::take)
        .ok()
        .flatten()
        .unwrap_or_default();
    let r = f(&mut s);
    s.trim();
    let _ = SCRATCH.try_with(|c| c.set(Some(s)));
    r
}

/// The fixed part of a sealed chunk's header.
struct Header {
    count: usize,
    t0: i64,
    span: u64,
}

/// Reads the encoding byte, count, `t0` and span.
fn read_header(r: &mut ByteReader<'_>) -> Result<Header, ChunkError> {
    let enc = r.u8()?;
    if enc != SEALED_V1 {
        return Err(ChunkError::UnknownEncoding {
            encoding: enc,
            offset: 0,
        });
    }
    let at = r.offset();
    let count = r.uvarint()?;
    if count > MAX_SEALED_SAMPLES as u64 {
        return Err(ByteReader::corrupt_at(at, "sample count above the maximum"));
    }
    if count == 0 {
        return Ok(Header {
            count: 0,
            t0: 0,
            span: 0,
        });
    }
    let t0 = r.varint()?;
    let span = r.uvarint()?;
    Ok(Header {
        count: count as usize,
        t0,
        span,
    })
}

/// Reads the modes byte.
fn read_modes(r: &mut ByteReader<'_>) -> Result<SealedModes, ChunkError> {
    let at = r.offset();
    let b = r.u8()?;
    let ts = TsMode::from_bits(b & 3)
        .ok_or_else(|| ByteReader::corrupt_at(at, "unknown timestamp mode"))?;
    let values = ValueMode::from_bits(b >> 2);
    let exceptions = b & EXCEPTIONS_BIT != 0;
    if b >> 5 != 0 || (exceptions && values != ValueMode::Decimal) {
        return Err(ByteReader::corrupt_at(at, "reserved mode bits set"));
    }
    Ok(SealedModes {
        ts,
        values,
        exceptions,
    })
}

/// Reads a sealed chunk's header: count, first and last timestamp. Does not decode samples
/// (nor validate them).
///
/// # Errors
/// [`ChunkError`] when the header is malformed, and `Corrupt` for an empty chunk.
pub fn sealed_meta(bytes: &[u8]) -> Result<ChunkMeta, ChunkError> {
    let mut r = ByteReader::new(bytes);
    let h = read_header(&mut r)?;
    if h.count == 0 {
        return Err(ByteReader::corrupt_at(1, "empty chunk"));
    }
    let maxt = (h.t0 as u64).wrapping_add(h.span) as i64;
    Ok(ChunkMeta {
        count: h.count as u32,
        mint: h.t0,
        maxt,
    })
}

/// The modes of a sealed chunk (reads the header only).
///
/// # Errors
/// [`ChunkError`] when the header is malformed or the chunk is empty.
pub fn sealed_modes(bytes: &[u8]) -> Result<SealedModes, ChunkError> {
    let mut r = ByteReader::new(bytes);
    if read_header(&mut r)?.count == 0 {
        return Err(ByteReader::corrupt_at(1, "empty chunk"));
    }
    read_modes(&mut r)
}

/// Decodes a sealed chunk, appending its samples to `out`.
///
/// # Errors
/// [`ChunkError`] when the bytes are not a valid chunk (including trailing bytes after it);
/// `out` is then left as it was.
pub fn decode_sealed(bytes: &[u8], out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    let start = out.len();
    let res = decode_into(bytes, out, start);
    if res.is_err() {
        out.truncate(start);
    }
    res
}

fn decode_into(bytes: &[u8], out: &mut Vec<Sample>, start: usize) -> Result<(), ChunkError> {
    let mut r = ByteReader::new(bytes);
    let h = read_header(&mut r)?;
    if h.count == 0 {
        return finish(&r);
    }
    let modes = read_modes(&mut r)?;
    out.resize(start + h.count, Sample::new(0, 0.0));
    let dst = out.get_mut(start..).unwrap_or_default();
    ts::decode(&mut r, modes.ts, h.t0, h.span, dst)?;
    values::decode(&mut r, modes.values, modes.exceptions, dst)?;
    finish(&r)
}

/// Rejects bytes after the chunk's end.
fn finish(r: &ByteReader<'_>) -> Result<(), ChunkError> {
    if r.rest().is_empty() {
        Ok(())
    } else {
        Err(ByteReader::corrupt_at(r.offset(), "trailing bytes"))
    }
}
