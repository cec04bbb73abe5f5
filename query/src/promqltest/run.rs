//! Runner for `.test` files: loads the data, evaluates every `eval` with the [`Engine`] and
//! checks the result, as Prometheus's `promql/promqltest/test.go` does (sections 7 to 10 of
//! `shared/reference/promqltest-FORMAT.md`).
//!
//! Each `eval` is one case, passed or failed with a message naming what differed. An instant
//! eval runs the query as written and, unless it calls a time-dependent function, its
//! `@`-pinned variants (§7.2); each of these also runs as a three-step range query whose
//! middle step must give the same result (§7.3). Failing queries, annotations and results are
//! checked as in §8–§10. A panic inside the engine fails only the case that caused it.
//!
//! What the runner cannot reproduce fails with a reason instead of a wrong verdict:
//! * storage holds floats only, so native histogram samples (and the custom-bucket histograms
//!   `load_with_nhcb` synthesises) are not stored; an eval that reads such a series, or that
//!   expects a histogram, fails with `native histograms not supported: …`;
//! * start timestamps (`@st` lines) are not stored either; evals reading those series fail
//!   with `start timestamps not supported: …`;
//! * an eval whose expression does not parse fails (Prometheus would reject the whole file);
//! * a load that storage refuses (out of order, duplicate) fails every later eval of the file,
//!   as Prometheus aborts the file.

mod case;
mod compare;
mod variants;

#[cfg(test)]
mod tests;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use model::{Labels, MemStorage};

use super::{Command, Eval, EvalKind, Point, TestFileError, Value, parse_file};
use crate::engine::{Engine, EngineOptions};
use crate::parser::ast::Expr;

/// Start of the message of a case that needs native histograms.
const HISTOGRAMS: &str = "native histograms not supported";

/// Start of the message of a case whose only problem is its annotations (§10).
const ANNOTATIONS: &str = "annotation mismatch";

/// One failed `eval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFailure {
    /// 1-based line of the `eval` header.
    pub line: usize,
    /// The PromQL text of the eval, as in the file.
    pub expr: String,
    /// What differed: the first line states the problem (expected vs got); later lines, if
    /// any, say which query variant it was and show the whole result.
    pub message: String,
}

/// Why a case failed, in the classes a skip list cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The case needs native histograms (in its data or its expectation).
    NativeHistograms,
    /// The result matched; only the warnings or infos differed from the expectation.
    Annotations,
    /// Anything else.
    Other,
}

impl CaseFailure {
    /// The class of the failure, read from the message.
    pub fn kind(&self) -> FailureKind {
        if self.message.starts_with(HISTOGRAMS) {
            FailureKind::NativeHistograms
        } else if self.message.starts_with(ANNOTATIONS) {
            FailureKind::Annotations
        } else {
            FailureKind::Other
        }
    }
}

/// The outcome of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Evals that passed.
    pub passed: usize,
    /// Evals that failed, in file order.
    pub failures: Vec<CaseFailure>,
}

/// The engine settings Prometheus's own test of these files uses (§11 of the format
/// specification): lookback 5 m, 10 000 samples, 100 s timeout, subquery step 1 m, delayed
/// `__name__` removal.
pub fn test_engine_options() -> EngineOptions {
    EngineOptions {
        lookback_delta_ms: 5 * 60 * 1000,
        max_samples: 10_000,
        timeout: Duration::from_secs(100),
        default_subquery_step_ms: 60 * 1000,
        delayed_name_removal: true,
    }
}

/// Runs a whole `.test` file with an engine built from `opts`: every `load` and `clear` in
/// order, every `eval` as one case.
///
/// # Errors
/// The file does not read ([`parse_file`]); nothing has run then.
pub fn run_file(text: &str, opts: &EngineOptions) -> Result<FileReport, TestFileError> {
    let commands = parse_file(text)?;
    let mut state = State::new(Engine::new(opts.clone()));
    let mut report = FileReport::default();
    for cmd in &commands {
        match cmd {
            Command::Load {
                series, with_nhcb, ..
            } => state.load(series, *with_nhcb),
            Command::Clear => state.clear(),
            Command::Eval(ev) => match state.eval(ev) {
                Ok(()) => report.passed += 1,
                Err(message) => report.failures.push(CaseFailure {
                    line: ev.line,
                    expr: ev.expr_text.clone(),
                    message,
                }),
            },
        }
    }
    Ok(report)
}

/// Why a stored series does not hold all of its loaded data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// Native histogram samples were left out.
    Histograms,
    /// The series is a custom-bucket histogram `load_with_nhcb` would build; it is absent.
    Nhcb,
    /// Start timestamps were dropped.
    StartTimestamps,
}

/// The storage of a file run and what it could not hold.
struct State {
    /// The engine under test.
    engine: Engine,
    /// Everything loaded since the last `clear`.
    storage: MemStorage,
    /// Series whose data is incomplete in `storage`, and why.
    incomplete: Vec<(Labels, Missing)>,
    /// Set once a load failed: the file is aborted, every later eval fails with it.
    load_error: Option<String>,
}

impl State {
    /// A fresh state with empty storage.
    fn new(engine: Engine) -> Self {
        Self {
            engine,
            storage: MemStorage::new(),
            incomplete: Vec::new(),
            load_error: None,
        }
    }

    /// `clear`: drops all data (a failed load keeps the file aborted).
    fn clear(&mut self) {
        self.storage = MemStorage::new();
        self.incomplete.clear();
    }

    /// Appends a `load` block in one transaction; float samples only.
    fn load(&mut self, series: &[(Labels, Vec<Point>)], with_nhcb: bool) {
        if self.load_error.is_some() {
            return;
        }
        for (labels, points) in series {
            if points
                .iter()
                .any(|p| matches!(p.value, Value::Histogram(_)))
            {
                self.mark(labels, Missing::Histograms);
            }
            if points.iter().any(|p| p.st_ms.is_some()) {
                self.mark(labels, Missing::StartTimestamps);
            }
            if with_nhcb && let Some(base) = nhcb_base(labels, points) {
                self.mark(&base, Missing::Nhcb);
            }
        }
        if let Err(e) = append_floats(&self.storage, series) {
            self.load_error = Some(e);
        }
    }

    /// Records that `labels` is incomplete in storage.
    fn mark(&mut self, labels: &Labels, why: Missing) {
        if !self
            .incomplete
            .iter()
            .any(|(l, w)| l == labels && *w == why)
        {
            self.incomplete.push((labels.clone(), why));
        }
    }

    /// Runs one eval; `Err` is the failure message. A panic becomes a failure.
    fn eval(&self, ev: &Eval) -> Result<(), String> {
        if let Some(e) = &self.load_error {
            return Err(format!("not run: an earlier load failed: {e}"));
        }
        let with_context;
        let expr = if uses_query_context(&ev.expr_text) {
            let ctx = match ev.kind {
                // `expect range vector` moves the evaluation to its `to`.
                EvalKind::Instant { at_ms } => {
                    crate::QueryContext::instant(ev.expect.range_vector.map_or(at_ms, |r| r.to_ms))
                }
                EvalKind::Range {
                    start_ms,
                    end_ms,
                    step_ms,
                } => crate::QueryContext::range(start_ms, end_ms, step_ms),
            };
            with_context = crate::parse_with_context(&ev.expr_text, &ctx)
                .map_err(|e| format!("expression does not parse: {e}"))?;
            &with_context
        } else {
            ev.expr
                .as_ref()
                .map_err(|e| format!("expression does not parse: {e}"))?
        };
        if expects_histograms(ev) {
            return Err(format!(
                "{HISTOGRAMS}: the expected result holds histograms"
            ));
        }
        self.check_complete(expr)?;
        let ctx = case::Ctx {
            engine: &self.engine,
            storage: &self.storage,
        };
        match catch_unwind(AssertUnwindSafe(|| case::run(&ctx, ev, expr))) {
            Ok(outcome) => outcome,
            Err(payload) => Err(format!("engine panicked: {}", panic_text(&*payload))),
        }
    }

    /// Fails when `expr` selects a series whose loaded data storage could not hold.
    fn check_complete(&self, expr: &Expr) -> Result<(), String> {
        let mut selectors = Vec::new();
        collect_selectors(expr, &mut selectors);
        let reads_info = calls_info(expr);
        for (labels, why) in &self.incomplete {
            let info_series =
                reads_info && labels.metric_name().is_some_and(|n| n.ends_with("_info"));
            if info_series || selectors.iter().any(|ms| model::matches_all(labels, ms)) {
                return Err(match why {
                    Missing::Histograms => format!(
                        "{HISTOGRAMS}: the query reads {labels}, loaded with native histogram samples"
                    ),
                    Missing::Nhcb => format!(
                        "{HISTOGRAMS}: the query reads {labels}, a histogram load_with_nhcb builds"
                    ),
                    Missing::StartTimestamps => format!(
                        "start timestamps not supported: the query reads {labels}, loaded with start timestamps"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Appends every float sample (stale markers included) of a load block, committing at the end.
fn append_floats(storage: &MemStorage, series: &[(Labels, Vec<Point>)]) -> Result<(), String> {
    use model::Appendable;
    let mut app = storage.appender();
    for (labels, points) in series {
        for p in points {
            let Some(v) = p.value.as_f64() else { continue };
            if let Err(e) = app.append(None, labels, p.t_ms, v) {
                app.rollback();
                return Err(format!("{e} (series {labels}, t={}ms)", p.t_ms));
            }
        }
    }
    app.commit().map_err(|e| e.to_string())
}

/// The labels of the custom-bucket histogram `load_with_nhcb` builds from a classic
/// histogram series (`x_bucket{le=…}`, `x_sum`, `x_count`), if it builds one.
fn nhcb_base(labels: &Labels, points: &[Point]) -> Option<Labels> {
    if !points.iter().any(|p| p.value.as_f64().is_some()) {
        return None;
    }
    let name = labels.metric_name()?;
    let base = ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix).map(|b| (b, *suffix)));
    let (base, suffix) = base?;
    if suffix == "_bucket" {
        let le: f64 = labels.get("le")?.parse().ok()?;
        if le.is_nan() {
            return None;
        }
    }
    let mut b = labels.builder();
    b.del("le").set(model::METRIC_NAME, base);
    b.build().ok()
}

/// Whether an expected value of the eval is a native histogram.
fn expects_histograms(ev: &Eval) -> bool {
    match &ev.expect.result {
        super::ExpectedResult::Series(series) => series
            .iter()
            .flat_map(|s| &s.values)
            .any(|v| matches!(v, Some(Value::Histogram(_)))),
        _ => false,
    }
}

/// Collects the matchers of every selector in `expr`.
fn collect_selectors<'a>(expr: &'a Expr, out: &mut Vec<&'a [model::Matcher]>) {
    match expr {
        Expr::VectorSelector { matchers, .. } => out.push(matchers),
        Expr::MatrixSelector { selector, .. } => collect_selectors(selector, out),
        Expr::Subquery { expr, .. } | Expr::Unary { expr, .. } | Expr::Paren(expr) => {
            collect_selectors(expr, out);
        }
        Expr::Call { args, .. } => args.iter().for_each(|a| collect_selectors(a, out)),
        Expr::Aggregate { expr, param, .. } => {
            collect_selectors(expr, out);
            if let Some(p) = param {
                collect_selectors(p, out);
            }
        }
        Expr::Binary { lhs, rhs, .. } => {
            collect_selectors(lhs, out);
            collect_selectors(rhs, out);
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
    }
}

/// Whether `expr` calls `info`, which reads `*_info` series it does not name.
fn calls_info(expr: &Expr) -> bool {
    match expr {
        Expr::Call { func, args, .. } => func.name == "info" || args.iter().any(calls_info),
        Expr::MatrixSelector { selector, .. } => calls_info(selector),
        Expr::Subquery { expr, .. } | Expr::Unary { expr, .. } | Expr::Paren(expr) => {
            calls_info(expr)
        }
        Expr::Aggregate { expr, param, .. } => {
            calls_info(expr) || param.as_deref().is_some_and(calls_info)
        }
        Expr::Binary { lhs, rhs, .. } => calls_info(lhs) || calls_info(rhs),
        Expr::VectorSelector { .. } | Expr::NumberLiteral(_) | Expr::StringLiteral(_) => false,
    }
}

/// The text of a panic payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Whether a query calls `step()` or `range()`, which resolve per query.
fn uses_query_context(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["step", "range", "start", "end"].iter().any(|f| {
        lower.match_indices(f).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
            !before.is_some_and(ident) && lower[i + f.len()..].trim_start().starts_with('(')
        })
    })
}
