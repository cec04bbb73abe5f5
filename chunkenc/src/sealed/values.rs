//! Value section of a sealed chunk. It is the chunk's last section.
//!
//! ```text
//! mode 0 CONST_RAW   u64 LE bits                     every value has these bits
//! mode 1 CONST_DEC   i8 e, varint m                  every value is from_decimal(m, e)
//! mode 2 DECIMAL     i8 e, intseq of m_0..m_{n-1},   v_i = from_decimal(m_i, e), then
//!                    [if exceptions flag]            v_pos = f64::from_bits(raw) for each
//!                    uvarint c, c x (uvarint gap, u64 LE raw)   (gaps as in PFOR blocks)
//! mode 3 XOR         Gorilla XOR bit stream, MSB-first, padded to a byte:
//!                    64 raw bits of v_0, then one XOR code per further value
//! ```
//!
//! The encoder picks CONST_* when every value has the same bits, else DECIMAL when all but a
//! few values (at most max(1, n/8), e.g. a staleness marker) convert exactly at one exponent, unless
//! XOR comes out smaller; XOR otherwise. All decoding is bit-exact, NaN payloads included.

use super::decimal::{self, Decimal, MAX_E, MIN_E};
use super::{Scratch, intseq};
use crate::ChunkError;
use crate::bits::{
    ByteReader, MsbReader, put_bits_msb, put_uvarint, put_varint, uvarint_len, zigzag,
};
use crate::xor::XorState;
use model::Sample;

/// Value mode (bits 2-3 of the modes byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueMode {
    /// One value, raw bits.
    ConstRaw = 0,
    /// One value, decimal.
    ConstDec = 1,
    /// Decimal mantissas through the integer-sequence codec.
    Decimal = 2,
    /// Gorilla XOR.
    Xor = 3,
}

impl ValueMode {
    /// The mode with number `bits` (0..=3).
    pub(crate) fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => Self::ConstRaw,
            1 => Self::ConstDec,
            2 => Self::Decimal,
            _ => Self::Xor,
        }
    }
}

/// Above this many bits per value a decimal plan is compared against XOR.
const COMPARE_ABOVE_BITS: usize = 24;

/// Writes the value section of `samples` (at least one); returns the mode and whether a
/// DECIMAL section carries exceptions.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    samples: &[Sample],
    scratch: &mut Scratch,
) -> (ValueMode, bool) {
    let first = samples.first().map_or(0, |s| s.v.to_bits());
    if samples.iter().all(|s| s.v.to_bits() == first) {
        return encode_const(out, f64::from_bits(first));
    }
    let n = samples.len();
    let Scratch {
        words: [xs, _, _],
        dec,
        bytes: xor,
    } = scratch;
    if !dec.convert_into(samples.iter().map(|s| s.v), (n / 8).max(1)) {
        encode_xor(out, samples);
        return (ValueMode::Xor, false);
    }
    let plan = intseq::plan(&dec.m);
    let dec_bits = 8 + plan.bits + 8 * exceptions_len(&dec.exceptions);
    if dec.exceptions.is_empty() && dec_bits <= COMPARE_ABOVE_BITS * n {
        write_decimal(out, dec, &plan, samples, xs);
        return (ValueMode::Decimal, false);
    }
    xor.clear();
    encode_xor(xor, samples);
    if xor.len() * 8 < dec_bits {
        out.extend_from_slice(xor);
        (ValueMode::Xor, false)
    } else {
        write_decimal(out, dec, &plan, samples, xs);
        (ValueMode::Decimal, !dec.exceptions.is_empty())
    }
}

/// Writes a constant value, decimal when that is shorter than 8 raw bytes.
fn encode_const(out: &mut Vec<u8>, v: f64) -> (ValueMode, bool) {
    match decimal::convert_one(v) {
        Some((e, m)) if uvarint_len(zigzag(m)) < 8 => {
            out.push(e as i8 as u8);
            put_varint(out, m);
            (ValueMode::ConstDec, false)
        }
        _ => {
            out.extend_from_slice(&v.to_bits().to_le_bytes());
            (ValueMode::ConstRaw, false)
        }
    }
}

/// Bytes of an exception list for positions `exc` (0 when empty).
fn exceptions_len(exc: &[u32]) -> usize {
    if exc.is_empty() {
        return 0;
    }
    let mut next = 0u32;
    let gaps: usize = exc
        .iter()
        .map(|&p| {
            let g = uvarint_len(u64::from(p - next));
            next = p + 1;
            g + 8
        })
        .sum();
    uvarint_len(exc.len() as u64) + gaps
}

/// Writes a DECIMAL section.
fn write_decimal(
    out: &mut Vec<u8>,
    dec: &Decimal,
    plan: &intseq::Plan,
    samples: &[Sample],
    xs: &mut Vec<u64>,
) {
    out.push(dec.e as i8 as u8);
    intseq::encode(out, &dec.m, plan, xs);
    if dec.exceptions.is_empty() {
        return;
    }
    put_uvarint(out, dec.exceptions.len() as u64);
    let mut next = 0u32;
    for &p in &dec.exceptions {
        put_uvarint(out, u64::from(p - next));
        let raw = samples.get(p as usize).map_or(0, |s| s.v.to_bits());
        out.extend_from_slice(&raw.to_le_bytes());
        next = p + 1;
    }
}

/// Writes the values of `samples` as a Gorilla XOR bit stream.
pub(crate) fn encode_xor(out: &mut Vec<u8>, samples: &[Sample]) {
    let start = out.len();
    // Worst case: 64 bits, then 13 + 64 bits per value; 16 bytes of slack for wide writes.
    out.resize(start + 24 + samples.len() * 10, 0);
    let buf = out.get_mut(start..).unwrap_or_default();
    let mut it = samples.iter().map(|s| s.v.to_bits());
    let first = it.next().unwrap_or(0);
    let mut pos = 0usize;
    let mut put = |v: u128, n: u32| {
        let ok = put_bits_msb(buf, pos, v, n);
        debug_assert!(ok, "sized for the worst case");
        pos += n as usize;
    };
    put(u128::from(first), 64);
    let mut st = XorState::new(first);
    for v in it {
        let c = st.encode(v);
        put(
            u128::from(c.head) << c.payload_n | u128::from(c.payload),
            c.head_n + c.payload_n,
        );
    }
    out.truncate(start + pos.div_ceil(8));
}

/// Reads the value section into the `v` lane of `dst` (`dst.len() >= 1`).
pub(crate) fn decode(
    r: &mut ByteReader<'_>,
    mode: ValueMode,
    exceptions: bool,
    dst: &mut [Sample],
) -> Result<(), ChunkError> {
    match mode {
        ValueMode::ConstRaw => fill(dst, f64::from_bits(r.u64_le()?)),
        ValueMode::ConstDec => {
            let e = exponent(r)?;
            fill(dst, decimal::from_decimal(r.varint()?, e));
        }
        ValueMode::Decimal => decode_decimal(r, dst)?,
        ValueMode::Xor => decode_xor(r, dst)?,
    }
    if exceptions {
        patch_exceptions(r, dst)?;
    }
    Ok(())
}

fn fill(dst: &mut [Sample], v: f64) {
    dst.iter_mut().for_each(|s| s.v = v);
}

/// Reads an exponent byte.
fn exponent(r: &mut ByteReader<'_>) -> Result<i32, ChunkError> {
    let at = r.offset();
    let e = i32::from(r.u8()? as i8);
    if (MIN_E..=MAX_E).contains(&e) {
        Ok(e)
    } else {
        Err(ByteReader::corrupt_at(at, "decimal exponent out of range"))
    }
}

/// Reads a DECIMAL section's exponent and mantissas.
fn decode_decimal(r: &mut ByteReader<'_>, dst: &mut [Sample]) -> Result<(), ChunkError> {
    let e = exponent(r)?;
    let p = decimal::pow10(e).unwrap_or(1.0);
    match e {
        0 => intseq::decode(r, dst, |s, m| s.v = m as f64),
        1.. => intseq::decode(r, dst, |s, m| s.v = m as f64 / p),
        _ => intseq::decode(r, dst, |s, m| s.v = m as f64 * p),
    }
}

/// Reads a DECIMAL section's exception list and patches the raw values in.
fn patch_exceptions(r: &mut ByteReader<'_>, dst: &mut [Sample]) -> Result<(), ChunkError> {
    let at = r.offset();
    let c = r.uvarint()?;
    if c == 0 || c > dst.len() as u64 {
        return Err(ByteReader::corrupt_at(at, "bad value exception count"));
    }
    let mut next = 0u64;
    for _ in 0..c {
        let at = r.offset();
        let pos = next
            .checked_add(r.uvarint()?)
            .filter(|&p| p < dst.len() as u64);
        let Some((p, slot)) = pos.and_then(|p| dst.get_mut(p as usize).map(|s| (p, s))) else {
            return Err(ByteReader::corrupt_at(
                at,
                "value exception position out of range",
            ));
        };
        slot.v = f64::from_bits(r.u64_le()?);
        next = p + 1;
    }
    Ok(())
}

/// Reads an XOR section; it extends to the end of the chunk, padded to a byte.
fn decode_xor(r: &mut ByteReader<'_>, dst: &mut [Sample]) -> Result<(), ChunkError> {
    let at = r.offset();
    let mut br = MsbReader::new(r.rest());
    let mut st = XorState::new(br.read(64));
    let Some((first, rest)) = dst.split_first_mut() else {
        return Ok(());
    };
    first.v = f64::from_bits(st.prev);
    for s in rest.iter_mut() {
        let Some(v) = st.decode(&mut br) else {
            return Err(ByteReader::corrupt_at(
                at + br.bit_pos() / 8,
                "bad XOR window",
            ));
        };
        s.v = f64::from_bits(v);
    }
    if br.overrun() {
        return Err(ChunkError::Truncated {
            offset: at + r.rest().len(),
        });
    }
    r.skip(br.bit_pos().div_ceil(8))
}
