//! Property tests: every chunk round-trips bit-exactly through both codecs.

use chunkenc::{ChunkMeta, XorChunk, decode_sealed, encode_sealed, sealed_meta};
use model::{STALE_NAN_BITS, Sample};
use proptest::prelude::*;

/// Proptest cases: `default`, or `CHUNKENC_PROPTEST_CASES` when set (for longer runs).
fn cases(default: u32) -> u32 {
    std::env::var("CHUNKENC_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Values of every kind the codecs must keep exactly.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<u64>().prop_map(f64::from_bits),
        1 => prop_oneof![
            Just(f64::NAN),
            Just(-f64::NAN),
            Just(f64::from_bits(STALE_NAN_BITS)),
            Just(f64::from_bits(0x7ff8_dead_beef_0001)),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(0.0),
            Just(f64::MAX),
            Just(f64::MIN),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            Just(9_007_199_254_740_993.0),
            Just(-9.223_372_036_854_776e18),
        ],
        4 => (any::<i32>(), 0u32..12).prop_map(|(m, e)| f64::from(m) / 10f64.powi(e as i32)),
        2 => (0i64..1_000_000, 0u32..3).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
    ]
}

/// `m * 10^-e`, computed as the sealed format's decoder does.
fn decimal(m: i64, e: i32) -> f64 {
    if e >= 0 {
        m as f64 / 10f64.powi(e)
    } else {
        m as f64 * 10f64.powi(-e)
    }
}

/// A value series: arbitrary values, decimal walks with rare specials, smooth series,
/// constants with rare specials.
fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
    let arbitrary = proptest::collection::vec(value(), n);
    let walk = (
        -(1i64 << 40)..(1i64 << 40),
        -6i32..16,
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(100),
            Just(4096),
            Just(1 << 20),
            Just(1 << 45)
        ],
        proptest::collection::vec((any::<i64>(), 0u8..100, value()), n),
    )
        .prop_map(|(m0, e, spread, steps)| {
            let mut m = m0;
            steps
                .into_iter()
                .map(|(r, k, special)| {
                    if k < 3 {
                        return special;
                    }
                    if k < 60 && spread > 0 {
                        m = m.wrapping_add(r.rem_euclid(2 * spread + 1) - spread);
                    }
                    decimal(m, e)
                })
                .collect()
        });
    let smooth =
        (value(), proptest::collection::vec((0u8..10, value()), n)).prop_map(|(start, steps)| {
            let mut v = start;
            steps
                .into_iter()
                .map(|(k, other)| {
                    match k {
                        0..=5 => {}
                        6 | 7 => v = if v.is_finite() { v + 1.0 } else { 1.0 },
                        _ => return other,
                    }
                    v
                })
                .collect()
        });
    let constant = (value(), value(), 0usize..n.max(1) * 8).prop_map(move |(v, special, at)| {
        (0..n).map(|i| if i == at { special } else { v }).collect()
    });
    prop_oneof![2 => arbitrary, 4 => walk, 1 => smooth, 1 => constant]
}

/// Strictly increasing timestamps: on a grid, jittered, random, and near the i64 extremes.
fn timestamps(n: usize) -> impl Strategy<Value = Vec<i64>> {
    let grid = (any::<i64>(), 1i64..100_000).prop_map(move |(t0, d)| {
        (0..n as i64)
            .map(|i| t0.wrapping_add(i.wrapping_mul(d)))
            .collect::<Vec<_>>()
    });
    let jitter = (
        -1_000_000_000_000i64..4_000_000_000_000,
        proptest::collection::vec(0i64..50, n),
    )
        .prop_map(|(t0, js)| {
            js.iter()
                .enumerate()
                .map(|(i, j)| t0 + i as i64 * 15_000 + j)
                .collect()
        });
    let random = (
        any::<i64>(),
        proptest::collection::vec(1u64..u64::MAX / 512, n),
    )
        .prop_map(|(t0, ds)| {
            let mut t = t0;
            ds.iter()
                .map(|&d| {
                    let cur = t;
                    t = t.wrapping_add(d as i64);
                    cur
                })
                .collect()
        });
    let extremes = prop_oneof![Just(i64::MIN), Just(i64::MAX - n as i64 * 3)]
        .prop_map(move |t0| (0..n as i64).map(|i| t0 + i * 3).collect());
    prop_oneof![2 => grid, 3 => jitter, 1 => random, 1 => extremes]
        .prop_filter("strictly increasing", |ts: &Vec<i64>| {
            ts.windows(2).all(|w| w[0] < w[1])
        })
}

fn samples() -> impl Strategy<Value = Vec<Sample>> {
    (1usize..300).prop_flat_map(|n| {
        (timestamps(n), values(n)).prop_map(|(ts, vs)| {
            ts.into_iter()
                .zip(vs)
                .map(|(t, v)| Sample::new(t, v))
                .collect()
        })
    })
}

fn assert_bit_eq(got: &[Sample], want: &[Sample]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.bit_eq(w),
            "sample {i}: got ({}, {:#x}) want ({}, {:#x})",
            g.t,
            g.v.to_bits(),
            w.t,
            w.v.to_bits()
        );
    }
}

fn sealed_round_trip(s: &[Sample]) {
    let mut bytes = vec![0xAA]; // encoding appends
    encode_sealed(s, &mut bytes);
    let bytes = &bytes[1..];
    let mut out = vec![Sample::new(1, 1.0)];
    decode_sealed(bytes, &mut out).expect("decodes");
    assert_bit_eq(&out[1..], s);
    let meta = sealed_meta(bytes).expect("meta");
    let (first, last) = (s.first().expect("non-empty"), s.last().expect("non-empty"));
    assert_eq!(
        meta,
        ChunkMeta {
            count: s.len() as u32,
            mint: first.t,
            maxt: last.t
        }
    );
}

fn xor_round_trip(s: &[Sample]) {
    let mut c = XorChunk::new();
    for x in s {
        c.append(x.t, x.v);
    }
    let mut out = Vec::new();
    c.decode_into(&mut out);
    assert_bit_eq(&out, s);
    assert_eq!(c.len(), s.len());
    assert_eq!(c.first_t(), s.first().map(|x| x.t));
    assert_eq!(c.last_t(), s.last().map(|x| x.t));
    assert_eq!(
        c.last_v().map(f64::to_bits),
        s.last().map(|x| x.v.to_bits())
    );
    assert!(c.heap_bytes() >= c.encoded_len() && c.heap_bytes() < c.encoded_len() + 32);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn sealed_round_trips(s in samples()) {
        sealed_round_trip(&s);
    }

    #[test]
    fn xor_round_trips(s in samples()) {
        xor_round_trip(&s);
    }

    /// Out-of-order and repeated timestamps are outside the contract but still round-trip.
    #[test]
    fn any_timestamps_round_trip(ts in proptest::collection::vec(any::<i64>(), 1..100), v in value()) {
        let s: Vec<Sample> = ts.iter().map(|&t| Sample::new(t, v)).collect();
        sealed_round_trip(&s);
        xor_round_trip(&s);
    }
}

#[test]
fn single_samples_round_trip() {
    for v in [
        0.0,
        -0.0,
        f64::NAN,
        f64::from_bits(STALE_NAN_BITS),
        1.5,
        f64::INFINITY,
        1e300,
    ] {
        for t in [i64::MIN, -1, 0, 1_700_000_000_000, i64::MAX] {
            sealed_round_trip(&[Sample::new(t, v)]);
            xor_round_trip(&[Sample::new(t, v)]);
        }
    }
}

#[test]
fn empty_chunk() {
    let mut bytes = Vec::new();
    encode_sealed(&[], &mut bytes);
    let mut out = Vec::new();
    assert_eq!(decode_sealed(&bytes, &mut out), Ok(()));
    assert!(out.is_empty());
    assert!(sealed_meta(&bytes).is_err());
    let mut out = Vec::new();
    XorChunk::new().decode_into(&mut out);
    assert!(out.is_empty());
}

#[test]
fn long_chunks_round_trip() {
    let s: Vec<Sample> = (0..65_535i64)
        .map(|i| Sample::new(i * 15_000 + (i * 7919) % 13, (i % 977) as f64 / 100.0))
        .collect();
    sealed_round_trip(&s);
    xor_round_trip(&s);
    let s: Vec<Sample> = (0..chunkenc::MAX_SEALED_SAMPLES as i64)
        .map(|i| Sample::new(i, 0.0))
        .collect();
    sealed_round_trip(&s);
}
