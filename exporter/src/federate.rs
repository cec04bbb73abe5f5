//! `GET /federate?match[]=...`: the latest sample of every series matching any selector, in
//! the text exposition format with timestamps, as Prometheus's federation endpoint answers, so
//! that another Prometheus (or promlet) can scrape this server with `honor_labels: true`.
//!
//! A series' latest sample counts if it is within the 5-minute lookback and is not a
//! staleness marker. Families are sorted by name and typed `untyped`.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::{Labels, SelectHints, is_stale_nan};

use crate::AppState;

/// How far back a latest sample may be, ms (Prometheus's default lookback).
const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// The handler.
pub async fn federate(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let values: Vec<String> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "match[]")
        .map(|(_, v)| v.into_owned())
        .collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let sets = match crate::api::matcher_sets(&refs) {
        Ok(s) => s,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let now = (state.clock)();
    let storage = state.storage.clone();
    let result = tokio::task::spawn_blocking(move || latest(&*storage, &sets, now)).await;
    match result {
        Ok(Ok(series)) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            exposition(&series),
        )
            .into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

/// The latest sample (t, v) of every series matching any of `sets` at `now`.
fn latest(
    storage: &dyn model::Queryable,
    sets: &[Vec<model::Matcher>],
    now: i64,
) -> Result<BTreeMap<Labels, Point>, model::Error> {
    let start = now - LOOKBACK_MS;
    let q = storage.querier(start, now)?;
    let hints = SelectHints {
        start,
        end: now,
        step_ms: 0,
        func: Some("federate".into()),
        unordered: true,
    };
    let mut out = BTreeMap::new();
    for set in sets {
        for s in q.select(&hints, set)? {
            let s = s?;
            if let Some(last) = s.samples.iter().rev().find(|p| p.t <= now)
                && !is_stale_nan(last.v)
            {
                out.insert(s.labels, (last.t, last.v));
            }
        }
    }
    Ok(out)
}

/// A series' latest sample: (ms, value).
type Point = (i64, f64);

/// Text format 0.0.4: `# TYPE name untyped`, then `name{labels} value timestamp`.
fn exposition(series: &BTreeMap<Labels, Point>) -> String {
    let mut by_name: BTreeMap<&str, Vec<(&Labels, &Point)>> = BTreeMap::new();
    for (labels, point) in series {
        let name = labels.metric_name().unwrap_or("");
        by_name.entry(name).or_default().push((labels, point));
    }
    let mut out = String::new();
    for (name, list) in by_name {
        out.push_str(&format!("# TYPE {name} untyped\n"));
        for (labels, (t, v)) in list {
            out.push_str(name);
            let pairs: Vec<String> = labels
                .iter()
                .filter(|l| &*l.name != model::METRIC_NAME)
                .map(|l| format!("{}=\"{}\"", l.name, escape(&l.value)))
                .collect();
            if !pairs.is_empty() {
                out.push('{');
                out.push_str(&pairs.join(","));
                out.push('}');
            }
            out.push_str(&format!(" {} {t}\n", query::gofmt::format_g(*v)));
        }
    }
    out
}

/// A label value escaped for the text format: `\`, `"` and newlines.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_families_with_timestamps_and_escapes() {
        let mut m = BTreeMap::new();
        let l = |p: &[(&str, &str)]| Labels::from_pairs(p).unwrap_or_default();
        m.insert(l(&[("__name__", "up"), ("job", "a")]), (1000, 1.0));
        m.insert(l(&[("__name__", "up"), ("job", "b\"q\\n")]), (2000, 0.0));
        m.insert(l(&[("__name__", "big")]), (3000, 1e6));
        assert_eq!(
            exposition(&m),
            "# TYPE big untyped\nbig 1e+06 3000\n# TYPE up untyped\nup{job=\"a\"} 1 1000\nup{job=\"b\\\"q\\\\n\"} 0 2000\n"
        );
    }
}
