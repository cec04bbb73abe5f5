//! Series churn: series that stop are dropped from the head once idle, their data stays
//! queryable, and appending to them again (by labels or by an old reference) keeps
//! Prometheus's ordering rules against what was stored.

use model::{Appendable, Error, Sample, SeriesRef};
use tsdb::Db;

use crate::{labels, select_all, small_options};

#[test]
fn idle_series_leave_the_head_and_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let mut refs: Vec<SeriesRef> = Vec::new();
    let mut app = db.appender();
    for j in 0..50 {
        for k in 0..5 {
            let r = app
                .append(
                    None,
                    &labels("gone", &format!("j{j}")),
                    k * 15_000,
                    k as f64,
                )
                .unwrap();
            if k == 0 {
                refs.push(r);
            }
        }
    }
    app.commit().unwrap();
    assert_eq!(db.stats().head_series, 50);
    // One series keeps going for three hours, enough WAL to rotate segments many times.
    for k in 0..720i64 {
        let mut app = db.appender();
        app.append(None, &labels("alive", "a"), k * 15_000, k as f64)
            .unwrap();
        app.commit().unwrap();
    }
    assert_eq!(db.stats().head_series, 1, "idle series are dropped");
    let all = select_all(&db, i64::MIN, i64::MAX);
    assert_eq!(all.len(), 51);
    let gone = all
        .iter()
        .find(|s| s.labels.get("job") == Some("j7"))
        .unwrap();
    assert_eq!(
        gone.samples,
        (0..5)
            .map(|k| Sample::new(k * 15_000, k as f64))
            .collect::<Vec<_>>()
    );

    let mut app = db.appender();
    // By labels: checked against the newest stored sample.
    let err = app
        .append(None, &labels("gone", "j7"), 3 * 15_000, 9.0)
        .unwrap_err();
    assert!(matches!(err, Error::OutOfOrderSample), "{err}");
    let err = app
        .append(None, &labels("gone", "j7"), 4 * 15_000, 9.0)
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateSampleForTimestamp), "{err}");
    app.append(None, &labels("gone", "j7"), 800 * 15_000, 1.0)
        .unwrap();
    // By a reference taken before the series left the head.
    app.append(Some(refs[9]), &labels("gone", "j9"), 800 * 15_000, 2.0)
        .unwrap();
    app.commit().unwrap();
    let all = select_all(&db, 800 * 15_000, 800 * 15_000);
    let jobs: Vec<_> = all
        .iter()
        .map(|s| s.labels.get("job").unwrap().to_string())
        .collect();
    assert_eq!(jobs, ["j7", "j9"]);
    drop(db);
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert_eq!(select_all(&db, i64::MIN, i64::MAX).len(), 51);
}
