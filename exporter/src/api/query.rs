//! `/api/v1/query` and `/api/v1/query_range` (Prometheus's `api.query`, `api.queryRange`).
//!
//! Parameters are checked in Prometheus's order, so that the first problem reported is the
//! one Prometheus reports. The query runs on a blocking thread; the engine enforces the
//! timeout (the server's `--query.timeout`, or the request's `timeout` when shorter) and
//! `--query.max-samples`, and its errors come back as `timeout`/`execution` answers.

use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use model::Queryable;
use query::engine::{QueryResult, Value};
use query::{Engine, Expr, QueryContext, ValueType};

use super::error::ApiError;
use super::params::Params;
use super::time::ApiTime;
use super::{Success, run_blocking};
use crate::AppState;

/// The most points a range query may return per series (Prometheus's fixed limit).
pub const MAX_POINTS_PER_SERIES: i128 = 11_000;

/// How many warnings and infos an answer lists before summarising the rest.
const MAX_ANNOTATIONS: usize = 10;

/// Parses a query, as both endpoints do before evaluating.
///
/// # Errors
/// `invalid parameter "query": 1:5: parse error: ...`.
fn parse(query: &str, ctx: &QueryContext) -> Result<Expr, ApiError> {
    query::parse_with_context(query, ctx).map_err(|e| ApiError::invalid_param("query", e))
}

/// Evaluates `query` at `t_ms` (ms since the epoch).
///
/// # Errors
/// Parse errors as `bad_data`, then the engine's errors by class.
pub fn instant_query(
    engine: &Engine,
    storage: &dyn Queryable,
    query: &str,
    t_ms: i64,
) -> Result<QueryResult, ApiError> {
    let expr = parse(query, &QueryContext::instant(t_ms))?;
    engine
        .instant(storage, &expr, t_ms)
        .map_err(ApiError::from_query)
}

/// Checks a range query's bounds and step as Prometheus does after reading them: `end`
/// not before `start`, a positive step (`step_ns`, nanoseconds), at most 11,000 points.
///
/// # Errors
/// Prometheus's texts for each.
pub fn check_range(start: ApiTime, end: ApiTime, step_ns: i64) -> Result<(), ApiError> {
    check_order(start, end)?;
    check_step(start, end, step_ns)
}

pub(crate) fn check_order(start: ApiTime, end: ApiTime) -> Result<(), ApiError> {
    if end < start {
        return Err(ApiError::invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    Ok(())
}

pub(crate) fn check_step(start: ApiTime, end: ApiTime, step_ns: i64) -> Result<(), ApiError> {
    if step_ns <= 0 {
        return Err(ApiError::invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end.nanos() - start.nanos()) / i128::from(step_ns) > MAX_POINTS_PER_SERIES {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    Ok(())
}

/// Evaluates `query` over `[start_ms, end_ms]` every `step_ms` (all ms). The caller has run
/// [`check_range`].
///
/// # Errors
/// Parse errors and a query that is not a scalar or instant vector as `bad_data`, then the
/// engine's errors by class.
pub fn range_query(
    engine: &Engine,
    storage: &dyn Queryable,
    query: &str,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
) -> Result<QueryResult, ApiError> {
    let expr = parse(query, &QueryContext::range(start_ms, end_ms, step_ms))?;
    let ty = expr.value_type();
    if ty != ValueType::Vector && ty != ValueType::Scalar {
        return Err(ApiError::invalid_param(
            "query",
            format!(
                "invalid expression type \"{ty}\" for range query, must be Scalar or instant Vector"
            ),
        ));
    }
    engine
        .range(storage, &expr, start_ms, end_ms, step_ms)
        .map_err(ApiError::from_query)
}

/// The step in whole milliseconds for the engine; a positive step below 1 ms becomes 1 ms.
pub fn step_millis(step_ns: i64) -> i64 {
    (step_ns / 1_000_000).max(1)
}

/// The engine for one request: the server's, with a shorter timeout and another lookback
/// when the request asks.
fn request_engine(engine: &Engine, timeout_ns: Option<i64>, lookback_ms: Option<i64>) -> Engine {
    if timeout_ns.is_none() && lookback_ms.is_none() {
        return engine.clone();
    }
    let mut opts = engine.options().clone();
    if let Some(ns) = timeout_ns {
        let asked = Duration::from_nanos(u64::try_from(ns).unwrap_or(0));
        opts.timeout = opts.timeout.min(asked);
    }
    if let Some(ms) = lookback_ms {
        opts.lookback_delta_ms = ms;
    }
    Engine::new(opts)
}

/// `GET|POST /api/v1/query`.
pub(crate) async fn instant(State(state): State<AppState>, params: Params) -> Response {
    super::respond(instant_inner(state, params).await)
}

async fn instant_inner(state: AppState, params: Params) -> Result<Success, ApiError> {
    let limit = params.limit()?;
    let now = ApiTime::from_millis((state.clock)());
    let t = params.time_or("time", now)?;
    let timeout = params.timeout_ns()?;
    let lookback = params.lookback_delta_ms()?;
    let engine = request_engine(&state.engine, timeout, lookback);
    let q = params.get("query").to_owned();
    let budget = engine.options().timeout;
    let res = run_blocking(&state, budget, move |storage| {
        instant_query(&engine, storage, &q, t.millis())
    })
    .await?;
    Ok(answer(res, limit))
}

/// `GET|POST /api/v1/query_range`.
pub(crate) async fn range(State(state): State<AppState>, params: Params) -> Response {
    super::respond(range_inner(state, params).await)
}

async fn range_inner(state: AppState, params: Params) -> Result<Success, ApiError> {
    let limit = params.limit()?;
    let start = params.time("start")?;
    let end = params.time("end")?;
    check_order(start, end)?;
    let step_ns = super::time::parse_duration(params.get("step"))
        .map_err(|e| ApiError::invalid_param("step", e))?;
    check_step(start, end, step_ns)?;
    let timeout = params.timeout_ns()?;
    let lookback = params.lookback_delta_ms()?;
    let engine = request_engine(&state.engine, timeout, lookback);
    let q = params.get("query").to_owned();
    let budget = engine.options().timeout;
    let res = run_blocking(&state, budget, move |storage| {
        range_query(
            &engine,
            storage,
            &q,
            start.millis(),
            end.millis(),
            step_millis(step_ns),
        )
    })
    .await?;
    Ok(answer(res, limit))
}

/// The answer to a query: its data, annotations capped as Prometheus caps them, and the
/// result cut to `limit` series (0: no limit) with a warning when cut.
fn answer(mut res: QueryResult, limit: usize) -> Success {
    let truncated = limit > 0
        && match &mut res.value {
            Value::Vector(v) if v.len() > limit => {
                v.truncate(limit);
                true
            }
            Value::Matrix(m) if m.len() > limit => {
                m.truncate(limit);
                true
            }
            _ => false,
        };
    if truncated {
        res.warnings.push("results truncated due to limit".into());
    }
    Success {
        data: super::json::query_data(&res.value),
        warnings: cap(res.warnings, "warning"),
        infos: cap(res.infos, "info"),
    }
}

/// A query's answer as the server sends it, envelope included, without a `limit`: what the
/// command line prints for `--format json` on a data directory.
pub fn query_response(res: &QueryResult) -> String {
    super::json::success(
        &super::json::query_data(&res.value),
        &cap(res.warnings.clone(), "warning"),
        &cap(res.infos.clone(), "info"),
    )
}

/// Keeps the first ten annotations and counts the rest (`Annotations.AsStrings`).
fn cap(mut list: Vec<String>, kind: &str) -> Vec<String> {
    if list.len() > MAX_ANNOTATIONS {
        let skipped = list.len() - MAX_ANNOTATIONS;
        list.truncate(MAX_ANNOTATIONS);
        list.push(format!("{skipped} more {kind} annotations omitted"));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_checks_use_prometheus_texts() {
        let t = ApiTime::from_millis;
        let s = 1_000_000_000;
        assert!(check_range(t(0), t(11_000_000), s).is_ok());
        assert_eq!(
            check_range(t(0), t(11_001_000), s).unwrap_err().message,
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
        );
        assert_eq!(
            check_range(t(10), t(9), s).unwrap_err().message,
            r#"invalid parameter "end": end timestamp must not be before start time"#
        );
        assert!(
            check_range(t(0), t(1), 0)
                .unwrap_err()
                .message
                .starts_with(r#"invalid parameter "step": zero or negative"#)
        );
    }

    #[test]
    fn annotations_are_capped_at_ten() {
        let list: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        let capped = cap(list, "warning");
        assert_eq!(capped.len(), 11);
        assert_eq!(capped[10], "2 more warning annotations omitted");
    }

    #[test]
    fn request_timeout_only_shortens() {
        let engine = Engine::default();
        let e = request_engine(&engine, Some(1_000_000_000), None);
        assert_eq!(e.options().timeout, Duration::from_secs(1));
        let e = request_engine(&engine, Some(i64::MAX), Some(1000));
        assert_eq!(e.options().timeout, engine.options().timeout);
        assert_eq!(e.options().lookback_delta_ms, 1000);
        let e = request_engine(&engine, Some(-5), None);
        assert_eq!(e.options().timeout, Duration::ZERO);
    }
}
