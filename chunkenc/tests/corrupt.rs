//! Decoding arbitrary bytes never panics, never runs away, and reports errors with offsets.

use chunkenc::{ChunkError, decode_sealed, encode_sealed, sealed_meta, sealed_modes};
use model::{STALE_NAN_BITS, Sample};
use proptest::prelude::*;

/// Proptest cases: `default`, or `CHUNKENC_PROPTEST_CASES` when set (for longer runs).
fn cases(default: u32) -> u32 {
    std::env::var("CHUNKENC_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Valid chunks covering every timestamp and value mode.
fn corpus() -> Vec<Vec<u8>> {
    let grid = |i: i64| 1_700_000_000_000 + i * 15_000;
    let jitter = |i: i64| grid(i) + (i * 7919) % 5;
    let shapes: Vec<Vec<Sample>> = vec![
        (0..120).map(|i| Sample::new(grid(i), 0.0)).collect(),
        (0..120).map(|i| Sample::new(jitter(i), 3.25)).collect(),
        (0..120)
            .map(|i| Sample::new(jitter(i), f64::from_bits(0x7ff8_0000_0000_0123)))
            .collect(),
        (0..120)
            .map(|i| Sample::new(jitter(i), (1_000_000 + i * 1490 + i % 7) as f64 / 100.0))
            .collect(),
        (0..120)
            .map(|i| Sample::new(grid(i) + if i > 60 { 15_000 } else { 0 }, (i % 5) as f64))
            .collect(),
        (0..120)
            .map(|i| {
                let v = if i == 119 {
                    f64::from_bits(STALE_NAN_BITS)
                } else {
                    (i * i) as f64 * 4096.0
                };
                Sample::new(jitter(i) + if i == 50 { 3_000 } else { 0 }, v)
            })
            .collect(),
        (0..120)
            .map(|i| Sample::new(grid(i) + (i * 31337) % 500, ((i * 7919) as f64).sqrt()))
            .collect(),
        vec![Sample::new(5, -0.0)],
        vec![Sample::new(i64::MIN, 1.0), Sample::new(i64::MAX, f64::NAN)],
    ];
    shapes
        .iter()
        .map(|s| {
            let mut b = Vec::new();
            encode_sealed(s, &mut b);
            b
        })
        .collect()
}

/// Decodes `bytes` with every entry point; returns the full decode's result.
fn decode_all(bytes: &[u8]) -> Result<Vec<Sample>, ChunkError> {
    let _ = sealed_meta(bytes);
    let _ = sealed_modes(bytes);
    let mut out = vec![Sample::new(0, 0.0)];
    let res = decode_sealed(bytes, &mut out);
    match res {
        Ok(()) => {
            let meta = sealed_meta(bytes);
            if let Ok(m) = meta {
                assert_eq!(
                    m.count as usize,
                    out.len() - 1,
                    "meta agrees with the decode"
                );
            }
            Ok(out.split_off(1))
        }
        Err(e) => {
            assert_eq!(out.len(), 1, "a failed decode leaves `out` as it was");
            let off = match e {
                ChunkError::Truncated { offset } => offset,
                ChunkError::UnknownEncoding { offset, .. } => offset,
                ChunkError::Corrupt { offset, .. } => offset,
                _ => 0,
            };
            assert!(
                off <= bytes.len(),
                "offset {off} within {} bytes",
                bytes.len()
            );
            Err(e)
        }
    }
}

#[test]
fn corpus_covers_every_mode() {
    use chunkenc::{TsMode, ValueMode};
    let modes: Vec<_> = corpus()
        .iter()
        .filter_map(|b| sealed_modes(b).ok())
        .collect();
    for ts in [TsMode::Grid, TsMode::GridPfor, TsMode::DeltaPfor] {
        assert!(modes.iter().any(|m| m.ts == ts), "{ts:?}");
    }
    for v in [
        ValueMode::ConstRaw,
        ValueMode::ConstDec,
        ValueMode::Decimal,
        ValueMode::Xor,
    ] {
        assert!(modes.iter().any(|m| m.values == v), "{v:?}");
    }
    assert!(modes.iter().any(|m| m.exceptions));
}

#[test]
fn every_truncation_is_an_error() {
    for chunk in corpus() {
        for len in 0..chunk.len() {
            let res = decode_all(&chunk[..len]);
            assert!(
                res.is_err(),
                "prefix of {len} of {} bytes decoded",
                chunk.len()
            );
        }
        assert!(decode_all(&chunk).is_ok());
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    for mut chunk in corpus() {
        chunk.push(0);
        assert!(matches!(
            decode_all(&chunk),
            Err(ChunkError::Corrupt { .. })
        ));
    }
}

#[test]
fn unknown_encoding_is_reported() {
    for mut chunk in corpus() {
        for enc in [0u8, 2, 0x7f, 0xff] {
            chunk[0] = enc;
            assert_eq!(
                decode_all(&chunk),
                Err(ChunkError::UnknownEncoding {
                    encoding: enc,
                    offset: 0
                })
            );
            assert_eq!(
                sealed_meta(&chunk),
                Err(ChunkError::UnknownEncoding {
                    encoding: enc,
                    offset: 0
                })
            );
        }
    }
    assert_eq!(decode_all(&[]), Err(ChunkError::Truncated { offset: 0 }));
}

#[test]
fn every_single_byte_flip_is_survived() {
    for chunk in corpus() {
        for i in 0..chunk.len() {
            for bit in 0..8 {
                let mut c = chunk.clone();
                c[i] ^= 1 << bit;
                let _ = decode_all(&c);
            }
        }
    }
}

#[test]
fn huge_counts_are_rejected_cheaply() {
    // Count 2^20 with a grid and a constant would expand 12 bytes into 16 MiB.
    let bytes = [0x01, 0x80, 0x80, 0x40, 0x00, 0x00, 0x00, 0x04, 0x00];
    assert!(matches!(
        decode_all(&bytes),
        Err(ChunkError::Corrupt { offset: 1, .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn mutated_chunks_never_panic(
        which in 0usize..9,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 1..6),
    ) {
        let corpus = corpus();
        let mut c = corpus[which % corpus.len()].clone();
        for (pos, byte, op) in edits {
            let at = if c.is_empty() { 0 } else { pos % c.len() };
            match op {
                0 if !c.is_empty() => c[at] = byte,
                1 => c.insert(at, byte),
                2 if !c.is_empty() => { c.remove(at); }
                _ => c.truncate(at),
            }
        }
        let _ = decode_all(&c);
    }

    #[test]
    fn random_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Some(b) = bytes.first_mut() {
            *b = 0x01;
        }
        let _ = decode_all(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(3000)))]

    /// A plausible header (any modes byte) followed by random bytes.
    #[test]
    fn random_bodies_never_panic(
        count in 1u16..400,
        modes in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = vec![0x01];
        let mut c = u64::from(count);
        while c >= 0x80 {
            bytes.push(c as u8 | 0x80);
            c >>= 7;
        }
        bytes.push(c as u8);
        bytes.extend_from_slice(&[0x80, 0xa0, 0xc4, 0xe1, 0xbc, 0x31]); // t0
        bytes.extend_from_slice(&[0xc8, 0xf4, 0x06]); // span
        bytes.push(modes & 0x1f);
        bytes.extend_from_slice(&body);
        let _ = decode_all(&bytes);
    }
}

/// A longer mutation run: `CHUNKENC_FUZZ_ITERS=2000000 cargo test -p chunkenc --test corrupt
/// -- --ignored` (debug build, so arithmetic overflow panics too).
#[test]
#[ignore = "long-running fuzz; run on demand"]
fn long_mutation_fuzz() {
    let iters: u64 = std::env::var("CHUNKENC_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let corpus = corpus();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for _ in 0..iters {
        let mut c = corpus[(next() % corpus.len() as u64) as usize].clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % c.len().max(1);
            match next() % 5 {
                0 | 1 if !c.is_empty() => c[at] ^= 1 << (next() % 8),
                2 if !c.is_empty() => c[at] = next() as u8,
                3 => c.insert(at.min(c.len()), next() as u8),
                _ => c.truncate(at),
            }
        }
        let _ = decode_all(&c);
    }
}
