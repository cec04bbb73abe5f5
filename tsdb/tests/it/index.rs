//! Every matcher kind, label names and label values answer as the model does, for series in the
//! head, series in sealed chunks, and series that stopped long ago.

use model::{Appendable, Labels, MatchOp, Matcher, MemStorage, Queryable, Sample, SelectHints};
use tsdb::Db;

use crate::{append_all, assert_same, labels, small_options};

fn series(i: usize) -> Labels {
    let mut pairs = vec![
        (
            "__name__".to_string(),
            if i.is_multiple_of(3) {
                "up"
            } else {
                "node_load1"
            }
            .to_string(),
        ),
        ("instance".to_string(), format!("host{}:9100", i % 5)),
        (
            "job".to_string(),
            if i.is_multiple_of(2) { "node" } else { "api" }.to_string(),
        ),
    ];
    if i.is_multiple_of(4) {
        pairs.push(("env".to_string(), "prod".to_string()));
    }
    if i.is_multiple_of(7) {
        pairs.push(("path".to_string(), "/a\nb".to_string()));
    }
    pairs.push(("i".to_string(), i.to_string()));
    Labels::from_pairs(&pairs).unwrap()
}

fn matcher_sets() -> Vec<Vec<Matcher>> {
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
    use MatchOp::*;
    vec![
        vec![m(Equal, "__name__", "up")],
        vec![
            m(Equal, "job", "node"),
            m(NotEqual, "instance", "host1:9100"),
        ],
        vec![m(Regex, "instance", "host[12]:.*")],
        vec![m(Regex, "instance", "host1:9100|host3:9100")],
        vec![
            m(NotRegex, "job", "no.*"),
            m(Equal, "__name__", "node_load1"),
        ],
        vec![m(Equal, "env", "")],
        vec![m(NotEqual, "env", "prod"), m(Regex, "job", ".+")],
        vec![m(Regex, "env", ".*")],
        vec![m(Regex, "path", "/a.b")],
        vec![m(Equal, "job", "nope")],
        vec![m(Regex, "i", "1.*"), m(NotRegex, "instance", "host0.*")],
        vec![m(Equal, "missing", "")],
    ]
}

#[test]
fn matchers_names_and_values_agree_with_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let mem = MemStorage::new();
    for store in [&db as &dyn Appendable, &mem] {
        let mut app = store.appender();
        for i in 0..40usize {
            // Series 0..10 stop early (sealed, then idle); the rest run on.
            let points = if i < 10 { 20 } else { 60 };
            for k in 0..points {
                app.append(
                    None,
                    &series(i),
                    1_000_000 + k * 15_000,
                    (i * k as usize) as f64,
                )
                .unwrap();
            }
        }
        app.commit().unwrap();
    }
    // Reopen so part of the data is only reachable through the persisted index.
    drop(db);
    let db = Db::open(dir.path(), small_options()).unwrap();
    for (mint, maxt) in [(i64::MIN, i64::MAX), (1_000_000 + 30 * 15_000, i64::MAX)] {
        let (qd, qm) = (
            db.querier(mint, maxt).unwrap(),
            mem.querier(mint, maxt).unwrap(),
        );
        for ms in matcher_sets() {
            let got: Vec<_> = qd
                .select(&SelectHints::default(), &ms)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let want: Vec<_> = qm
                .select(&SelectHints::default(), &ms)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_same(&got, &want);
            if !ms.is_empty() {
                assert_eq!(
                    qd.label_names(&ms).unwrap(),
                    qm.label_names(&ms).unwrap(),
                    "{ms:?}"
                );
                assert_eq!(
                    qd.label_values("instance", &ms).unwrap(),
                    qm.label_values("instance", &ms).unwrap()
                );
            }
        }
    }
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    assert_eq!(
        q.label_names(&[]).unwrap(),
        ["__name__", "env", "i", "instance", "job", "path"]
    );
    assert_eq!(q.label_values("job", &[]).unwrap(), ["api", "node"]);
    assert!(
        q.select(&SelectHints::default(), &[])
            .unwrap()
            .next()
            .is_none()
    );
}

#[test]
fn label_names_and_values_honour_the_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let early: Vec<Sample> = (0..40).map(|i| Sample::new(1000 + i * 1000, 1.0)).collect();
    let late: Vec<Sample> = (0..40)
        .map(|i| Sample::new(7_201_000 + i * 1000, 1.0))
        .collect();
    append_all(
        &db,
        &[(labels("a", "early"), early), (labels("b", "late"), late)],
    );
    let names = |mint, maxt| db.querier(mint, maxt).unwrap().label_names(&[]).unwrap();
    let jobs = |mint, maxt| {
        let q = db.querier(mint, maxt).unwrap();
        q.label_values("job", &[]).unwrap()
    };
    assert_eq!(jobs(i64::MIN, i64::MAX), ["early", "late"]);
    assert_eq!(jobs(0, 100_000), ["early"]);
    assert_eq!(jobs(7_000_000, 8_000_000), ["late"]);
    assert!(jobs(9_000_000, 10_000_000).is_empty());
    assert!(names(9_000_000, 10_000_000).is_empty());
    assert_eq!(names(0, 100_000), ["__name__", "job"]);
}
