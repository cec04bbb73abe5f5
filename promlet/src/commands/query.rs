//! `promlet query` and `promlet query-range`: evaluate PromQL against a server's HTTP API or
//! a data directory opened here, and print a table or the API's JSON.
//!
//! Both paths check parameters with the server's own code (`exporter::api`), so a query that
//! fails against `promlet serve` fails the same way on `--data`, with the same message.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use exporter::api::time::{ApiTime, parse_duration, parse_time};
use model::Timestamp;
use query::engine::QueryResult;

use super::query_output::{self, Answer};
use crate::args::{QueryArgs, QueryRangeArgs, SourceArgs, StorageArgs};

/// `promlet query EXPR [--time T]`.
pub(crate) fn run_instant(args: QueryArgs) -> Result<()> {
    let now = now_ms();
    let t = resolve_time(&args.time, now).context("--time")?;
    let answer = Evaluator::open(&args.source)?.instant(&args.expr, t)?;
    query_output::print(&answer, args.source.format)
}

/// `promlet query-range EXPR --start T --end T [--step D]`.
pub(crate) fn run_range(args: QueryRangeArgs) -> Result<()> {
    let now = now_ms();
    let start = resolve_time(&args.start, now).context("--start")?;
    let end = resolve_time(&args.end, now).context("--end")?;
    let step_ns = match &args.step {
        Some(s) => parse_duration(s).map_err(|e| anyhow!("--step: {e}"))?,
        None => default_step_ns(start, end),
    };
    let answer = Evaluator::open(&args.source)?.range(&args.expr, start, end, step_ns)?;
    query_output::print(&answer, args.source.format)
}

/// Where PromQL is evaluated: a server's HTTP API, or a data directory opened here.
pub(crate) enum Evaluator {
    /// `--server URL`.
    Server(String),
    /// `--data DIR` (opened read-only for queries) with the command's engine flags.
    Local(Box<(tsdb::Db, query::Engine)>),
    /// The storage of this process (`promlet serve`), with its engine.
    Shared(std::sync::Arc<tsdb::Db>, query::Engine),
}

impl Evaluator {
    /// The evaluator `source` names.
    ///
    /// # Errors
    /// The data directory cannot be opened.
    pub(crate) fn open(source: &SourceArgs) -> Result<Self> {
        Ok(match &source.server {
            Some(url) => Evaluator::Server(url.clone()),
            None => Evaluator::Local(Box::new(open_local(source)?)),
        })
    }

    /// `expr` at `t`.
    ///
    /// # Errors
    /// A bad expression, a failed evaluation or an unreachable server.
    pub(crate) fn instant(&self, expr: &str, t: ApiTime) -> Result<Answer> {
        match self {
            Evaluator::Server(url) => {
                let params = [("query", expr.to_string()), ("time", seconds(t))];
                fetch(url, "/api/v1/query", &params)
            }
            Evaluator::Local(local) => {
                let (db, engine) = &**local;
                let res = exporter::api::instant_query(engine, db, expr, t.millis())?;
                Ok(local_answer(res))
            }
            Evaluator::Shared(db, engine) => {
                let res = exporter::api::instant_query(engine, &**db, expr, t.millis())?;
                Ok(local_answer(res))
            }
        }
    }

    /// `expr` from `start` to `end` every `step_ns`.
    ///
    /// # Errors
    /// As [`Evaluator::instant`], and a range the API refuses.
    pub(crate) fn range(
        &self,
        expr: &str,
        start: ApiTime,
        end: ApiTime,
        step_ns: i64,
    ) -> Result<Answer> {
        match self {
            Evaluator::Server(url) => {
                let params = [
                    ("query", expr.to_string()),
                    ("start", seconds(start)),
                    ("end", seconds(end)),
                    ("step", format!("{}", step_ns as f64 / 1e9)),
                ];
                fetch(url, "/api/v1/query_range", &params)
            }
            Evaluator::Local(local) => {
                let (db, engine) = &**local;
                local_range(engine, db, expr, start, end, step_ns)
            }
            Evaluator::Shared(db, engine) => local_range(engine, db, expr, start, end, step_ns),
        }
    }
}

/// A range query on storage of this process.
fn local_range(
    engine: &query::Engine,
    db: &tsdb::Db,
    expr: &str,
    start: ApiTime,
    end: ApiTime,
    step_ns: i64,
) -> Result<Answer> {
    exporter::api::check_range(start, end, step_ns)?;
    let res = exporter::api::range_query(
        engine,
        db,
        expr,
        start.millis(),
        end.millis(),
        exporter::api::step_millis(step_ns),
    )?;
    Ok(local_answer(res))
}

/// promtool's default step: the range over 250, whole seconds, at least one.
pub(crate) fn default_step_ns(start: ApiTime, end: ApiTime) -> i64 {
    let secs = ((end.nanos() - start.nanos()) / 1_000_000_000 / 250).max(1);
    i64::try_from(secs.saturating_mul(1_000_000_000)).unwrap_or(i64::MAX)
}

pub(crate) fn now_ms() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A time argument: what the API accepts (RFC 3339, Unix seconds), or `now`, `now-1h`,
/// `now+5m`, `-1h` relative to `now_ms`.
pub(crate) fn resolve_time(s: &str, now_ms: Timestamp) -> Result<ApiTime> {
    if let Ok(t) = parse_time(s) {
        return Ok(t);
    }
    let now = ApiTime::from_millis(now_ms);
    let rel = s.strip_prefix("now").unwrap_or(s);
    if rel.is_empty() {
        return Ok(now);
    }
    let (sign, dur) = match rel.split_at(1) {
        ("-", d) => (-1, d),
        ("+", d) if s.starts_with("now") => (1, d),
        _ => bail!("invalid time {s:?}: expected RFC 3339, Unix seconds, now, or now-1h"),
    };
    let ns = parse_duration(dur).map_err(|e| anyhow!("invalid time {s:?}: {e}"))?;
    Ok(ApiTime::from_nanos(now.nanos() + sign * i128::from(ns)))
}

/// A time as the API's Unix-seconds form, to the nanosecond.
fn seconds(t: ApiTime) -> String {
    let sign = if t.nanos() < 0 { "-" } else { "" };
    let ns = t.nanos().unsigned_abs();
    let (secs, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if frac == 0 {
        format!("{sign}{secs}")
    } else {
        let digits = format!("{frac:09}");
        format!("{sign}{secs}.{}", digits.trim_end_matches('0'))
    }
}

/// Opens the data directory read for queries (nothing is dropped by retention) and builds
/// an engine with the command's flags.
fn open_local(source: &SourceArgs) -> Result<(tsdb::Db, query::Engine)> {
    let storage = StorageArgs {
        data: source
            .data
            .clone()
            .unwrap_or_else(|| PathBuf::from("./data")),
        retention: crate::duration::Duration::from_millis(0),
        ..StorageArgs::default()
    };
    let db = super::open_db(&storage)?;
    Ok((db, query::Engine::new(source.engine.options())))
}

fn local_answer(res: QueryResult) -> Answer {
    Answer {
        json: exporter::api::query_response(&res),
        value: res.value,
        warnings: res.warnings,
        infos: res.infos,
    }
}

/// Asks a server and reads its answer; an error answer becomes an error naming its class.
fn fetch(base: &str, path: &str, params: &[(&str, String)]) -> Result<Answer> {
    let (url, status, body) = super::http_get(base, path, params)?;
    query_output::decode(&body).map_err(|e| {
        if e.is::<query_output::ServerError>() {
            e
        } else {
            e.context(format!("{url} answered {status}: {}", body.trim()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_times() {
        let now = 1_700_000_000_000;
        let ms = |s: &str| resolve_time(s, now).unwrap().millis();
        assert_eq!(ms("now"), now);
        assert_eq!(ms("now-1h"), now - 3_600_000);
        assert_eq!(ms("now+90s"), now + 90_000);
        assert_eq!(ms("-5m"), now - 300_000);
        assert_eq!(ms("1700000000.5"), 1_700_000_000_500);
        assert_eq!(ms("2023-11-14T22:13:20Z"), 1_700_000_000_000);
        assert!(resolve_time("+5m", now).is_err());
        assert!(resolve_time("yesterday", now).is_err());
        assert!(resolve_time("now-1x", now).is_err());
    }

    #[test]
    fn seconds_keep_every_digit() {
        assert_eq!(
            seconds(ApiTime::from_millis(1_700_000_000_500)),
            "1700000000.5"
        );
        assert_eq!(seconds(ApiTime::from_millis(-1500)), "-1.5");
        assert_eq!(seconds(ApiTime::from_nanos(1_000_000_001)), "1.000000001");
        assert_eq!(seconds(ApiTime::from_millis(3000)), "3");
    }

    #[test]
    fn default_step_is_range_over_250() {
        let t = ApiTime::from_millis;
        assert_eq!(default_step_ns(t(0), t(3_600_000)), 14_000_000_000);
        assert_eq!(default_step_ns(t(0), t(1000)), 1_000_000_000);
    }
}
