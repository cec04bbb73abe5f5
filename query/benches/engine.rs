//! Engine throughput over the real storage (`tsdb`) and over the in-memory model storage.
//!
//! `cargo bench -p query --bench engine`
//!
//! * `rate_1m_samples/*`: `rate(x[window])` as an instant query whose window holds every
//!   sample of 1000 series × 1000 samples (1M samples); criterion's throughput is samples/s,
//!   so ns per sample is 1e9 / that figure. `tsdb_decoding` has the read cache off, so every
//!   iteration reads and decodes the chunks; `tsdb_cached` is a repeated query served from
//!   the read cache; `memory` reads the model storage.
//! * `range_10k_series_6h/*`: range queries over 10k series × 6 h at 15 s (14.4M samples),
//!   step 60 s.

/// The allocator the promlet binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::{Appendable, Labels, MemStorage, Queryable, Sample, SeriesRef};
use query::{Engine, EngineOptions};

/// Scrape interval of the generated data, ms.
const INTERVAL: i64 = 15_000;
/// Start of the generated data, ms.
const T0: i64 = 1_767_225_600_000;

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "http_requests_total"),
        ("instance", format!("host{}:9100", i / 10).as_str()),
        ("job", format!("job{}", i % 10).as_str()),
        ("code", ["200", "404", "500"][i % 3]),
    ])
    .expect("valid labels")
}

fn value(i: usize, k: i64) -> f64 {
    (k * (1 + (i % 5) as i64)) as f64
}

/// Appends `series × samples` counter samples to `db`.
fn fill(db: &dyn Appendable, series: usize, samples: i64) {
    let all: Vec<Labels> = (0..series).map(labels).collect();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; series];
    for k in 0..samples {
        let mut app = db.appender();
        for (i, l) in all.iter().enumerate() {
            refs[i] = Some(
                app.append(refs[i], l, T0 + k * INTERVAL, value(i, k))
                    .expect("append"),
            );
        }
        app.commit().expect("commit");
    }
}

/// The same data in the in-memory model storage.
fn mem(series: usize, samples: i64) -> MemStorage {
    let m = MemStorage::new();
    for i in 0..series {
        let s: Vec<Sample> = (0..samples)
            .map(|k| Sample {
                t: T0 + k * INTERVAL,
                v: value(i, k),
            })
            .collect();
        m.add_series(&labels(i), &s).expect("add");
    }
    m
}

fn engine() -> Engine {
    Engine::new(EngineOptions {
        max_samples: usize::MAX,
        ..EngineOptions::default()
    })
}

fn bench_rate(c: &mut Criterion) {
    const SERIES: usize = 1000;
    const SAMPLES: i64 = 1000;
    let dir = tempfile::tempdir().expect("tempdir");
    let uncached = tsdb::Options {
        read_cache_bytes: 0,
        ..tsdb::Options::default()
    };
    let db = tsdb::Db::open(dir.path(), uncached).expect("open");
    fill(&db, SERIES, SAMPLES);
    let dir2 = tempfile::tempdir().expect("tempdir");
    let cached = tsdb::Db::open(dir2.path(), tsdb::Options::default()).expect("open");
    fill(&cached, SERIES, SAMPLES);
    let m = mem(SERIES, SAMPLES);
    let end = T0 + (SAMPLES - 1) * INTERVAL;
    let window = format!("{}s", SAMPLES * INTERVAL / 1000);
    let q = query::parse(&format!("rate(http_requests_total[{window}])")).expect("parse");
    let e = engine();
    let mut g = c.benchmark_group("rate_1m_samples");
    g.throughput(Throughput::Elements(SERIES as u64 * SAMPLES as u64));
    g.sample_size(20);
    let storages: [(&str, &dyn Queryable); 3] = [
        ("tsdb_decoding", &db),
        ("tsdb_cached", &cached),
        ("memory", &m),
    ];
    for (name, s) in storages {
        g.bench_function(name, |b| {
            b.iter(|| {
                let r = e.instant(s, &q, end).expect("query");
                assert!(
                    matches!(r.value, query::engine::Value::Vector(ref v) if v.len() == SERIES)
                );
            })
        });
    }
    g.finish();
}

fn bench_range(c: &mut Criterion) {
    const SERIES: usize = 10_000;
    const SAMPLES: i64 = 6 * 3600 * 1000 / INTERVAL;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = tsdb::Db::open(dir.path(), tsdb::Options::default()).expect("open");
    fill(&db, SERIES, SAMPLES);
    let end = T0 + (SAMPLES - 1) * INTERVAL;
    let e = engine();
    let mut g = c.benchmark_group("range_10k_series_6h");
    g.sample_size(10);
    for (name, text) in [
        ("sum_rate", "sum(rate(http_requests_total[5m]))"),
        (
            "sum_by_job_rate",
            "sum by (job) (rate(http_requests_total[5m]))",
        ),
        ("selector", "http_requests_total{code=\"500\"}"),
        (
            "ratio",
            "sum by (job) (rate(http_requests_total{code=\"500\"}[5m])) / sum by (job) (rate(http_requests_total[5m]))",
        ),
    ] {
        let q = query::parse(text).expect("parse");
        g.bench_function(name, |b| {
            b.iter(|| e.range(&db, &q, T0, end, 60_000).expect("query"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_rate, bench_range);
criterion_main!(benches);
