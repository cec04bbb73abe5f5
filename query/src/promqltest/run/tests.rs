//! Unit tests of the runner: float and label comparison, result matching, `@` variants, and
//! one small file end to end.

use std::cmp::Ordering;

use model::Labels;

use super::super::{ExpectedResult, ExpectedSeries, TextMatch, Value as Expect};
use super::compare::{Expected, Window, almost_equal, compare, go_float, labels_cmp};
use super::{FailureKind, run_file, test_engine_options, variants};
use crate::engine::{Point, Sample, Series, Value};

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs).unwrap()
}

fn line(pairs: &[(&str, &str)], values: &[Option<f64>], position: usize) -> ExpectedSeries {
    ExpectedSeries {
        labels: labels(pairs),
        values: values.iter().map(|v| v.map(Expect::Float)).collect(),
        position,
    }
}

fn sample(pairs: &[(&str, &str)], v: f64) -> Sample {
    Sample {
        metric: labels(pairs),
        t: 0,
        v,
    }
}

fn series(pairs: &[(&str, &str)], points: &[(i64, f64)]) -> Series {
    Series {
        metric: labels(pairs),
        points: points.iter().map(|&(t, v)| Point { t, v }).collect(),
    }
}

const INSTANT: Window = Window {
    start_ms: 0,
    end_ms: None,
    step_ms: 0,
};

fn range(start_ms: i64, end_ms: i64, step_ms: i64) -> Window {
    Window {
        start_ms,
        end_ms: Some(end_ms),
        step_ms,
    }
}

fn check(
    result: &ExpectedResult,
    ordered: bool,
    window: Window,
    got: &Value,
) -> Result<(), String> {
    let exp = Expected {
        result,
        ordered,
        window,
    };
    compare(&exp, got)
}

#[test]
fn almost_equal_follows_go() {
    let stale = model::stale_nan();
    assert!(almost_equal(stale, stale));
    assert!(
        !almost_equal(stale, f64::NAN),
        "stale NaN only equals stale NaN"
    );
    assert!(!almost_equal(f64::NAN, stale));
    assert!(almost_equal(f64::NAN, -f64::NAN), "any NaN equals any NaN");
    assert!(!almost_equal(f64::NAN, 1.0));
    assert!(almost_equal(f64::INFINITY, f64::INFINITY));
    assert!(!almost_equal(f64::INFINITY, f64::NEG_INFINITY));
    assert!(!almost_equal(f64::INFINITY, f64::MAX));
    assert!(almost_equal(0.0, -0.0));
    assert!(!almost_equal(0.0, 1e-17), "0 needs an exact 0");
    assert!(!almost_equal(1e-300, 0.0));
    // Relative tolerance: diff / (|a| + |b|) < 1e-6.
    assert!(almost_equal(1.0, 1.0 + 1.9e-6));
    assert!(!almost_equal(1.0, 1.0 + 2.1e-6));
    assert!(almost_equal(-1e10, -1e10 * (1.0 + 1e-7)));
    assert!(!almost_equal(1.0, -1.0));
    // Both subnormal: effectively exact.
    let tiny = f64::MIN_POSITIVE / 4.0;
    assert!(!almost_equal(tiny, tiny * 2.0));
    // Huge values: |a| + |b| overflows, the sum is capped at f64::MAX.
    assert!(almost_equal(f64::MAX, f64::MAX * (1.0 - 1e-9)));
}

#[test]
fn labels_sort_as_go_labels_compare() {
    let a = labels(&[("__name__", "a"), ("x", "1")]);
    let b = labels(&[("__name__", "b")]);
    let a_short = labels(&[("__name__", "a")]);
    let a_y = labels(&[("__name__", "a"), ("y", "0")]);
    assert_eq!(labels_cmp(&a, &b), Ordering::Less, "value decides");
    assert_eq!(
        labels_cmp(&a_short, &a),
        Ordering::Less,
        "prefix sorts first"
    );
    assert_eq!(
        labels_cmp(&a, &a_y),
        Ordering::Less,
        "name decides before value"
    );
    assert_eq!(labels_cmp(&a, &a), Ordering::Equal);
    // Byte order: upper case before lower case, "10" before "9".
    let upper = labels(&[("x", "B")]);
    let lower = labels(&[("x", "a")]);
    assert_eq!(labels_cmp(&upper, &lower), Ordering::Less);
    assert_eq!(
        labels_cmp(&labels(&[("x", "10")]), &labels(&[("x", "9")])),
        Ordering::Less
    );
}

#[test]
fn matrix_must_be_sorted() {
    let exp = ExpectedResult::Series(vec![
        line(&[("x", "a")], &[Some(1.0)], 1),
        line(&[("x", "b")], &[Some(1.0)], 2),
    ]);
    let sorted = Value::Matrix(vec![
        series(&[("x", "a")], &[(0, 1.0)]),
        series(&[("x", "b")], &[(0, 1.0)]),
    ]);
    assert_eq!(check(&exp, false, range(0, 0, 1), &sorted), Ok(()));
    let unsorted = Value::Matrix(vec![
        series(&[("x", "b")], &[(0, 1.0)]),
        series(&[("x", "a")], &[(0, 1.0)]),
    ]);
    let err = check(&exp, false, range(0, 0, 1), &unsorted).unwrap_err();
    assert!(err.contains("sorted"), "{err}");
}

#[test]
fn omitted_values_expect_no_point() {
    let exp = ExpectedResult::Series(vec![line(&[("x", "a")], &[None, Some(5.0), None], 1)]);
    let w = range(0, 600_000, 300_000);
    let ok = Value::Matrix(vec![series(&[("x", "a")], &[(300_000, 5.0)])]);
    assert_eq!(check(&exp, false, w, &ok), Ok(()));
    let extra = Value::Matrix(vec![series(
        &[("x", "a")],
        &[(300_000, 5.0), (600_000, 5.0)],
    )]);
    let err = check(&exp, false, w, &extra).unwrap_err();
    assert!(err.starts_with("expected 1 float points"), "{err}");
    let moved = Value::Matrix(vec![series(&[("x", "a")], &[(0, 5.0)])]);
    let err = check(&exp, false, w, &moved).unwrap_err();
    assert!(err.contains("timestamp 300000"), "{err}");
    let wrong = Value::Matrix(vec![series(&[("x", "a")], &[(300_000, 6.0)])]);
    let err = check(&exp, false, w, &wrong).unwrap_err();
    assert!(err.contains("to be 5, but got 6"), "{err}");
}

#[test]
fn matrix_series_must_match_exactly() {
    let exp = ExpectedResult::Series(vec![line(
        &[("__name__", "m"), ("x", "a")],
        &[Some(1.0)],
        1,
    )]);
    let w = range(0, 0, 1);
    let nameless = Value::Matrix(vec![series(&[("x", "a")], &[(0, 1.0)])]);
    let err = check(&exp, false, w, &nameless).unwrap_err();
    assert!(err.starts_with("unexpected metric {x=\"a\"}"), "{err}");
    let err = check(&exp, false, w, &Value::Matrix(vec![])).unwrap_err();
    assert!(
        err.starts_with("expected metric m{x=\"a\"} not found"),
        "{err}"
    );
    let too_many = ExpectedResult::Series(vec![line(&[("x", "a")], &[Some(1.0), Some(1.0)], 1)]);
    let err = check(&too_many, false, w, &nameless).unwrap_err();
    assert!(err.contains("cannot return this many points"), "{err}");
    // An instant eval without `expect range vector` allows no values at all.
    let err = check(&exp, false, INSTANT, &nameless).unwrap_err();
    assert!(err.starts_with("unexpected metric"), "{err}");
    assert_eq!(
        check(
            &ExpectedResult::default(),
            false,
            INSTANT,
            &Value::Matrix(vec![])
        ),
        Ok(())
    );
}

#[test]
fn stale_points_compare_as_stale() {
    let exp = ExpectedResult::Series(vec![ExpectedSeries {
        labels: labels(&[("x", "a")]),
        values: vec![Some(Expect::Stale)],
        position: 1,
    }]);
    let w = range(0, 0, 1);
    let stale = Value::Matrix(vec![series(&[("x", "a")], &[(0, model::stale_nan())])]);
    assert_eq!(check(&exp, false, w, &stale), Ok(()));
    let nan = Value::Matrix(vec![series(&[("x", "a")], &[(0, f64::NAN)])]);
    assert!(check(&exp, false, w, &nan).is_err());
}

#[test]
fn vector_order_matters_only_when_ordered() {
    let exp = ExpectedResult::Series(vec![
        line(&[("x", "a")], &[Some(1.0)], 1),
        line(&[("x", "b")], &[Some(2.0)], 2),
    ]);
    let reversed = Value::Vector(vec![sample(&[("x", "b")], 2.0), sample(&[("x", "a")], 1.0)]);
    assert_eq!(check(&exp, false, INSTANT, &reversed), Ok(()));
    let err = check(&exp, true, INSTANT, &reversed).unwrap_err();
    assert!(err.contains("at position 2 but was at 1"), "{err}");
    let in_order = Value::Vector(vec![sample(&[("x", "a")], 1.0), sample(&[("x", "b")], 2.0)]);
    assert_eq!(check(&exp, true, INSTANT, &in_order), Ok(()));
    let err = check(&exp, true, INSTANT, &Value::Matrix(vec![])).unwrap_err();
    assert!(err.contains("ordered"), "{err}");
}

#[test]
fn vector_values_and_missing_series() {
    let exp = ExpectedResult::Series(vec![line(&[("x", "a")], &[Some(1e6)], 1)]);
    let err = check(
        &exp,
        false,
        INSTANT,
        &Value::Vector(vec![sample(&[("x", "a")], 2.0)]),
    )
    .unwrap_err();
    assert_eq!(err, "expected 1e+06 for {x=\"a\"} but got 2");
    let err = check(&exp, false, INSTANT, &Value::Vector(vec![])).unwrap_err();
    assert!(
        err.starts_with("expected metric {x=\"a\"} with [1e+06] not found"),
        "{err}"
    );
    let err = check(
        &exp,
        false,
        INSTANT,
        &Value::Vector(vec![sample(&[("x", "b")], 1e6)]),
    )
    .unwrap_err();
    assert!(err.starts_with("unexpected metric {x=\"b\"}"), "{err}");
}

#[test]
fn scalars_and_strings() {
    let exp = ExpectedResult::Scalar(0.5);
    assert_eq!(
        check(&exp, false, INSTANT, &Value::Scalar { t: 0, v: 0.5 }),
        Ok(())
    );
    assert!(check(&exp, false, INSTANT, &Value::Scalar { t: 0, v: 0.6 }).is_err());
    assert!(check(&exp, false, INSTANT, &Value::Vector(vec![])).is_err());
    let series_exp = ExpectedResult::default();
    assert!(check(&series_exp, false, INSTANT, &Value::Scalar { t: 0, v: 1.0 }).is_err());
    let s = ExpectedResult::String("a\"b".into());
    let got = Value::String {
        t: 0,
        v: "a\"b".into(),
    };
    assert_eq!(check(&s, false, INSTANT, &got), Ok(()));
    let empty = Value::String { t: 0, v: "".into() };
    assert!(check(&s, false, INSTANT, &empty).is_err());
}

#[test]
fn go_float_formatting() {
    assert_eq!(go_float(1.0), "1");
    assert_eq!(go_float(0.25), "0.25");
    assert_eq!(go_float(123456.0), "123456");
    assert_eq!(go_float(1e6), "1e+06");
    assert_eq!(go_float(1.5e-7), "1.5e-07");
    assert_eq!(go_float(0.0001), "0.0001");
    assert_eq!(go_float(-2.5e100), "-2.5e+100");
    assert_eq!(go_float(f64::INFINITY), "+Inf");
    assert_eq!(go_float(f64::NAN), "NaN");
}

#[test]
fn text_matches_exact_and_unanchored_regex() {
    use super::case::text_matches;
    let text = "PromQL warning: foo (1:5)";
    assert_eq!(text_matches(&TextMatch::Any, text), Ok(true));
    assert_eq!(text_matches(&TextMatch::Exact(text.into()), text), Ok(true));
    assert_eq!(
        text_matches(&TextMatch::Exact("foo".into()), text),
        Ok(false)
    );
    assert_eq!(
        text_matches(&TextMatch::Regex("fo+".into()), text),
        Ok(true)
    );
    assert_eq!(
        text_matches(&TextMatch::Regex("^foo".into()), text),
        Ok(false)
    );
    assert!(text_matches(&TextMatch::Regex("(".into()), text).is_err());
}

fn pinned(q: &str, t_ms: i64) -> Option<String> {
    variants::pin_at(&crate::parse(q).unwrap(), t_ms)
}

#[test]
fn at_variants_pin_outermost_selectors() {
    assert_eq!(
        pinned("rate(x[5m]) + y", 60_000).unwrap(),
        "rate(x[5m] @ 60) + y @ 60"
    );
    assert_eq!(pinned("x @ 10", 60_000).unwrap(), "x @ 10");
    assert_eq!(pinned("x @ start()", 60_000).unwrap(), "x @ 60");
    // Nothing inside a subquery changes, not even time-dependent calls.
    assert_eq!(
        pinned("max_over_time(rate(x[1m])[5m:1m])", 60_000).unwrap(),
        "max_over_time(rate(x[1m])[5m:1m] @ 60)"
    );
    assert!(pinned("max_over_time(timestamp(x)[5m:1m])", 60_000).is_some());
    assert_eq!(pinned("timestamp(x)", 60_000), None);
    assert_eq!(pinned("x - time()", 60_000), None);
    assert_eq!(variants::eval_times(0), vec![-1000, 0, 1000]);
    assert_eq!(
        variants::eval_times(60_000),
        vec![-600_000, 0, 12_000, 60_000, 600_000]
    );
}

const FILE: &str = r#"
load 5m
    http_requests{job="api", instance="0"}  0+10x10
    http_requests{job="api", instance="1"}  _ 5 stale
    hist {{schema:0 sum:1 count:1}}

eval instant at 50m sum by (job) (http_requests)
    expect no_warn
    {job="api"} 100

eval range from 0 to 10m step 5m http_requests{instance="1"}
    http_requests{instance="1", job="api"} _ 5 _

eval instant at 50m scalar(sum(http_requests))
    100

eval instant at 10m http_requests[6m]
    expect range vector from 5m to 10m step 5m
    http_requests{job="api", instance="0"} 10 20
    http_requests{job="api", instance="1"} 5

eval instant at 50m http_requests{instance="0"} / 0
    expect ordered
    {job="api", instance="0"} +Inf

eval instant at 5m hist

eval instant at 50m sum(http_requests)
    99
"#;

#[test]
fn run_file_end_to_end() {
    let report = run_file(FILE, &test_engine_options()).unwrap();
    let failed: Vec<(usize, FailureKind)> =
        report.failures.iter().map(|f| (f.line, f.kind())).collect();
    assert_eq!(
        failed,
        vec![
            (26, FailureKind::NativeHistograms),
            (28, FailureKind::Other)
        ],
        "{:#?}",
        report.failures
    );
    assert_eq!(report.passed, 5);
    assert!(
        report.failures[1]
            .message
            .starts_with("expected scalar result, but got vector")
    );
}

#[test]
fn a_load_error_fails_later_evals() {
    let text = "load 1m\n  x 1 2\n\nload 1m\n  x 5\n\neval instant at 0 x\n  {__name__=\"x\"} 1\n";
    let report = run_file(text, &test_engine_options()).unwrap();
    assert_eq!(report.passed, 0);
    assert!(
        report.failures[0].message.contains("load failed"),
        "{:?}",
        report.failures
    );
}

#[test]
fn annotation_failures_are_told_apart() {
    let text = "load 1m\n  x 1\n\neval instant at 0 x\n  expect warn\n  x 1\n";
    let report = run_file(text, &test_engine_options()).unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(report.failures[0].kind(), FailureKind::Annotations);
}
