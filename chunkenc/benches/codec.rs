//! Codec benchmarks over the generated shapes of `shapes/mod.rs` (120-sample chunks).
//!
//! `cargo bench -p chunkenc` reports time per iteration and throughput in samples
//! (elements): ns/sample = 1e9 / (elements per second).
//!
//! * `sealed_decode/<shape>`: [`decode_sealed`] into a reused `Vec`.
//! * `sealed_encode/<shape>`: [`encode_sealed`] into a reused `Vec`.
//! * `xor_append/<shape>`: [`XorChunk::append`] of every sample into fresh chunks.
//! * `xor_decode/<shape>`: [`XorChunk::decode_into`] into a reused `Vec`.

mod shapes;

use chunkenc::{XorChunk, decode_sealed, encode_sealed};
use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use model::Sample;
use shapes::Shape;
use std::hint::black_box;
use std::time::Duration;

const CHUNKS: usize = 200;
const N: usize = 120;
const SHAPES: [Shape; 3] = [Shape::Realistic, Shape::Noisy, Shape::RandomFloat];

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements((CHUNKS * N) as u64));
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g
}

fn sealed(chunks: &[Vec<Sample>]) -> Vec<Vec<u8>> {
    chunks
        .iter()
        .map(|c| {
            let mut b = Vec::new();
            encode_sealed(c, &mut b);
            b
        })
        .collect()
}

fn xors(chunks: &[Vec<Sample>]) -> Vec<XorChunk> {
    chunks
        .iter()
        .map(|c| {
            let mut x = XorChunk::new();
            c.iter().for_each(|s| x.append(s.t, s.v));
            x
        })
        .collect()
}

fn bench_sealed_decode(c: &mut Criterion) {
    let mut g = group(c, "sealed_decode");
    for shape in SHAPES {
        let bytes = sealed(&shapes::chunks(shape, CHUNKS, N, 1));
        let mut out = Vec::with_capacity(N);
        g.bench_function(shape.name(), |b| {
            b.iter(|| {
                for chunk in &bytes {
                    out.clear();
                    let r = decode_sealed(black_box(chunk), &mut out);
                    black_box(r.is_ok());
                    black_box(&out);
                }
            })
        });
    }
    g.finish();
}

fn bench_sealed_encode(c: &mut Criterion) {
    let mut g = group(c, "sealed_encode");
    for shape in SHAPES {
        let chunks = shapes::chunks(shape, CHUNKS, N, 1);
        let mut out = Vec::with_capacity(4096);
        g.bench_function(shape.name(), |b| {
            b.iter(|| {
                for chunk in &chunks {
                    out.clear();
                    encode_sealed(black_box(chunk), &mut out);
                    black_box(&out);
                }
            })
        });
    }
    g.finish();
}

fn bench_xor_append(c: &mut Criterion) {
    let mut g = group(c, "xor_append");
    for shape in SHAPES {
        let chunks = shapes::chunks(shape, CHUNKS, N, 1);
        g.bench_function(shape.name(), |b| {
            b.iter(|| {
                for chunk in &chunks {
                    let mut x = XorChunk::new();
                    chunk
                        .iter()
                        .for_each(|s| x.append(black_box(s.t), black_box(s.v)));
                    black_box(&x);
                }
            })
        });
    }
    g.finish();
}

fn bench_xor_decode(c: &mut Criterion) {
    let mut g = group(c, "xor_decode");
    for shape in SHAPES {
        let chunks = xors(&shapes::chunks(shape, CHUNKS, N, 1));
        let mut out = Vec::with_capacity(N);
        g.bench_function(shape.name(), |b| {
            b.iter(|| {
                for x in &chunks {
                    out.clear();
                    black_box(x).decode_into(&mut out);
                    black_box(&out);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_sealed_decode,
    bench_sealed_encode,
    bench_xor_append,
    bench_xor_decode
);
criterion_main!(benches);
