//! Integer-sequence codec for the decimal mantissas `m_0 .. m_{n-1}` of a chunk.
//!
//! Three transforms, the smallest encoded one wins:
//!
//! ```text
//! kind 0 FOR    s_i = m_i                          i in 0..n     header: varint base
//! kind 1 DELTA  s_i = m_i - m_{i-1}                i in 1..n     header: varint m0, varint base
//! kind 2 DOD    s_i = (m_i - m_{i-1}) - (m_{i-1} - m_{i-2})
//!                                                  i in 2..n     header: varint m0, varint d1,
//!                                                                        varint base
//! +-----------------------+---------+------------------------------+
//! | K = kind | shift << 2 | header  | PFOR block of x_i            |
//! +-----------------------+---------+------------------------------+
//! x_i = (s_i - base) >> shift,  base = min s_i,  shift = common trailing zero bits
//! ```
//!
//! All arithmetic wraps in 64 bits, so the decoder reproduces the encoder's integers exactly
//! for any input and never overflows on corrupt input.

use super::VLane;
use super::pfor::{self, Hist};
use crate::ChunkError;
use crate::bits::{ByteReader, bit_len, put_varint, uvarint_len, zigzag};
use model::Sample;

/// The transform of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Frame of reference on the values themselves.
    For = 0,
    /// Frame of reference on consecutive differences.
    Delta = 1,
    /// Frame of reference on differences of differences.
    Dod = 2,
}

/// The chosen transform with its parameters and estimated size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) kind: Kind,
    shift: u32,
    base: i64,
    pfor: pfor::Plan,
    /// Estimated encoded size, bits.
    pub(crate) bits: usize,
}

/// Consecutive differences of `m` (wrapping).
fn deltas(m: &[i64]) -> impl Iterator<Item = i64> + Clone + '_ {
    m.iter()
        .zip(m.iter().skip(1))
        .map(|(a, b)| b.wrapping_sub(*a))
}

/// Differences of consecutive differences of `m` (wrapping).
fn dods(m: &[i64]) -> impl Iterator<Item = i64> + Clone + '_ {
    let d = deltas(m);
    d.clone().zip(d.skip(1)).map(|(a, b)| b.wrapping_sub(a))
}

/// Plans the PFOR part of one transform's sequence `s` whose minimum is `base`; `head` is its
/// header size in bytes.
fn plan_seq(kind: Kind, s: impl Iterator<Item = i64>, base: i64, head: usize) -> Plan {
    let (mut hist, or, m) = pfor::histogram(s.map(|v| v.wrapping_sub(base) as u64));
    let shift = if or == 0 { 0 } else { or.trailing_zeros() };
    if shift > 0 {
        // x >> shift has exactly `shift` fewer significant bits for every non-zero x.
        let mut shifted: Hist = [0; 65];
        for (k, &c) in hist.iter().enumerate().filter(|&(_, &c)| c > 0) {
            let k2 = k.saturating_sub(shift as usize);
            if let Some(h) = shifted.get_mut(k2) {
                *h += c;
            }
        }
        hist = shifted;
    }
    let pfor = pfor::best(&hist, m);
    let head = head + uvarint_len(zigzag(base));
    Plan {
        kind,
        shift,
        base,
        pfor,
        bits: 8 * (1 + head) + pfor.bits,
    }
}

/// The minimum of `s` (0 when empty).
fn min_of(s: impl Iterator<Item = i64>) -> i64 {
    s.min().unwrap_or(0)
}

/// Chooses the transform that encodes `m` (non-empty) smallest.
///
/// DELTA is always planned; FOR and DOD only when their values span at most one bit more than
/// DELTA's chosen width. Otherwise (counters for FOR, noise for DOD) they cannot win without
/// many exceptions, and skipping their histograms halves the planning.
pub(crate) fn plan(m: &[i64]) -> Plan {
    let m0 = m.first().copied().unwrap_or(0);
    let d1 = deltas(m).next().unwrap_or(0);
    let h0 = uvarint_len(zigzag(m0));
    let h1 = uvarint_len(zigzag(d1));
    let mut best = plan_seq(Kind::Delta, deltas(m), min_of(deltas(m)), h0);
    let width = best.pfor.b;
    let promising = |lo: i64, hi: i64| lo <= hi && bit_len(hi.wrapping_sub(lo) as u64) <= width + 1;
    let (lo, hi) = min_max(m.iter().copied());
    if promising(lo, hi) {
        let p = plan_seq(Kind::For, m.iter().copied(), lo, 0);
        if p.bits < best.bits {
            best = p;
        }
    }
    let (lo, hi) = min_max(dods(m));
    if promising(lo, hi) {
        let p = plan_seq(Kind::Dod, dods(m), lo, h0 + h1);
        if p.bits < best.bits {
            best = p;
        }
    }
    best
}

/// The minimum and maximum of `s` (`(i64::MAX, i64::MIN)` when empty).
fn min_max(s: impl Iterator<Item = i64>) -> (i64, i64) {
    s.fold((i64::MAX, i64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Writes `m` with `plan` (from [`plan`] over the same `m`). `xs` is reused memory.
pub(crate) fn encode(out: &mut Vec<u8>, m: &[i64], plan: &Plan, xs: &mut Vec<u64>) {
    out.push(plan.kind as u8 | (plan.shift as u8) << 2);
    let m0 = m.first().copied().unwrap_or(0);
    let x = |v: i64| (v.wrapping_sub(plan.base) as u64) >> plan.shift;
    xs.clear();
    match plan.kind {
        Kind::For => xs.extend(m.iter().map(|&v| x(v))),
        Kind::Delta => {
            put_varint(out, m0);
            xs.extend(deltas(m).map(x));
        }
        Kind::Dod => {
            put_varint(out, m0);
            put_varint(out, deltas(m).next().unwrap_or(0));
            xs.extend(dods(m).map(x));
        }
    }
    put_varint(out, plan.base);
    pfor::encode(out, plan.pfor, xs);
}

/// Reads a sequence of `dst.len()` integers, handing each to `put` with its slot of `dst`
/// (which holds scratch bits in its value lane until `put` overwrites it).
pub(crate) fn decode(
    r: &mut ByteReader<'_>,
    dst: &mut [Sample],
    mut put: impl FnMut(&mut Sample, i64),
) -> Result<(), ChunkError> {
    let at = r.offset();
    let k = r.u8()?;
    let shift = u32::from(k >> 2);
    match k & 3 {
        0 => {
            let base = r.varint()? as u64;
            pfor::decode::<VLane>(r, dst, |s, x| {
                put(s, (x << shift).wrapping_add(base) as i64)
            })?;
        }
        1 => {
            let m0 = r.varint()?;
            let base = r.varint()? as u64;
            let Some((first, rest)) = dst.split_first_mut() else {
                return Ok(());
            };
            put(first, m0);
            let mut acc = m0 as u64;
            pfor::decode::<VLane>(r, rest, |s, x| {
                acc = acc.wrapping_add((x << shift).wrapping_add(base));
                put(s, acc as i64);
            })?;
        }
        2 => {
            let m0 = r.varint()?;
            let d1 = r.varint()? as u64;
            let base = r.varint()? as u64;
            let Some((first, rest)) = dst.split_first_mut() else {
                return Ok(());
            };
            put(first, m0);
            let Some((second, rest)) = rest.split_first_mut() else {
                return pfor::decode::<VLane>(r, &mut [], |_, _| ());
            };
            let (mut acc, mut d) = ((m0 as u64).wrapping_add(d1), d1);
            put(second, acc as i64);
            pfor::decode::<VLane>(r, rest, |s, x| {
                d = d.wrapping_add((x << shift).wrapping_add(base));
                acc = acc.wrapping_add(d);
                put(s, acc as i64);
            })?;
        }
        _ => return Err(ByteReader::corrupt_at(at, "unknown integer transform")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packed width a plan chose.
    fn width(plan: &Plan) -> u32 {
        plan.pfor.b
    }

    fn round_trip(m: &[i64]) -> Plan {
        let p = plan(m);
        let mut out = Vec::new();
        encode(&mut out, m, &p, &mut Vec::new());
        let mut dst = vec![Sample::new(0, 0.0); m.len()];
        let mut got = vec![0i64; m.len()];
        let mut r = ByteReader::new(&out);
        let mut i = 0;
        decode(&mut r, &mut dst, |_, v| {
            if let Some(g) = got.get_mut(i) {
                *g = v;
            }
            i += 1;
        })
        .expect("decodes");
        assert!(r.rest().is_empty());
        assert_eq!(got, m);
        assert!(
            out.len() * 8 <= p.bits + 8,
            "estimate {} vs {}",
            p.bits,
            out.len() * 8
        );
        p
    }

    #[test]
    fn shapes_pick_their_transform() {
        let counter: Vec<i64> = (0..120)
            .map(|i| 1_000_000 + i * 1490 + (i * 37 % 11))
            .collect();
        assert_eq!(round_trip(&counter).kind, Kind::Delta);
        let linear: Vec<i64> = (0..120).map(|i| 5 + i * 4096).collect();
        let p = round_trip(&linear);
        assert!(p.kind != Kind::For && width(&p) == 0);
        let band: Vec<i64> = (0..120i64)
            .map(|i| 400 + ((i * i * 2_654_435_761) >> 7) % 100)
            .collect();
        assert_eq!(round_trip(&band).kind, Kind::For);
    }

    #[test]
    fn extremes_round_trip() {
        round_trip(&[i64::MIN, i64::MAX, 0, -1, i64::MIN]);
        round_trip(&[7]);
        round_trip(&[7, -7]);
        let pages: Vec<i64> = (0..50).map(|i| (i * i % 17) * 4096).collect();
        let p = round_trip(&pages);
        assert_eq!(p.shift, 12);
    }
}
