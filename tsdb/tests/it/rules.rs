//! Prometheus's sample rules, the version check and option checks.

use model::{Appendable, Error};
use tsdb::{Db, Options};

use crate::{labels, small_options};

#[test]
fn out_of_order_and_duplicates_are_rejected_like_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let l = labels("up", "a");
    let mut app = db.appender();
    app.append(None, &l, 1000, 1.0).unwrap();
    app.commit().unwrap();

    let mut app = db.appender();
    let err = app.append(None, &l, 999, 1.0).unwrap_err();
    assert!(matches!(err, Error::OutOfOrderSample), "{err}");
    assert_eq!(err.to_string(), "out of order sample");
    let err = app.append(None, &l, 1000, 2.0).unwrap_err();
    assert_eq!(err.to_string(), "duplicate sample for timestamp");
    // The same value again is accepted silently, and the batch stays usable.
    app.append(None, &l, 1000, 1.0).unwrap();
    let r = app.append(None, &l, 2000, 3.0).unwrap();
    // Within one batch, too.
    assert!(matches!(
        app.append(Some(r), &l, 1500, 1.0),
        Err(Error::OutOfOrderSample)
    ));
    app.commit().unwrap();

    let stats = db.stats();
    assert_eq!(stats.out_of_order, 2);
    assert_eq!(stats.duplicates, 1);
    assert_eq!(stats.samples_appended, 2);
}

#[test]
fn samples_older_than_retention_are_out_of_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        retention_ms: 3_600_000,
        ..small_options()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    let mut app = db.appender();
    app.append(None, &labels("up", "a"), 10_000_000, 1.0)
        .unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    let err = app
        .append(None, &labels("up", "b"), 10_000_000 - 3_600_001, 1.0)
        .unwrap_err();
    assert!(matches!(err, Error::OutOfBounds), "{err}");
}

#[test]
fn rollback_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let mut app = db.appender();
    app.append(None, &labels("up", "a"), 1000, 1.0).unwrap();
    app.rollback();
    assert!(crate::select_all(&db, 0, 10_000).is_empty());
}

#[test]
fn another_format_version_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    drop(Db::open(dir.path(), small_options()).unwrap());
    std::fs::write(dir.path().join("VERSION"), "promlet-tsdb 99\n").unwrap();
    let err = Db::open(dir.path(), small_options())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("version promlet-tsdb 99") && err.contains("reads version 1"),
        "{err}"
    );
}

#[test]
fn a_foreign_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("01HXYZ-block"), "not ours").unwrap();
    let err = Db::open(dir.path(), small_options())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not empty and has no VERSION file"), "{err}");
}

#[test]
fn bad_options_name_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        chunk_max_samples: 1,
        ..Options::default()
    };
    let err = Db::open(dir.path(), opts).err().unwrap().to_string();
    assert!(err.contains("chunk_max_samples"), "{err}");
}
