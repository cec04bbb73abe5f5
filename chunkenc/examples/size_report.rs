//! Prints bytes/sample of the sealed format against Prometheus's XOR chunk on the generated
//! shapes (see `benches/shapes/mod.rs`).
//!
//! `cargo run -p chunkenc --release --example size_report`
//!
//! "Prometheus" is our `XorChunk` stream (the same bits as Prometheus's XOR chunk body) plus its
//! 2-byte sample count and its 1-byte encoding id, so both sides include one encoding byte.
//! Neither includes the storage framing (length, CRC, chunk reference), which both need.
//! Each line also shows the share of zero delta-of-deltas and of repeated values, to compare
//! the generated data with the published real-data statistics (>95% and ~60%).

#[path = "../benches/shapes/mod.rs"]
mod shapes;

use chunkenc::{XorChunk, decode_sealed, encode_sealed, sealed_modes};
use model::Sample;
use shapes::Shape;
use std::collections::BTreeMap;

/// Sizes of one set of chunks.
#[derive(Default)]
struct Tally {
    samples: usize,
    sealed: usize,
    prom: usize,
    /// Delta-of-deltas seen, and how many were 0.
    dods: (usize, usize),
    /// Values after the first, and how many repeated the previous bits.
    repeats: (usize, usize),
    modes: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, chunk: &[Sample]) {
        let mut bytes = Vec::new();
        encode_sealed(chunk, &mut bytes);
        let mut back = Vec::new();
        decode_sealed(&bytes, &mut back).expect("round trip");
        assert!(back.iter().zip(chunk).all(|(a, b)| a.bit_eq(b)) && back.len() == chunk.len());
        let mut x = XorChunk::new();
        chunk.iter().for_each(|s| x.append(s.t, s.v));
        self.samples += chunk.len();
        for w in chunk.windows(3) {
            if let [a, b, c] = w {
                self.dods.0 += 1;
                self.dods.1 += usize::from(c.t - b.t == b.t - a.t);
            }
        }
        for w in chunk.windows(2) {
            if let [a, b] = w {
                self.repeats.0 += 1;
                self.repeats.1 += usize::from(a.v.to_bits() == b.v.to_bits());
            }
        }
        self.sealed += bytes.len();
        self.prom += x.encoded_len() + 3;
        if let Ok(m) = sealed_modes(&bytes) {
            let key = format!(
                "{:?}/{:?}{}",
                m.ts,
                m.values,
                if m.exceptions { "+exc" } else { "" }
            );
            *self.modes.entry(key).or_default() += 1;
        }
    }

    fn line(&self, label: &str) {
        let s = self.samples as f64;
        println!(
            "{label:<34} sealed {:>6.3} B/sample   prometheus {:>6.3} B/sample   ratio {:>5.3}   \
             (dod=0 {:>3.0}%, repeats {:>3.0}%)",
            self.sealed as f64 / s,
            self.prom as f64 / s,
            self.sealed as f64 / self.prom as f64,
            100.0 * self.dods.1 as f64 / self.dods.0.max(1) as f64,
            100.0 * self.repeats.1 as f64 / self.repeats.0.max(1) as f64,
        );
    }
}

fn tally(chunks: &[Vec<Sample>]) -> Tally {
    let mut t = Tally::default();
    chunks.iter().for_each(|c| t.add(c));
    t
}

fn main() {
    const CHUNKS: usize = 4000;
    for n in [120, 240] {
        println!("== {n} samples per chunk, {CHUNKS} chunks per shape ==");
        for shape in [Shape::Realistic, Shape::Noisy, Shape::RandomFloat] {
            let t = tally(&shapes::chunks(shape, CHUNKS, n, 42));
            let label = match shape {
                Shape::Realistic => format!("realistic (jitter 0..={} ms)", shapes::JITTER_MS),
                _ => shape.name().to_string(),
            };
            t.line(&label);
            let modes: Vec<String> = t.modes.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            println!("    modes: {}", modes.join("  "));
        }
        for (kind, (name, w)) in shapes::REALISTIC_KINDS.iter().enumerate() {
            let t = tally(&shapes::kind_chunks(
                kind,
                CHUNKS / 10,
                n,
                7,
                shapes::JITTER_MS,
            ));
            t.line(&format!("  kind {name} (weight {w})"));
        }
        for jitter in [0, 4, 10] {
            let t = tally(&shapes::chunks_with_jitter(
                Shape::Realistic,
                CHUNKS,
                n,
                42,
                jitter,
            ));
            let label = if jitter == 0 {
                "realistic, aligned (jitter 0)".to_string()
            } else {
                format!("realistic, jitter 0..={jitter} ms")
            };
            t.line(&label);
        }
    }
}
