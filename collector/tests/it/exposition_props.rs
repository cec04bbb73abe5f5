//! Property tests: no input makes the parser panic, errors point inside the input, and
//! generated samples survive a render and re-parse.

use std::borrow::Cow;

use collector::exposition::{Entry, Format, Parser};
use proptest::prelude::*;

const FORMATS: [Format; 2] = [Format::PrometheusText, Format::OpenMetrics];

/// Parses `input` in every format and mode; checks the error position when there is one.
fn parse_everything(input: &str) {
    let lines = input.split('\n').count();
    for format in FORMATS {
        for strict in [false, true] {
            let parser = Parser::new(input, format);
            let parser = if strict { parser.strict() } else { parser };
            let mut count = 0;
            for item in parser {
                count += 1;
                if let Err(e) = item {
                    assert!(e.line >= 1 && e.line <= lines, "{e} in {input:?}");
                    let line_len = input
                        .split('\n')
                        .nth(e.line - 1)
                        .map_or(0, |l| l.chars().count());
                    assert!(
                        e.column >= 1 && e.column <= line_len + 1,
                        "{e} in {input:?}"
                    );
                    assert!(!e.message.is_empty());
                }
            }
            assert!(count <= input.len() + 1);
        }
    }
}

/// Writes one sample line (plus `# EOF` for OpenMetrics) with escaped label values.
fn render(
    name: &str,
    labels: &[(String, String)],
    value: f64,
    ts: Option<i64>,
    format: Format,
) -> String {
    let mut text = name.to_owned();
    if !labels.is_empty() {
        let pairs: Vec<String> = labels
            .iter()
            .map(|(n, v)| {
                let v = v
                    .replace('\\', "\\\\")
                    .replace('\n', "\\n")
                    .replace('"', "\\\"");
                format!("{n}=\"{v}\"")
            })
            .collect();
        text.push_str(&format!("{{{}}}", pairs.join(",")));
    }
    text.push_str(&format!(" {value:?}"));
    match (ts, format) {
        (Some(ts), Format::PrometheusText) => text.push_str(&format!(" {ts}")),
        (Some(ts), Format::OpenMetrics) => {
            text.push_str(&format!(" {}.{:03}", ts / 1000, ts % 1000))
        }
        (None, _) => {}
    }
    text.push('\n');
    if format == Format::OpenMetrics {
        text.push_str("# EOF\n");
    }
    text
}

/// Renders a sample, parses it back and compares every field.
fn round_trip(
    name: &str,
    labels: &[(String, String)],
    value: f64,
    ts: Option<i64>,
) -> Result<(), TestCaseError> {
    for format in FORMATS {
        let input = render(name, labels, value, ts, format);
        let entries: Vec<Entry<'_>> = Parser::new(&input, format)
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(format!("{e}: {input:?}")))?;
        let Some(Entry::Sample(s)) = entries.first() else {
            return Err(TestCaseError::fail("no sample"));
        };
        prop_assert_eq!(s.name, name);
        let want: Vec<(&str, Cow<'_, str>)> = labels
            .iter()
            .map(|(n, v)| (n.as_str(), Cow::Borrowed(v.as_str())))
            .collect();
        prop_assert_eq!(&s.labels, &want);
        if value.is_nan() {
            prop_assert!(s.value.is_nan());
        } else {
            prop_assert_eq!(s.value.to_bits(), value.to_bits());
        }
        match (format, ts) {
            (Format::PrometheusText, _) => prop_assert_eq!(s.timestamp_ms, ts),
            (Format::OpenMetrics, Some(ts)) => {
                // Prometheus truncates seconds * 1000, which may land 1 ms low.
                let got = s.timestamp_ms.unwrap_or(i64::MIN);
                prop_assert!(got == ts || got == ts - 1, "{} vs {}", got, ts);
            }
            (Format::OpenMetrics, None) => prop_assert_eq!(s.timestamp_ms, None),
        }
    }
    Ok(())
}

/// Names, label sets, values and timestamps as exposition texts carry them.
const NAME: &str = "[a-zA-Z_:][a-zA-Z0-9_:]{0,10}";
const LABEL_NAME: &str = "[a-zA-Z_][a-zA-Z0-9_]{0,6}";
const LABEL_VALUE: &str = "[ -~\u{e9}\\n\\\\\"]{0,8}";
/// Fragments of both formats, so random strings reach past the first token.
const FRAGMENTS: &str = "([a-c_:]{0,3}|[{}=,\" #\\n\\t\\\\]|[0-9.eE+-]{1,4}|HELP |TYPE |UNIT |EOF|Inf|NaN|_total|_bucket|le|\u{e9}|\0){0,40}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        parse_everything(&input);
    }

    #[test]
    fn exposition_like_strings_never_panic(input in FRAGMENTS) {
        parse_everything(&input);
    }

    #[test]
    fn generated_samples_round_trip(
        name in NAME,
        labels in proptest::collection::vec((LABEL_NAME, LABEL_VALUE), 0..5),
        value in any::<f64>(),
        ts in proptest::option::of(0i64..4_000_000_000_000),
    ) {
        round_trip(&name, &labels, value, ts)?;
    }
}
