//! Regressions from the review of the engine: each test is a concrete fault scenario that
//! used to lose or hide data.

use std::path::Path;

use model::{Appendable, Error, Labels, Sample};
use tsdb::{Db, Options};

use crate::{labels, select_all, small_options};

fn counts(db: &Db, mint: i64, maxt: i64) -> Vec<(String, usize)> {
    select_all(db, mint, maxt)
        .into_iter()
        .map(|s| {
            (
                s.labels.get("job").unwrap_or("").to_string(),
                s.samples.len(),
            )
        })
        .collect()
}

/// Rewrites every WAL segment without its sealed-chunk records, as after a kill -9 between
/// writing a chunk to the store and logging its marker.
fn strip_sealed_markers(wal: &Path) {
    for entry in std::fs::read_dir(wal).unwrap() {
        let p = entry.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let mut out = data[..8].to_vec();
        let mut pos = 8;
        while pos + 8 <= data.len() {
            let len = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
            let frame = &data[pos..pos + 8 + len];
            if frame[8] != 3 {
                out.extend_from_slice(frame);
            }
            pos += 8 + len;
        }
        std::fs::write(&p, out).unwrap();
    }
}

#[test]
fn a_lost_marker_never_yields_a_chunk_across_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        wal_segment_bytes: 1 << 30,
        ..small_options()
    };
    let p1 = 3_600_000i64;
    {
        let db = Db::open(dir.path(), opts.clone()).unwrap();
        let mut app = db.appender();
        for i in 0..10 {
            app.append(None, &labels("up", "a"), p1 - 100_000 + i * 1000, i as f64)
                .unwrap();
        }
        app.commit().unwrap();
        let mut app = db.appender();
        for i in 0..5 {
            app.append(None, &labels("up", "a"), p1 + i * 1000, i as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
    strip_sealed_markers(&dir.path().join("wal"));
    let db = Db::open(dir.path(), opts).unwrap();
    let mut app = db.appender();
    for i in 5..20 {
        app.append(None, &labels("up", "a"), p1 + i * 1000, i as f64)
            .unwrap();
    }
    app.commit().unwrap();
    assert_eq!(counts(&db, p1, 2 * p1), [("a".to_string(), 20)]);
    assert_eq!(counts(&db, 0, 2 * p1), [("a".to_string(), 30)]);
}

#[test]
fn a_backfill_over_stored_chunks_merges_instead_of_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            retention_ms: 0,
            ..Options::default()
        },
    )
    .unwrap();
    let all: Vec<Sample> = (0..300)
        .map(|i| Sample::new(1_000 + i * 1000, i as f64))
        .collect();
    db.backfill([(labels("up", "a"), all.clone())], &mut |_| {})
        .unwrap();
    let mut again = all[..100].to_vec();
    again[7].v = 70.0; // the newer value wins on the same timestamp
    db.backfill([(labels("up", "a"), again)], &mut |_| {})
        .unwrap();
    let got = select_all(&db, 0, i64::MAX);
    assert_eq!(got[0].samples.len(), 300);
    assert_eq!(got[0].samples[7].v, 70.0);
    assert_eq!(got[0].samples[8].v, 8.0);
}

#[test]
fn a_segment_created_without_header_does_not_stop_later_opens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), small_options()).unwrap();
        crate::append_all(&db, &[(labels("up", "a"), vec![Sample::new(1000, 1.0)])]);
    }
    std::fs::write(dir.path().join("wal").join("00000099"), b"PW").unwrap();
    for _ in 0..2 {
        let db = Db::open(dir.path(), small_options()).unwrap();
        assert_eq!(counts(&db, 0, i64::MAX), [("a".to_string(), 1)]);
    }
}

#[test]
fn a_label_too_long_to_index_is_an_error_and_harms_no_other_series() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(70_000);
    let long = Labels::from_pairs(&[("__name__", "up"), ("job", big.as_str())]).unwrap();
    {
        let db = Db::open(dir.path(), small_options()).unwrap();
        let mut app = db.appender();
        let err = app.append(None, &long, 1000, 1.0).unwrap_err();
        assert!(matches!(err, Error::InvalidLabels { .. }), "{err}");
        assert!(err.to_string().contains("60000 bytes"), "{err}");
        app.append(None, &labels("up", "b"), 1000, 1.0).unwrap();
        app.commit().unwrap();
    }
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert_eq!(counts(&db, 0, i64::MAX), [("b".to_string(), 1)]);
}

#[test]
fn retention_counts_from_the_newest_stored_sample_also_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (day, hour) = (86_400_000i64, 3_600_000i64);
    let d = 100 * day;
    let opts = Options {
        retention_ms: 36 * hour,
        ..Options::default()
    };
    let samples = vec![
        Sample::new(d - 2 * day + 20 * hour, 1.0),
        Sample::new(d + hour, 2.0),
    ];
    {
        let db = Db::open(dir.path(), opts.clone()).unwrap();
        db.backfill([(labels("up", "a"), samples)], &mut |_| {})
            .unwrap();
        // The older sample is 29 h before the newest: inside 36 h of retention.
        assert_eq!(db.apply_retention().unwrap(), 0);
    }
    let db = Db::open(dir.path(), opts).unwrap();
    assert_eq!(db.max_time(), d + hour);
    assert_eq!(counts(&db, 0, i64::MAX), [("a".to_string(), 2)]);
    // And a sample older than retention is out of bounds although the head is empty.
    let mut app = db.appender();
    let err = app
        .append(None, &labels("up", "z"), d - 3 * day, 1.0)
        .unwrap_err();
    assert!(matches!(err, Error::OutOfBounds), "{err}");
}

#[test]
fn one_far_future_sample_cannot_make_retention_drop_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (day, hour) = (86_400_000i64, 3_600_000i64);
    let now = 100 * day;
    fn clock() -> i64 {
        100 * 86_400_000
    }
    let opts = Options {
        retention_ms: 2 * day,
        partition_ms: hour,
        now: clock,
        ..small_options()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    crate::append_all(
        &db,
        &[(
            labels("up", "a"),
            vec![Sample::new(now - day, 1.0), Sample::new(now - 10, 2.0)],
        )],
    );
    // Nanoseconds sent as milliseconds: a sample about 50 000 years ahead.
    crate::append_all(
        &db,
        &[(labels("up", "b"), vec![Sample::new(now * 1_000_000, 3.0)])],
    );
    db.apply_retention().unwrap();
    assert_eq!(counts(&db, 0, now), [("a".to_string(), 2)]);
    // Samples inside retention by the wall clock are still accepted.
    let mut app = db.appender();
    app.append(None, &labels("up", "a"), now - 5, 4.0).unwrap();
    app.commit().unwrap();
}
