//! Model-based test: random appends, commits, rollbacks, reopenings and queries against the
//! database and against `model::MemStorage` give the same answers.

use model::{Appendable, Labels, MemStorage, Sample};
use proptest::prelude::*;
use tsdb::Db;

use crate::{assert_same, select_all, small_options};

#[derive(Debug, Clone)]
enum Op {
    /// Append to series `series` at `t` (relative step) with `v`.
    Append {
        series: u8,
        dt: i64,
        v: f64,
    },
    Commit,
    Rollback,
    Reopen,
    Query {
        from: i64,
        len: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let value = prop_oneof![
        4 => (0i64..100).prop_map(|i| i as f64 / 4.0),
        1 => any::<f64>(),
        1 => Just(model::stale_nan()),
    ];
    prop_oneof![
        20 => (0u8..4, -20_000i64..60_000, value).prop_map(|(series, dt, v)| Op::Append { series, dt, v }),
        5 => Just(Op::Commit),
        1 => Just(Op::Rollback),
        1 => Just(Op::Reopen),
        2 => (0i64..4_000_000, 0i64..4_000_000).prop_map(|(from, len)| Op::Query { from, len }),
    ]
}

fn series_labels(i: u8) -> Labels {
    Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn db_behaves_like_the_model(ops in proptest::collection::vec(op(), 1..300)) {
        let dir = tempfile::tempdir().unwrap();
        let mem = MemStorage::new();
        let mut db = Some(Db::open(dir.path(), small_options()).unwrap());
        let mut clock = [0i64; 4];
        let mut batch: Vec<(Labels, Sample)> = Vec::new();
        for op in ops {
            let d = db.as_ref().unwrap();
            match op {
                Op::Append { series, dt, v } => {
                    let t = clock[series as usize] + dt;
                    clock[series as usize] = clock[series as usize].max(t);
                    batch.push((series_labels(series), Sample::new(t, v)));
                }
                Op::Commit | Op::Rollback | Op::Reopen => {
                    let commit = !matches!(op, Op::Rollback);
                    let (mut a, mut b) = (d.appender(), mem.appender());
                    for (l, s) in batch.drain(..) {
                        let ra = a.append(None, &l, s.t, s.v).map(|_| ()).map_err(|e| e.to_string());
                        let rb = b.append(None, &l, s.t, s.v).map(|_| ()).map_err(|e| e.to_string());
                        prop_assert_eq!(ra, rb);
                    }
                    if commit { a.commit().unwrap(); b.commit().unwrap(); } else { a.rollback(); b.rollback(); }
                    if matches!(op, Op::Reopen) {
                        drop(db.take());
                        db = Some(Db::open(dir.path(), small_options()).unwrap());
                    }
                }
                Op::Query { from, len } => {
                    assert_same(&select_all(d, from, from + len), &select_all(&mem, from, from + len));
                }
            }
        }
        let d = db.as_ref().unwrap();
        assert_same(&select_all(d, i64::MIN, i64::MAX), &select_all(&mem, i64::MIN, i64::MAX));
    }
}
