//! Parser table tests.

use super::ast::{AtModifier, Cardinality, Expr, ValueType};
use super::parse;

/// A fully parenthesized rendering of operator structure, for precedence tests.
fn sexpr(e: &Expr) -> String {
    match e {
        Expr::Binary { op, lhs, rhs, .. } => {
            format!("({} {} {})", sexpr(lhs), op.as_str(), sexpr(rhs))
        }
        Expr::Unary { negate, expr } => {
            format!("({}{})", if *negate { "-" } else { "+" }, sexpr(expr))
        }
        Expr::Paren(e) => sexpr(e),
        other => other.to_string(),
    }
}

/// Parses or panics with the error.
fn p(q: &str) -> Expr {
    match parse(q) {
        Ok(e) => e,
        Err(err) => panic!("{q}: {err}"),
    }
}

/// The error message of a query that must fail.
fn err(q: &str) -> String {
    match parse(q) {
        Ok(e) => panic!("{q} parsed as {e:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 * 2 + 3", "((1 * 2) + 3)"),
        ("2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"),
        ("-2 ^ 2", "(-(2 ^ 2))"),
        ("-2 * 3", "(-2 * 3)"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("a or b and c", "(a or (b and c))"),
        ("a and b or c", "((a and b) or c)"),
        ("a unless b and c", "((a unless b) and c)"),
        ("a + b > c * d", "((a + b) > (c * d))"),
        ("a == b or c", "((a == b) or c)"),
        ("a atan2 b * c", "((a atan2 b) * c)"),
        ("2 ^ -1", "(2 ^ -1)"),
        ("-a", "(-a)"),
        ("- -1", "1"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("a % b / c", "((a % b) / c)"),
        ("a AND b OR c", "((a and b) or c)"),
    ];
    for (q, want) in cases {
        assert_eq!(sexpr(&p(q)), want, "{q}");
    }
}

#[test]
fn round_trips() {
    let cases = [
        "foo",
        "foo{a=\"b\", c!=\"d\", e=~\"f.*\", g!~\"h\"}",
        "{__name__=~\"foo.+\"}",
        "{\"foo.bar\"}",
        "{\"foo.bar\", \"a.b\"=\"c\"}",
        "foo{a=\"b\",}",
        "foo[5m]",
        "foo[1h30m] offset -5m",
        "foo offset 5m @ 1609746000",
        "foo @ start()",
        "foo[5m] @ end() offset 1d",
        "rate(foo[5m])[30m:1m]",
        "rate(foo[5m])[30m:] offset 1h",
        "sum by (a, b) (rate(x[5m]))",
        "sum(x) without (a)",
        "topk(5, x)",
        "count_values(\"v\", x)",
        "quantile without (a) (0.9, x)",
        "a + on(b) group_left(c) d",
        "a * ignoring(b) group_right e",
        "a > bool b",
        "1 > bool 2",
        "a and on() b",
        "-foo",
        "+foo",
        "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")",
        "time()",
        "round(x)",
        "round(x, 5)",
        "0x1f + 1e3 + .5 + Inf - -Inf",
        "\"a\\nb\\\"\"",
        "'single'",
        "`raw\\n`",
        "foo[90]",
        "SUM BY (a) (x)",
        "x[5m:1m] offset 1m @ 100",
        "1 - -1",
        "a - (b - c)",
        "(a)",
        "day_of_month()",
        "on{on=\"by\"}",
        "sum",
        "foo # comment\n + bar",
        "foo @ 1.5",
        "foo @ 100s",
        "predict_linear(x[5m], 1h)",
        "info(x, {data=~\".*\"})",
        "histogram_quantiles(x, \"q\", 0.5, 0.9)",
    ];
    for q in cases {
        let e = p(q);
        let printed = e.to_string();
        assert_eq!(p(&printed), e, "{q} printed as {printed}");
    }
}

#[test]
fn selector_details() {
    let Expr::VectorSelector {
        name,
        matchers,
        offset_ms,
        at,
        ..
    } = p("foo{a=\"b\"} offset 5m @ 10")
    else {
        panic!("not a selector")
    };
    assert_eq!(name.as_deref(), Some("foo"));
    assert_eq!(
        matchers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["__name__=\"foo\"", "a=\"b\""]
    );
    assert_eq!(offset_ms, 300_000);
    assert_eq!(at, Some(AtModifier::Timestamp(10_000)));
    let Expr::MatrixSelector { range_ms, .. } = p("foo[1m30s]") else {
        panic!("not a matrix")
    };
    assert_eq!(range_ms, 90_000);
    let Expr::Subquery { step_ms, .. } = p("foo[5m:]") else {
        panic!("not a subquery")
    };
    assert_eq!(step_ms, None);
    assert_eq!(p("-1"), Expr::NumberLiteral(-1.0));
    assert_eq!(p("1h"), Expr::NumberLiteral(3600.0));
    assert!(matches!(p("nan"), Expr::NumberLiteral(v) if v.is_nan()));
}

#[test]
fn value_types_and_matching() {
    assert_eq!(p("1 + 2").value_type(), ValueType::Scalar);
    assert_eq!(p("a + 2").value_type(), ValueType::Vector);
    assert_eq!(p("a[5m]").value_type(), ValueType::Matrix);
    assert_eq!(p("\"s\"").value_type(), ValueType::String);
    assert_eq!(p("scalar(a)").value_type(), ValueType::Scalar);
    let Expr::Binary {
        matching: Some(m), ..
    } = p("a or b")
    else {
        panic!("no matching")
    };
    assert_eq!(m.card, Cardinality::ManyToMany);
    let Expr::Binary { matching, .. } = p("a + 1") else {
        panic!("not binary")
    };
    assert_eq!(matching, None);
    let Expr::Binary {
        matching: Some(m), ..
    } = p("a / on(x) group_left(y) b")
    else {
        panic!()
    };
    assert_eq!(
        (m.card, m.on, m.labels),
        (
            Cardinality::ManyToOne(vec!["y".into()]),
            true,
            vec!["x".into()]
        )
    );
}

#[test]
fn errors() {
    let cases = [
        (
            "{}",
            "1:1: parse error: vector selector must contain at least one non-empty matcher",
        ),
        (
            "{a=\"\"}",
            "vector selector must contain at least one non-empty matcher",
        ),
        (
            "rate(foo)",
            "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector",
        ),
        (
            "1 > 2",
            "comparisons between scalars must use BOOL modifier",
        ),
        (
            "a + bool b",
            "bool modifier can only be used on comparison operators",
        ),
        (
            "1 and a",
            "set operator \"and\" not allowed in binary scalar expression",
        ),
        (
            "a and on(x) group_left b",
            "no grouping allowed for \"and\" operation",
        ),
        (
            "foo[5m] + 1",
            "binary expression must contain only scalar and instant vector types",
        ),
        (
            "topk(x)",
            "wrong number of arguments for aggregate expression provided, expected 2, got 1",
        ),
        (
            "sum(1, x)",
            "wrong number of arguments for aggregate expression provided, expected 1, got 2",
        ),
        (
            "topk(\"a\", x)",
            "expected type scalar in aggregation parameter, got string",
        ),
        (
            "sum(x[5m])",
            "expected type instant vector in aggregation expression, got range vector",
        ),
        ("foo(x)", "unknown function with name \"foo\""),
        (
            "time(1)",
            "expected 0 argument(s) in call to \"time\", got 1",
        ),
        (
            "round(a, 1, 2)",
            "expected at most 2 argument(s) in call to \"round\", got 3",
        ),
        (
            "label_join(a, \"b\")",
            "expected at least 3 argument(s) in call to \"label_join\", got 2",
        ),
        ("(a)[5m]", "ranges only allowed for vector selectors"),
        (
            "foo offset 5m [5m]",
            "no offset modifiers allowed before range",
        ),
        (
            "foo offset 1m offset 2m",
            "offset may not be set multiple times",
        ),
        ("1 offset 5m", "offset modifier must be preceded by"),
        (
            "foo[5m][1m:]",
            "subquery is only allowed on instant vector, got range vector",
        ),
        (
            "-foo[5m]",
            "unary expression only allowed on expressions of type scalar or instant vector",
        ),
        ("foo{a=~\"(\"}", "(\""),
        ("foo{__name__=\"bar\"}", "metric name must not be set twice"),
        ("", "no expression found in input"),
        ("foo bar", "1:5: parse error: unexpected identifier \"bar\""),
        (
            "a +\n  (b",
            "2:5: parse error: unexpected end of input in paren expression",
        ),
        ("\"abc", "unterminated quoted string"),
        ("5min", "bad number or duration syntax"),
        (
            "a + on(x) 1",
            "vector matching only allowed between instant vectors",
        ),
    ];
    for (q, want) in cases {
        let got = err(q);
        assert!(got.contains(want), "{q}: got {got:?}, want {want:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(err(&deep).contains("nesting too deep"));
    assert!(err(&"-".repeat(100_000)).contains("nesting too deep"));
    assert!(err(&"2^".repeat(100_000)).contains("nesting too deep"));
    let ok = format!("{}1{}", "(".repeat(150), ")".repeat(150));
    assert_eq!(p(&ok).value_type(), ValueType::Scalar);
}

#[test]
fn error_spans() {
    let e = parse("sum(rate(foo))").unwrap_err();
    assert_eq!((e.start, e.end, e.line, e.column), (9, 12, 1, 10));
}

#[test]
fn duration_expressions_fold_to_milliseconds() {
    assert_eq!(p("x[2m*15]"), p("x[30m]"));
    assert_eq!(p("x[1h30m % 1h]"), p("x[30m]"));
    assert_eq!(p("x[24m+((1.5*2m)+2m)]"), p("x[29m]"));
    assert_eq!(p("x[29s+1s:5s+5s]"), p("x[30s:10s]"));
    assert_eq!(p("x offset (100 + 2)"), p("x offset 102s"));
    assert_eq!(p("x offset -(2 * 2)"), p("x offset -4s"));
    // Without parentheses the offset takes one literal: `(x offset 100) + 2`.
    assert_eq!(p("x offset 100 + 2"), p("x offset 100s + 2"));
    assert!(err("x[1m/0]").contains("division by zero"));
}

#[test]
fn step_and_range_need_the_query() {
    assert!(err("x[step()]").contains("needs the query's step and range"));
    let ctx = super::QueryContext {
        step_ms: 10_000,
        range_ms: 60_000,
        start_ms: 0,
        end_ms: 60_000,
    };
    let with = |s: &str| super::parse_with_context(s, &ctx).unwrap();
    assert_eq!(with("x[step()+1ms]"), p("x[10001ms]"));
    assert_eq!(with("x[min_of(range(), 30s)]"), p("x[30s]"));
    // `offset -step()*2` is `(x offset -10s) * 2`.
    assert_eq!(with("x offset -step()*2"), p("x offset -10s * 2"));
    // As scalar functions they parse without a context; the engine resolves them.
    assert_eq!(p("step() + range()").value_type(), ValueType::Scalar);
}

#[test]
fn fill_modifiers() {
    let e = p("a + on(x) group_left fill_left(1) fill_right(-Inf) b");
    let Expr::Binary {
        matching: Some(m), ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (m.fill_lhs, m.fill_rhs),
        (Some(1.0), Some(f64::NEG_INFINITY))
    );
    assert_eq!(p(&e.to_string()), e);
    let both = p("a + fill(0) b");
    assert_eq!(both.to_string(), "a + fill(0) b");
    // `fill` without parentheses is a metric name.
    assert!(matches!(p("a + fill"), Expr::Binary { .. }));
    assert!(err("a and fill(0) b").contains("not allowed for set operators"));
    assert!(err("1 + fill(0) b").contains("only allowed between instant vectors"));
}

mod props {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = super::parse(&s);
        }

        #[test]
        fn never_panics_on_promql_like(s in "[a-z0-9(){}\\[\\]:,.\"'`=!~<>+*/^%@ -]{0,40}") {
            if let Ok(e) = super::parse(&s) {
                let printed = e.to_string();
                let again = super::parse(&printed);
                prop_assert!(again.is_ok(), "{} -> {} -> {:?}", s, printed, again);
            }
        }
    }
}
