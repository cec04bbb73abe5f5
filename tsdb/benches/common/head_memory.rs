//! The workload shared by the head-memory benches (see `../head_memory.rs`).

use model::{Appendable, Labels, SeriesRef};
use tsdb::{Db, Options};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A node_exporter-like mix: half the series constant, 30 % counters in 0.01 steps (CPU
/// seconds), 20 % integer gauges moving in 4 KiB pages.
pub(crate) fn node_like_value(i: usize, k: i64) -> f64 {
    match i % 10 {
        0..=4 => (i % 3) as f64,
        5..=7 => (k * (1480 + (k * 7 + i as i64) % 20) + i as i64) as f64 / 100.0,
        _ => (1_000_000 + ((k * 31 + i as i64) % 17) * 4096) as f64,
    }
}

/// Runs the workload; `live_heap` reports live heap bytes when the allocator counts them.
pub(crate) fn run(live_heap: Option<fn() -> i64>) {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let series = env_or("SERIES", 1_000_000);
    let samples = env_or("SAMPLES", 120);
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options {
        cache_bytes: 8 << 20,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).expect("open");
    let labels: Vec<Labels> = (0..series)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", format!("node_metric_{}", i % 500).as_str()),
                ("instance", format!("host{}:9100", i / 500).as_str()),
                ("job", "node"),
                ("device", format!("dev{}", i % 7).as_str()),
            ])
            .expect("labels")
        })
        .collect();
    let base = rss_bytes();
    let base_heap = live_heap.map(|f| f());
    let mut refs: Vec<Option<SeriesRef>> = vec![None; series];
    let start = std::time::Instant::now();
    for k in 0..samples as i64 {
        let t = 1_767_225_600_000 + k * 15_000;
        for (batch, chunk) in labels.chunks(10_000).enumerate() {
            let mut app = db.appender();
            for (j, l) in chunk.iter().enumerate() {
                let i = batch * 10_000 + j;
                let v = node_like_value(i, k);
                refs[i] = Some(app.append(refs[i], l, t, v).expect("append"));
            }
            app.commit().expect("commit");
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let grown = rss_bytes().saturating_sub(base);
    let heap = live_heap.zip(base_heap).map(|(f, base)| f() - base);
    let stats = db.stats();
    println!(
        "series {series}, samples per series {samples}, appended {}",
        stats.samples_appended
    );
    let note = if live_heap.is_some() {
        " (slowed by the counting allocator)"
    } else {
        ""
    };
    println!(
        "append rate {:.0} samples/s including series creation{note}",
        stats.samples_appended as f64 / elapsed
    );
    println!(
        "resident memory growth {} bytes = {:.0} bytes per series",
        grown,
        grown as f64 / series as f64
    );
    if let Some(heap) = heap {
        println!(
            "live heap growth {heap} bytes = {:.0} bytes per series (head, index caches, fjall memtables and block cache)",
            heap as f64 / series as f64
        );
    }
    println!(
        "head estimate {} bytes = {:.0} bytes per series",
        stats.head_bytes,
        stats.head_bytes as f64 / series as f64
    );
}
