//! Patched frame-of-reference blocks: `m` unsigned values packed at one bit width `b`, with the
//! few values wider than `b` patched in from an exception list.
//!
//! ```text
//! +--------+------------------------+---------------------------------------------------+
//! | W (u8) | packed: ceil(m*b/8) B  | [if W&0x80] uvarint c | gw u8 | hw u8 |            |
//! |        | value i at bits i*b..  |   c gaps packed at gw bits | c highs packed at hw |
//! +--------+------------------------+---------------------------------------------------+
//! W = b | (0x80 if exceptions); b in 0..=64
//! ```
//!
//! Value `i` is `low_i | high_i << b` where `low_i` is the packed field and `high_i` is 0 unless
//! an exception names position `i`. Exception positions strictly increase: the first gap is the
//! position itself, each further gap is `pos - prev_pos - 1`. Gaps and highs are bit-packed
//! (LSB-first, like the main block) at the widths `gw` and `hw` of their largest values, so a
//! few small stragglers cost about a byte each. `m` comes from the context.

use super::Lane;
use crate::ChunkError;
use crate::bits::{
    ByteReader, Packer, bit_len, load_le, low_mask, packed_len, put_uvarint, unpack, uvarint_len,
};
use model::Sample;

/// Histogram of bit lengths (index 0..=64) of the values of one block.
pub(crate) type Hist = [u32; 65];

/// The chosen width and the estimated encoded size of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Packed width, bits.
    pub(crate) b: u32,
    /// Number of values wider than `b`.
    pub(crate) exceptions: usize,
    /// Estimated block size, bits (header byte included).
    pub(crate) bits: usize,
}

/// Histogram of the bit lengths of `xs`, with the OR of all values and their count.
///
/// Counts go round-robin into four tables so that runs of equal lengths (the common case)
/// do not serialise on one memory increment.
#[inline]
pub(crate) fn histogram(xs: impl Iterator<Item = u64>) -> (Hist, u64, usize) {
    let mut parts = [[0u32; 65]; 4];
    let mut or = 0u64;
    let mut n = 0usize;
    for x in xs {
        or |= x;
        if let Some(h) = parts
            .get_mut(n & 3)
            .and_then(|p| p.get_mut(bit_len(x) as usize))
        {
            *h += 1;
        }
        n += 1;
    }
    let mut hist = [0u32; 65];
    for p in &parts {
        hist.iter_mut().zip(p).for_each(|(h, c)| *h += c);
    }
    (hist, or, n)
}

/// Picks the width minimising the block's size for `m` values whose bit lengths are `hist`.
///
/// An exception is estimated at the bit width of a position (an upper bound for a gap) plus
/// the width of the widest high part, with two bytes of widths and the count's varint.
pub(crate) fn best(hist: &Hist, m: usize) -> Plan {
    let max = hist.iter().rposition(|&c| c > 0).unwrap_or(0);
    let mut best = Plan {
        b: max as u32,
        exceptions: 0,
        bits: 8 + m * max,
    };
    let mut exc = 0usize;
    for b in (0..max).rev() {
        exc += hist.get(b + 1).copied().unwrap_or(0) as usize;
        let exc_bits =
            exc * (bit_len(m as u64) as usize + (max - b)) + 16 + 8 * uvarint_len(exc as u64);
        let bits = 8 + m * b + exc_bits;
        if bits < best.bits {
            best = Plan {
                b: b as u32,
                exceptions: exc,
                bits,
            };
        }
    }
    best
}

/// Writes a block of `xs` with the width of `plan` (from [`best`] over the same values).
pub(crate) fn encode(out: &mut Vec<u8>, plan: Plan, xs: &[u64]) {
    let b = plan.b;
    out.push(b as u8 | if plan.exceptions > 0 { 0x80 } else { 0 });
    out.reserve(packed_len(xs.len(), b).unwrap_or(0) + 8);
    let mut p = Packer::new(out, b);
    xs.iter().for_each(|&x| p.push(x));
    p.finish();
    if plan.exceptions == 0 {
        return;
    }
    let (mut gaps, mut highs) = (Vec::new(), Vec::new());
    let mut next = 0usize;
    for (i, &x) in xs.iter().enumerate() {
        let high = if b >= 64 { 0 } else { x >> b };
        if high != 0 {
            gaps.push((i - next) as u64);
            highs.push(high);
            next = i + 1;
        }
    }
    put_uvarint(out, gaps.len() as u64);
    let widths = [&gaps, &highs].map(|list| list.iter().map(|&x| bit_len(x)).max().unwrap_or(0));
    out.extend(widths.map(|w| w as u8));
    for (list, w) in [&gaps, &highs].into_iter().zip(widths) {
        let mut p = Packer::new(out, w);
        list.iter().for_each(|&x| p.push(x));
        p.finish();
    }
}

/// The best plan for the values `xs`.
pub(crate) fn plan_for(xs: &[u64]) -> Plan {
    let (hist, _, m) = histogram(xs.iter().copied());
    best(&hist, m)
}

/// Reads a block of `dst.len()` values, calling `f(slot, x_i)` for each slot of `dst` in order.
///
/// Without exceptions the values go straight from the packed bits to `f`; with exceptions
/// they are first unpacked into lane `L` of `dst`, patched, then handed to `f`.
#[inline(always)]
pub(crate) fn decode<L: Lane>(
    r: &mut ByteReader<'_>,
    dst: &mut [Sample],
    mut f: impl FnMut(&mut Sample, u64),
) -> Result<(), ChunkError> {
    let at = r.offset();
    let w = r.u8()?;
    let b = u32::from(w & 0x7f);
    if b > 64 {
        return Err(ByteReader::corrupt_at(at, "bit width above 64"));
    }
    let len =
        packed_len(dst.len(), b).ok_or_else(|| ByteReader::corrupt_at(at, "block too long"))?;
    let block = r.rest();
    r.skip(len)?;
    if w & 0x80 == 0 {
        unpack(block, b, dst, f);
        return Ok(());
    }
    unpack(block, b, dst, |s, x| L::set(s, x));
    patch::<L>(r, b, dst)?;
    for s in dst.iter_mut() {
        let x = L::get(s);
        f(s, x);
    }
    Ok(())
}

/// The `i`-th `w`-bit value (0..=64) of an LSB-first packed block; missing bytes read as 0.
#[inline]
fn packed_at(bytes: &[u8], i: usize, w: u32) -> u64 {
    if w == 0 {
        return 0;
    }
    let bit = i * w as usize;
    let window =
        u128::from(load_le(bytes, bit / 8)) | u128::from(load_le(bytes, bit / 8 + 8)) << 64;
    ((window >> (bit % 8)) as u64) & low_mask(w)
}

/// Applies a block's exception list.
fn patch<L: Lane>(r: &mut ByteReader<'_>, b: u32, dst: &mut [Sample]) -> Result<(), ChunkError> {
    let at = r.offset();
    let c = r.uvarint()?;
    if c == 0 || c > dst.len() as u64 || b >= 64 {
        return Err(ByteReader::corrupt_at(at, "bad exception count"));
    }
    let c = c as usize;
    let (gw, hw) = (u32::from(r.u8()?), u32::from(r.u8()?));
    if gw > 64 || hw == 0 || hw > 64 - b {
        return Err(ByteReader::corrupt_at(at, "bad exception widths"));
    }
    let len = |w| packed_len(c, w).ok_or_else(|| ByteReader::corrupt_at(at, "exceptions too long"));
    let (gap_bytes, high_bytes) = (r.take(len(gw)?)?, r.take(len(hw)?)?);
    let mut next = 0u64;
    for i in 0..c {
        let (gap, high) = (packed_at(gap_bytes, i, gw), packed_at(high_bytes, i, hw));
        let pos = next.checked_add(gap).filter(|&p| p < dst.len() as u64);
        let Some(slot) = pos.and_then(|p| dst.get_mut(p as usize)) else {
            return Err(ByteReader::corrupt_at(
                at,
                "exception position out of range",
            ));
        };
        if high == 0 {
            return Err(ByteReader::corrupt_at(at, "empty exception"));
        }
        L::set(slot, L::get(slot) | high << b);
        next = pos.unwrap_or(0) + 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealed::TLane;

    fn round_trip(xs: &[u64]) -> (Plan, usize) {
        let plan = plan_for(xs);
        let mut out = Vec::new();
        encode(&mut out, plan, xs);
        let mut dst = vec![Sample::new(0, 0.0); xs.len()];
        let mut r = ByteReader::new(&out);
        decode::<TLane>(&mut r, &mut dst, |s, x| s.t = x as i64).expect("decodes");
        assert!(r.rest().is_empty());
        let got: Vec<u64> = dst.iter().map(|s| s.t as u64).collect();
        assert_eq!(got, xs);
        (plan, out.len())
    }

    #[test]
    fn outlier_becomes_exception() {
        let mut xs: Vec<u64> = (0..120).map(|i| i % 4).collect();
        xs[57] = 70_000;
        let (plan, len) = round_trip(&xs);
        assert_eq!((plan.b, plan.exceptions), (2, 1));
        // W, 30 packed bytes, count, two widths, a 6-bit gap and a 15-bit high.
        assert!(len <= 1 + 30 + 1 + 2 + 1 + 2, "{len}");
    }

    #[test]
    fn zeros_take_one_byte() {
        let (plan, len) = round_trip(&[0; 200]);
        assert_eq!((plan.b, len), (0, 1));
    }

    #[test]
    fn wide_values_round_trip() {
        round_trip(&[u64::MAX, 0, 1 << 63, 12345]);
        round_trip(&[]);
        let xs: Vec<u64> = (0..300u64)
            .map(|i| if i % 50 == 7 { u64::MAX >> 3 } else { i })
            .collect();
        round_trip(&xs);
    }
}
