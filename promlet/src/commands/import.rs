//! `promlet import FILE`: backfill OpenMetrics text, as `promtool tsdb create-blocks-from
//! openmetrics` does.
//!
//! The whole file is parsed and checked before anything is written, so a bad line leaves the
//! data directory as it was. Every sample needs a timestamp (seconds, fractions allowed).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use collector::exposition::{Entry, Format, Parser, SampleLine};
use indicatif::{ProgressBar, ProgressStyle};
use model::{Label, Labels, Sample};

use crate::args::ImportArgs;

pub(crate) fn run(args: ImportArgs) -> Result<()> {
    let started = Instant::now();
    let path = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {path}"))?;
    let bar = progress_bar(
        text.bytes().filter(|&b| b == b'\n').count() as u64,
        "parsing",
    );
    let series = parse(&text, &path, &bar)?;
    bar.finish_and_clear();
    let total: u64 = series.iter().map(|(_, s)| s.len() as u64).sum();
    let db = super::open_db(&args.storage)?;
    let bar = progress_bar(total, "writing");
    let stats = db.backfill(series, &mut |n| bar.set_position(n))?;
    db.flush().context("flushing the data directory")?;
    bar.finish_and_clear();
    eprintln!(
        "imported {} series, {} samples, {} chunks from {path} in {:.2}s",
        stats.series,
        stats.samples,
        stats.chunks,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A progress bar on a terminal; hidden otherwise.
fn progress_bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style =
        ProgressStyle::with_template("{msg:8} [{bar:40}] {human_pos}/{human_len} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(what.to_string());
    bar
}

/// One series being collected: its labels and (t, v, line) per sample.
type Collected = (Labels, Vec<(i64, f64, usize)>);

/// Parses and checks the whole file into series with sorted, de-duplicated samples.
fn parse(text: &str, path: &str, bar: &ProgressBar) -> Result<Vec<(Labels, Vec<Sample>)>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<Collected> = Vec::new();
    let mut key = String::new();
    for entry in Parser::new(text, Format::OpenMetrics) {
        let entry = entry.with_context(|| path.to_string())?;
        let Entry::Sample(s) = entry else { continue };
        if s.line % 65_536 == 0 {
            bar.set_position(s.line as u64);
        }
        let Some(t) = s.timestamp_ms else {
            bail!(
                "{path}: line {}: sample of {} has no timestamp; import needs one on every sample",
                s.line,
                s.name
            );
        };
        series_key(&s, &mut key);
        let slot = match index.get(key.as_str()) {
            Some(&slot) => slot,
            None => {
                series.push((labels_of(&s, path)?, Vec::new()));
                index.insert(key.clone(), series.len() - 1);
                series.len() - 1
            }
        };
        if let Some((_, samples)) = series.get_mut(slot) {
            samples.push((t, s.value, s.line));
        }
    }
    series
        .into_iter()
        .map(|(labels, samples)| finish_series(labels, samples, path))
        .collect()
}

fn series_key(s: &SampleLine<'_>, key: &mut String) {
    key.clear();
    key.push_str(s.name);
    for (n, v) in &s.labels {
        key.push('\0');
        key.push_str(n);
        key.push('\0');
        key.push_str(v);
    }
}

fn labels_of(s: &SampleLine<'_>, path: &str) -> Result<Labels> {
    let mut v = vec![Label::new(model::METRIC_NAME, s.name)];
    v.extend(s.labels.iter().map(|(n, val)| Label::new(*n, &**val)));
    let labels = Labels::new(v).with_context(|| format!("{path}: line {}", s.line))?;
    tsdb::check_storable(&labels).with_context(|| format!("{path}: line {}", s.line))?;
    Ok(labels)
}

/// Sorts one series by time; the same timestamp twice is accepted when the value is the same
/// and is an error naming both lines otherwise.
fn finish_series(
    labels: Labels,
    mut samples: Vec<(i64, f64, usize)>,
    path: &str,
) -> Result<(Labels, Vec<Sample>)> {
    samples.sort_by_key(|s| (s.0, s.2));
    let mut out: Vec<Sample> = Vec::with_capacity(samples.len());
    let mut prev_line = 0;
    for (t, v, line) in samples {
        if let Some(last) = out.last()
            && last.t == t
        {
            if last.v.to_bits() != v.to_bits() {
                bail!(
                    "{path}: line {line}: duplicate sample for timestamp {t} ms of {labels} with a different value than line {prev_line}"
                );
            }
            continue;
        }
        out.push(Sample::new(t, v));
        prev_line = line;
    }
    Ok((labels, out))
}
