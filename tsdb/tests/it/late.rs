//! `model::LateSamples`: samples committed at or before a reader's horizon are kept for it.

use model::{Appendable, Labels, LateSamples, Sample};
use tsdb::{Db, Options};

use crate::{labels, small_options};

fn commit(db: &Db, samples: &[(&Labels, i64, f64)]) {
    let mut app = db.appender();
    for &(l, t, v) in samples {
        app.append(None, l, t, v).unwrap();
    }
    app.commit().unwrap();
}

/// (job label, samples) of what `reader` takes.
fn take(db: &Db, reader: &str) -> (Vec<(String, Vec<Sample>)>, u64) {
    let t = db.take_late(reader).unwrap();
    let mut got: Vec<(String, Vec<Sample>)> = t
        .series
        .into_iter()
        .map(|s| (s.labels.get("job").unwrap().to_string(), s.samples))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    (got, t.not_kept)
}

#[test]
fn samples_at_or_before_a_horizon_are_kept_per_reader_until_taken() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let (a, b) = (labels("m", "a"), labels("m", "b"));
    // Without a reader nothing is kept.
    commit(&db, &[(&a, 10, 1.0)]);
    assert_eq!(take(&db, "r1"), (vec![], 0));

    db.set_horizon("r1", 100);
    db.set_horizon("r2", 200);
    commit(&db, &[(&a, 100, 2.0), (&b, 150, 3.0), (&b, 250, 4.0)]);
    assert_eq!(
        take(&db, "r1"),
        (vec![("a".into(), vec![Sample::new(100, 2.0)])], 0)
    );
    assert_eq!(
        take(&db, "r2"),
        (
            vec![
                ("a".into(), vec![Sample::new(100, 2.0)]),
                ("b".into(), vec![Sample::new(150, 3.0)]),
            ],
            0
        )
    );
    // Taken once.
    assert_eq!(take(&db, "r1"), (vec![], 0));
    // A rejected sample (out of order) is not kept; a moved horizon applies from then on.
    let mut app = db.appender();
    assert!(app.append(None, &a, 50, 9.0).is_err());
    app.commit().unwrap();
    db.set_horizon("r1", 1000);
    commit(&db, &[(&a, 300, 5.0), (&a, 301, 6.0)]);
    assert_eq!(
        take(&db, "r1"),
        (
            vec![(
                "a".into(),
                vec![Sample::new(300, 5.0), Sample::new(301, 6.0)]
            )],
            0
        )
    );
    assert_eq!(take(&db, "r2"), (vec![], 0));
}

#[test]
fn past_the_limit_samples_are_counted_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        late_samples_kept: 3,
        ..small_options()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    let jobs: Vec<Labels> = (0..5).map(|i| labels("m", &format!("{i}"))).collect();
    db.set_horizon("r", 1000);
    let samples: Vec<(&Labels, i64, f64)> = jobs
        .iter()
        .enumerate()
        .map(|(i, l)| (l, 500 - i as i64 * 10, 1.0))
        .collect();
    commit(&db, &samples);
    let (got, overflow) = take(&db, "r");
    let kept: usize = got.iter().map(|(_, s)| s.len()).sum();
    assert_eq!(kept, 3);
    assert_eq!(overflow, 2);
    assert_eq!(take(&db, "r"), (vec![], 0));
}
