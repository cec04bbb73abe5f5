//! The exposition parser on real scrapes: node_exporter 1.5 and Prometheus 2.42 `/metrics`
//! (text 0.0.4) and the Python client's OpenMetrics output.

use std::borrow::Cow;
use std::fmt::Write as _;

use collector::exposition::{Entry, Format, Parser, SampleLine};

const NODE_EXPORTER: &str = include_str!("../fixtures/node_exporter.prom");
const PROMETHEUS: &str = include_str!("../fixtures/prometheus.prom");
const PYTHON_CLIENT: &str = include_str!("../fixtures/python_client.om");

fn parse(input: &str, format: Format, strict: bool) -> Vec<Entry<'_>> {
    let parser = Parser::new(input, format);
    let parser = if strict { parser.strict() } else { parser };
    match parser.collect::<Result<Vec<_>, _>>() {
        Ok(entries) => entries,
        Err(e) => panic!("{format:?} strict={strict}: {e}"),
    }
}

/// Counts sample lines without the parser: lines that are neither empty nor comments.
fn count_sample_lines(input: &str) -> usize {
    input
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

fn samples<'e, 'a>(entries: &'e [Entry<'a>]) -> Vec<&'e SampleLine<'a>> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Sample(s) => Some(s),
            _ => None,
        })
        .collect()
}

#[test]
fn real_text_scrapes_parse_completely() {
    for (name, input) in [("node_exporter", NODE_EXPORTER), ("prometheus", PROMETHEUS)] {
        for strict in [false, true] {
            let entries = parse(input, Format::PrometheusText, strict);
            let samples = samples(&entries);
            assert_eq!(samples.len(), count_sample_lines(input), "{name}");
            assert!(samples.len() > 300, "{name}: fixture too small");
            let metadata = entries.len() - samples.len();
            let comment_lines = input
                .lines()
                .filter(|l| l.starts_with("# HELP ") || l.starts_with("# TYPE "))
                .count();
            assert_eq!(metadata, comment_lines, "{name}");
            for (sample, text) in samples.iter().zip(
                input
                    .lines()
                    .filter(|l| !l.is_empty() && !l.starts_with('#')),
            ) {
                assert!(text.starts_with(sample.name), "{name}: {text}");
                assert_eq!(
                    input.lines().nth(sample.line - 1),
                    Some(text),
                    "{name}: line number"
                );
            }
        }
    }
}

#[test]
fn real_openmetrics_output_parses_completely() {
    for strict in [false, true] {
        let entries = parse(PYTHON_CLIENT, Format::OpenMetrics, strict);
        assert_eq!(entries.last(), Some(&Entry::Eof));
        let samples = samples(&entries);
        assert_eq!(samples.len(), count_sample_lines(PYTHON_CLIENT));
        let exemplars = samples.iter().filter(|s| s.exemplar.is_some()).count();
        assert_eq!(exemplars, PYTHON_CLIENT.matches(" # {").count());
        assert!(exemplars >= 2);
        let units = entries
            .iter()
            .filter(|e| matches!(e, Entry::Unit { .. }))
            .count();
        assert_eq!(units, PYTHON_CLIENT.matches("\n# UNIT ").count());
    }
}

#[test]
fn escapes_in_real_openmetrics_output() {
    let entries = parse(PYTHON_CLIENT, Format::OpenMetrics, false);
    let help = entries.iter().find_map(|e| match e {
        Entry::Help {
            family: "request_duration_seconds",
            text,
        } => Some(text.clone()),
        _ => None,
    });
    assert_eq!(
        help.as_deref(),
        Some("Request latency with \"quotes\" and a \\ backslash.\nSecond line.")
    );
    let build = samples(&entries)
        .into_iter()
        .find(|s| s.name == "build_info")
        .expect("build_info");
    assert!(
        build
            .labels
            .contains(&("path", Cow::Borrowed("C:\\temp\\new")))
    );
    let span = samples(&entries).into_iter().find_map(|s| {
        s.exemplar
            .as_ref()?
            .labels
            .iter()
            .find(|l| l.0 == "span")
            .cloned()
    });
    assert_eq!(span.map(|l| l.1.into_owned()), Some("x\"y\\z\n".to_owned()));
}

/// Renders entries back to text in `format`, escaping as the formats require.
fn render(entries: &[Entry<'_>], format: Format) -> String {
    let mut out = String::new();
    for entry in entries {
        match entry {
            Entry::Help { family, text } => {
                let text = text.replace('\\', "\\\\").replace('\n', "\\n");
                let text = if format == Format::OpenMetrics {
                    text.replace('"', "\\\"")
                } else {
                    text
                };
                let _ = writeln!(out, "# HELP {family} {text}");
            }
            Entry::Type { family, kind } => {
                let _ = writeln!(out, "# TYPE {family} {}", kind.as_str(format));
            }
            Entry::Unit { family, unit } => {
                let _ = writeln!(out, "# UNIT {family} {unit}");
            }
            Entry::Sample(s) => render_sample(&mut out, s, format),
            Entry::Eof => out.push_str("# EOF\n"),
        }
    }
    out
}

fn render_labels(out: &mut String, labels: &[(&str, Cow<'_, str>)]) {
    out.push('{');
    for (i, (name, value)) in labels.iter().enumerate() {
        let value = value
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('"', "\\\"");
        let _ = write!(out, "{}{name}=\"{value}\"", if i == 0 { "" } else { "," });
    }
    out.push('}');
}

fn render_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v:?}")
    }
}

fn render_sample(out: &mut String, s: &SampleLine<'_>, format: Format) {
    out.push_str(s.name);
    render_labels(out, &s.labels);
    let _ = write!(out, " {}", render_float(s.value));
    if let Some(ts) = s.timestamp_ms {
        match format {
            Format::PrometheusText => {
                let _ = write!(out, " {ts}");
            }
            Format::OpenMetrics => {
                let (sign, ms) = (if ts < 0 { "-" } else { "" }, ts.unsigned_abs());
                let _ = write!(out, " {sign}{}.{:03}", ms / 1000, ms % 1000);
            }
        }
    }
    if let Some(e) = &s.exemplar {
        out.push_str(" # ");
        render_labels(out, &e.labels);
        let _ = write!(out, " {}", render_float(e.value));
    }
    out.push('\n');
}

/// Entries compare equal after a render and re-parse, floats compared by bits and line
/// numbers ignored.
fn assert_same(a: &[Entry<'_>], b: &[Entry<'_>]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (Entry::Sample(x), Entry::Sample(y)) => {
                assert_eq!(
                    (x.name, &x.labels, x.timestamp_ms),
                    (y.name, &y.labels, y.timestamp_ms)
                );
                assert_eq!(x.value.to_bits(), y.value.to_bits(), "{}", x.name);
                let ex = x.exemplar.as_ref().map(|e| (&e.labels, e.value.to_bits()));
                let ey = y.exemplar.as_ref().map(|e| (&e.labels, e.value.to_bits()));
                assert_eq!(ex, ey);
            }
            _ => assert_eq!(x, y),
        }
    }
}

#[test]
fn real_inputs_round_trip() {
    for (input, format) in [
        (NODE_EXPORTER, Format::PrometheusText),
        (PROMETHEUS, Format::PrometheusText),
        (PYTHON_CLIENT, Format::OpenMetrics),
    ] {
        let first = parse(input, format, true);
        let text = render(&first, format);
        let second = parse(&text, format, true);
        assert_same(&first, &second);
        assert_eq!(render(&second, format), text);
    }
}

#[test]
fn openmetrics_timestamps_round_trip_through_render() {
    let input = "a_total 1 1520879607.789\nb -1 -0.001\nc 2 0.5\n# EOF\n";
    let first = parse(input, Format::OpenMetrics, false);
    let ts: Vec<_> = samples(&first).iter().map(|s| s.timestamp_ms).collect();
    assert_eq!(ts, [Some(1_520_879_607_789), Some(-1), Some(500)]);
    assert_same(
        &first,
        &parse(
            &render(&first, Format::OpenMetrics),
            Format::OpenMetrics,
            false,
        ),
    );
}
