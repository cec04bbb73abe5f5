//! Table tests: the intended mode is chosen for typical shapes, and sizes stay small.

use super::*;
use crate::bits::ByteReader;
use intseq::Kind;

/// What a chunk was encoded with: modes, and for DECIMAL the exponent and integer transform.
#[derive(Debug, PartialEq)]
struct Described {
    modes: SealedModes,
    decimal: Option<(i32, Kind)>,
    len: usize,
}

fn describe(samples: &[Sample]) -> Described {
    let mut bytes = Vec::new();
    encode_sealed(samples, &mut bytes);
    let mut back = Vec::new();
    decode_sealed(&bytes, &mut back).expect("decodes");
    assert!(back.iter().zip(samples).all(|(a, b)| a.bit_eq(b)) && back.len() == samples.len());
    let modes = sealed_modes(&bytes).expect("modes");
    let mut decimal = None;
    if modes.values == ValueMode::Decimal {
        // Skip the header and the timestamp section by decoding it.
        let mut r = ByteReader::new(&bytes);
        let h = read_header(&mut r).expect("header");
        read_modes(&mut r).expect("modes");
        let mut dst = vec![Sample::new(0, 0.0); h.count];
        ts::decode(&mut r, modes.ts, h.t0, h.span, &mut dst).expect("ts");
        let e = i32::from(r.u8().expect("e") as i8);
        let kind = match r.u8().expect("kind") & 3 {
            0 => Kind::For,
            1 => Kind::Delta,
            _ => Kind::Dod,
        };
        decimal = Some((e, kind));
    }
    Described {
        modes,
        decimal,
        len: bytes.len(),
    }
}

const T0: i64 = 1_700_000_000_000;

fn grid(i: usize) -> i64 {
    T0 + i as i64 * 15_000
}

fn jitter(i: usize) -> i64 {
    grid(i) + (i as i64 * 7919) % 3
}

fn series(n: usize, t: impl Fn(usize) -> i64, v: impl Fn(usize) -> f64) -> Vec<Sample> {
    (0..n).map(|i| Sample::new(t(i), v(i))).collect()
}

fn modes(ts: TsMode, values: ValueMode) -> SealedModes {
    SealedModes {
        ts,
        values,
        exceptions: false,
    }
}

#[test]
fn constant_on_grid_is_tiny() {
    let d = describe(&series(120, grid, |_| 0.0));
    assert_eq!(d.modes, modes(TsMode::Grid, ValueMode::ConstDec));
    assert!(d.len <= 15, "{} bytes", d.len);
    let d = describe(&series(240, grid, |_| 16_000_000_000.0));
    assert_eq!(d.modes, modes(TsMode::Grid, ValueMode::ConstDec));
    let d = describe(&series(120, grid, |_| f64::from_bits(STALE_NAN)));
    assert_eq!(d.modes, modes(TsMode::Grid, ValueMode::ConstRaw));
}

const STALE_NAN: u64 = model::STALE_NAN_BITS;

#[test]
fn jittered_timestamps_use_grid_residuals() {
    let d = describe(&series(120, jitter, |_| 1.0));
    assert_eq!(d.modes, modes(TsMode::GridPfor, ValueMode::ConstDec));
    // 2 bits per residual plus the header.
    assert!(d.len <= 15 + 2 + 30, "{} bytes", d.len);
}

#[test]
fn a_gap_uses_deltas() {
    let d = describe(&series(
        120,
        |i| grid(i) + if i >= 60 { 15_000 } else { 0 },
        |_| 1.0,
    ));
    assert_eq!(d.modes.ts, TsMode::DeltaPfor);
}

#[test]
fn decimal_counter_uses_deltas() {
    let d = describe(&series(120, grid, |i| {
        (123_456_789 + i * 1490 + i % 7) as f64 / 100.0
    }));
    assert_eq!(d.modes, modes(TsMode::Grid, ValueMode::Decimal));
    assert_eq!(d.decimal, Some((2, Kind::Delta)));
}

#[test]
fn steady_counter_uses_delta_of_deltas() {
    let d = describe(&series(120, grid, |i| (1000 + 3 * i) as f64));
    assert_eq!(d.modes, modes(TsMode::Grid, ValueMode::Decimal));
    assert!(matches!(d.decimal, Some((0, Kind::Dod | Kind::Delta))));
    assert!(d.len <= 20, "{} bytes", d.len);
}

#[test]
fn bounded_gauge_uses_frame_of_reference() {
    let d = describe(&series(120, grid, |i| {
        ((i * i * 2_654_435_761) >> 7) as f64 % 100.0 / 10.0
    }));
    assert_eq!(d.decimal, Some((1, Kind::For)));
}

#[test]
fn staleness_marker_is_an_exception() {
    let d = describe(&series(120, grid, |i| {
        if i == 119 {
            f64::from_bits(STALE_NAN)
        } else {
            i as f64
        }
    }));
    assert_eq!(
        d.modes,
        SealedModes {
            ts: TsMode::Grid,
            values: ValueMode::Decimal,
            exceptions: true
        }
    );
}

#[test]
fn non_decimal_floats_use_xor() {
    let d = describe(&series(120, grid, |i| (i as f64 + 0.5).sqrt()));
    assert_eq!(d.modes, modes(TsMode::Grid, ValueMode::Xor));
}

#[test]
fn thousands_use_a_negative_exponent() {
    let d = describe(&series(120, grid, |i| (i % 7 * 1000) as f64));
    assert_eq!(d.decimal.map(|(e, _)| e), Some(-3));
}

/// The worked example of FORMAT.md, byte for byte.
#[test]
fn format_md_worked_example() {
    let mut bytes = Vec::new();
    encode_sealed(&series(120, grid, |_| 0.0), &mut bytes);
    let want = [
        0x01, 0x78, 0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62, 0xa8, 0xf9, 0x6c, 0x04, 0x00, 0x00,
    ];
    assert_eq!(bytes, want, "{bytes:02x?}");
    let mut x = crate::XorChunk::new();
    series(120, grid, |_| 0.0)
        .iter()
        .for_each(|s| x.append(s.t, s.v));
    assert_eq!(
        x.encoded_len() + 2,
        48,
        "Prometheus's constant chunk is 47-48 bytes"
    );
}

#[test]
fn mostly_on_grid_with_stragglers_uses_centred_residuals() {
    // The first sample is 3 ms late, a few others are early or late: the bulk sits at -3 from
    // the first sample's grid, so centring on it packs the bulk at 0 bits.
    let t = |i: usize| {
        grid(i)
            + if i == 0 {
                3
            } else if i % 10 == 5 {
                (i % 7) as i64 - 3
            } else {
                0
            }
    };
    let d = describe(&series(240, t, |_| 1.0));
    assert_eq!(d.modes.ts, TsMode::GridZigzag);
    // ~24 stragglers at ~2 bytes each plus the header; 3-bit packing of all 239 would be ~105.
    assert!(d.len < 90, "{} bytes", d.len);
}
