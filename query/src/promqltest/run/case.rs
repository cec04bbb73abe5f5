//! Executing one `eval`: range evals (§7.1), instant evals with their `@` variants (§7.2)
//! and range-mode cross-check (§7.3), failure expectations (§9) and annotations (§10).

use model::MemStorage;

use super::super::{Eval, EvalKind, Expectation, ExpectedResult, TextMatch};
use super::compare::{self, Expected, Window};
use super::{ANNOTATIONS, variants};
use crate::engine::{Engine, QueryError, QueryResult, Sample, Value};
use crate::parser::ast::Expr;

/// Step and half-width of the range-mode cross-check, ms.
const CROSS_CHECK_STEP_MS: i64 = 60_000;

/// What a case runs against.
pub(super) struct Ctx<'a> {
    /// The engine under test.
    pub(super) engine: &'a Engine,
    /// The loaded data.
    pub(super) storage: &'a MemStorage,
}

/// A failed check: annotation-only failures are told apart so that a result failure found
/// later in the same case wins.
enum Failed {
    /// The warnings or infos differ (§10).
    Annotations(String),
    /// Anything else.
    Other(String),
}

impl Failed {
    /// The message.
    fn into_message(self) -> String {
        match self {
            Failed::Annotations(m) | Failed::Other(m) => m,
        }
    }
}

/// Runs one eval; `Err` is the failure message.
pub(super) fn run(ctx: &Ctx<'_>, ev: &Eval, expr: &Expr) -> Result<(), String> {
    let outcome = match ev.kind {
        EvalKind::Range {
            start_ms,
            end_ms,
            step_ms,
        } => run_range(ctx, ev, expr, start_ms, end_ms, step_ms),
        EvalKind::Instant { at_ms } => {
            let t = ev.expect.range_vector.map_or(at_ms, |r| r.to_ms);
            run_instant(ctx, ev, expr, t)
        }
    };
    outcome.map_err(Failed::into_message)
}

/// A range eval: one range query, annotations, then the matrix.
fn run_range(
    ctx: &Ctx<'_>,
    ev: &Eval,
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
) -> Result<(), Failed> {
    let res = ctx.engine.range(ctx.storage, expr, start, end, step);
    let Some(res) = check_failure(&ev.expect, res)? else {
        return Ok(());
    };
    let annotations = check_annotations(&ev.expect, &res);
    let window = Window {
        start_ms: start,
        end_ms: Some(end),
        step_ms: step,
    };
    compare::compare(&expected(ev, window), &res.value).map_err(Failed::Other)?;
    annotations
}

/// One query of an instant eval: the text run (for messages and §7.3), its tree and time.
struct InstantQuery {
    /// The query text: the eval's, or the re-serialised `@` variant.
    text: String,
    /// The parsed query.
    expr: Expr,
    /// Evaluation time, ms.
    t_ms: i64,
    /// Whether this is an `@` variant rather than the query as written.
    variant: bool,
}

/// An instant eval: the query as written, then every `@` variant; all must pass.
fn run_instant(ctx: &Ctx<'_>, ev: &Eval, expr: &Expr, t: i64) -> Result<(), Failed> {
    let mut queries = vec![InstantQuery {
        text: ev.expr_text.clone(),
        expr: expr.clone(),
        t_ms: t,
        variant: false,
    }];
    if let Some(text) = variants::pin_at(expr, t) {
        let pinned = crate::parse(&text)
            .map_err(|e| Failed::Other(format!("@ variant `{text}` does not parse: {e}")))?;
        queries.extend(
            variants::eval_times(t)
                .into_iter()
                .map(|t_ms| InstantQuery {
                    text: text.clone(),
                    expr: pinned.clone(),
                    t_ms,
                    variant: true,
                }),
        );
    }
    let mut annotations = Ok(());
    for q in &queries {
        match run_instant_query(ctx, ev, q) {
            Ok(()) => {}
            Err(Failed::Annotations(m)) => {
                if annotations.is_ok() {
                    annotations = Err(Failed::Annotations(with_context(m, q)));
                }
            }
            Err(Failed::Other(m)) => return Err(Failed::Other(with_context(m, q))),
        }
    }
    annotations
}

/// Appends which query variant a message is about.
fn with_context(message: String, q: &InstantQuery) -> String {
    if q.variant {
        format!(
            "{message}\n  in @ variant `{}` evaluated at {}ms",
            q.text, q.t_ms
        )
    } else {
        message
    }
}

/// One instant query (§7.2 steps 1–6).
fn run_instant_query(ctx: &Ctx<'_>, ev: &Eval, q: &InstantQuery) -> Result<(), Failed> {
    let res = ctx.engine.instant(ctx.storage, &q.expr, q.t_ms);
    let Some(res) = check_failure(&ev.expect, res)? else {
        return Ok(());
    };
    let annotations = check_annotations(&ev.expect, &res);
    let window = match ev.expect.range_vector {
        Some(r) => Window {
            start_ms: r.from_ms,
            end_ms: Some(r.to_ms),
            step_ms: r.step_ms,
        },
        None => Window {
            start_ms: q.t_ms,
            end_ms: None,
            step_ms: 0,
        },
    };
    let exp = expected(ev, window);
    compare::compare(&exp, &res.value).map_err(Failed::Other)?;
    if !excluded_from_range_mode(ev, &q.text) {
        cross_check(ctx, &exp, q, &res.value).map_err(Failed::Other)?;
    }
    annotations
}

/// The comparison expectations of `ev` with the timestamps of `window`.
fn expected(ev: &Eval, window: Window) -> Expected<'_> {
    Expected {
        result: &ev.expect.result,
        ordered: ev.ordered,
        window,
    }
}

/// §7.3 exclusions: `expect range vector`, `expect string`, or a query calling `start()`,
/// `end()`, `range()` or `step()`. The eval's own text is checked too: Prometheus prints
/// those calls back into an `@` variant, while our tree may hold them already resolved.
fn excluded_from_range_mode(ev: &Eval, text: &str) -> bool {
    ev.expect.range_vector.is_some()
        || matches!(ev.expect.result, ExpectedResult::String(_))
        || ["start()", "end()", "range()", "step()"]
            .iter()
            .any(|f| text.contains(f) || ev.expr_text.contains(f))
}

/// §7.3: the query as a range query over `[t - 1m, t + 1m]` must give the same result at `t`.
fn cross_check(
    ctx: &Ctx<'_>,
    exp: &Expected<'_>,
    q: &InstantQuery,
    instant: &Value,
) -> Result<(), String> {
    let (start, end) = (
        q.t_ms.saturating_sub(CROSS_CHECK_STEP_MS),
        q.t_ms.saturating_add(CROSS_CHECK_STEP_MS),
    );
    let res = ctx
        .engine
        .range(ctx.storage, &q.expr, start, end, CROSS_CHECK_STEP_MS)
        .map_err(|e| format!("range mode: query failed: {e}"))?;
    if exp.ordered {
        return Ok(());
    }
    let Value::Matrix(series) = &res.value else {
        return Err(format!(
            "range mode: expected a matrix, but the range query returned a {}",
            res.value.type_name()
        ));
    };
    compare::check_sorted(series).map_err(|e| format!("range mode: {e}"))?;
    let vector: Vec<Sample> = series
        .iter()
        .filter_map(|s| {
            s.points.iter().find(|p| p.t == q.t_ms).map(|p| Sample {
                metric: s.metric.clone(),
                t: p.t,
                v: p.v,
            })
        })
        .collect();
    let value = match instant {
        Value::Scalar { .. } => match vector.first() {
            Some(s) => Value::Scalar { t: s.t, v: s.v },
            None => {
                return Err(format!(
                    "range mode: the range query has no point at t={}ms for the scalar",
                    q.t_ms
                ));
            }
        },
        _ => Value::Vector(vector),
    };
    compare::compare(exp, &value).map_err(|e| format!("range mode: {e}"))
}

/// §9: with a failure expected, the query must fail with a matching error (`Ok(None)`: the
/// case is done); otherwise it must succeed (`Ok(Some(result))`).
fn check_failure(
    expect: &Expectation,
    res: Result<QueryResult, QueryError>,
) -> Result<Option<QueryResult>, Failed> {
    match (&expect.fail, res) {
        (Some(checks), Err(e)) => {
            let text = e.to_string();
            for check in checks {
                if !text_matches(check, &text).map_err(Failed::Other)? {
                    return Err(Failed::Other(format!(
                        "expected error matching {} but got: {text}",
                        describe(check)
                    )));
                }
            }
            Ok(None)
        }
        (Some(_), Ok(r)) => Err(Failed::Other(format!(
            "expected the query to fail, but it returned a {}",
            r.value.type_name()
        ))),
        (None, Err(e)) => Err(Failed::Other(format!("query failed: {e}"))),
        (None, Ok(r)) => Ok(Some(r)),
    }
}

/// §10: the warnings and infos of a successful query against the `expect` lines.
fn check_annotations(expect: &Expectation, res: &QueryResult) -> Result<(), Failed> {
    let fail = |m: String| Failed::Annotations(format!("{ANNOTATIONS}: {m}"));
    let all = || {
        let mut v = res.warnings.clone();
        v.extend(res.infos.iter().cloned());
        format!("{v:?}")
    };
    annotations_of_kind("warn", &expect.warn, &res.warnings, &all).map_err(fail)?;
    annotations_of_kind("info", &expect.info, &res.infos, &all).map_err(fail)?;
    if expect.no_warn && !res.warnings.is_empty() {
        return Err(fail(format!("unexpected warning annotations: {}", all())));
    }
    if expect.no_info && !res.infos.is_empty() {
        return Err(fail(format!("unexpected info annotations: {}", all())));
    }
    Ok(())
}

/// Each expected line must match some annotation and each annotation some line.
fn annotations_of_kind(
    kind: &str,
    expected: &[TextMatch],
    actual: &[String],
    all: &dyn Fn() -> String,
) -> Result<(), String> {
    if expected.is_empty() {
        return Ok(());
    }
    if actual.is_empty() {
        return Err(format!("expected {kind} annotations but none were found"));
    }
    for e in expected {
        if !any_matches(e, actual)? {
            return Err(format!(
                "expected {kind} annotation matching {} but none was found, found: {}",
                describe(e),
                all()
            ));
        }
    }
    for a in actual {
        let mut matched = false;
        for e in expected {
            if text_matches(e, a)? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Err(format!("unexpected {kind} annotation {a:?}"));
        }
    }
    Ok(())
}

/// Whether `check` matches one of `texts`.
fn any_matches(check: &TextMatch, texts: &[String]) -> Result<bool, String> {
    for t in texts {
        if text_matches(check, t)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `text` satisfies `check`: exact equality, or an unanchored regex search.
///
/// # Errors
/// The pattern does not compile.
pub(super) fn text_matches(check: &TextMatch, text: &str) -> Result<bool, String> {
    match check {
        TextMatch::Any => Ok(true),
        TextMatch::Exact(m) => Ok(m == text),
        TextMatch::Regex(p) => regex::Regex::new(p)
            .map(|re| re.is_match(text))
            .map_err(|e| format!("invalid regex {p:?} in the test: {e}")),
    }
}

/// `message "…"` or `pattern "…"`, for messages.
fn describe(check: &TextMatch) -> String {
    match check {
        TextMatch::Any => "anything".to_string(),
        TextMatch::Exact(m) => format!("message {m:?}"),
        TextMatch::Regex(p) => format!("pattern {p:?}"),
    }
}
