//! One scrape of one target, from body to committed samples, as Prometheus's `scrapeLoop`
//! (`scrape/scrape.go`, 2.42) does it:
//!
//! - every sample line becomes a series: its labels, then the target's labels
//!   (`honor_labels: false`: the target wins and a clashing scraped label is kept as
//!   `exported_<name>`; `true`: the scraped label wins), then `metric_relabel_configs`;
//! - the sample's time is the scrape's start, or the exposed timestamp when the line has
//!   one and `honor_timestamps` is true (such series get no staleness markers);
//! - a series written by the previous scrape and absent now gets a staleness marker at the
//!   scrape's time; a failed scrape (connection, status, parse error) stores none of its
//!   samples and marks every series of the previous scrape stale;
//! - `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
//!   `scrape_samples_post_metric_relabeling` and `scrape_series_added` are written with the
//!   target's labels at the scrape's time;
//! - everything goes through one appender and one commit.

use std::collections::{HashMap, HashSet};

use model::{Appendable, Appender, Labels, SeriesRef, Timestamp, stale_nan};

use super::relabel::{self, LabelMap, Rule};
use crate::exposition::{Entry, Format, Parser};

/// The names of the series a scrape writes about itself.
pub const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// How a target's series are labeled.
#[derive(Debug, Clone)]
pub struct SeriesLabeling {
    /// The target's public labels (`job`, `instance`, ...).
    pub target: LabelMap,
    /// `honor_labels`.
    pub honor_labels: bool,
    /// `honor_timestamps`.
    pub honor_timestamps: bool,
    /// `metric_relabel_configs`.
    pub metric_relabel: Vec<Rule>,
}

/// One sample to store: labels, value, exposed timestamp.
pub(crate) type Point = (Labels, f64, Option<Timestamp>);

/// What one scrape did, for the report series and `/api/v1/targets`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Sample lines in the body.
    pub scraped: u64,
    /// Samples left after metric relabeling.
    pub post_relabel: u64,
    /// Series this loop had not written in its previous scrape.
    pub series_added: u64,
}

/// The memory of one target's loop between scrapes.
#[derive(Debug, Default)]
pub struct LoopState {
    /// Series written by the previous scrape without an exposed timestamp.
    prev: HashSet<Labels>,
    /// Storage references of those series.
    refs: HashMap<Labels, SeriesRef>,
}

impl LoopState {
    /// How many series the previous scrape wrote (those subject to staleness).
    pub fn series(&self) -> usize {
        self.prev.len()
    }
}

/// Parses `body` into labeled points.
///
/// # Errors
/// The parse error (with line and column) or an invalid label set, as a message.
pub(crate) fn parse_body(
    body: &str,
    format: Format,
    how: &SeriesLabeling,
) -> Result<(Vec<Point>, u64), String> {
    let mut points = Vec::new();
    let mut scraped = 0u64;
    for entry in Parser::new(body, format) {
        let Entry::Sample(s) = entry.map_err(|e| e.to_string())? else {
            continue;
        };
        scraped += 1;
        let mut exposed = LabelMap::new();
        exposed.insert(model::METRIC_NAME.into(), s.name.to_string());
        for (n, v) in &s.labels {
            if v.is_empty() {
                continue;
            }
            if exposed.insert((*n).to_string(), v.to_string()).is_some() {
                return Err(format!("label name {n:?} is not unique: invalid sample"));
            }
        }
        let Some(lset) = mutate_labels(exposed, how) else {
            continue;
        };
        let labels =
            Labels::from_pairs(&lset.into_iter().collect::<Vec<_>>()).map_err(|e| e.to_string())?;
        let t = s.timestamp_ms.filter(|_| how.honor_timestamps);
        points.push((labels, s.value, t));
    }
    Ok((points, scraped))
}

/// Prometheus's `mutateSampleLabels`: target labels, then metric relabeling; `None` when
/// relabeling drops the sample or leaves no labels.
pub fn mutate_labels(mut lb: LabelMap, how: &SeriesLabeling) -> Option<LabelMap> {
    if how.honor_labels {
        for (n, v) in &how.target {
            lb.entry(n.clone()).or_insert_with(|| v.clone());
        }
    } else {
        let mut conflicts = Vec::new();
        for (n, v) in &how.target {
            if let Some(old) = lb.insert(n.clone(), v.clone()) {
                conflicts.push((n.clone(), old));
            }
        }
        conflicts.sort_by_key(|(n, _)| n.len());
        for (name, value) in conflicts {
            let mut new = name;
            loop {
                new = format!("exported_{new}");
                if let std::collections::btree_map::Entry::Vacant(slot) = lb.entry(new.clone()) {
                    slot.insert(value);
                    break;
                }
            }
        }
    }
    if !relabel::process(&how.metric_relabel, &mut lb) || lb.is_empty() {
        return None;
    }
    Some(lb)
}

/// Appends one sample, retrying without the reference if the storage forgot it.
fn append(
    app: &mut dyn Appender,
    state_refs: &mut HashMap<Labels, SeriesRef>,
    labels: &Labels,
    t: Timestamp,
    v: f64,
) -> Result<(), model::Error> {
    let cached = state_refs.get(labels).copied();
    let result = match app.append(cached, labels, t, v) {
        Err(model::Error::UnknownSeriesRef(_)) => app.append(None, labels, t, v),
        other => other,
    };
    match result {
        Ok(r) => {
            state_refs.insert(labels.clone(), r);
            Ok(())
        }
        Err(e) if e.is_sample_rejection() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Stores a successful scrape's points and the staleness markers of vanished series.
///
/// # Errors
/// A storage failure (not a per-sample rejection); nothing of the scrape is then stored.
pub(crate) fn store_points(
    app: &mut dyn Appender,
    state: &mut LoopState,
    points: &[Point],
    start: Timestamp,
) -> Result<Report, model::Error> {
    let mut cur = HashSet::with_capacity(points.len());
    let mut report = Report {
        post_relabel: points.len() as u64,
        ..Report::default()
    };
    for (labels, v, t) in points {
        if !state.refs.contains_key(labels) {
            report.series_added += 1;
        }
        append(app, &mut state.refs, labels, t.unwrap_or(start), *v)?;
        if t.is_none() {
            cur.insert(labels.clone());
        }
    }
    for gone in state.prev.difference(&cur) {
        append(app, &mut state.refs, gone, start, stale_nan())?;
    }
    state.refs.retain(|l, _| cur.contains(l));
    state.prev = cur;
    Ok(report)
}

/// Marks every series of the previous scrape stale (a failed scrape, a removed target).
///
/// # Errors
/// A storage failure.
pub(crate) fn store_all_stale(
    app: &mut dyn Appender,
    state: &mut LoopState,
    t: Timestamp,
) -> Result<(), model::Error> {
    let prev = std::mem::take(&mut state.prev);
    for labels in &prev {
        append(app, &mut state.refs, labels, t, stale_nan())?;
    }
    state.refs.clear();
    Ok(())
}

/// The report series' labels: the target's labels and the name.
fn report_labels(target: &LabelMap, name: &str) -> Result<Labels, model::Error> {
    let mut pairs: Vec<(&str, &str)> = target
        .iter()
        .filter(|(n, _)| n.as_str() != model::METRIC_NAME)
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    pairs.push((model::METRIC_NAME, name));
    Labels::from_pairs(&pairs)
}

/// Writes the five report series at `t`; `values` in [`REPORT_SERIES`] order.
///
/// # Errors
/// A storage failure.
pub(crate) fn store_report(
    app: &mut dyn Appender,
    target: &LabelMap,
    t: Timestamp,
    values: [f64; 5],
) -> Result<(), model::Error> {
    for (name, v) in REPORT_SERIES.iter().zip(values) {
        let labels = report_labels(target, name)?;
        match app.append(None, &labels, t, v) {
            Err(e) if !e.is_sample_rejection() => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// The outcome of one scrape, already stored.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The error, empty when the scrape succeeded.
    pub error: String,
    /// What was scraped.
    pub report: Report,
}

/// Stores a scrape: `body` is the fetched and parsed points or the failure message.
/// `duration_seconds` is how long the fetch took. One appender, one commit.
///
/// # Errors
/// A storage failure; the batch is then rolled back.
pub fn store_scrape(
    storage: &dyn Appendable,
    state: &mut LoopState,
    target: &LabelMap,
    body: Result<(Vec<Point>, u64), String>,
    start: Timestamp,
    duration_seconds: f64,
) -> Result<Outcome, model::Error> {
    let mut app = storage.appender();
    let result = write_scrape(&mut *app, state, target, body, start, duration_seconds);
    match result {
        Ok(outcome) => {
            app.commit()?;
            Ok(outcome)
        }
        Err(e) => {
            app.rollback();
            Err(e)
        }
    }
}

fn write_scrape(
    app: &mut dyn Appender,
    state: &mut LoopState,
    target: &LabelMap,
    body: Result<(Vec<Point>, u64), String>,
    start: Timestamp,
    duration_seconds: f64,
) -> Result<Outcome, model::Error> {
    let (error, report) = match body {
        Ok((points, scraped)) => {
            let mut report = store_points(app, state, &points, start)?;
            report.scraped = scraped;
            (String::new(), report)
        }
        Err(e) => {
            store_all_stale(app, state, start)?;
            (e, Report::default())
        }
    };
    let up = if error.is_empty() { 1.0 } else { 0.0 };
    let values = [
        up,
        duration_seconds,
        report.scraped as f64,
        report.post_relabel as f64,
        report.series_added as f64,
    ];
    store_report(app, target, start, values)?;
    Ok(Outcome { error, report })
}

/// Marks every series of a target that goes away stale, its report series included.
///
/// # Errors
/// A storage failure.
pub fn store_end_of_run(
    storage: &dyn Appendable,
    state: &mut LoopState,
    target: &LabelMap,
    t: Timestamp,
) -> Result<(), model::Error> {
    let mut app = storage.appender();
    let result = store_all_stale(&mut *app, state, t)
        .and_then(|()| store_report(&mut *app, target, t, [stale_nan(); 5]));
    match result {
        Ok(()) => app.commit(),
        Err(e) => {
            app.rollback();
            Err(e)
        }
    }
}
