//! The PromQL evaluation engine.
//!
//! [`Engine::instant`] and [`Engine::range`] evaluate a parsed [`Expr`] over any
//! [`model::Queryable`] with Prometheus 3.x semantics:
//! * an instant selector at `t` takes the newest sample in the left-open window
//!   `(t - lookback, t]` (lookback 5 m by default); a staleness marker there hides the series;
//! * a range selector `x[d]` at `t` takes the samples in `(t - d, t]`, staleness markers left out;
//! * `offset` shifts windows back, `@` pins them to a time (`start()`/`end()` to the query's);
//! * subqueries evaluate their inner expression at the multiples of their step;
//! * a range query evaluates at `start, start + step, ...` while `<= end`.
//!
//! Every time is in milliseconds since the epoch. Results are Prometheus's value types
//! ([`Value`]); errors carry Prometheus's message and API class ([`QueryError`]).

mod aggregate;
mod binary;
mod eval;
mod functions;
mod histogram;
mod info;
mod range_funcs;
mod selector;
mod value;

use std::time::Duration;

use model::Queryable;

use crate::parser::QueryContext;
use crate::parser::ast::Expr;

pub use value::{ErrorKind, Point, QueryError, QueryResult, Sample, Series, Value};

/// Settings of an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample, ms (Prometheus: 5 m).
    pub lookback_delta_ms: i64,
    /// The most samples a query may hold in memory at once (`--query.max-samples`).
    pub max_samples: usize,
    /// How long a query may run (`--query.timeout`).
    pub timeout: Duration,
    /// The step of a subquery written without one (`x[5m:]`), ms (Prometheus: the global
    /// evaluation interval, 1 m by default).
    pub default_subquery_step_ms: i64,
    /// Keep `__name__` on values until the end of evaluation rather than dropping it where a
    /// function or operator changes the value (Prometheus's `promql-delayed-name-removal`).
    pub delayed_name_removal: bool,
}

impl Default for EngineOptions {
    /// Prometheus 3.x's server defaults.
    fn default() -> Self {
        Self {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step_ms: 60 * 1000,
            delayed_name_removal: false,
        }
    }
}

/// Evaluates PromQL. Cheap to clone and share between threads; holds no data.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with `opts`.
    pub fn new(opts: EngineOptions) -> Self {
        Self { opts }
    }

    /// The engine's settings.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `expr` at time `t_ms` (an instant query). A range-vector expression yields a
    /// [`Value::Matrix`] of raw samples.
    ///
    /// # Errors
    /// Evaluation errors, a timeout, too many samples or a storage failure.
    pub fn instant(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        t_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        eval::run(&self.opts, storage, expr, t_ms, t_ms, None)
    }

    /// Evaluates `expr` at `start_ms, start_ms + step_ms, ...` up to `end_ms` (a range query);
    /// the result is a [`Value::Matrix`].
    ///
    /// # Errors
    /// `BadData` when the expression is not a scalar or instant vector or `step_ms <= 0` or
    /// `end_ms < start_ms`; otherwise as [`Engine::instant`].
    pub fn range(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        eval::run(&self.opts, storage, expr, start_ms, end_ms, Some(step_ms))
    }

    /// Parses `query` and evaluates it as [`Engine::instant`] does; a parse error is
    /// `BadData` with the parser's `line:col: parse error: ...` text.
    ///
    /// # Errors
    /// As [`Engine::instant`], plus parse errors.
    pub fn instant_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        t_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = parse_query(query, &QueryContext::instant(t_ms))?;
        self.instant(storage, &expr, t_ms)
    }

    /// Parses `query` and evaluates it as [`Engine::range`] does.
    ///
    /// # Errors
    /// As [`Engine::range`], plus parse errors.
    pub fn range_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = parse_query(query, &QueryContext::range(start_ms, end_ms, step_ms))?;
        self.range(storage, &expr, start_ms, end_ms, step_ms)
    }
}

/// Parses a query with its step and range known, mapping a parse error to `BadData`.
fn parse_query(query: &str, ctx: &QueryContext) -> Result<Expr, QueryError> {
    crate::parse_with_context(query, ctx)
        .map_err(|e| QueryError::new(ErrorKind::BadData, e.to_string()))
}
