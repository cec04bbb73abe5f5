//! The `@`-modifier variants of an instant eval (§7.2, `atModifierTestCases` in the Go
//! runner): the query with every selector pinned to the evaluation time, run at other times.

use crate::parser::ast::{AtModifier, Expr};

/// Functions whose result depends on the evaluation time even when their arguments are
/// pinned with `@` (Prometheus's `AtModifierUnsafeFunctions`, plus the query-context ones):
/// queries calling them get no variants.
const TIME_DEPENDENT: [&str; 15] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
];

/// The query with `@ t` on every vector selector, matrix selector and subquery that has no
/// `@ <time>` yet, printed back to PromQL; `None` when it calls a [`TIME_DEPENDENT`]
/// function outside subqueries.
///
/// The walk is pre-order and does not enter subqueries: once a subquery carries `@` (it
/// always does after the rewrite) its contents are left as they are, calls included, as in
/// the Go runner. `@ start()` and `@ end()` count as "no `@` yet" there (the Go tree keeps
/// them apart from the timestamp), so they are replaced too.
pub(super) fn pin_at(expr: &Expr, t_ms: i64) -> Option<String> {
    let mut pinned = expr.clone();
    let mut time_dependent = false;
    pin(&mut pinned, t_ms, &mut time_dependent);
    (!time_dependent).then(|| pinned.to_string())
}

/// The evaluation times of the variants of an eval at `t_ms`.
pub(super) fn eval_times(t_ms: i64) -> Vec<i64> {
    if t_ms == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![
            t_ms.saturating_mul(-10),
            0,
            t_ms / 5,
            t_ms,
            t_ms.saturating_mul(10),
        ]
    }
}

/// Rewrites `e` in place; sets `time_dependent` when it meets a [`TIME_DEPENDENT`] call.
fn pin(e: &mut Expr, t_ms: i64, time_dependent: &mut bool) {
    match e {
        Expr::VectorSelector { at, .. } | Expr::Subquery { at, .. } => set_at(at, t_ms),
        Expr::MatrixSelector { selector, .. } => pin(selector, t_ms, time_dependent),
        Expr::Call { func, args, .. } => {
            *time_dependent |= TIME_DEPENDENT.contains(&func.name);
            args.iter_mut().for_each(|a| pin(a, t_ms, time_dependent));
        }
        Expr::Aggregate { expr, param, .. } => {
            pin(expr, t_ms, time_dependent);
            if let Some(p) = param {
                pin(p, t_ms, time_dependent);
            }
        }
        Expr::Binary { lhs, rhs, .. } => {
            pin(lhs, t_ms, time_dependent);
            pin(rhs, t_ms, time_dependent);
        }
        Expr::Unary { expr, .. } | Expr::Paren(expr) => pin(expr, t_ms, time_dependent),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
    }
}

/// Sets `@ t` unless a timestamp is already there.
fn set_at(at: &mut Option<AtModifier>, t_ms: i64) {
    if !matches!(at, Some(AtModifier::Timestamp(_))) {
        *at = Some(AtModifier::Timestamp(t_ms));
    }
}
