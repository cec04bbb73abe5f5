//! Min-of-runs timings of the codecs on the generated shapes, steadier than criterion's means
//! on a shared machine.
//!
//! `cargo run -p chunkenc --release --example timing [dec|enc|app|xdec] [shape] [runs]`
//!
//! Each run processes 200 chunks of 120 samples; the best run is reported in ns/sample:
//! sealed decode, sealed encode, `XorChunk` append and `XorChunk` decode.
#[path = "../benches/shapes/mod.rs"]
mod shapes;
use chunkenc::{XorChunk, decode_sealed, encode_sealed};
use shapes::Shape;
use std::hint::black_box;
use std::time::Instant;

fn min_ns(samples: usize, runs: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_nanos() as f64 / samples as f64);
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = args.get(1).cloned();
    let only_shape = args.get(2).cloned();
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    for shape in [Shape::Realistic, Shape::Noisy, Shape::RandomFloat] {
        if only_shape.as_deref().is_some_and(|s| s != shape.name()) {
            continue;
        }
        let chunks = shapes::chunks(shape, 200, 120, 1);
        let n: usize = chunks.iter().map(|c| c.len()).sum();
        let bytes: Vec<Vec<u8>> = chunks
            .iter()
            .map(|c| {
                let mut b = Vec::new();
                encode_sealed(c, &mut b);
                b
            })
            .collect();
        let xors: Vec<XorChunk> = chunks
            .iter()
            .map(|c| {
                let mut x = XorChunk::new();
                c.iter().for_each(|s| x.append(s.t, s.v));
                x
            })
            .collect();
        let mut out = Vec::with_capacity(240);
        let mut buf = Vec::with_capacity(4096);
        let run = |p: &str| only.as_deref().is_none_or(|o| o == p);
        let mut line = format!("{:<13}", shape.name());
        if run("dec") {
            let v = min_ns(n, runs, || {
                for b in &bytes {
                    out.clear();
                    let _ = decode_sealed(black_box(b), &mut out);
                    black_box(&out);
                }
            });
            line += &format!(" sealed decode {v:5.2}");
        }
        if run("enc") {
            let v = min_ns(n, runs, || {
                for c in &chunks {
                    buf.clear();
                    encode_sealed(black_box(c), &mut buf);
                    black_box(&buf);
                }
            });
            line += &format!(" encode {v:6.2}");
        }
        if run("app") {
            let v = min_ns(n, runs, || {
                for c in &chunks {
                    let mut x = XorChunk::new();
                    c.iter()
                        .for_each(|s| x.append(black_box(s.t), black_box(s.v)));
                    black_box(&x);
                }
            });
            line += &format!(" xor append {v:6.2}");
        }
        if run("xdec") {
            let v = min_ns(n, runs, || {
                for x in &xors {
                    out.clear();
                    black_box(x).decode_into(&mut out);
                    black_box(&out);
                }
            });
            line += &format!(" xor decode {v:5.2}");
        }
        println!("{line} ns/sample");
    }
}
