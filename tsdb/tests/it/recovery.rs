//! Reopening a database gives back what was committed, whether in sealed chunks or only in
//! the WAL; damage to the WAL tail is cut off; damaged table files never cause a panic.

use model::{Appendable, Sample};
use tsdb::Db;

use crate::{append_all, assert_same, labels, select_all, small_options};

fn ramp(n: i64, step: i64) -> Vec<Sample> {
    (0..n)
        .map(|i| Sample::new(1_000_000 + i * step, i as f64 * 0.25))
        .collect()
}

#[test]
fn reopen_gives_back_sealed_and_open_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let series = vec![
        (labels("a", "x"), ramp(100, 15_000)),
        (labels("b", "y"), ramp(7, 15_000)),
    ];
    let before = {
        let db = Db::open(dir.path(), small_options()).unwrap();
        for s in &series {
            // One commit per sample, so many WAL records and several sealed chunks.
            for p in &s.1 {
                append_all(&db, &[(s.0.clone(), vec![*p])]);
            }
        }
        select_all(&db, i64::MIN, i64::MAX)
    };
    assert_eq!(before[0].samples.len(), 100);
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert_same(&select_all(&db, i64::MIN, i64::MAX), &before);
    // And appending continues where it left off, with the same rules.
    let mut app = db.appender();
    let err = app
        .append(None, &labels("a", "x"), 1_000_000, 9.0)
        .unwrap_err();
    assert!(matches!(
        err,
        model::Error::OutOfOrderSample | model::Error::DuplicateSampleForTimestamp
    ));
    app.append(None, &labels("a", "x"), 1_000_000 + 100 * 15_000, 7.0)
        .unwrap();
    app.commit().unwrap();
    drop(db);
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert_eq!(select_all(&db, i64::MIN, i64::MAX)[0].samples.len(), 101);
}

#[test]
fn a_torn_wal_tail_loses_only_the_torn_commit() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), small_options()).unwrap();
        append_all(&db, &[(labels("a", "x"), ramp(3, 1000))]);
        append_all(
            &db,
            &[(labels("a", "x"), vec![Sample::new(2_000_000, 5.0)])],
        );
    }
    let wal = dir.path().join("wal");
    let mut segs: Vec<_> = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segs.sort();
    let last_with_data = segs
        .iter()
        .rev()
        .find(|p| std::fs::metadata(p).unwrap().len() > 8)
        .unwrap();
    let len = std::fs::metadata(last_with_data).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(last_with_data)
        .unwrap();
    f.set_len(len - 2).unwrap();
    drop(f);
    let db = Db::open(dir.path(), small_options()).unwrap();
    let got = select_all(&db, i64::MIN, i64::MAX);
    assert_eq!(got[0].samples, ramp(3, 1000));
}

#[test]
fn damaged_table_files_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    db.backfill(vec![(labels("a", "x"), ramp(50, 1000))], &mut |_| {})
        .unwrap();
    db.backfill(vec![(labels("b", "x"), ramp(50, 1000))], &mut |_| {})
        .unwrap();
    drop(db);
    // Flip a byte in the middle of every table file: opening and reading must then either
    // succeed or return an error, never panic.
    let kv = dir.path().join("kv");
    let mut files = Vec::new();
    collect_files(&kv, &mut files);
    for f in files
        .iter()
        .filter(|f| f.to_string_lossy().contains("tables"))
    {
        let mut b = std::fs::read(f).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 0x55;
        std::fs::write(f, b).unwrap();
    }
    match Db::open(dir.path(), small_options()) {
        Err(e) => assert!(!e.to_string().is_empty()),
        Ok(db) => {
            let q = model::Queryable::querier(&db, i64::MIN, i64::MAX).unwrap();
            let m = model::Matcher::new(model::MatchOp::Regex, "__name__", ".*").unwrap();
            match q.select(&model::SelectHints::default(), &[m]) {
                Err(e) => assert!(!e.to_string().is_empty()),
                Ok(set) => {
                    for s in set {
                        if let Err(e) = s {
                            assert!(!e.to_string().is_empty());
                        }
                    }
                }
            }
        }
    }
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn wal_stays_bounded_while_chunks_seal() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    for i in 0..2000i64 {
        let batch: Vec<_> = (0..10)
            .map(|j| {
                (
                    labels("m", &format!("j{j}")),
                    vec![Sample::new(i * 1000, i as f64)],
                )
            })
            .collect();
        append_all(&db, &batch);
    }
    let wal_bytes = tsdb::dir_disk_bytes(&dir.path().join("wal"));
    // 20k samples at ~12 bytes each would be 240 KB if nothing were truncated.
    assert!(wal_bytes < 120_000, "wal holds {wal_bytes} bytes");
    drop(db);
    let db = Db::open(dir.path(), small_options()).unwrap();
    let got = select_all(&db, i64::MIN, i64::MAX);
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|s| s.samples.len() == 2000));
}
