//! Profiling aid: fills a tsdb with 1000 series × 1000 samples, then evaluates a query many
//! times. `cargo run --release -p query --example profile_rate -- 'QUERY' [ITERATIONS] [range|big]`
//! (`range`: a 6 h range query over 10k series; `big`: an instant query over the same data).

/// The allocator the promlet binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use model::{Appendable, Labels, SeriesRef};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "rate(x[15000s])".into());
    let iterations: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mode = args.get(3).map_or("", String::as_str);
    let range = mode == "range";
    let (series, samples) = if mode.is_empty() {
        (1000, 1000)
    } else {
        (10_000, 1440)
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = tsdb::Db::open(dir.path(), tsdb::Options::default()).expect("open");
    let t0 = 1_767_225_600_000i64;
    let all: Vec<Labels> = (0..series)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", "x"),
                ("instance", format!("host{}", i / 10).as_str()),
                ("job", format!("job{}", i % 10).as_str()),
            ])
            .expect("labels")
        })
        .collect();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; series];
    for k in 0..samples {
        let mut app = db.appender();
        for (i, l) in all.iter().enumerate() {
            refs[i] = Some(
                app.append(refs[i], l, t0 + k * 15_000, (k * (1 + i as i64 % 5)) as f64)
                    .expect("append"),
            );
        }
        app.commit().expect("commit");
    }
    let engine = query::Engine::new(query::EngineOptions {
        max_samples: usize::MAX,
        ..Default::default()
    });
    let q = query::parse(&text).expect("parse");
    let end = t0 + (samples - 1) * 15_000;
    eprintln!("filled; querying");
    let start = Instant::now();
    for _ in 0..iterations {
        if range {
            engine.range(&db, &q, t0, end, 60_000).expect("query");
        } else {
            engine.instant(&db, &q, end).expect("query");
        }
    }
    eprintln!("{:?} per query", start.elapsed() / iterations as u32);
}
