//! Parser throughput on real scrapes, in bytes per second (criterion reports MiB/s).
//!
//! `cargo bench -p collector --bench exposition`

use std::hint::black_box;

use collector::exposition::{Entry, Format, Parser};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const NODE_EXPORTER: &str = include_str!("../tests/fixtures/node_exporter.prom");
const PROMETHEUS: &str = include_str!("../tests/fixtures/prometheus.prom");
const PYTHON_CLIENT: &str = include_str!("../tests/fixtures/python_client.om");

/// Parses every entry and touches each sample's labels, as an appender would.
fn consume(input: &str, format: Format, strict: bool) -> usize {
    let parser = Parser::new(input, format);
    let parser = if strict { parser.strict() } else { parser };
    let mut n = 0;
    for entry in parser {
        match entry {
            Ok(Entry::Sample(s)) => n += s.labels.len() + 1,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("exposition");
    for (name, input, format) in [
        ("node_exporter", NODE_EXPORTER, Format::PrometheusText),
        ("prometheus", PROMETHEUS, Format::PrometheusText),
        ("python_client_om", PYTHON_CLIENT, Format::OpenMetrics),
    ] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| consume(black_box(input), format, false))
        });
    }
    group.throughput(Throughput::Bytes(NODE_EXPORTER.len() as u64));
    group.bench_function("node_exporter_strict", |b| {
        b.iter(|| consume(black_box(NODE_EXPORTER), Format::PrometheusText, true))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
