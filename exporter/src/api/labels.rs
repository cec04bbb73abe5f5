//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/{name}/values`, `/api/v1/metadata`
//! and `/api/v1/status/buildinfo` (Prometheus's `api.series`, `labelNames`, `labelValues`,
//! `metricMetadata`, `serveBuildInfo`).
//!
//! Time ranges default to Prometheus's `MinTime`..`MaxTime`; storage reads run on a blocking
//! thread and a storage error is an `execution` answer, as in Prometheus.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::http::Uri;
use axum::response::Response;
use model::{Labels, Matcher, Querier, SelectHints};

use super::error::ApiError;
use super::params::{self, Params};
use super::time::{MAX_TIME, MIN_TIME};
use super::{Success, json, run_blocking};
use crate::AppState;

/// How long a metadata read may take before the answer is a timeout; reads are not
/// cancellable, so this only bounds how long the client waits.
const READ_BUDGET: Duration = Duration::from_secs(120);

/// The warning Prometheus adds when `limit` cut a list.
const TRUNCATED: &str = "results truncated due to limit";

/// What a label endpoint reads: its time range and matcher sets.
struct Selection {
    start_ms: i64,
    end_ms: i64,
    sets: Vec<Vec<Matcher>>,
    limit: usize,
}

impl Selection {
    /// Reads `limit`, `start`, `end` and `match[]` in Prometheus's order; `wrap_match`
    /// decides whether a bad `match[]` is reported as `invalid parameter "match[]"` (series)
    /// or bare (labels, label values).
    fn read(p: &Params, wrap_match: bool) -> Result<Self, ApiError> {
        let limit = p.limit()?;
        let start = p.time_or("start", MIN_TIME)?;
        let end = p.time_or("end", MAX_TIME)?;
        let sets = params::matcher_sets(&p.all("match[]")).map_err(|e| {
            if wrap_match {
                ApiError::invalid_param("match[]", e)
            } else {
                ApiError::bad_data(e)
            }
        })?;
        Ok(Self {
            start_ms: start.millis(),
            end_ms: end.millis(),
            sets,
            limit,
        })
    }
}

/// Cuts `items` to `limit` (0: no limit), saying so in `warnings`.
fn apply_limit<T>(items: &mut Vec<T>, limit: usize, warnings: &mut Vec<String>) {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        warnings.push(TRUNCATED.into());
    }
}

fn storage_error(e: model::Error) -> ApiError {
    ApiError::execution(e.to_string())
}

/// `GET|POST /api/v1/series`: the label sets of the series matching any `match[]` with
/// samples in `[start, end]`, sorted.
pub(crate) async fn series(State(state): State<AppState>, p: Params) -> Response {
    super::respond(series_inner(state, p).await)
}

async fn series_inner(state: AppState, p: Params) -> Result<Success, ApiError> {
    if p.all("match[]").is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let sel = Selection::read(&p, true)?;
    run_blocking(&state, READ_BUDGET, move |storage| {
        let q = storage
            .querier(sel.start_ms, sel.end_ms)
            .map_err(storage_error)?;
        let mut found = select_labels(&*q, &sel)?;
        let mut warnings = q.warnings();
        apply_limit(&mut found, sel.limit, &mut warnings);
        Ok(Success {
            data: json::labels_list(&found),
            warnings,
            infos: Vec::new(),
        })
    })
    .await
}

/// The distinct label sets selected by any of the sets, sorted.
fn select_labels(q: &dyn Querier, sel: &Selection) -> Result<Vec<Labels>, ApiError> {
    let hints = SelectHints {
        start: sel.start_ms,
        end: sel.end_ms,
        step_ms: 0,
        func: Some("series".into()),
        unordered: true,
    };
    let mut all = BTreeSet::new();
    for set in &sel.sets {
        for s in q.select(&hints, set).map_err(storage_error)? {
            all.insert(s.map_err(storage_error)?.labels);
        }
    }
    Ok(all.into_iter().collect())
}

/// `GET|POST /api/v1/labels`: label names of the series matching any `match[]` (all series
/// without one) with samples in `[start, end]`, sorted.
pub(crate) async fn label_names(State(state): State<AppState>, p: Params) -> Response {
    super::respond(label_names_inner(state, p).await)
}

async fn label_names_inner(state: AppState, p: Params) -> Result<Success, ApiError> {
    let sel = Selection::read(&p, false)?;
    run_blocking(&state, READ_BUDGET, move |storage| {
        let q = storage
            .querier(sel.start_ms, sel.end_ms)
            .map_err(storage_error)?;
        let mut names = union(&sel.sets, |m| q.label_names(m))?;
        let mut warnings = q.warnings();
        apply_limit(&mut names, sel.limit, &mut warnings);
        Ok(Success {
            data: json::string_list(&names),
            warnings,
            infos: Vec::new(),
        })
    })
    .await
}

/// The sorted union of `read` over each matcher set, or `read(&[])` when there is none.
fn union(
    sets: &[Vec<Matcher>],
    read: impl Fn(&[Matcher]) -> model::Result<Vec<String>>,
) -> Result<Vec<String>, ApiError> {
    if sets.is_empty() {
        let mut v = read(&[]).map_err(storage_error)?;
        v.sort();
        return Ok(v);
    }
    let mut all = BTreeSet::new();
    for set in sets {
        all.extend(read(set).map_err(storage_error)?);
    }
    Ok(all.into_iter().collect())
}

/// `GET /api/v1/label/{name}/values`: values of label `name` (Prometheus's `U__` escaping
/// undone) among the matching series, sorted.
pub(crate) async fn label_values(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Response {
    super::respond(label_values_inner(state, &uri, p).await)
}

/// The `{name}` segment of `.../label/{name}/values`, percent-decoded; a name that is not
/// UTF-8 is Prometheus's `bad_data` error.
fn path_label_name(uri: &Uri) -> Result<String, ApiError> {
    let path = uri.path();
    let raw = path
        .rsplit_once("/values")
        .and_then(|(head, _)| head.rsplit_once("/label/"))
        .map_or("", |(_, name)| name);
    let bytes = percent_decode(raw);
    String::from_utf8(bytes).map_err(|e| {
        ApiError::bad_data(format!(
            "invalid label name: {}",
            query::gofmt::quote_bytes(e.as_bytes())
        ))
    })
}

/// Decodes `%XX` escapes (a `%` without two hex digits stays as it is).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

async fn label_values_inner(state: AppState, uri: &Uri, p: Params) -> Result<Success, ApiError> {
    let name = unescape_name(&path_label_name(uri)?);
    if name.is_empty() {
        return Err(ApiError::bad_data(format!(
            "invalid label name: {}",
            super::time::go_quote(&name)
        )));
    }
    let sel = Selection::read(&p, false)?;
    run_blocking(&state, READ_BUDGET, move |storage| {
        let q = storage
            .querier(sel.start_ms, sel.end_ms)
            .map_err(storage_error)?;
        let mut values = union(&sel.sets, |m| q.label_values(&name, m))?;
        let mut warnings = q.warnings();
        apply_limit(&mut values, sel.limit, &mut warnings);
        Ok(Success {
            data: json::string_list(&values),
            warnings,
            infos: Vec::new(),
        })
    })
    .await
}

/// Undoes Prometheus's value-encoding escaping of a name written `U__...`: `__` is `_`,
/// `_HEX_` is the character with that code point; anything malformed leaves the name as
/// given (`model.UnescapeName`).
fn unescape_name(name: &str) -> String {
    let Some(rest) = name.strip_prefix("U__") else {
        return name.to_owned();
    };
    let mut out = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        let hex: String = chars.by_ref().take_while(|&c| c != '_').collect();
        if hex.is_empty() {
            out.push('_');
            continue;
        }
        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
            Some(ch) => out.push(ch),
            None => return name.to_owned(),
        }
    }
    out
}

/// `GET /api/v1/metadata`: promlet keeps no metric metadata yet (it arrives with scraping),
/// so the answer is always `{}`; `limit`, `limit_per_metric` and `metric` are still checked
/// as Prometheus checks them.
pub(crate) async fn metadata(p: Params) -> Response {
    super::respond(metadata_inner(&p))
}

fn metadata_inner(p: &Params) -> Result<Success, ApiError> {
    params::number_or(p, "limit")?;
    params::number_or(p, "limit_per_metric")?;
    Ok(Success {
        data: "{}".into(),
        warnings: Vec::new(),
        infos: Vec::new(),
    })
}

/// `GET /api/v1/status/buildinfo`.
pub(crate) async fn buildinfo(State(state): State<AppState>) -> Response {
    let b = &state.build_info;
    let mut data = String::from("{");
    for (i, (key, value)) in [
        ("version", &b.version),
        ("revision", &b.revision),
        ("branch", &b.branch),
        ("buildUser", &b.build_user),
        ("buildDate", &b.build_date),
        ("goVersion", &b.go_version),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            data.push(',');
        }
        json::write_str(&mut data, key);
        data.push(':');
        json::write_str(&mut data, value);
    }
    data.push('}');
    super::respond(Ok(Success {
        data,
        warnings: Vec::new(),
        infos: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_prometheus_names() {
        assert_eq!(unescape_name("job"), "job");
        assert_eq!(unescape_name("U__my_2e_label"), "my.label");
        assert_eq!(unescape_name("U__a__b"), "a_b");
        assert_eq!(unescape_name("U__bad_zz_"), "U__bad_zz_");
    }
}
