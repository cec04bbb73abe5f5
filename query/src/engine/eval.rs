//! The evaluator (in progress).

use model::Queryable;

use super::{EngineOptions, QueryError, QueryResult};
use crate::parser::ast::Expr;

/// Evaluates `expr` over `[start, end]` every `step` ms (`step == 0`: an instant query).
pub(super) fn run(
    _opts: &EngineOptions,
    _storage: &dyn Queryable,
    _expr: &Expr,
    _start: i64,
    _end: i64,
    _step: i64,
) -> Result<QueryResult, QueryError> {
    Err(QueryError::exec("not yet implemented"))
}
