//! Append throughput through the `Appender` API, as a scrape loop uses it: one commit per
//! scrape of `SERIES` series, references cached after the first scrape.
//!
//! `cargo bench -p tsdb --bench append`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::{Appendable, Labels, SeriesRef};
use tsdb::{Db, FsyncPolicy, Options};

const SERIES: usize = 10_000;

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", format!("node_metric_{}", i % 100).as_str()),
        ("instance", format!("host{}:9100", i / 100).as_str()),
        ("job", "node"),
        ("cpu", (i % 8).to_string().as_str()),
    ])
    .expect("valid labels")
}

fn bench_append(c: &mut Criterion) {
    for (name, fsync) in [
        ("scrape_of_10k_series_cached_refs", FsyncPolicy::Never),
        (
            "scrape_of_10k_series_cached_refs_fsync_always",
            FsyncPolicy::Always,
        ),
    ] {
        bench_policy(c, name, fsync);
    }
}

/// One commit per iteration of `SERIES` samples, under the given WAL sync policy.
fn bench_policy(c: &mut Criterion, name: &str, fsync: FsyncPolicy) {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options {
        fsync,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).expect("open");
    let series: Vec<Labels> = (0..SERIES).map(labels).collect();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; SERIES];
    let mut scrape: i64 = 0;
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            scrape += 1;
            let t = 1_767_225_600_000 + scrape * 15_000 + scrape % 3;
            let mut app = db.appender();
            for (i, l) in series.iter().enumerate() {
                let v = (scrape as f64) * 0.25 + (i % 7) as f64;
                refs[i] = Some(app.append(refs[i], l, t, v).expect("append"));
            }
            app.commit().expect("commit");
        })
    });
    g.finish();
}

criterion_group!(benches, bench_append);
criterion_main!(benches);
