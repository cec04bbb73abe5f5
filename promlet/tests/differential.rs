//! Differential test: the same data in promlet and in the real Prometheus 2.42, the same
//! queries through both HTTP APIs, the same answers.
//!
//! The data set (`differential/data.rs`, about 250 series over 2 h) is written as OpenMetrics,
//! backfilled into Prometheus with `promtool tsdb create-blocks-from openmetrics` and into
//! promlet with `promlet import`; then `prometheus` and `promlet serve` run on free ports.
//! Every query in `differential/queries.rs` goes to `/api/v1/query` at three times and to
//! `/api/v1/query_range` over two ranges; `/api/v1/series`, `/labels` and
//! `/label/<name>/values` are compared for a few matchers, and a few requests check the API
//! itself (RFC 3339 times, duration steps, POST forms, parameter errors and their HTTP status).
//! A difference fails the test with
//! the query, both answers and the first difference; every difference is listed, not just the
//! first one.
//!
//! Comparison rules are in `differential/compare.rs`; why the times avoid sample timestamps
//! (Prometheus 2.42 closes windows on the left, promlet does not) in `differential/queries.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "differential/compare.rs"]
mod compare;
#[path = "differential/data.rs"]
mod data;
#[path = "differential/http.rs"]
mod http;
#[path = "differential/json.rs"]
mod json;
#[path = "differential/queries.rs"]
mod queries;
#[path = "differential/servers.rs"]
mod servers;

use compare::{Answer, first_difference, parse_answer};
use queries::{API_REQUESTS, INSTANT_TIMES, Kind, META_QUERIES, QUERIES, RANGES};
use servers::Server;

/// How much of each answer a failure message shows.
const SHOW_BYTES: usize = 700;

/// Seconds with milliseconds, as the API takes them.
fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

fn trim(body: &str) -> String {
    if body.len() <= SHOW_BYTES {
        return body.to_string();
    }
    let mut cut = SHOW_BYTES;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes)", &body[..cut], body.len())
}

/// Whether the order of an instant vector is defined by the query: a top-level `sort` or
/// `sort_desc`, or a top-level `topk`/`bottomk` without grouping (one group, which Prometheus
/// returns sorted: descending for `topk`, ascending for `bottomk`).
fn ordered(expr: &str) -> bool {
    let e = expr.trim_start();
    e.starts_with("sort(")
        || e.starts_with("sort_desc(")
        || e.starts_with("topk(")
        || e.starts_with("bottomk(")
}

/// One HTTP request, sent the same way to both servers.
enum Request<'a> {
    Get(&'a str),
    /// A path and its form-encoded body.
    Post(&'a str, &'a str),
}

impl Request<'_> {
    fn send(&self, server: &Server) -> http::Response {
        match self {
            Request::Get(p) => server.get(p),
            Request::Post(p, body) => server.post_form(p, body),
        }
    }
}

impl std::fmt::Display for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Get(p) => write!(f, "GET {p}"),
            Request::Post(p, body) => write!(f, "POST {p} with body {body}"),
        }
    }
}

/// The outcome of all comparisons.
#[derive(Default)]
struct Report {
    compared: usize,
    /// Comparisons where Prometheus's answer held at least one sample or series.
    non_empty: usize,
    failures: Vec<String>,
}

impl Report {
    /// Sends `request` to both servers and records whether the answers agree: the HTTP status,
    /// and the answer as `compare::first_difference` sees it.
    fn compare(
        &mut self,
        prom: &Server,
        ours: &Server,
        what: &str,
        request: &Request<'_>,
        ordered: bool,
        expect_error: bool,
    ) {
        self.compared += 1;
        let theirs_r = request.send(prom);
        let ours_r = request.send(ours);
        let fail = |why: String| {
            format!(
                "{what}\n  request: {request}\n  difference: {why}\n  promlet ({}): {}\n  Prometheus ({}): {}",
                ours_r.status,
                trim(&ours_r.body),
                theirs_r.status,
                trim(&theirs_r.body)
            )
        };
        let theirs = match parse_answer(&theirs_r.body) {
            Ok(a) => a,
            Err(e) => {
                self.failures
                    .push(fail(format!("Prometheus's answer unreadable: {e}")));
                return;
            }
        };
        match (&theirs, expect_error) {
            (Answer::Error { msg, .. }, false) => {
                self.failures.push(fail(format!(
                    "Prometheus refused the query (a corpus mistake): {msg}"
                )));
                return;
            }
            (Answer::Error { .. }, true) => {}
            (_, true) => {
                self.failures
                    .push(fail("Prometheus accepted a query expected to fail".into()));
                return;
            }
            _ => {}
        }
        let non_empty = match &theirs {
            Answer::Vector(v) => !v.is_empty(),
            Answer::Matrix(m) => !m.is_empty(),
            Answer::Series(s) => !s.is_empty(),
            Answer::Strings(s) => !s.is_empty(),
            Answer::Scalar(..) | Answer::Str(..) => true,
            Answer::Error { .. } => false,
        };
        self.non_empty += usize::from(non_empty);
        let ours = match parse_answer(&ours_r.body) {
            Ok(a) => a,
            Err(e) => {
                self.failures
                    .push(fail(format!("promlet's answer unreadable: {e}")));
                return;
            }
        };
        if let Some(why) = first_difference(&ours, &theirs, ordered) {
            self.failures.push(fail(why));
        } else if ours_r.status != theirs_r.status {
            self.failures.push(fail(format!(
                "HTTP status: promlet {}, Prometheus {}",
                ours_r.status, theirs_r.status
            )));
        }
    }
}

#[test]
fn promlet_answers_as_prometheus_2_42_does() {
    servers::require_prometheus();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    // PROMLET_DIFFERENTIAL_KEEP=1 keeps the data set and both databases for a closer look.
    let _cleanup = if std::env::var_os("PROMLET_DIFFERENTIAL_KEEP").is_some() {
        eprintln!("differential: keeping {}", tmp.keep().display());
        None
    } else {
        Some(tmp)
    };
    let om = dir.join("data.om");
    let set = data::write(&om);
    assert!(
        set.series > 200 && set.samples > 100_000,
        "{} series",
        set.series
    );
    let prom = servers::start_prometheus(&om, &dir);
    let ours = servers::start_promlet(&om, &dir);

    // The data must really be there: every target's `up` at 40 min, when all 14 run.
    let up = prom.get(&format!(
        "/api/v1/query?query=up&time={}",
        secs(data::T0_MS + 40 * 60_000)
    ));
    match parse_answer(&up.body) {
        Ok(Answer::Vector(v)) => assert_eq!(v.len(), 14, "Prometheus lost data: {}", up.body),
        other => panic!("Prometheus's `up`: {other:?}"),
    }

    let mut report = Report::default();
    for q in QUERIES {
        let enc = http::encode(q.expr);
        let expect_error = q.kind == Kind::Error;
        for t in INSTANT_TIMES {
            let request = format!("/api/v1/query?query={enc}&time={}", secs(t));
            let what = format!("instant query `{}` at {}", q.expr, secs(t));
            let request = Request::Get(&request);
            report.compare(&prom, &ours, &what, &request, ordered(q.expr), expect_error);
        }
        if q.kind == Kind::Instant {
            continue;
        }
        for (start, end, step) in RANGES {
            let request = format!(
                "/api/v1/query_range?query={enc}&start={}&end={}&step={}",
                secs(start),
                secs(end),
                secs(step)
            );
            let what = format!(
                "range query `{}` from {} to {} step {}s",
                q.expr,
                secs(start),
                secs(end),
                step / 1000
            );
            report.compare(
                &prom,
                &ours,
                &what,
                &Request::Get(&request),
                false,
                expect_error,
            );
        }
    }
    for m in META_QUERIES {
        let mut params: Vec<String> = m
            .matchers
            .iter()
            .map(|s| format!("match[]={}", http::encode(s)))
            .collect();
        if let Some((start, end)) = m.range {
            params.push(format!("start={}", secs(start)));
            params.push(format!("end={}", secs(end)));
        }
        let request = if params.is_empty() {
            m.path.to_string()
        } else {
            format!("{}?{}", m.path, params.join("&"))
        };
        let what = format!("{} {:?} {:?}", m.path, m.matchers, m.range);
        report.compare(&prom, &ours, &what, &Request::Get(&request), false, false);
    }
    for a in API_REQUESTS {
        let request = match a.form {
            Some(body) => Request::Post(a.path, body),
            None => Request::Get(a.path),
        };
        report.compare(&prom, &ours, a.what, &request, false, a.error);
    }

    eprintln!(
        "differential: {} queries, {} comparisons, {} with a non-empty answer, {} differ",
        QUERIES.len(),
        report.compared,
        report.non_empty,
        report.failures.len()
    );
    // Most answers must hold data, or the comparison proves little.
    assert!(
        report.non_empty * 10 >= report.compared * 8,
        "only {} of {} answers hold data",
        report.non_empty,
        report.compared
    );
    assert!(
        report.failures.is_empty(),
        "{} of {} comparisons differ between promlet and Prometheus 2.42:\n\n{}",
        report.failures.len(),
        report.compared,
        report.failures.join("\n\n")
    );
}
