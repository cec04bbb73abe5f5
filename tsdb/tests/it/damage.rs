//! A damaged table file of the key-value store: named, and the rest of the data served.

use std::path::{Path, PathBuf};

use model::{Labels, Matcher, Queryable, Sample, SelectHints, Series};
use tsdb::{Db, Error, Options};

use crate::small_options;

const HOUR: i64 = 3_600_000;
const SERIES: usize = 100;
const STEP: i64 = 15_000;

fn options() -> Options {
    Options {
        read_cache_bytes: 0,
        ..small_options()
    }
}

/// 100 series over three one-hour partitions, backfilled so that each partition is one table.
fn three_partitions(dir: &Path) -> Vec<Series> {
    let db = Db::open(dir, options()).unwrap();
    let series: Vec<(Labels, Vec<Sample>)> = (0..SERIES)
        .map(|i| {
            let l = Labels::from_pairs(&[("__name__", "m"), ("i", &format!("{i:03}"))]).unwrap();
            let samples = (0..3 * HOUR / STEP)
                .map(|k| Sample::new(k * STEP, (k * 7 + i as i64) as f64))
                .collect();
            (l, samples)
        })
        .collect();
    db.backfill(series, &mut |_| {}).unwrap();
    db.flush().unwrap();
    read(&db, 0, 3 * HOUR).0
}

/// Every series in `[mint, maxt]` and the querier's warnings.
fn read(db: &dyn Queryable, mint: i64, maxt: i64) -> (Vec<Series>, Vec<String>) {
    let q = db.querier(mint, maxt).unwrap();
    let all = Matcher::new(model::MatchOp::Equal, "__name__", "m").unwrap();
    let got = q
        .select(&SelectHints::default(), &[all])
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (got, q.warnings())
}

/// The table file of keyspace `name` (the test data makes one per keyspace).
fn table_of(dir: &Path, name: &str) -> PathBuf {
    let db = Db::open(dir, options()).unwrap();
    let (_, ks) = db
        .keyspace_dirs()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap();
    let tables: Vec<PathBuf> = std::fs::read_dir(ks.join("tables"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(tables.len(), 1, "{tables:?}");
    tables[0].clone()
}

/// Overwrites 4 bytes of `file` at `at` (a fraction of its length) with 0xff.
fn damage(file: &Path, at: f64) -> Vec<u8> {
    let mut bytes = std::fs::read(file).unwrap();
    let pos = (bytes.len() as f64 * at) as usize;
    for b in &mut bytes[pos..pos + 4] {
        *b = !*b;
    }
    std::fs::write(file, &bytes).unwrap();
    bytes
}

fn total(series: &[Series]) -> usize {
    series.iter().map(|s| s.samples.len()).sum()
}

/// The samples of `series` inside `[mint, maxt]`.
fn within(series: &[Series], mint: i64, maxt: i64) -> Vec<Series> {
    series
        .iter()
        .map(|s| Series {
            labels: s.labels.clone(),
            samples: s
                .samples
                .iter()
                .copied()
                .filter(|p| p.t >= mint && p.t <= maxt)
                .collect(),
        })
        .filter(|s| !s.samples.is_empty())
        .collect()
}

/// The first and the last hour of `got` are those of `want`, sample for sample.
fn assert_outer_partitions_whole(got: &[Series], want: &[Series]) {
    crate::assert_same(&within(got, 0, HOUR - 1), &within(want, 0, HOUR - 1));
    crate::assert_same(
        &within(got, 2 * HOUR, 3 * HOUR),
        &within(want, 2 * HOUR, 3 * HOUR),
    );
}

#[test]
fn a_damaged_data_block_is_named_and_everything_else_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let want = three_partitions(dir.path());
    assert_eq!(total(&want), SERIES * 720);
    let file = table_of(dir.path(), &format!("p{HOUR}"));
    damage(&file, 0.3);

    let found = tsdb::damaged_files(&dir.path().join("kv")).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, file);

    let db = Db::open(dir.path(), options()).unwrap();
    let (got, warnings) = read(&db, 0, 3 * HOUR);
    // The first and last partitions are whole; of the middle one only what the damaged
    // block held is missing.
    assert_outer_partitions_whole(&got, &want);
    let middle = total(&within(&got, HOUR, 2 * HOUR - 1));
    assert!(
        middle < SERIES * 240 && middle > SERIES * 240 / 2,
        "{middle}"
    );
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&file.display().to_string()),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("checksum mismatch"), "{warnings:?}");
    assert_eq!(db.damaged_files(), warnings);

    // A query that does not touch the damaged partition carries no warning.
    let (_, none) = read(&db, 0, HOUR - 1);
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn a_partition_table_that_cannot_open_is_set_aside_and_the_rest_served() {
    let dir = tempfile::tempdir().unwrap();
    let want = three_partitions(dir.path());
    let file = table_of(dir.path(), &format!("p{HOUR}"));
    // The end of a table holds its metadata and index: fjall refuses to open the store.
    let damaged = damage(&file, 0.99);

    let db = Db::open(dir.path(), options()).unwrap();
    let (got, warnings) = read(&db, 0, 3 * HOUR);
    assert_outer_partitions_whole(&got, &want);
    assert!(within(&got, HOUR, 2 * HOUR - 1).is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&file.display().to_string()),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("quarantine"), "{warnings:?}");

    // The damaged file is kept byte for byte in quarantine.
    let stamp = std::fs::read_dir(dir.path().join("quarantine"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let ks_name = file
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .file_name()
        .unwrap();
    let kept = stamp
        .join(format!("kv-keyspace-{}", ks_name.to_string_lossy()))
        .join("tables")
        .join(file.file_name().unwrap());
    assert_eq!(std::fs::read(&kept).unwrap(), damaged);

    // The partition takes new samples again, and they survive a restart.
    let l = Labels::from_pairs(&[("__name__", "m"), ("i", "new")]).unwrap();
    let mut app = model::Appendable::appender(&db);
    app.append(None, &l, HOUR + 1, 1.0).unwrap();
    app.commit().unwrap();
    drop(db);
    let db = Db::open(dir.path(), options()).unwrap();
    let (got, warnings) = read(&db, HOUR, 2 * HOUR - 1);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].labels, l);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn damaged_series_labels_fail_the_open_naming_the_file_and_are_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    three_partitions(dir.path());
    for at in [0.3, 0.99] {
        let file = table_of(dir.path(), "series");
        let original = std::fs::read(&file).unwrap();
        let damaged = damage(&file, at);
        let err = match Db::open(dir.path(), options()) {
            Err(e) => e,
            Ok(_) => panic!("at {at}: opened with damaged series labels"),
        };
        assert!(matches!(err, Error::DamagedFile { .. }), "at {at}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(&file.display().to_string()), "at {at}: {msg}");
        assert!(msg.contains("\"series\""), "at {at}: {msg}");
        assert_eq!(std::fs::read(&file).unwrap(), damaged, "left in place");
        std::fs::write(&file, original).unwrap();
        assert!(Db::open(dir.path(), options()).is_ok(), "repaired");
    }
}

#[test]
fn a_damaged_derived_index_is_rebuilt_and_everything_served() {
    for (name, at) in [
        ("hashes", 0.3),
        ("postings", 0.99),
        ("postings", 0.3),
        ("values", 0.99),
        ("meta", 0.99),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let want = three_partitions(dir.path());
        let file = table_of(dir.path(), name);
        let damaged = damage(&file, at);
        let db = Db::open(dir.path(), options()).unwrap();
        let (got, _) = read(&db, 0, 3 * HOUR);
        crate::assert_same(&got, &want);
        // Lookups through the rebuilt index: one series by label, label values, max time,
        // and a series written again is the same series, not a second one.
        let q = db.querier(0, 3 * HOUR).unwrap();
        let one = Matcher::new(model::MatchOp::Equal, "i", "042").unwrap();
        let sel: Vec<Series> = q
            .select(&SelectHints::default(), &[one])
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(sel.len(), 1, "{name}");
        assert_eq!(q.label_values("i", &[]).unwrap().len(), SERIES, "{name}");
        assert_eq!(db.max_time(), 3 * HOUR - STEP, "{name}");
        let l = Labels::from_pairs(&[("__name__", "m"), ("i", "042")]).unwrap();
        let mut app = model::Appendable::appender(&db);
        app.append(None, &l, 3 * HOUR, 1.0).unwrap();
        app.commit().unwrap();
        let (again, _) = read(&db, 0, 3 * HOUR);
        assert_eq!(again.len(), SERIES, "{name}");
        drop(q);
        drop(db);
        // A copy of the damaged file is kept in quarantine.
        let kept: Vec<Vec<u8>> = walk(&dir.path().join("quarantine"))
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        assert!(kept.contains(&damaged), "{name}: a copy is kept");
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
