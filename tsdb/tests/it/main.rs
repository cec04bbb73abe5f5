//! Integration tests of the tsdb: one binary, one module per scenario.

#![allow(clippy::unwrap_used)]

mod churn;
mod crash;
mod damage;
mod faults;
mod index;
mod late;
mod model_check;
mod read_cache;
mod recovery;
mod retention;
mod rules;

use model::{Appendable, Labels, Matcher, Queryable, Sample, SelectHints, Series};
use tsdb::{Db, Options};

pub(crate) fn labels(name: &str, job: &str) -> Labels {
    Labels::from_pairs(&[("__name__", name), ("job", job)]).unwrap()
}

/// Options with small partitions and segments so tests exercise sealing, rotation and retention.
pub(crate) fn small_options() -> Options {
    Options {
        partition_ms: 3_600_000,
        retention_ms: 0,
        chunk_max_samples: 16,
        chunk_max_age_ms: 3_600_000,
        wal_segment_bytes: 8192,
        ..Options::default()
    }
}

pub(crate) fn append_all(db: &Db, series: &[(Labels, Vec<Sample>)]) {
    let mut app = db.appender();
    for (l, samples) in series {
        for s in samples {
            app.append(None, l, s.t, s.v).unwrap();
        }
    }
    app.commit().unwrap();
}

pub(crate) fn select_all(db: &dyn Queryable, mint: i64, maxt: i64) -> Vec<Series> {
    let q = db.querier(mint, maxt).unwrap();
    let all = Matcher::new(model::MatchOp::Regex, "__name__", ".*").unwrap();
    q.select(&SelectHints::default(), &[all])
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Compares series by labels and the bits of every sample.
pub(crate) fn assert_same(got: &[Series], want: &[Series]) {
    assert_eq!(got.len(), want.len(), "series count");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.labels, w.labels);
        assert_eq!(g.samples.len(), w.samples.len(), "samples of {}", g.labels);
        for (a, b) in g.samples.iter().zip(&w.samples) {
            assert!(a.bit_eq(b), "{}: {a:?} != {b:?}", g.labels);
        }
    }
}
