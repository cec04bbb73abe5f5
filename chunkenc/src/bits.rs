//! Byte- and bit-level primitives shared by the codecs.
//!
//! * Varints: LEB128 unsigned (`uvarint`) and zigzag signed (`varint`), as Go's `encoding/binary`.
//! * [`ByteReader`]: a bounds-checked cursor that reports errors with absolute byte offsets.
//! * MSB-first bit streams ([`put_bits_msb`], [`MsbReader`]) for the Gorilla/XOR codecs.
//! * LSB-first fixed-width packing ([`Packer`], [`unpack`]) for the sealed format's PFOR blocks.
//!
//! Every reader here is total: arbitrary input yields a value or a [`ChunkError`], never a panic.

use crate::ChunkError;

/// Maps a signed integer to an unsigned one so that small magnitudes stay small.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Appends `v` as an LEB128 unsigned varint (1..=10 bytes).
#[inline]
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` as a zigzag varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

/// Bytes [`put_uvarint`] writes for `v`.
#[inline]
pub(crate) fn uvarint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Number of significant bits of `x` (0 for 0).
#[inline]
pub(crate) fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// A mask of the low `b` bits (`b` in 0..=64).
#[inline]
pub(crate) fn low_mask(b: u32) -> u64 {
    if b >= 64 { u64::MAX } else { (1u64 << b) - 1 }
}

/// A bounds-checked cursor over a byte slice.
///
/// `base` is the absolute offset of `bytes[0]` within the whole chunk, so errors name the byte
/// of the chunk, not of a sub-slice.
pub(crate) struct ByteReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> ByteReader<'a> {
    /// A reader at the start of `bytes`, which begins at absolute offset 0.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            base: 0,
        }
    }

    /// Absolute offset of the next byte to read.
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// The unread bytes.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    /// A [`ChunkError::Truncated`] at the current offset.
    pub(crate) fn truncated(&self) -> ChunkError {
        ChunkError::Truncated {
            offset: self.offset(),
        }
    }

    /// A [`ChunkError::Corrupt`] at absolute offset `offset`.
    pub(crate) fn corrupt_at(offset: usize, reason: &'static str) -> ChunkError {
        ChunkError::Corrupt { offset, reason }
    }

    /// Reads one byte.
    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, ChunkError> {
        let b = *self.bytes.get(self.pos).ok_or_else(|| self.truncated())?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ChunkError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated())?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| self.truncated())?;
        self.pos = end;
        Ok(s)
    }

    /// Skips `n` bytes.
    #[inline]
    pub(crate) fn skip(&mut self, n: usize) -> Result<(), ChunkError> {
        self.take(n).map(|_| ())
    }

    /// Reads 8 bytes as a little-endian `u64`.
    #[inline]
    pub(crate) fn u64_le(&mut self) -> Result<u64, ChunkError> {
        let s = self.take(8)?;
        let a: [u8; 8] = s.try_into().map_err(|_| self.truncated())?;
        Ok(u64::from_le_bytes(a))
    }

    /// Reads an LEB128 unsigned varint; rejects encodings longer than 10 bytes or above `u64`.
    #[inline]
    pub(crate) fn uvarint(&mut self) -> Result<u64, ChunkError> {
        let start = self.offset();
        let mut v = 0u64;
        for i in 0..10u32 {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(Self::corrupt_at(start, "varint overflows 64 bits"));
            }
            v |= part << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Self::corrupt_at(start, "varint longer than 10 bytes"))
    }

    /// Reads a zigzag signed varint.
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<i64, ChunkError> {
        self.uvarint().map(unzigzag)
    }
}

/// Loads 8 bytes at `off` as little-endian, zero-padding past the end of `bytes`.
#[inline(always)]
pub(crate) fn load_le(bytes: &[u8], off: usize) -> u64 {
    match bytes.get(off..).and_then(|s| s.first_chunk::<8>()) {
        Some(a) => u64::from_le_bytes(*a),
        None => load_slow(bytes, off).swap_bytes(),
    }
}

/// Loads 8 bytes at `off` as big-endian, zero-padding past the end of `bytes`.
#[inline(always)]
pub(crate) fn load_be(bytes: &[u8], off: usize) -> u64 {
    match bytes.get(off..).and_then(|s| s.first_chunk::<8>()) {
        Some(a) => u64::from_be_bytes(*a),
        None => load_slow(bytes, off),
    }
}

/// Big-endian load of the (fewer than 8) bytes left at `off`, zero-padded.
#[cold]
fn load_slow(bytes: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    let tail = bytes.get(off..).unwrap_or_default();
    for (d, s) in a.iter_mut().zip(tail) {
        *d = *s;
    }
    u64::from_be_bytes(a)
}

/// Writes the low `n` bits of `v` (`n` in 0..=120, higher bits of `v` must be 0) MSB-first at
/// bit position `bit_pos` of `buf`, whose bits from `bit_pos` on must be zero.
///
/// Returns `false` (writing nothing) when `buf` is too short; the caller sizes it beforehand.
/// With 16 bytes of room from the current byte the write is one 16-byte OR.
#[inline(always)]
pub(crate) fn put_bits_msb(buf: &mut [u8], bit_pos: usize, v: u128, n: u32) -> bool {
    debug_assert!(n <= 120, "{n} bits");
    if n == 0 || n > 120 {
        return n == 0;
    }
    let idx = bit_pos >> 3;
    let used = (bit_pos & 7) as u32;
    let shifted = v << (128 - used - n);
    if let Some(win) = buf.get_mut(idx..).and_then(|s| s.first_chunk_mut::<16>()) {
        *win = (u128::from_be_bytes(*win) | shifted).to_be_bytes();
        return true;
    }
    let nbytes = (used + n).div_ceil(8) as usize;
    let Some(dst) = buf.get_mut(idx..idx + nbytes) else {
        return false;
    };
    for (d, s) in dst.iter_mut().zip(shifted.to_be_bytes()) {
        *d |= s;
    }
    true
}

/// An MSB-first bit reader. Reading past the end yields zero bits; [`MsbReader::overrun`] tells
/// whether that happened, which callers check once per sample or at the end.
pub(crate) struct MsbReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> MsbReader<'a> {
    /// A reader at bit 0 of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Bits consumed so far.
    pub(crate) fn bit_pos(&self) -> usize {
        self.pos
    }

    /// Whether more bits were read than `bytes` holds.
    pub(crate) fn overrun(&self) -> bool {
        self.pos > self.bytes.len() * 8
    }

    /// Reads `n` bits (`n` in 0..=64) as the low bits of the result.
    #[inline(always)]
    pub(crate) fn read(&mut self, n: u32) -> u64 {
        if n == 0 {
            return 0;
        }
        let byte = self.pos >> 3;
        let sh = (self.pos & 7) as u32;
        let mut w = load_be(self.bytes, byte) << sh;
        if sh + n > 64 {
            let next = self.bytes.get(byte + 8).copied().unwrap_or(0);
            w |= u64::from(next) >> (8 - sh);
        }
        self.pos += n as usize;
        w >> (64 - n)
    }

    /// The next 64 bits, MSB-aligned, without consuming them; at least the top 57 are the
    /// stream's (zeros past its end).
    #[inline(always)]
    pub(crate) fn peek(&self) -> u64 {
        load_be(self.bytes, self.pos >> 3) << (self.pos & 7)
    }

    /// Consumes `n` bits.
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: u32) {
        self.pos += n as usize;
    }

    /// Reads an LEB128 varint from the bit stream (bytes need not be aligned).
    #[inline]
    pub(crate) fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10u32 {
            let b = self.read(8);
            if i == 9 && b > 1 {
                return None;
            }
            v |= (b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
}

/// Packs fixed-width values LSB-first: value `i` occupies bits `i*b .. i*b+b` of the block.
pub(crate) struct Packer<'o> {
    out: &'o mut Vec<u8>,
    acc: u64,
    n: u32,
    b: u32,
    mask: u64,
}

impl<'o> Packer<'o> {
    /// A packer of `b`-bit values (0..=64) appending to `out`.
    pub(crate) fn new(out: &'o mut Vec<u8>, b: u32) -> Self {
        Self {
            out,
            acc: 0,
            n: 0,
            b,
            mask: low_mask(b),
        }
    }

    /// Appends the low `b` bits of `x` (higher bits are ignored).
    #[inline(always)]
    pub(crate) fn push(&mut self, x: u64) {
        let x = x & self.mask;
        self.acc |= x.wrapping_shl(self.n);
        let total = self.n + self.b;
        if total >= 64 {
            self.out.extend_from_slice(&self.acc.to_le_bytes());
            self.acc = if self.n == 0 { 0 } else { x >> (64 - self.n) };
            self.n = total - 64;
        } else {
            self.n = total;
        }
    }

    /// Flushes the partial last byte(s).
    pub(crate) fn finish(self) {
        let bytes = self.acc.to_le_bytes();
        let k = self.n.div_ceil(8) as usize;
        self.out
            .extend_from_slice(bytes.get(..k).unwrap_or_default());
    }
}

/// Bytes a block of `m` values of `b` bits occupies.
#[inline]
pub(crate) fn packed_len(m: usize, b: u32) -> Option<usize> {
    m.checked_mul(b as usize).map(|bits| bits.div_ceil(8))
}

/// Unpacks `dst.len()` values of `b` bits (0..=64) from `bytes` (LSB-first), calling
/// `f(slot, x)` for each slot of `dst` in order.
///
/// `bytes` may be shorter than the block (missing bits read as 0); callers check the length
/// first so that corrupt input is reported, and may pass bytes beyond the block for speed.
#[inline(always)]
pub(crate) fn unpack<T>(bytes: &[u8], b: u32, dst: &mut [T], mut f: impl FnMut(&mut T, u64)) {
    macro_rules! widths {
        ($($w:literal)*) => {
            match b {
                0 => dst.iter_mut().for_each(|d| f(d, 0)),
                $($w => unpack_const::<$w, { $w + 8 }, T>(bytes, dst, &mut f),)*
                _ => unpack_from(bytes, 0, b, dst, &mut f),
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32);
}

/// [`unpack`] for a width `B` known at compile time (1..=56; `W = B + 8`): eight values at a
/// time, as eight values of `B` bits fill exactly `B` bytes; each group is read from one
/// `W`-byte window so that the loads need no further bounds checks.
#[inline(always)]
fn unpack_const<const B: usize, const W: usize, T>(
    bytes: &[u8],
    dst: &mut [T],
    f: &mut impl FnMut(&mut T, u64),
) {
    let mask = low_mask(B as u32);
    let mut done = 0usize;
    for g in dst.chunks_exact_mut(8) {
        let Some(win) = bytes.get(done / 8 * B..).and_then(|s| s.first_chunk::<W>()) else {
            break;
        };
        for (i, slot) in g.iter_mut().enumerate() {
            let bit = i * B;
            let w = win
                .get(bit / 8..)
                .and_then(|s| s.first_chunk::<8>())
                .map_or(0, |w| u64::from_le_bytes(*w));
            f(slot, (w >> (bit % 8)) & mask);
        }
        done += 8;
    }
    let rest = dst.get_mut(done..).unwrap_or_default();
    unpack_from(bytes, done * B, B as u32, rest, f);
}

/// Unpacks `dst.len()` values of `b` bits (1..=64) starting at bit `start` of `bytes`.
#[inline(always)]
fn unpack_from<T>(
    bytes: &[u8],
    start: usize,
    b: u32,
    dst: &mut [T],
    f: &mut impl FnMut(&mut T, u64),
) {
    let mask = low_mask(b);
    let step = b as usize;
    let mut bit = start;
    if b <= 56 {
        for d in dst.iter_mut() {
            let w = load_le(bytes, bit >> 3) >> (bit & 7);
            f(d, w & mask);
            bit += step;
        }
    } else {
        for d in dst.iter_mut() {
            let sh = (bit & 7) as u32;
            let lo = load_le(bytes, bit >> 3) >> sh;
            let hi = if sh == 0 {
                0
            } else {
                load_le(bytes, (bit >> 3) + 8) << (64 - sh)
            };
            f(d, (lo | hi) & mask);
            bit += step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX, 1 << 63, 0xdead_beef] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(b.len(), uvarint_len(v));
            assert_eq!(ByteReader::new(&b).uvarint(), Ok(v));
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -64, 64] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(ByteReader::new(&b).varint(), Ok(v));
        }
    }

    #[test]
    fn overlong_varint_is_corrupt() {
        let b = [0xffu8; 11];
        assert!(matches!(
            ByteReader::new(&b).uvarint(),
            Err(ChunkError::Corrupt { .. })
        ));
        let b = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(matches!(
            ByteReader::new(&b).uvarint(),
            Err(ChunkError::Corrupt { .. })
        ));
    }

    #[test]
    fn pack_unpack_all_widths() {
        for b in 0..=64u32 {
            let xs: Vec<u64> = (0..37u64)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) & low_mask(b))
                .collect();
            let mut out = Vec::new();
            let mut p = Packer::new(&mut out, b);
            xs.iter().for_each(|&x| p.push(x));
            p.finish();
            assert_eq!(Some(out.len()), packed_len(xs.len(), b));
            let mut got = vec![0u64; xs.len()];
            unpack(&out, b, &mut got, |g, x| *g = x);
            assert_eq!(got, xs, "width {b}");
        }
    }

    #[test]
    fn msb_bits_round_trip() {
        let items: Vec<(u64, u32)> = (0..200u64)
            .map(|i| {
                let n = (i * 7 % 65) as u32;
                (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) & low_mask(n), n)
            })
            .collect();
        let total: usize = items.iter().map(|&(_, n)| n as usize).sum();
        let mut buf = vec![0u8; total.div_ceil(8)];
        let mut pos = 0;
        for &(v, n) in &items {
            assert!(put_bits_msb(&mut buf, pos, u128::from(v), n));
            pos += n as usize;
        }
        let mut r = MsbReader::new(&buf);
        for &(v, n) in &items {
            assert_eq!(r.read(n), v);
        }
        assert!(!r.overrun());
    }
}
