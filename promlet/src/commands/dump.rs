//! `promlet dump`: print stored samples.

use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use model::{Matcher, Queryable, SelectHints, Series};

use crate::args::{DumpArgs, DumpFormat};
use crate::selector;

pub(crate) fn run(args: DumpArgs) -> Result<()> {
    let matchers = match &args.selector {
        Some(s) => selector::parse(s).map_err(anyhow::Error::msg)?,
        None => vec![Matcher::new(
            model::MatchOp::Regex,
            model::METRIC_NAME,
            ".*",
        )?],
    };
    let db = super::open_db(&args.storage)?;
    let querier = db.querier(i64::MIN, i64::MAX)?;
    let series = querier.select(&SelectHints::default(), &matchers)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for s in series {
        let s = s.context("reading series")?;
        match args.format {
            DumpFormat::Promtool => write_promtool(&mut out, &s)?,
            DumpFormat::Openmetrics => write_openmetrics(&mut out, &s)?,
        }
    }
    if matches!(args.format, DumpFormat::Openmetrics) {
        writeln!(out, "# EOF")?;
    }
    out.flush()?;
    Ok(())
}

/// `{__name__="up", job="x"} 1 1700000000000`, as `promtool tsdb dump`.
fn write_promtool(out: &mut impl Write, s: &Series) -> std::io::Result<()> {
    let mut labels = String::from("{");
    for (i, l) in s.labels.iter().enumerate() {
        if i > 0 {
            labels.push_str(", ");
        }
        labels.push_str(&format!("{}={:?}", l.name, &*l.value));
    }
    labels.push('}');
    for p in &s.samples {
        writeln!(out, "{labels} {} {}", format_value(p.v), p.t)?;
    }
    Ok(())
}

/// `up{job="x"} 1 1700000000.000`: OpenMetrics with timestamps in seconds.
fn write_openmetrics(out: &mut impl Write, s: &Series) -> std::io::Result<()> {
    let name = s.labels.metric_name().unwrap_or("");
    let rest: Vec<String> = s
        .labels
        .iter()
        .filter(|l| &*l.name != model::METRIC_NAME)
        .map(|l| format!("{}=\"{}\"", l.name, escape(&l.value)))
        .collect();
    let labels = if rest.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", rest.join(","))
    };
    for p in &s.samples {
        let secs = p.t.div_euclid(1000);
        let ms = p.t.rem_euclid(1000);
        writeln!(out, "{name}{labels} {} {secs}.{ms:03}", format_value(p.v))?;
    }
    Ok(())
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Shortest text that parses back to the same float; `NaN`, `+Inf`, `-Inf` as Prometheus.
pub(crate) fn format_value(v: f64) -> String {
    query::gofmt::format_f(v)
}
