//! The read cache never serves stale chunks: writes after a read, through the appender or
//! backfill, and retention, are all seen by the next read.

use model::Sample;
use tsdb::Db;

use super::{append_all, labels, select_all, small_options};

/// Samples `t = from, from + step, ...` (`n` of them) with value `t`.
fn samples(from: i64, n: i64, step: i64) -> Vec<Sample> {
    (0..n)
        .map(|i| Sample::new(from + i * step, (from + i * step) as f64))
        .collect()
}

fn count(db: &Db) -> usize {
    select_all(db, i64::MIN, i64::MAX)
        .iter()
        .map(|s| s.samples.len())
        .sum()
}

#[test]
fn appended_chunks_are_seen_after_a_cached_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let l = labels("m", "a");
    // 40 samples: two chunks of 16 sealed into the store, 8 in the head.
    append_all(&db, &[(l.clone(), samples(1000, 40, 1000))]);
    assert_eq!(count(&db), 40);
    // Read again (now cached), then seal more chunks of the same series and partition.
    assert_eq!(count(&db), 40);
    append_all(&db, &[(l, samples(41_000, 40, 1000))]);
    assert_eq!(count(&db), 80);
}

#[test]
fn backfilled_chunks_are_seen_after_a_cached_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let l = labels("m", "a");
    db.backfill(vec![(l.clone(), samples(1000, 40, 2000))], &mut |_| {})
        .unwrap();
    assert_eq!(count(&db), 40);
    // Fill the gaps of the same partition: the merged chunks must replace the cached ones.
    db.backfill(vec![(l, samples(2000, 40, 2000))], &mut |_| {})
        .unwrap();
    assert_eq!(count(&db), 80);
}
