//! Table tests for both formats: each construct, each error with its line and column.

use std::borrow::Cow;

use super::*;

fn parse(input: &str, format: Format) -> Result<Vec<Entry<'_>>, ParseError> {
    Parser::new(input, format).collect()
}

fn entries(input: &str, format: Format) -> Vec<Entry<'_>> {
    match parse(input, format) {
        Ok(entries) => entries,
        Err(e) => panic!("{input:?} failed: {e}"),
    }
}

fn samples(input: &str, format: Format) -> Vec<SampleLine<'_>> {
    entries(input, format)
        .into_iter()
        .filter_map(|e| match e {
            Entry::Sample(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn only_sample(input: &str, format: Format) -> SampleLine<'_> {
    let mut all = samples(input, format);
    assert_eq!(all.len(), 1, "{input:?}");
    all.remove(0)
}

fn labels<'a>(pairs: &[(&'a str, &'a str)]) -> LabelPairs<'a> {
    pairs.iter().map(|&(n, v)| (n, Cow::Borrowed(v))).collect()
}

/// Asserts that `input` fails at `line`:`column` with a message containing `message`,
/// and that nothing follows the error.
fn assert_error(input: &str, format: Format, line: usize, column: usize, message: &str) {
    let mut parser = Parser::new(input, format);
    let error = loop {
        match parser.next() {
            Some(Ok(_)) => {}
            Some(Err(e)) => break e,
            None => panic!("{input:?} parsed without error"),
        }
    };
    assert_eq!(
        (error.line, error.column),
        (line, column),
        "{input:?}: {error}"
    );
    assert!(
        error.message.contains(message),
        "{input:?}: {error:?} lacks {message:?}"
    );
    assert!(
        parser.next().is_none(),
        "{input:?}: the parser must stop after an error"
    );
}

const PROM: Format = Format::PrometheusText;
const OM: Format = Format::OpenMetrics;

#[test]
fn display_is_line_column_message() {
    let e = ParseError {
        line: 3,
        column: 7,
        message: "expected x".into(),
    };
    assert_eq!(e.to_string(), "line 3, column 7: expected x");
}

/// Input, name, labels, value, timestamp.
type SampleCase = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    f64,
    Option<i64>,
);

#[test]
fn prom_sample_shapes() {
    let cases: [SampleCase; 12] = [
        ("a 1", "a", &[], 1.0, None),
        ("a 1\n", "a", &[], 1.0, None),
        ("a:b_c 1 123\n", "a:b_c", &[], 1.0, Some(123)),
        (
            "a  {  b = \"c\" , d=\"e\" }  1  123  \n",
            "a",
            &[("b", "c"), ("d", "e")],
            1.0,
            Some(123),
        ),
        (
            "a{b=\"c\" d=\"e\"} 1\n",
            "a",
            &[("b", "c"), ("d", "e")],
            1.0,
            None,
        ),
        ("a{b=\"c\",} 1\n", "a", &[("b", "c")], 1.0, None),
        ("a{} -2.5e3\n", "a", &[], -2500.0, None),
        ("a{b=\"c\"}1\n", "a", &[("b", "c")], 1.0, None),
        ("a-1 2\n", "a", &[], -1.0, Some(2)),
        ("a\t+Inf\t0\n", "a", &[], f64::INFINITY, Some(0)),
        ("a{_b1=\"\"} .5\n", "a", &[("_b1", "")], 0.5, None),
        ("a{b=\"é☃\"} 1\n", "a", &[("b", "é☃")], 1.0, None),
    ];
    for (input, name, pairs, value, ts) in cases {
        let s = only_sample(input, PROM);
        assert_eq!(
            (s.name, &s.labels, s.value, s.timestamp_ms),
            (name, &labels(pairs), value, ts),
            "{input:?}"
        );
        assert_eq!(s.exemplar, None);
    }
}

#[test]
fn prom_escapes_and_line_numbers() {
    let input = "a{b=\"x\\\\y\\\"z\\nw\\tq\"} 1\n\n  \n# comment\nc{d=\"two\nlines\"} 2\ne 3\n";
    let all = samples(input, PROM);
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[0].labels,
        vec![("b", Cow::Owned::<str>("x\\y\"z\nw\\tq".into()))]
    );
    assert!(matches!(all[0].labels[0].1, Cow::Owned(_)));
    assert_eq!(all[1].labels, labels(&[("d", "two\nlines")]));
    assert!(matches!(all[1].labels[0].1, Cow::Borrowed(_)));
    assert_eq!([all[0].line, all[1].line, all[2].line], [1, 5, 7]);
}

#[test]
fn prom_metadata_and_comments() {
    let input = "# HELP a x\\ny \\\\ \\\" z\n# TYPE a counter\n#HELP b no\n# HELP\n# other\n\
                 # HELP\tb\tdoc\n# HELP c   \n# HELP d\n#  TYPE d untyped\n# TYPE e summary\n\
                 # TYPE f gauge\n# TYPE g histogram\n";
    let want = vec![
        Entry::Help {
            family: "a",
            text: Cow::Owned("x\ny \\ \\\" z".into()),
        },
        Entry::Type {
            family: "a",
            kind: MetricType::Counter,
        },
        Entry::Help {
            family: "b",
            text: Cow::Borrowed("doc"),
        },
        Entry::Help {
            family: "c",
            text: Cow::Borrowed(""),
        },
        Entry::Help {
            family: "d",
            text: Cow::Borrowed(""),
        },
        Entry::Type {
            family: "d",
            kind: MetricType::Unknown,
        },
        Entry::Type {
            family: "e",
            kind: MetricType::Summary,
        },
        Entry::Type {
            family: "f",
            kind: MetricType::Gauge,
        },
        Entry::Type {
            family: "g",
            kind: MetricType::Histogram,
        },
    ];
    assert_eq!(entries(input, PROM), want);
}

#[test]
fn prom_nan_and_nul() {
    let s = only_sample("a NaN\n\0 garbage {{{\n", PROM);
    assert_eq!(s.value.to_bits(), NORMAL_NAN_BITS);
    assert!(entries("", PROM).is_empty());
    assert!(entries("\n\n# just a comment", PROM).is_empty());
}

#[test]
fn prom_errors() {
    let cases: [(&str, usize, usize, &str); 24] = [
        (
            "a",
            1,
            2,
            "expected a value after the metric name and labels, found end of input",
        ),
        (
            "a{b='c'} 1\n",
            1,
            5,
            "expected a quoted label value, found '\\''",
        ),
        (
            "a{b=\n",
            1,
            5,
            "expected a quoted label value, found end of line",
        ),
        ("a true\n", 1, 3, "expected a float value, found \"true\""),
        (
            "something_weird{problem=\"",
            1,
            26,
            "expected '\"' to close the label value, found end of input",
        ),
        (
            "empty_label_name{=\"\"} 0",
            1,
            18,
            "expected a label name or '}', found '='",
        ),
        ("foo 1_2\n", 1, 5, "unsupported character in float"),
        ("foo 0x1p-3\n", 1, 5, "unsupported character in float"),
        ("foo 1e400\n", 1, 5, "out of range"),
        ("foo -nan\n", 1, 5, "expected a float value"),
        (
            "foo 0 1_2\n",
            1,
            8,
            "expected a line break after the timestamp, found '_'",
        ),
        (
            "{a=\"ok\"} 1",
            1,
            1,
            "quoted (UTF-8) metric names are not supported",
        ),
        (
            "a{\"b\"=\"ok\"} 1",
            1,
            3,
            "quoted (UTF-8) label names are not supported",
        ),
        (
            "# TYPE #\n",
            1,
            8,
            "expected a metric name after TYPE, found '#'",
        ),
        (
            "# HELP  \n",
            1,
            9,
            "expected a metric name after HELP, found end of line",
        ),
        ("a\0{b=\"ddd\"} 1", 1, 2, "expected a value"),
        ("a 0 1\0", 1, 6, "expected a line break after the timestamp"),
        (
            "a{b\0=\"hiih\"}\t1",
            1,
            4,
            "expected '=' after the label name, found '\\0'",
        ),
        (
            "a 1\nb 2\nc x\n",
            3,
            3,
            "expected a float value, found \"x\"",
        ),
        (
            "# TYPE a gauge\n# TYPE a foo\n",
            2,
            9,
            "invalid metric type \"foo\"",
        ),
        (
            "# TYPE a unknown\n",
            1,
            9,
            "invalid metric type \"unknown\"",
        ),
        (
            "a 1 -5",
            1,
            5,
            "expected a timestamp (integer milliseconds) or a line break after the value, found '-'",
        ),
        ("a 1 99999999999999999999", 1, 5, "out of range"),
        ("a{b=\"x\ny\"} 1\nc x\n", 3, 3, "expected a float value"),
    ];
    for (input, line, column, message) in cases {
        assert_error(input, PROM, line, column, message);
    }
    assert_error(
        "a{b=\"c\",,d=\"e\"} 1",
        PROM,
        1,
        9,
        "expected a label name or '}', found ','",
    );
    assert_error("a 1\r\n", PROM, 1, 3, "found \"1\\r\"");
    assert_error(
        "a 1\n \tb 1\n",
        PROM,
        2,
        1,
        "blanks before a metric name are not allowed",
    );
    assert_error("é{ 1", PROM, 1, 1, "expected a metric name");
    assert_error("ab{é=\"x\"} 1", PROM, 1, 4, "found 'é'");
    assert_error(
        "a{b=\"é\" é=\"x\"} 1",
        PROM,
        1,
        9,
        "expected a label name or '}', found 'é'",
    );
}

#[test]
fn om_full_body() {
    let input = "# HELP go_gc A summary.\n# TYPE go_gc summary\n# UNIT go_gc \n\
        go_gc{quantile=\"0\"} 4.9351e-05\ngo_gc_count 99\n\
        # HELP help2 escape \\ \\n \\\\ \\\" \\x chars\n# HELP nohelp1 \n\
        # UNIT a_seconds seconds\n# UNIT _seconds seconds\n\
        some:aggregate:rate5m{a_b=\"c\"} 1\n_underscore 1\n\
        # TYPE hh histogram\nhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4\n\
        # TYPE gh gaugehistogram\ngh_bucket{le=\"+Inf\"} 1 123.123 # {cc=\"dd\",xx=\"yy\"} 4 123.123\n\
        foo_total 17.0 1520879607.789 # {id=\"counter-test\"} 5\n\
        bar_total 1 # {} NaN\n\
        # TYPE ss stateset\nss{ss=\"foo\"} 1\n# TYPE ii info\nii_info{foo=\"bar\"} 1\n# EOF\n";
    let all = entries(input, OM);
    assert_eq!(all.len(), 22);
    assert_eq!(
        all[2],
        Entry::Unit {
            family: "go_gc",
            unit: ""
        }
    );
    assert_eq!(
        all[5],
        Entry::Help {
            family: "help2",
            text: Cow::Owned("escape \\ \n \\ \" \\x chars".into())
        }
    );
    assert_eq!(
        all[6],
        Entry::Help {
            family: "nohelp1",
            text: Cow::Borrowed("")
        }
    );
    assert_eq!(
        all[8],
        Entry::Unit {
            family: "_seconds",
            unit: "seconds"
        }
    );
    assert_eq!(
        all[13],
        Entry::Type {
            family: "gh",
            kind: MetricType::GaugeHistogram
        }
    );
    assert_eq!(all.last(), Some(&Entry::Eof));
    let Entry::Sample(gh) = &all[14] else {
        panic!("{:?}", all[14])
    };
    assert_eq!(gh.timestamp_ms, Some(123_123));
    let ex = gh.exemplar.as_ref().expect("exemplar");
    assert_eq!(
        (&ex.labels, ex.value, ex.timestamp_ms),
        (&labels(&[("cc", "dd"), ("xx", "yy")]), 4.0, Some(123_123))
    );
    let Entry::Sample(foo) = &all[15] else {
        panic!("{:?}", all[15])
    };
    assert_eq!(
        (foo.value, foo.timestamp_ms, foo.line),
        (17.0, Some(1_520_879_607_789), 16)
    );
    let Entry::Sample(bar) = &all[16] else {
        panic!("{:?}", all[16])
    };
    let ex = bar.exemplar.as_ref().expect("exemplar");
    assert_eq!(
        (ex.labels.len(), ex.value.to_bits(), ex.timestamp_ms),
        (0, NORMAL_NAN_BITS, None)
    );
}

#[test]
fn om_small_cases() {
    assert_eq!(entries("# EOF", OM), vec![Entry::Eof]);
    assert_eq!(entries("# EOF\n", OM), vec![Entry::Eof]);
    let s = only_sample("a{b=\"\\\"\\n\\\\\\t\",c=\"\"} NaN -1.5\n# EOF", OM);
    assert_eq!(
        s.labels,
        vec![
            ("b", Cow::Owned("\"\n\\\\t".into())),
            ("c", Cow::Borrowed(""))
        ]
    );
    assert_eq!(
        (s.value.to_bits(), s.timestamp_ms),
        (NORMAL_NAN_BITS, Some(-1500))
    );
    let s = only_sample("a{b=\"\0\"} 1\n# EOF\n", OM);
    assert_eq!(s.labels, labels(&[("b", "\0")]));
    let s = only_sample("a_bucket{le=\"1\"} 1 # {} 2 3\n# EOF\n", OM);
    assert_eq!(s.exemplar.map(|e| e.timestamp_ms), Some(Some(3000)));
}

#[test]
fn om_errors() {
    let cases: [(&str, usize, usize, &str); 30] = [
        ("", 1, 1, "must end with \"# EOF\""),
        (
            "\n",
            1,
            1,
            "expected a metric name or '#' at the start of a line, found end of line",
        ),
        (
            "metric",
            1,
            7,
            "expected ' ' and a value after the metric name and labels, found end of input",
        ),
        ("metric 1", 1, 9, "must end with \"# EOF\""),
        ("metric 1\n", 2, 1, "must end with \"# EOF\""),
        (
            "metric_total 1 # {aa=\"bb\"} 4",
            1,
            29,
            "must end with \"# EOF\"",
        ),
        (
            "a\n#EOF\n",
            1,
            2,
            "expected ' ' and a value after the metric name and labels, found end of line",
        ),
        (" a 1\n# EOF\n", 1, 1, "found ' '"),
        (
            "# TYPE u untyped\n# EOF\n",
            1,
            10,
            "invalid metric type \"untyped\"",
        ),
        (
            "# TYPE c counter \n# EOF\n",
            1,
            10,
            "invalid metric type \"counter \"",
        ),
        (
            "#  TYPE c counter\n",
            1,
            1,
            "expected \"# HELP \", \"# TYPE \", \"# UNIT \" or \"# EOF\"",
        ),
        (
            "# TYPE \n",
            1,
            8,
            "expected a metric name after \"# TYPE \", found end of line",
        ),
        (
            "# TYPE m\n",
            1,
            9,
            "expected ' ' and the TYPE text after the metric name, found end of line",
        ),
        (
            "# UNIT metric suffix\n",
            1,
            15,
            "unit \"suffix\" is not a suffix of metric \"metric\"",
        ),
        ("# UNIT metricsuffix suffix\n", 1, 21, "is not a suffix"),
        (
            "# HELP m x",
            1,
            11,
            "expected a line break after the HELP text, found end of input",
        ),
        ("a\t1\n# EOF\n", 1, 2, "expected ' ' and a value"),
        (
            "a 1\t2\n# EOF\n",
            1,
            3,
            "expected a float value, found \"1\\t2\"",
        ),
        (
            "a 1 2 \n# EOF\n",
            1,
            6,
            "expected an exemplar (\" # {\") or a line break after the timestamp, found ' '",
        ),
        ("a 1 2 #\n# EOF\n", 1, 6, "after the timestamp"),
        (
            "a 1 1z\n# EOF\n",
            1,
            5,
            "invalid timestamp: expected a float value, found \"1z\"",
        ),
        ("# EOF\na 1", 2, 1, "unexpected data after \"# EOF\""),
        ("# EOF\n\n", 2, 1, "unexpected data after \"# EOF\""),
        ("# EOFa 1", 1, 6, "unexpected data after \"# EOF\""),
        (
            "# TYPE c  counter\n",
            1,
            10,
            "invalid metric type \" counter\"",
        ),
        ("a 1 1 1\n# EOF\n", 1, 6, "after the timestamp, found ' '"),
        (
            "a{b=\"c\",} 1\n",
            1,
            9,
            "expected a label name after ',', found '}'",
        ),
        (
            "a{,b=\"c\"} 1\n",
            1,
            3,
            "expected a label name or '}', found ','",
        ),
        (
            "a{b=\"c\"d=\"e\"} 1\n",
            1,
            8,
            "expected ',' between labels, found 'd'",
        ),
        (
            "a{b=\"c\" } 1\n",
            1,
            8,
            "expected ',' or '}' after the label value, found ' '",
        ),
    ];
    for (input, line, column, message) in cases {
        assert_error(input, OM, line, column, message);
    }
}

#[test]
fn om_label_and_exemplar_errors() {
    let cases: [(&str, usize, usize, &str); 15] = [
        (
            "a{b=\"c\",,d=\"e\"} 1\n",
            1,
            9,
            "expected a label name after ',', found ','",
        ),
        (
            "a{b=\n",
            1,
            5,
            "expected a quoted label value, found end of line",
        ),
        (
            "weird{problem=\"\n# EOF\n",
            1,
            16,
            "expected '\"' to close the label value, found end of line",
        ),
        ("foo 1_2\n\n# EOF\n", 1, 5, "unsupported character in float"),
        (
            "a_total 1 # {aa=bb}\n",
            1,
            17,
            "expected a quoted label value, found 'b'",
        ),
        (
            "a_total 1 # {aa=\"bb\"}\n",
            1,
            22,
            "expected ' ' and a value after the exemplar labels, found end of line",
        ),
        (
            "custom_metric 1 # {aa=\"bb\"}",
            1,
            17,
            "metric name custom_metric does not support exemplars",
        ),
        (
            "a_total 1 # {aa=\"bb\",,cc=\"dd\"} 1",
            1,
            22,
            "expected a label name after ','",
        ),
        (
            "a_total 1 # {aa=\"bb\"} 1_2",
            1,
            23,
            "unsupported character in float",
        ),
        ("a 1 NaN", 1, 5, "invalid timestamp"),
        ("a 1 -Inf", 1, 5, "invalid timestamp"),
        (
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 Inf",
            2,
            37,
            "invalid exemplar timestamp",
        ),
        (
            "a_total 1 # {} 2 3 4\n",
            1,
            19,
            "expected a line break after the exemplar timestamp, found ' '",
        ),
        (
            "{b=\"c\",} 1",
            1,
            1,
            "quoted (UTF-8) metric names are not supported",
        ),
        (
            "a{\"b\"=\"c\"} 1\n# EOF\n",
            1,
            3,
            "quoted (UTF-8) label names are not supported",
        ),
    ];
    for (input, line, column, message) in cases {
        assert_error(input, OM, line, column, message);
    }
}

fn strict_error(input: &str, format: Format, line: usize, message: &str) {
    let result: Result<Vec<_>, _> = Parser::new(input, format).strict().collect();
    let error = result.expect_err(input);
    assert_eq!((error.line, error.column), (line, 1), "{input:?}: {error}");
    assert!(
        error.message.contains(message),
        "{input:?}: {error:?} lacks {message:?}"
    );
    assert!(
        parse(input, format).is_ok(),
        "{input:?}: the default mode must accept it"
    );
}

#[test]
fn strict_mode_errors() {
    let om: [(&str, usize, &str); 10] = [
        (
            "# TYPE foo counter\nfoo 1\n# EOF\n",
            2,
            "sample foo does not fit counter family foo: expected one of foo_total, foo_created",
        ),
        (
            "a 1\nb 1\na 2\n# EOF\n",
            3,
            "family a appears again after other families",
        ),
        (
            "foo 1\n# TYPE foo gauge\n# EOF\n",
            2,
            "TYPE line for family foo after its samples",
        ),
        (
            "# TYPE foo gauge\n# TYPE foo gauge\n# EOF\n",
            2,
            "second TYPE line for family foo",
        ),
        (
            "# TYPE h histogram\nh_bucket 1\n# EOF\n",
            2,
            "sample h_bucket lacks the le label",
        ),
        (
            "# TYPE s summary\ns 1\n# EOF\n",
            2,
            "lacks the quantile label",
        ),
        ("a{x=\"1\",x=\"2\"} 1\n# EOF\n", 1, "label x appears twice"),
        (
            "# TYPE x_total gauge\nx_total 1 # {} 1\n# EOF\n",
            2,
            "only counter _total and histogram _bucket",
        ),
        ("# TYPE i info\ni 1\n# EOF\n", 2, "expected one of i_info"),
        (
            "# TYPE c counter\nc_total 1\n# HELP c late\n# EOF\n",
            3,
            "HELP line for family c after its samples",
        ),
    ];
    for (input, line, message) in om {
        strict_error(input, OM, line, message);
    }
    let long = format!("c_total 1 # {{id=\"{}\"}} 1\n# EOF\n", "x".repeat(127));
    strict_error(
        &format!("# TYPE c counter\n{long}"),
        OM,
        2,
        "129 characters, more than the 128",
    );
    strict_error(
        "# TYPE c counter\nc_total 1\n",
        PROM,
        2,
        "sample c_total does not fit counter family c",
    );
    strict_error(
        "# TYPE h histogram\nh 1\n",
        PROM,
        2,
        "expected one of h_bucket, h_count, h_sum",
    );
}

#[test]
fn strict_mode_accepts_well_formed_families() {
    let om = "# HELP c x\n# TYPE c counter\n# UNIT c \nc_total 1 # {a=\"b\"} 1\nc_created 1\n\
              # TYPE h histogram\nh_bucket{le=\"1\"} 1 # {} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\nh_created 1\n\
              # TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum 1\n\
              # TYPE s summary\ns{quantile=\"0.5\"} 1\ns_count 1\ns_sum 1\n\
              untyped_one 1\nuntyped_one_total 2\nc_other 3\n# EOF\n";
    let result: Result<Vec<_>, _> = Parser::new(om, OM).strict().collect();
    assert!(result.is_ok(), "{result:?}");
    let prom = "# TYPE c_total counter\nc_total 1\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_sum 1\n\
                # TYPE s summary\ns{quantile=\"1\"} 1\ns_sum 1\ns_count 1\nu 1\n";
    let result: Result<Vec<_>, _> = Parser::new(prom, PROM).strict().collect();
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn iteration_stops_after_eof_and_errors() {
    let mut p = Parser::new("a 1\n# EOF\n", OM);
    assert!(matches!(p.next(), Some(Ok(Entry::Sample(_)))));
    assert_eq!(p.next(), Some(Ok(Entry::Eof)));
    assert_eq!(p.next(), None);
    assert_eq!(p.next(), None);
    assert_eq!(p.format(), OM);
}
