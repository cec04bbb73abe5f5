//! One full node collection (every node reader) on this host's `/proc` and `/sys`, and on
//! the fixture tree; the time per collection is what a `/metrics` scrape pays before
//! encoding.
//!
//! `cargo bench -p collector --bench node`

use std::hint::black_box;
use std::path::Path;

use collector::Collect;
use collector::node::{NodeCollector, NodeConfig};
use criterion::{Criterion, criterion_group, criterion_main};

fn run(node: &NodeCollector, out: &mut Vec<collector::Family>) -> usize {
    out.clear();
    match node.collect(out) {
        Ok(_) => out.iter().map(|f| f.samples.len()).sum(),
        Err(e) => panic!("{e}"),
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("node");
    let mut out = Vec::new();
    let host = match NodeCollector::new(&NodeConfig::default()) {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    };
    group.bench_function("collect_host", |b| {
        b.iter(|| black_box(run(&host, &mut out)))
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/node");
    let fixture = match NodeCollector::new(&NodeConfig::under(&root)) {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    };
    group.bench_function("collect_fixture", |b| {
        b.iter(|| black_box(run(&fixture, &mut out)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
