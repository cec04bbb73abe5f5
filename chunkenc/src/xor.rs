//! The head's open chunk: streaming Gorilla / Prometheus XOR encoding.
//!
//! The bit stream is Prometheus's `XORChunk` body (without its 2-byte sample-count header, which
//! lives in the struct here), MSB-first:
//!
//! * sample 0: `t0` as a zigzag varint (whole bytes), then the 64 raw bits of `v0`;
//! * sample 1: `t1 - t0` as an unsigned varint (whole bytes), then the value as below;
//! * sample i >= 2: the delta-of-delta `dod = (t_i - t_{i-1}) - (t_{i-1} - t_{i-2})` in a prefix
//!   bucket, then the value:
//!
//! ```text
//!   dod == 0                      '0'
//!   dod in [-(2^13-1), 2^13]      '10'   + 14 bits (two's complement)
//!   dod in [-(2^16-1), 2^16]      '110'  + 17 bits
//!   dod in [-(2^19-1), 2^19]      '1110' + 20 bits
//!   otherwise                     '1111' + 64 bits
//!
//!   value: x = bits(v) ^ bits(prev)
//!   x == 0                                  '0'
//!   x fits the previous leading/trailing    '10' + (64 - lead - trail) bits of x >> trail
//!   otherwise                               '11' + 5 bits lead (<= 31) + 6 bits sig (64 -> 0)
//!                                                + sig bits of x >> trail
//! ```
//!
//! Arithmetic on timestamps wraps (as Prometheus's uint64 deltas do), so any `i64` sequence
//! round-trips, increasing or not.

use crate::bits::{MsbReader, put_bits_msb, zigzag};
use model::Sample;

/// Gorilla XOR state of a value stream: the previous value's bits and the current
/// leading/trailing-zero window (`leading == NO_WINDOW` before the first window is set).
#[derive(Debug, Clone, Copy)]
pub(crate) struct XorState {
    pub(crate) prev: u64,
    pub(crate) leading: u8,
    pub(crate) trailing: u8,
}

/// `leading` value meaning "no window yet".
pub(crate) const NO_WINDOW: u8 = 0xff;

/// One value's code: a control head (`head_n` bits) then a payload (`payload_n` bits).
pub(crate) struct XorCode {
    pub(crate) head: u64,
    pub(crate) head_n: u32,
    pub(crate) payload: u64,
    pub(crate) payload_n: u32,
}

impl XorState {
    /// State after the raw first value `first` (bits).
    pub(crate) fn new(first: u64) -> Self {
        Self {
            prev: first,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// Codes the value with bits `v` and makes it the previous value.
    #[inline]
    pub(crate) fn encode(&mut self, v: u64) -> XorCode {
        let x = v ^ self.prev;
        self.prev = v;
        if x == 0 {
            return XorCode {
                head: 0,
                head_n: 1,
                payload: 0,
                payload_n: 0,
            };
        }
        let lead = (x.leading_zeros() as u8).min(31);
        let trail = x.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && lead >= self.leading && trail >= self.trailing {
            let n = 64 - u32::from(self.leading) - u32::from(self.trailing);
            return XorCode {
                head: 0b10,
                head_n: 2,
                payload: x >> self.trailing,
                payload_n: n,
            };
        }
        self.leading = lead;
        self.trailing = trail;
        let sig = 64 - u32::from(lead) - u32::from(trail);
        let head = (0b11 << 11) | (u64::from(lead) << 6) | u64::from(sig & 63);
        XorCode {
            head,
            head_n: 13,
            payload: x >> trail,
            payload_n: sig,
        }
    }

    /// Reads one value; `None` when the stream is inconsistent (a window reused before one was
    /// set, or a window wider than 64 bits).
    #[inline(always)]
    pub(crate) fn decode(&mut self, r: &mut MsbReader<'_>) -> Option<u64> {
        let w = r.peek();
        if w >> 63 == 0 {
            r.skip(1);
            return Some(self.prev);
        }
        if w >> 62 == 0b11 {
            let lead = ((w >> 57) & 31) as u8;
            let sig = match ((w >> 51) & 63) as u8 {
                0 => 64,
                s => s,
            };
            self.trailing = 64u8.checked_sub(lead)?.checked_sub(sig)?;
            self.leading = lead;
            r.skip(13);
        } else if self.leading == NO_WINDOW {
            return None;
        } else {
            r.skip(2);
        }
        let n = 64 - u32::from(self.leading) - u32::from(self.trailing);
        self.prev ^= r.read(n) << self.trailing;
        Some(self.prev)
    }
}

/// Codes a delta-of-delta in Prometheus's prefix buckets: `(bits, n)`, written MSB-first.
#[inline]
fn dod_code(dod: i64) -> (u64, u32) {
    let fits = |w: u32| -((1i64 << (w - 1)) - 1) <= dod && dod <= 1i64 << (w - 1);
    let low = |w: u32| (dod as u64) & ((1u64 << w) - 1);
    if dod == 0 {
        (0, 1)
    } else if fits(14) {
        ((0b10 << 14) | low(14), 16)
    } else if fits(17) {
        ((0b110 << 17) | low(17), 20)
    } else if fits(20) {
        ((0b1110 << 20) | low(20), 24)
    } else {
        (0b1111, 4) // followed by 64 raw bits, written separately
    }
}

/// Reads a delta-of-delta written by [`dod_code`].
#[inline(always)]
fn read_dod(r: &mut MsbReader<'_>) -> i64 {
    let w = r.peek();
    if w >> 63 == 0 {
        r.skip(1);
        return 0;
    }
    let (prefix, width) = match (!w).leading_zeros() {
        1 => (2, 14),
        2 => (3, 17),
        3 => (4, 20),
        _ => {
            r.skip(4);
            return r.read(64) as i64;
        }
    };
    // prefix + width <= 24 bits, all within the peeked window.
    let b = (w << prefix) >> (64 - width);
    r.skip(prefix + width);
    if b > 1 << (width - 1) {
        b as i64 - (1i64 << width)
    } else {
        b as i64
    }
}

/// Growth step of the chunk's byte buffer.
const GROW_STEP: usize = 32;

/// The head's open chunk: samples appended one at a time, Gorilla/Prometheus XOR encoded.
///
/// 48 bytes inline plus a heap buffer grown in 32-byte steps (see [`XorChunk::heap_bytes`]).
/// Holds at most [`XorChunk::MAX_SAMPLES`] samples, like Prometheus's 16-bit count.
#[derive(Debug, Clone)]
pub struct XorChunk {
    /// The bit stream; its whole length is allocated (and zero past `bits`).
    buf: Box<[u8]>,
    /// Last timestamp, ms.
    t: i64,
    /// Bits of the last value.
    v: u64,
    /// Last timestamp delta (wrapping), ms.
    t_delta: u64,
    /// Bits written to `buf`.
    bits: u32,
    /// Samples appended.
    n: u16,
    /// XOR window (see [`XorState`]).
    leading: u8,
    trailing: u8,
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    /// The most samples one chunk holds.
    pub const MAX_SAMPLES: usize = u16::MAX as usize;

    /// An empty chunk; allocates nothing until the first append.
    pub fn new() -> Self {
        Self {
            buf: Box::new([]),
            t: 0,
            v: 0,
            t_delta: 0,
            bits: 0,
            n: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// Appends a sample. `t` (ms) must be greater than the last appended timestamp (other
    /// sequences still round-trip, but the tsdb relies on the order).
    ///
    /// A full chunk ([`XorChunk::MAX_SAMPLES`]) ignores further samples (debug builds panic);
    /// the caller seals chunks well before that.
    pub fn append(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        match self.n {
            0 => self.append_first(t, vb),
            1 => self.append_second(t, vb),
            u16::MAX => debug_assert!(false, "XorChunk is full"),
            _ => self.append_rest(t, vb),
        }
    }

    fn append_first(&mut self, t: i64, vb: u64) {
        let mut var = [0u8; 10];
        let k = write_uvarint(&mut var, zigzag(t));
        for &b in var.iter().take(k) {
            self.write(u128::from(b), 8);
        }
        self.write(u128::from(vb), 64);
        self.t = t;
        self.v = vb;
        self.n = 1;
    }

    fn append_second(&mut self, t: i64, vb: u64) {
        let delta = (t as u64).wrapping_sub(self.t as u64);
        let mut var = [0u8; 10];
        let k = write_uvarint(&mut var, delta);
        for &b in var.iter().take(k) {
            self.write(u128::from(b), 8);
        }
        let (code, n) = self.value_code(vb);
        self.write(code, n);
        self.t = t;
        self.t_delta = delta;
        self.n = 2;
    }

    #[inline]
    fn append_rest(&mut self, t: i64, vb: u64) {
        let delta = (t as u64).wrapping_sub(self.t as u64);
        let dod = delta.wrapping_sub(self.t_delta) as i64;
        let (code, n) = dod_code(dod);
        let (tcode, tn) = if n == 4 {
            (u128::from(code) << 64 | u128::from(dod as u64), 68)
        } else {
            (u128::from(code), n)
        };
        let (vcode, vn) = self.value_code(vb);
        if tn + vn <= 120 {
            self.write(tcode << vn | vcode, tn + vn);
        } else {
            self.write(tcode, tn);
            self.write(vcode, vn);
        }
        self.t = t;
        self.t_delta = delta;
        self.n += 1;
    }

    /// The XOR code of value `vb` as `(bits, n)` (n <= 77); advances the value state.
    #[inline(always)]
    fn value_code(&mut self, vb: u64) -> (u128, u32) {
        let mut st = XorState {
            prev: self.v,
            leading: self.leading,
            trailing: self.trailing,
        };
        let c = st.encode(vb);
        self.v = st.prev;
        self.leading = st.leading;
        self.trailing = st.trailing;
        (
            u128::from(c.head) << c.payload_n | u128::from(c.payload),
            c.head_n + c.payload_n,
        )
    }

    /// Writes the low `n` bits of `v` (`n <= 120`, higher bits zero) at the end of the stream,
    /// growing the buffer as needed.
    #[inline(always)]
    fn write(&mut self, v: u128, n: u32) {
        if n == 0 {
            return;
        }
        let pos = self.bits as usize;
        let end = pos + n as usize;
        self.ensure(end.div_ceil(8));
        let ok = put_bits_msb(&mut self.buf, pos, v, n);
        debug_assert!(ok, "buffer sized above");
        self.bits = end as u32;
    }

    /// Grows the buffer (zero-filled, in [`GROW_STEP`]s) to at least `len` bytes.
    #[inline(always)]
    fn ensure(&mut self, len: usize) {
        if self.buf.len() < len {
            self.grow(len);
        }
    }

    #[cold]
    fn grow(&mut self, len: usize) {
        let new_len = len.div_ceil(GROW_STEP) * GROW_STEP;
        let mut v = std::mem::take(&mut self.buf).into_vec();
        v.reserve_exact(new_len - v.len());
        v.resize(new_len, 0);
        self.buf = v.into_boxed_slice();
    }

    /// Number of samples appended.
    pub fn len(&self) -> usize {
        usize::from(self.n)
    }

    /// Whether the chunk has no samples.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Timestamp (ms) of the first sample, read from the stream's first bytes.
    pub fn first_t(&self) -> Option<i64> {
        if self.n == 0 {
            return None;
        }
        let mut r = MsbReader::new(&self.buf);
        r.uvarint().map(crate::bits::unzigzag)
    }

    /// Timestamp (ms) of the last sample.
    pub fn last_t(&self) -> Option<i64> {
        (self.n > 0).then_some(self.t)
    }

    /// Value of the last sample (bit-exact).
    pub fn last_v(&self) -> Option<f64> {
        (self.n > 0).then_some(f64::from_bits(self.v))
    }

    /// Bytes of the encoded stream (what Prometheus would store, minus its 2-byte count).
    pub fn encoded_len(&self) -> usize {
        (self.bits as usize).div_ceil(8)
    }

    /// Heap bytes held: the buffer's whole allocation.
    pub fn heap_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Decodes every sample, appending them to `out`.
    pub fn decode_into(&self, out: &mut Vec<Sample>) {
        let n = self.len();
        if n == 0 {
            return;
        }
        out.reserve(n);
        let mut r = MsbReader::new(self.buf.get(..self.encoded_len()).unwrap_or_default());
        let Some(t0) = r.uvarint().map(crate::bits::unzigzag) else {
            return;
        };
        let v0 = r.read(64);
        out.push(Sample::new(t0, f64::from_bits(v0)));
        if n == 1 {
            return;
        }
        let Some(mut delta) = r.uvarint() else { return };
        let mut st = XorState::new(v0);
        let mut t = (t0 as u64).wrapping_add(delta);
        let Some(v1) = st.decode(&mut r) else { return };
        out.push(Sample::new(t as i64, f64::from_bits(v1)));
        for _ in 2..n {
            delta = delta.wrapping_add(read_dod(&mut r) as u64);
            t = t.wrapping_add(delta);
            let Some(v) = st.decode(&mut r) else { return };
            out.push(Sample::new(t as i64, f64::from_bits(v)));
        }
    }
}

/// Writes `v` as an LEB128 varint into `buf`, returning its length.
fn write_uvarint(buf: &mut [u8; 10], mut v: u64) -> usize {
    let mut k = 0;
    for slot in buf.iter_mut() {
        k += 1;
        if v < 0x80 {
            *slot = v as u8;
            break;
        }
        *slot = (v as u8) | 0x80;
        v >>= 7;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_is_small() {
        assert_eq!(std::mem::size_of::<XorChunk>(), 48);
    }

    #[test]
    fn round_trip_and_accessors() {
        let mut c = XorChunk::new();
        assert_eq!((c.first_t(), c.last_t(), c.last_v()), (None, None, None));
        let mut want = Vec::new();
        for i in 0..240i64 {
            let t = 1_700_000_000_000 + i * 15_000 + (i * 7 % 5);
            let v = (i as f64) * 0.25;
            c.append(t, v);
            want.push(Sample::new(t, v));
        }
        let mut got = Vec::new();
        c.decode_into(&mut got);
        assert_eq!(got, want);
        assert_eq!(c.first_t(), Some(1_700_000_000_000));
        assert_eq!(c.last_t(), want.last().map(|s| s.t));
        assert_eq!(c.last_v(), Some(239.0 * 0.25));
        assert_eq!(c.heap_bytes() % GROW_STEP, 0);
        assert!(c.heap_bytes() < c.encoded_len() + GROW_STEP);
    }

    #[test]
    fn dod_buckets_round_trip() {
        for dod in [
            0i64,
            1,
            -1,
            8192,
            -8191,
            8193,
            -8192,
            65536,
            -65535,
            1 << 19,
            i64::MIN,
            i64::MAX,
        ] {
            let (code, n) = dod_code(dod);
            let mut buf = [0u8; 16];
            assert!(put_bits_msb(&mut buf, 3, u128::from(code), n));
            if n == 4 {
                assert!(put_bits_msb(&mut buf, 3 + 4, u128::from(dod as u64), 64));
            }
            let mut r = MsbReader::new(&buf);
            r.read(3);
            assert_eq!(read_dod(&mut r), dod, "dod {dod}");
        }
    }
}
