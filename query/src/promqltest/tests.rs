//! Unit tests of the `.test` file reader.

use super::series::{parse_series_line, parse_values};
use super::time::parse_duration;
use super::*;

fn floats(s: &str) -> Vec<Option<f64>> {
    parse_values(s)
        .expect("values parse")
        .into_iter()
        .map(|v| v.map(|v| v.as_f64().expect("float")))
        .collect()
}

fn one_eval(text: &str) -> Eval {
    let cmds = parse_file(text).expect("file parses");
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    match cmds.into_iter().next() {
        Some(Command::Eval(ev)) => *ev,
        other => panic!("not an eval: {other:?}"),
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs).expect("labels")
}

#[test]
fn durations() {
    assert_eq!(parse_duration("0"), Some(0));
    assert_eq!(parse_duration("50m"), Some(3_000_000));
    assert_eq!(parse_duration("1m30s"), Some(90_000));
    assert_eq!(parse_duration("10s53ms"), Some(10_053));
    assert_eq!(parse_duration("1d"), Some(86_400_000));
    assert_eq!(parse_duration(""), None);
    assert_eq!(parse_duration("30s1m"), None);
    assert_eq!(parse_duration("-1m"), None);
    assert_eq!(parse_duration("1.5m"), None);
}

#[test]
fn plain_values_and_expansions() {
    assert_eq!(floats("1 2 3"), vec![Some(1.0), Some(2.0), Some(3.0)]);
    assert_eq!(
        floats("1+2x3"),
        vec![Some(1.0), Some(3.0), Some(5.0), Some(7.0)]
    );
    assert_eq!(
        floats("1-1x5"),
        vec![
            Some(1.0),
            Some(0.0),
            Some(-1.0),
            Some(-2.0),
            Some(-3.0),
            Some(-4.0)
        ]
    );
    assert_eq!(floats("5x2"), vec![Some(5.0); 3]);
    assert_eq!(floats("-2x1"), vec![Some(-2.0); 2]);
    assert_eq!(
        floats("1 +1x2"),
        vec![Some(1.0), Some(1.0), Some(1.0), Some(1.0)]
    );
    assert_eq!(
        floats("1e3 12.34E+6 .25 2. 1_000"),
        vec![
            Some(1e3),
            Some(12.34e6),
            Some(0.25),
            Some(2.0),
            Some(1000.0)
        ]
    );
    assert_eq!(floats("1e-1+1e-1x1"), vec![Some(0.1), Some(0.2)]);
    // Hexadecimal is not a value: `0x10` is eleven zeros.
    assert_eq!(floats("0x10"), vec![Some(0.0); 11]);
    assert_eq!(floats(""), Vec::<Option<f64>>::new());
}

#[test]
fn repeated_addition_not_multiplication() {
    let v = floats("0+0.1x3");
    let mut acc = 0.0;
    for (k, x) in v.iter().enumerate() {
        assert_eq!(x.map(f64::to_bits), Some(f64::to_bits(acc)), "k={k}");
        acc += 0.1;
    }
}

#[test]
fn gaps_and_specials() {
    assert_eq!(
        floats("_ 1 _x3 2"),
        vec![None, Some(1.0), None, None, None, Some(2.0)]
    );
    let v = floats("Inf -Inf +inf NaN nan");
    assert_eq!(v[0], Some(f64::INFINITY));
    assert_eq!(v[1], Some(f64::NEG_INFINITY));
    assert_eq!(v[2], Some(f64::INFINITY));
    assert!(v[3].is_some_and(f64::is_nan) && v[4].is_some_and(f64::is_nan));
    let stale = parse_values("1 stale").expect("parses");
    assert_eq!(stale[1], Some(Value::Stale));
    assert_eq!(
        stale[1].as_ref().and_then(Value::as_f64).map(f64::to_bits),
        Some(model::STALE_NAN_BITS)
    );
    assert!(parse_values("stalex3").is_err());
    assert!(parse_values("1x").is_err());
    assert!(parse_values("1+1").is_err());
    assert!(parse_values("abc").is_err());
    assert!(parse_values("1 # c").is_err());
}

#[test]
fn histogram_literals_kept_raw() {
    let v =
        parse_values("{{schema:0 sum:5 count:4 buckets:[1 2 1]}} {{count:1}}x2 _").expect("parses");
    assert_eq!(v.len(), 5);
    let Some(Value::Histogram(h)) = &v[0] else {
        panic!("{v:?}")
    };
    assert_eq!(h.base, "schema:0 sum:5 count:4 buckets:[1 2 1]");
    assert_eq!(h.step, None);
    assert_eq!(v[4], None);
    let v = parse_values("{{count:0}}+{{count:1}}x4").expect("parses");
    assert_eq!(v.len(), 5);
    let Some(Value::Histogram(h)) = &v[3] else {
        panic!("{v:?}")
    };
    assert_eq!(h.step, Some(HistogramStep::Add("count:1".to_string())));
    assert_eq!(h.k, 3);
    let v = parse_values("{{count:9}}-{{count:1}}x1").expect("parses");
    let Some(Value::Histogram(h)) = &v[1] else {
        panic!("{v:?}")
    };
    assert_eq!(h.step, Some(HistogramStep::Sub("count:1".to_string())));
    assert!(parse_values("{{count:1").is_err());
    assert!(parse_values("{{count:1}}+{{count:1}}").is_err());
}

#[test]
fn metric_syntax() {
    let (l, v) = parse_series_line(r#"http_requests{job="api", instance='0',} 1"#).expect("ok");
    assert_eq!(
        l,
        labels(&[
            ("__name__", "http_requests"),
            ("job", "api"),
            ("instance", "0")
        ])
    );
    assert_eq!(v.len(), 1);
    let (l, _) = parse_series_line(r#"{__name__="x", a="b c}"} 1"#).expect("ok");
    assert_eq!(l, labels(&[("__name__", "x"), ("a", "b c}")]));
    let (l, _) = parse_series_line(r#"{env="1"} 120"#).expect("ok");
    assert_eq!(l.metric_name(), None);
    let (l, _) = parse_series_line(r#"sum{by="a\"b\n"} 1"#).expect("ok");
    assert_eq!(l.get("by"), Some("a\"b\n"));
    let (l, _) = parse_series_line(r#"{"my.metric", "a.b"="x"}"#).expect("ok");
    assert_eq!(l, labels(&[("__name__", "my.metric"), ("a.b", "x")]));
    let (l, v) = parse_series_line("up").expect("ok");
    assert_eq!((l.metric_name(), v.len()), (Some("up"), 0));
    assert!(parse_series_line(r#"x{a=b} 1"#).is_err());
    assert!(parse_series_line(r#"x{a="b" 1"#).is_err());
    assert!(parse_series_line("1 2").is_err());
}

#[test]
fn load_block() {
    let text = "# comment\nload 5m\n  a{x=\"1\"} 0+10x2 _ stale\n\tb 1 2\n  b 7\n\nclear\n";
    let cmds = parse_file(text).expect("parses");
    assert_eq!(cmds.len(), 2);
    assert_eq!(cmds[1], Command::Clear);
    let Command::Load {
        interval_ms,
        series,
        with_nhcb,
    } = &cmds[0]
    else {
        panic!("{cmds:?}")
    };
    assert_eq!((*interval_ms, *with_nhcb), (300_000, false));
    assert_eq!(series.len(), 2);
    let ts: Vec<i64> = series[0].1.iter().map(|p| p.t_ms).collect();
    assert_eq!(ts, vec![0, 300_000, 600_000, 1_200_000]);
    assert_eq!(series[0].1[3].value, Value::Stale);
    // Last line wins for a repeated label set.
    assert_eq!(series[1].0, labels(&[("__name__", "b")]));
    assert_eq!(series[1].1.len(), 1);
    assert_eq!(series[1].1[0].value, Value::Float(7.0));
    let cmds = parse_file("load_with_nhcb 1m\n  x_bucket{le=\"1\"} 1\n").expect("parses");
    assert!(matches!(
        cmds[0],
        Command::Load {
            with_nhcb: true,
            interval_ms: 60_000,
            ..
        }
    ));
    assert!(parse_file("load\n").is_err());
    assert!(parse_file("load 1x\n").is_err());
    assert!(parse_file("bogus 1\n").is_err());
}

#[test]
fn start_timestamp_lines() {
    let text = "load 1m\n  c{type=\"st\"}@st _ _ -30s-1mx2\n  c{type=\"st\"} _ _ 0+60x2\n";
    let cmds = parse_file(text).expect("parses");
    let Command::Load { series, .. } = &cmds[0] else {
        panic!()
    };
    let sts: Vec<Option<i64>> = series[0].1.iter().map(|p| p.st_ms).collect();
    assert_eq!(
        sts,
        vec![
            Some(120_000 - 30_000),
            Some(180_000 - 90_000),
            Some(240_000 - 150_000)
        ]
    );
    assert!(parse_file("load 1m\n  c@st 1s\n  d 1\n").is_err());
    assert!(parse_file("load 1m\n  c@st 1s\n  c 1 2\n").is_err());
}

#[test]
fn instant_eval_with_result() {
    let ev =
        one_eval("eval instant at 50m sum by (job) (x)\n  expect no_warn\n  {job=\"api\"} 100\n");
    assert_eq!(ev.kind, EvalKind::Instant { at_ms: 3_000_000 });
    assert_eq!(ev.expr_text, "sum by (job) (x)");
    assert!(ev.expr.is_ok());
    assert_eq!(ev.line, 1);
    assert!(ev.expect.no_warn && !ev.ordered && ev.expect.fail.is_none());
    let ExpectedResult::Series(s) = &ev.expect.result else {
        panic!()
    };
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].labels, labels(&[("job", "api")]));
    assert_eq!(s[0].values, vec![Some(Value::Float(100.0))]);
    assert_eq!(s[0].position, 1);
    // Multi-value lines need `expect range vector`.
    assert!(parse_file("eval instant at 0 x\n  x 1 2\n").is_err());
    // An unparsable expression is stored, not a reader error.
    let ev = one_eval("eval instant at 0 sum(\n");
    assert!(ev.expr.is_err());
}

#[test]
fn range_eval() {
    let ev = one_eval("eval range from 0 to 10m step 5m x{i=\"1\"}\n  x{i=\"1\"} _ 5 _\n");
    assert_eq!(
        ev.kind,
        EvalKind::Range {
            start_ms: 0,
            end_ms: 600_000,
            step_ms: 300_000
        }
    );
    let ExpectedResult::Series(s) = &ev.expect.result else {
        panic!()
    };
    assert_eq!(s[0].values, vec![None, Some(Value::Float(5.0)), None]);
    assert!(parse_file("eval range from 10m to 0 step 5m x\n").is_err());
    assert!(parse_file("eval_ordered range from 0 to 1m step 1m x\n").is_err());
}

#[test]
fn scalar_and_string_results() {
    let ev = one_eval("eval instant at 50m scalar(x)\n  100\n");
    assert_eq!(ev.expect.result, ExpectedResult::Scalar(100.0));
    let ev = one_eval("eval instant at 0 -Inf\n  -Inf\n");
    assert_eq!(ev.expect.result, ExpectedResult::Scalar(f64::NEG_INFINITY));
    // A scalar line ends the block: the next line is a new (invalid) command.
    assert!(parse_file("eval instant at 0 1\n  1\n  x 1\n").is_err());
    let ev = one_eval("eval instant at 0 \"a\"\n  expect string \"a\\tb\"\n");
    assert_eq!(ev.expect.result, ExpectedResult::String("a\tb".to_string()));
    let ev = one_eval("eval instant at 0 x\n");
    assert_eq!(ev.expect.result, ExpectedResult::Series(Vec::new()));
}

#[test]
fn expect_forms() {
    let ev = one_eval("eval instant at 1m x\n  expect fail msg: vector cannot contain metrics\n");
    assert_eq!(
        ev.expect.fail,
        Some(vec![TextMatch::Exact(
            "vector cannot contain metrics".to_string()
        )])
    );
    let ev = one_eval("eval instant at 1m x\n  expect fail regex:^bad.*$\n");
    assert_eq!(
        ev.expect.fail,
        Some(vec![TextMatch::Regex("^bad.*$".to_string())])
    );
    let ev = one_eval("eval instant at 1m x\n  expect fail\n");
    assert_eq!(ev.expect.fail, Some(vec![]));
    let ev = one_eval(
        "eval instant at 1m x\n  expect warn\n  expect warn msg: PromQL warning: w (1:5)\n  expect info regex: i\n  expect ordered\n  x 1\n  y 2\n",
    );
    assert_eq!(
        ev.expect.warn,
        vec![
            TextMatch::Any,
            TextMatch::Exact("PromQL warning: w (1:5)".to_string())
        ]
    );
    assert_eq!(ev.expect.info, vec![TextMatch::Regex("i".to_string())]);
    assert!(ev.ordered);
    let ExpectedResult::Series(s) = &ev.expect.result else {
        panic!()
    };
    assert_eq!((s[0].position, s[1].position), (1, 2));
    let ev = one_eval("eval instant at 1m x\n  expect no_info\n  expect no_warn\n");
    assert!(ev.expect.no_info && ev.expect.no_warn);
    // Comment line ends the block.
    let cmds = parse_file("eval instant at 1m x\n  expect no_info\n  # empty\n").expect("ok");
    assert_eq!(cmds.len(), 1);
    assert!(parse_file("eval instant at 1m x\n  expect warn\n  expect no_warn\n").is_err());
    assert!(parse_file("eval instant at 1m x\n  expect info\n  expect no_info\n").is_err());
    assert!(parse_file("eval instant at 1m x\n  expect fail\n  expect fail\n").is_err());
    assert!(parse_file("eval instant at 1m x\n  expect bogus\n").is_err());
    assert!(parse_file("eval instant at 1m x\n  expect fail text\n").is_err());
}

#[test]
fn expect_range_vector() {
    let ev = one_eval(
        "eval instant at 1m b[1m]\n  expect range vector from 0 to 1m step 30s\n  b 1 2 3\n",
    );
    assert_eq!(
        ev.expect.range_vector,
        Some(RangeVector {
            from_ms: 0,
            to_ms: 60_000,
            step_ms: 30_000
        })
    );
    assert!(
        parse_file("eval instant at 1m b[1m]\n  expect range vector 0 to 1m step 1m\n").is_err()
    );
    assert!(
        parse_file("eval instant at 1m b[1m]\n  expect range vector from 2m to 1m step 1m\n")
            .is_err()
    );
}

#[test]
fn old_spellings() {
    let ev = one_eval("eval_fail instant at 0 x\n  expected_fail_message boom here\n");
    assert_eq!(
        ev.expect.fail,
        Some(vec![TextMatch::Exact("boom here".to_string())])
    );
    let ev = one_eval("eval_fail instant at 0 x\n  expected_fail_regexp bo+m\n");
    assert_eq!(
        ev.expect.fail,
        Some(vec![TextMatch::Regex("bo+m".to_string())])
    );
    let ev = one_eval("eval_fail range from 0 to 1m step 1m x\n");
    assert_eq!(ev.expect.fail, Some(vec![]));
    let ev = one_eval("eval_warn instant at 0 x\n");
    assert_eq!(ev.expect.warn, vec![TextMatch::Any]);
    let ev = one_eval("eval_info instant at 0 x\n");
    assert_eq!(ev.expect.info, vec![TextMatch::Any]);
    let ev = one_eval("eval_ordered instant at 0 x\n  x 1\n");
    assert!(ev.ordered);
    // expected_fail_message ends the block.
    assert!(parse_file("eval_fail instant at 0 x\n  expected_fail_message m\n  x 1\n").is_err());
}
