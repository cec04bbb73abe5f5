//! Deterministic generators of chunk shapes for the benchmarks and the size report.
//!
//! * [`Shape::Realistic`]: node_exporter-like series on a 15 s grid. Every sample's timestamp
//!   is `grid + jitter`, jitter uniform in `0..=JITTER_MS` ms, and 1% of samples are delayed by
//!   10..60 ms more (a scheduling hiccup). Series kinds by weight (of 100), after the make-up of
//!   a node_exporter scrape (most series are constant within an hour):
//!   - 55 constant: 0, 1, large integers like MemTotal, a few fractional constants;
//!   - 12 rarely-incrementing integer counters (errors, drops: +1 with 2% chance);
//!   - 5 cpu-seconds counters (`ticks / 100.0` at idle/user/system/iowait/steal-like rates);
//!   - 5 integer byte counters (network/disk; half of them in 512-byte sectors);
//!   - 10 integer gauges (memory bytes in 4 KiB pages, small process counts);
//!   - 1 load average (2 decimals, slow random walk);
//!   - 6 decimal gauges (whole-degree temperatures; 9-decimal scrape durations);
//!   - 1 gauge that ends with a staleness marker (a series that went away);
//!   - 5 steady counters (+1, +2 or +12 per scrape, e.g. request counters).
//!
//!   With jitter 0 (timestamps aligned to the grid, as Prometheus does within 2 ms) this mix
//!   gives Prometheus ~1.3 B/sample with 97% zero delta-of-deltas and ~70% repeated values,
//!   close to the published real-data figures (1.1-1.4 B/sample, >95%, ~60%).
//! * [`Shape::Noisy`]: timestamps with jitter uniform in 0..500 ms; every value changes:
//!   2-decimal random walks, random byte-counter increments, 4 KiB-page memory walks,
//!   4-decimal ratios uniform in [0, 1), 6-decimal latencies.
//! * [`Shape::RandomFloat`]: the noisy timestamps with full-precision random doubles in [0, 1):
//!   incompressible values, shown for honesty (no decimal form exists).
#![allow(dead_code, unreachable_pub)]

use model::Sample;

/// Maximum timestamp jitter of the realistic shape, ms.
pub const JITTER_MS: u64 = 2;

/// A deterministic SplitMix64 generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// A family of chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Realistic,
    Noisy,
    RandomFloat,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Realistic => "realistic",
            Shape::Noisy => "noisy",
            Shape::RandomFloat => "random-float",
        }
    }
}

/// `chunks` chunks of `n` samples each of `shape`, deterministic in `seed`.
pub fn chunks(shape: Shape, chunks: usize, n: usize, seed: u64) -> Vec<Vec<Sample>> {
    chunks_with_jitter(shape, chunks, n, seed, JITTER_MS)
}

/// As [`chunks`], with the realistic shape's jitter bound set to `jitter_ms`.
pub fn chunks_with_jitter(
    shape: Shape,
    chunks: usize,
    n: usize,
    seed: u64,
    jitter_ms: u64,
) -> Vec<Vec<Sample>> {
    let mut rng = Rng::new(seed);
    (0..chunks)
        .map(|c| {
            let t0 = 1_700_000_000_000 + (c as i64 % 50) * 137;
            let ts = match shape {
                Shape::Realistic => timestamps(&mut rng, t0, n, jitter_ms, 0.01),
                Shape::Noisy | Shape::RandomFloat => timestamps(&mut rng, t0, n, 499, 0.0),
            };
            let vs = match shape {
                Shape::Realistic => realistic_values(&mut rng, n),
                Shape::Noisy => noisy_values(&mut rng, n),
                Shape::RandomFloat => (0..n).map(|_| rng.unit()).collect(),
            };
            ts.into_iter()
                .zip(vs)
                .map(|(t, v)| Sample::new(t, v))
                .collect()
        })
        .collect()
}

/// Grid timestamps at 15 s plus jitter in `0..=jitter` ms and hiccups of 10..60 ms.
fn timestamps(rng: &mut Rng, t0: i64, n: usize, jitter: u64, hiccup: f64) -> Vec<i64> {
    (0..n as i64)
        .map(|i| {
            let mut j = rng.below(jitter + 1) as i64;
            if rng.chance(hiccup) {
                j += 10 + rng.below(50) as i64;
            }
            t0 + i * 15_000 + j
        })
        .collect()
}

/// The realistic series kinds with their weights (of 100).
pub const REALISTIC_KINDS: [(&str, u64); 9] = [
    ("constant", 55),
    ("rare-counter", 12),
    ("cpu-seconds", 5),
    ("byte-counter", 5),
    ("int-gauge", 10),
    ("load-avg", 1),
    ("decimals", 6),
    ("stale-end", 1),
    ("steady-counter", 5),
];

/// One realistic series' values, its kind drawn by weight.
fn realistic_values(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut k = rng.below(100);
    let kind = REALISTIC_KINDS
        .iter()
        .position(|&(_, w)| {
            let hit = k < w;
            k = k.saturating_sub(w);
            hit
        })
        .unwrap_or(0);
    kind_values(rng, kind, n)
}

/// Values of realistic kind number `kind` (an index into [`REALISTIC_KINDS`]).
pub fn kind_values(rng: &mut Rng, kind: usize, n: usize) -> Vec<f64> {
    match kind {
        0 => constant(rng, n),
        1 => rare_counter(rng, n),
        2 => cpu_seconds(rng, n),
        3 => byte_counter(rng, n),
        4 => int_gauge(rng, n),
        5 => load_avg(rng, n),
        6 => three_decimals(rng, n),
        8 => steady_counter(rng, n),
        _ => {
            let mut v = int_gauge(rng, n);
            if let Some(last) = v.last_mut() {
                *last = f64::from_bits(model::STALE_NAN_BITS);
            }
            v
        }
    }
}

/// `chunks` realistic chunks of kind number `kind`.
pub fn kind_chunks(
    kind: usize,
    chunks: usize,
    n: usize,
    seed: u64,
    jitter_ms: u64,
) -> Vec<Vec<Sample>> {
    let mut rng = Rng::new(seed);
    (0..chunks)
        .map(|_| {
            let ts = timestamps(&mut rng, 1_700_000_000_000, n, jitter_ms, 0.01);
            let vs = kind_values(&mut rng, kind, n);
            ts.into_iter()
                .zip(vs)
                .map(|(t, v)| Sample::new(t, v))
                .collect()
        })
        .collect()
}

fn constant(rng: &mut Rng, n: usize) -> Vec<f64> {
    let v = match rng.below(7) {
        0..=3 => 0.0,
        4 => 1.0,
        5 => (16_000_000_000 + rng.below(1 << 30) * 4096) as f64,
        _ => [0.5, 2.25, 1e-3][rng.below(3) as usize],
    };
    vec![v; n]
}

fn rare_counter(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut c = rng.below(1000) as f64;
    (0..n)
        .map(|_| {
            if rng.chance(0.02) {
                c += 1.0;
            }
            c
        })
        .collect()
}

fn steady_counter(rng: &mut Rng, n: usize) -> Vec<f64> {
    let step = [1u64, 1, 2, 12][rng.below(4) as usize];
    let c = rng.below(1 << 20);
    (0..n as u64).map(|i| (c + i * step) as f64).collect()
}

fn cpu_seconds(rng: &mut Rng, n: usize) -> Vec<f64> {
    let rate = [1450u64, 150, 40, 3, 0][rng.below(5) as usize];
    let mut ticks = 100_000_000 + rng.below(50_000_000);
    (0..n)
        .map(|_| {
            let noise = rate / 10 + 1;
            ticks += (rate + rng.below(2 * noise + 1)).saturating_sub(noise);
            ticks as f64 / 100.0
        })
        .collect()
}

fn byte_counter(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mean = [5_000u64, 100_000, 2_000_000][rng.below(3) as usize];
    let unit = if rng.chance(0.5) { 512 } else { 1 };
    let mut c = rng.below(1 << 40) / unit * unit;
    (0..n)
        .map(|_| {
            c += (mean / 2 + rng.below(mean)) / unit * unit;
            c as f64
        })
        .collect()
}

fn int_gauge(rng: &mut Rng, n: usize) -> Vec<f64> {
    if rng.chance(0.5) {
        let mut pages = 1_000_000 + rng.below(1_000_000) as i64;
        (0..n)
            .map(|_| {
                pages += rng.below(401) as i64 - 200;
                (pages * 4096) as f64
            })
            .collect()
    } else {
        (0..n).map(|_| rng.below(6) as f64).collect()
    }
}

fn load_avg(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut hundredths = 50 + rng.below(150) as i64;
    (0..n)
        .map(|_| {
            hundredths = (hundredths + rng.below(11) as i64 - 5).max(0);
            hundredths as f64 / 100.0
        })
        .collect()
}

fn three_decimals(rng: &mut Rng, n: usize) -> Vec<f64> {
    if rng.chance(0.5) {
        let mut deg = 40 + rng.below(20) as i64;
        (0..n)
            .map(|_| {
                if rng.chance(0.1) {
                    deg += rng.below(3) as i64 - 1;
                }
                (deg * 1000) as f64 / 1000.0
            })
            .collect()
    } else {
        (0..n)
            .map(|_| (5_000_000 + rng.below(20_000_000)) as f64 / 1e9)
            .collect()
    }
}

/// One noisy series' values.
fn noisy_values(rng: &mut Rng, n: usize) -> Vec<f64> {
    match rng.below(100) {
        0..25 => {
            let mut c = 2000 + rng.below(4000) as i64;
            (0..n)
                .map(|_| {
                    c += rng.below(101) as i64 - 50;
                    c as f64 / 100.0
                })
                .collect()
        }
        25..50 => {
            let mut c = rng.below(1 << 40);
            (0..n)
                .map(|_| {
                    c += 1 + rng.below(1_000_000);
                    c as f64
                })
                .collect()
        }
        50..70 => {
            let mut pages = 1_000_000 + rng.below(1_000_000) as i64;
            (0..n)
                .map(|_| {
                    pages += rng.below(20_001) as i64 - 10_000;
                    (pages * 4096) as f64
                })
                .collect()
        }
        70..85 => (0..n)
            .map(|_| rng.below(10_000) as f64 / 10_000.0)
            .collect(),
        _ => (0..n)
            .map(|_| (1_000 + rng.below(2_000_000)) as f64 / 1e6)
            .collect(),
    }
}
