//! Timestamp section of a sealed chunk.
//!
//! The header already holds `n`, `t0` and `span = t_{n-1} - t0`; with `k = n - 1` the grid
//! interval is `d = round(span / k)` (ties up). Three modes:
//!
//! ```text
//! mode 0 GRID        (no bytes)                t_i = t0 + i*d, requires span % k == 0
//! mode 1 GRID_PFOR   varint rmin, PFOR[k]      t_i = t0 + i*d + rmin + x_{i-1}       i >= 1
//! mode 2 DELTA_PFOR  uvarint dmin, PFOR[k]     t_i = t_{i-1} + dmin + x_{i-1}        i >= 1
//! mode 3 GRID_ZZ     varint base, PFOR[k]     t_i = t0 + i*d + base + unzigzag(x_{i-1})
//! ```
//!
//! GRID_ZZ centres the residuals on their most common value and zigzags them, so when most
//! scrapes land on the grid and a few are a little early or late, the bulk packs at 0 bits and
//! only the stragglers are exceptions (GRID_PFOR would shift the bulk by the earliest one).
//!
//! GRID_PFOR suits jitter around a steady interval (residuals do not accumulate); DELTA_PFOR
//! suits gaps and interval changes (one outlier delta instead of shifted residuals). The
//! encoder writes the smallest. Arithmetic wraps in 64 bits, so every `i64` sequence (even
//! decreasing) round-trips; the decoder checks that the last timestamp equals `t0 + span`.

use super::{TLane, pfor};
use crate::ChunkError;
use crate::bits::{ByteReader, put_uvarint, put_varint, uvarint_len, zigzag};
use model::Sample;

/// Timestamp mode (bits 0-1 of the modes byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsMode {
    /// Exactly on the grid: no bytes.
    Grid = 0,
    /// Residuals from the grid, frame-of-reference packed.
    GridPfor = 1,
    /// Consecutive deltas, frame-of-reference packed.
    DeltaPfor = 2,
    /// Residuals from the grid, centred on their most common value and zigzagged.
    GridZigzag = 3,
}

impl TsMode {
    /// The mode with number `bits`.
    pub(crate) fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            0 => Some(Self::Grid),
            1 => Some(Self::GridPfor),
            2 => Some(Self::DeltaPfor),
            3 => Some(Self::GridZigzag),
            _ => None,
        }
    }
}

/// `span / k` rounded to nearest, ties up (`k > 0`).
#[inline]
fn round_div(span: u64, k: u64) -> u64 {
    let (q, rem) = (span / k, span % k);
    if rem >= k - rem { q + 1 } else { q }
}

/// Writes the timestamp section of `samples` (at least one) and returns its mode.
/// `words` is reused memory.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    samples: &[Sample],
    span: u64,
    words: &mut [Vec<u64>; 3],
) -> TsMode {
    let n = samples.len();
    let (Some(first), true) = (samples.first(), n > 2) else {
        return TsMode::Grid;
    };
    let t0 = first.t as u64;
    let k = (n - 1) as u64;
    let d = round_div(span, k);
    let [res, del, zz] = words;
    res.clear();
    del.clear();
    let (mut g, mut prev) = (t0, t0);
    for s in samples.iter().skip(1) {
        let t = s.t as u64;
        g = g.wrapping_add(d);
        res.push(t.wrapping_sub(g));
        del.push(t.wrapping_sub(prev));
        prev = t;
    }
    if span.is_multiple_of(k) && res.iter().all(|&r| r == 0) {
        return TsMode::Grid;
    }
    let base = majority(res);
    zz.clear();
    if let Some(base) = base {
        zz.extend(res.iter().map(|&r| zigzag((r as i64).wrapping_sub(base))));
    }
    // Frames of reference: residuals are signed, deltas unsigned.
    let rmin = res.iter().map(|&r| r as i64).min().unwrap_or(0);
    let dmin = del.iter().copied().min().unwrap_or(0);
    res.iter_mut()
        .for_each(|r| *r = r.wrapping_sub(rmin as u64));
    del.iter_mut().for_each(|x| *x -= dmin);
    let (pr, pd) = (pfor::plan_for(res), pfor::plan_for(del));
    let cost_r = pr.bits + 8 * uvarint_len(zigzag(rmin));
    let cost_d = pd.bits + 8 * uvarint_len(dmin);
    let centred = base.map(|b| (b, pfor::plan_for(zz)));
    if let Some((base, pz)) = centred
        && pz.bits + 8 * uvarint_len(zigzag(base)) < cost_r.min(cost_d)
    {
        put_varint(out, base);
        pfor::encode(out, pz, zz);
        TsMode::GridZigzag
    } else if cost_r <= cost_d {
        put_varint(out, rmin);
        pfor::encode(out, pr, res);
        TsMode::GridPfor
    } else {
        put_uvarint(out, dmin);
        pfor::encode(out, pd, del);
        TsMode::DeltaPfor
    }
}

/// The value that at least half of `xs` hold, taken as signed, if a middle element is one
/// (a majority value always occupies the middle of the sorted order; checking the middle of
/// the unsorted slice finds it in the common case at linear cost, and misses are only a lost
/// optimisation).
fn majority(xs: &[u64]) -> Option<i64> {
    let n = xs.len();
    // Several probes: one straggler at the middle must not hide the majority.
    for probe in [n / 2, n / 3, 2 * n / 3, n / 5] {
        let c = *xs.get(probe)?;
        if 2 * xs.iter().filter(|&&x| x == c).count() >= n {
            return Some(c as i64);
        }
    }
    None
}

/// Reads the timestamp section into the `t` lane of `dst` (`dst.len() == n >= 1`).
pub(crate) fn decode(
    r: &mut ByteReader<'_>,
    mode: TsMode,
    t0: i64,
    span: u64,
    dst: &mut [Sample],
) -> Result<(), ChunkError> {
    let at = r.offset();
    let Some((first, rest)) = dst.split_first_mut() else {
        return Ok(());
    };
    first.t = t0;
    let t0 = t0 as u64;
    let k = rest.len() as u64;
    match mode {
        TsMode::Grid => {
            if k == 0 {
                return if span == 0 {
                    Ok(())
                } else {
                    Err(ByteReader::corrupt_at(at, "span of one sample"))
                };
            }
            if !span.is_multiple_of(k) {
                return Err(ByteReader::corrupt_at(
                    at,
                    "span not a multiple of the grid",
                ));
            }
            let d = span / k;
            let mut t = t0;
            for s in rest.iter_mut() {
                t = t.wrapping_add(d);
                s.t = t as i64;
            }
            return Ok(());
        }
        TsMode::GridPfor => {
            let rmin = r.varint()? as u64;
            let d = if k == 0 { 0 } else { round_div(span, k) };
            let mut g = t0.wrapping_add(rmin);
            pfor::decode::<TLane>(r, rest, |s, x| {
                g = g.wrapping_add(d);
                s.t = g.wrapping_add(x) as i64;
            })?;
        }
        TsMode::GridZigzag => {
            let base = r.varint()? as u64;
            let d = if k == 0 { 0 } else { round_div(span, k) };
            let mut g = t0.wrapping_add(base);
            pfor::decode::<TLane>(r, rest, |s, x| {
                g = g.wrapping_add(d);
                let r = ((x >> 1) as i64 ^ -((x & 1) as i64)) as u64;
                s.t = g.wrapping_add(r) as i64;
            })?;
        }
        TsMode::DeltaPfor => {
            let dmin = r.uvarint()?;
            let mut t = t0;
            pfor::decode::<TLane>(r, rest, |s, x| {
                t = t.wrapping_add(dmin).wrapping_add(x);
                s.t = t as i64;
            })?;
        }
    }
    let last = rest.last().map_or(t0, |s| s.t as u64);
    if last != t0.wrapping_add(span) {
        return Err(ByteReader::corrupt_at(
            at,
            "timestamps disagree with the header's span",
        ));
    }
    Ok(())
}
