//! The engine's API contract: value types, limits and the errors of malformed range queries.
//! (Semantics are covered by Prometheus's own test files in `promqltest_suite.rs`.)

use std::time::Duration;

use model::{Labels, MemStorage, Sample};
use query::engine::{ErrorKind, Value};
use query::{Engine, EngineOptions};

/// 10 series `up{instance="i"}` with a sample every 15 s from 0 to 15 min.
fn storage() -> MemStorage {
    let m = MemStorage::new();
    for i in 0..10 {
        let l = Labels::from_pairs(&[("__name__", "up"), ("instance", &i.to_string())])
            .expect("labels");
        let samples: Vec<Sample> = (0..=60)
            .map(|k| Sample::new(k * 15_000, k as f64))
            .collect();
        m.add_series(&l, &samples).expect("add");
    }
    m
}

fn engine(max_samples: usize, timeout: Duration) -> Engine {
    Engine::new(EngineOptions {
        max_samples,
        timeout,
        ..EngineOptions::default()
    })
}

#[test]
fn value_types_follow_the_expression_type() {
    let s = storage();
    let e = Engine::default();
    let at = 600_000;
    let v = e.instant_query(&s, "up", at).unwrap().value;
    assert!(
        matches!(&v, Value::Vector(v) if v.len() == 10 && v[0].v == 40.0),
        "{v:?}"
    );
    let m = e.instant_query(&s, "up[1m]", at).unwrap().value;
    // (540 s, 600 s]: samples at 555, 570, 585, 600 s.
    assert!(
        matches!(&m, Value::Matrix(m) if m.len() == 10 && m[0].points.len() == 4),
        "{m:?}"
    );
    let sc = e.instant_query(&s, "scalar(sum(up))", at).unwrap().value;
    assert_eq!(sc, Value::Scalar { t: at, v: 400.0 });
    let st = e.instant_query(&s, "\"text\"", at).unwrap().value;
    assert_eq!(
        st,
        Value::String {
            t: at,
            v: "text".into()
        }
    );
    let r = e
        .range_query(&s, "sum(up)", 0, 600_000, 60_000)
        .unwrap()
        .value;
    assert!(
        matches!(&r, Value::Matrix(m) if m.len() == 1 && m[0].points.len() == 11),
        "{r:?}"
    );
}

#[test]
fn too_many_samples_fails_with_prometheus_message() {
    let s = storage();
    // `up[1m]` at 600 s holds 10 series × 4 samples.
    let err = engine(39, Duration::from_secs(60))
        .instant_query(&s, "up[1m]", 600_000)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Execution);
    assert_eq!(
        err.message,
        "query processing would load too many samples into memory in query execution"
    );
    assert!(
        engine(40, Duration::from_secs(60))
            .instant_query(&s, "up[1m]", 600_000)
            .is_ok()
    );
    // A range query of `up` holds 10 series × 11 steps; `up + up` holds both operands.
    let e = engine(110, Duration::from_secs(60));
    assert!(e.range_query(&s, "up", 0, 600_000, 60_000).is_ok());
    assert!(e.range_query(&s, "up + up", 0, 600_000, 60_000).is_err());
}

#[test]
fn a_spent_deadline_times_out() {
    let err = engine(1000, Duration::ZERO)
        .instant_query(&storage(), "up", 600_000)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(err.message, "query timed out in expression evaluation");
    assert_eq!(err.kind.http_status(), 503);
}

#[test]
fn malformed_range_queries_are_bad_data() {
    let s = storage();
    let e = Engine::default();
    for (q, start, end, step, want) in [
        (
            "up",
            0,
            60_000,
            0,
            "zero or negative query resolution step widths are not accepted",
        ),
        (
            "up",
            60_000,
            0,
            1000,
            "end timestamp must not be before start time",
        ),
        (
            "up[5m]",
            0,
            60_000,
            1000,
            "invalid expression type \"range vector\" for range query",
        ),
        ("sum(", 0, 60_000, 1000, "parse error"),
    ] {
        let err = e.range_query(&s, q, start, end, step).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadData, "{q}");
        assert!(err.message.contains(want), "{q}: {}", err.message);
    }
}

#[test]
fn vector_matching_errors_name_the_duplicates() {
    let s = storage();
    let err = Engine::default()
        .instant_query(&s, "up + on() up", 600_000)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Execution);
    assert!(
        err.message.starts_with("found duplicate series for the match group {} on the right hand-side of the operation: [{__name__=\"up\", instance=\"0\"}, {__name__=\"up\", instance=\"1\"}]"),
        "{}",
        err.message
    );
}
