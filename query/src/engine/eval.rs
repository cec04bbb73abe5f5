//! The evaluator: walks the syntax tree over a grid of evaluation steps.
//!
//! Every instant-vector node evaluates to series whose points sit at step timestamps
//! ([`Val::Vector`]); a scalar node to one value per step ([`Val::Scalar`]); a range-vector
//! node to raw samples plus the window geometry ([`Val::Matrix`]), which functions slide over
//! the steps. An instant query is a grid of one step.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Instant;

use model::{Label, Labels, Queryable};

use super::selector::{self, RangeData};
use super::value::{Point, QueryError, QueryResult, Sample, Series, Value};
use super::{EngineOptions, ErrorKind};
use crate::parser::ast::{AtModifier, Expr, Extended, Pos, ValueType};

/// The evaluation grid: `start, start + interval, ...` while `<= end` (ms).
#[derive(Debug, Clone, Copy)]
pub(super) struct Steps {
    /// First step, ms.
    pub(super) start: i64,
    /// Last possible step, ms.
    pub(super) end: i64,
    /// Gap between steps, ms (1 for an instant query).
    pub(super) interval: i64,
}

impl Steps {
    /// Number of steps.
    pub(super) fn len(&self) -> usize {
        usize::try_from((self.end - self.start) / self.interval + 1).unwrap_or(0)
    }

    /// Timestamp of step `i`.
    pub(super) fn ts(&self, i: usize) -> i64 {
        self.start + self.interval * i as i64
    }

    /// The step at timestamp `t`, if `t` is on the grid.
    pub(super) fn index(&self, t: i64) -> Option<usize> {
        let off = t - self.start;
        (off >= 0 && off % self.interval == 0 && t <= self.end)
            .then(|| usize::try_from(off / self.interval).ok())
            .flatten()
    }

    /// Whether this is a single evaluation (an instant query, or a step-invariant part).
    pub(super) fn is_instant(&self) -> bool {
        self.start == self.end
    }
}

/// A series of a vector value: points at step timestamps (a subset of the steps).
#[derive(Debug, Clone)]
pub(super) struct SSeries {
    /// Labels.
    pub(super) metric: Labels,
    /// Delayed name removal: drop `__name__` when evaluation ends.
    pub(super) drop_name: bool,
    /// Points in ascending step order.
    pub(super) points: Vec<Point>,
}

/// The value of a node over the whole grid.
#[derive(Debug)]
pub(super) enum Val {
    /// One value per step.
    Scalar(Vec<f64>),
    /// An instant vector at every step.
    Vector(Vec<SSeries>),
    /// A range vector: raw samples and the window geometry.
    Matrix(RangeData),
    /// A string literal.
    String(String),
}

impl Val {
    /// Number of points held.
    fn num_points(&self) -> usize {
        match self {
            Val::Scalar(v) => v.len(),
            Val::Vector(s) => s.iter().map(|s| s.points.len()).sum(),
            Val::Matrix(r) => r.series.iter().map(|s| s.points.len()).sum(),
            Val::String(_) => 0,
        }
    }
}

/// Annotations collected during evaluation: (message, position suffix).
#[derive(Debug, Default)]
pub(super) struct Notes {
    warnings: Vec<(String, String)>,
    infos: Vec<(String, String)>,
}

/// Adds `PromQL <kind>: msg` unless the same message is already there.
fn add_note(list: &mut Vec<(String, String)>, kind: &str, msg: String, pos: Pos) {
    let text = format!("PromQL {kind}: {msg}");
    if !list.iter().any(|(m, _)| *m == text) {
        list.push((text, pos.suffix()));
    }
}

/// The annotations as Prometheus renders them: `message (line:column)`.
fn render(list: Vec<(String, String)>) -> Vec<String> {
    list.into_iter().map(|(m, s)| m + &s).collect()
}

/// Shared state of one query's evaluation.
pub(super) struct Ctx<'a> {
    /// Engine settings.
    pub(super) opts: &'a EngineOptions,
    storage: &'a dyn Queryable,
    deadline: Instant,
    /// Start of the whole query, for `@ start()`.
    query_start: i64,
    /// End of the whole query, for `@ end()`.
    query_end: i64,
    /// Step of the whole query, ms (0 for an instant query), for `step()`.
    query_step: i64,
    samples: Cell<usize>,
    notes: RefCell<Notes>,
}

/// Shorthand for evaluation results.
pub(super) type EResult<T> = Result<T, QueryError>;

/// Evaluates `expr` over `[start, end]` every `step` ms (`None`: an instant query at `start`).
pub(super) fn run(
    opts: &EngineOptions,
    storage: &dyn Queryable,
    expr: &Expr,
    start: i64,
    end: i64,
    step: Option<i64>,
) -> EResult<QueryResult> {
    let instant = step.is_none();
    if let Some(step) = step {
        check_range_query(expr, start, end, step)?;
    }
    let steps = Steps {
        start,
        end,
        interval: step.unwrap_or(1),
    };
    let ctx = Ctx {
        opts,
        storage,
        deadline: Instant::now() + opts.timeout,
        query_start: start,
        query_end: end,
        query_step: step.unwrap_or(0),
        samples: Cell::new(0),
        notes: RefCell::new(Notes::default()),
    };
    let val = ctx.eval(&steps, expr)?;
    let value = if instant {
        ctx.finish_instant(val, start)?
    } else {
        ctx.finish_range(val, &steps)?
    };
    let notes = ctx.notes.into_inner();
    Ok(QueryResult {
        value,
        warnings: render(notes.warnings),
        infos: render(notes.infos),
    })
}

/// Rejects range queries Prometheus rejects.
fn check_range_query(expr: &Expr, start: i64, end: i64, step: i64) -> EResult<()> {
    if step <= 0 {
        return Err(QueryError::new(
            ErrorKind::BadData,
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if end < start {
        return Err(QueryError::new(
            ErrorKind::BadData,
            "end timestamp must not be before start time",
        ));
    }
    match expr.value_type() {
        ValueType::Scalar | ValueType::Vector => Ok(()),
        t => Err(QueryError::new(
            ErrorKind::BadData,
            format!(
                "invalid expression type \"{t}\" for range query, must be Scalar or instant Vector"
            ),
        )),
    }
}

impl<'a> Ctx<'a> {
    /// The storage.
    pub(super) fn storage(&self) -> &'a dyn Queryable {
        self.storage
    }

    /// Fails once the query's deadline has passed.
    pub(super) fn check_deadline(&self) -> EResult<()> {
        if Instant::now() >= self.deadline {
            Err(QueryError::timeout())
        } else {
            Ok(())
        }
    }

    /// Adds `n` to the samples held and fails past the limit.
    pub(super) fn hold_samples(&self, n: usize) -> EResult<()> {
        let now = self.samples.get() + n;
        self.samples.set(now);
        if now > self.opts.max_samples {
            Err(QueryError::too_many_samples())
        } else {
            Ok(())
        }
    }

    /// Records a warning about the node at `pos`; a message already recorded (at any
    /// position) is not repeated.
    pub(super) fn warn(&self, msg: String, pos: Pos) {
        add_note(&mut self.notes.borrow_mut().warnings, "warning", msg, pos);
    }

    /// Records a warning the storage gave (damaged data left out, say), as it worded it.
    pub(super) fn storage_warning(&self, msg: String) {
        let warnings = &mut self.notes.borrow_mut().warnings;
        if !warnings.iter().any(|(m, _)| *m == msg) {
            warnings.push((msg, String::new()));
        }
    }

    /// Records an info annotation about the node at `pos`, as [`Ctx::warn`] does.
    pub(super) fn info(&self, msg: String, pos: Pos) {
        add_note(&mut self.notes.borrow_mut().infos, "info", msg, pos);
    }

    /// `step()`, `range()`, `start()` or `end()` of the whole query, ms.
    pub(super) fn query_value(&self, name: &str) -> i64 {
        match name {
            "step" => self.query_step,
            "range" => self.query_end - self.query_start,
            "start" => self.query_start,
            _ => self.query_end,
        }
    }

    /// The time an `@` modifier pins to, ms.
    pub(super) fn at_time(&self, at: Option<AtModifier>) -> Option<i64> {
        at.map(|a| match a {
            AtModifier::Timestamp(t) => t,
            AtModifier::Start => self.query_start,
            AtModifier::End => self.query_end,
        })
    }

    /// Marks a series' name for removal: now, or at the end with delayed name removal.
    pub(super) fn drop_name(&self, s: &mut SSeries) {
        s.drop_name = true;
        if !self.opts.delayed_name_removal {
            s.metric = without_metric_name(&s.metric);
        }
    }

    /// Evaluates one node, accounting the samples its value holds.
    pub(super) fn eval(&self, steps: &Steps, expr: &Expr) -> EResult<Val> {
        self.check_deadline()?;
        let before = self.samples.get();
        let val = self.eval_node(steps, expr)?;
        self.samples.set(before);
        self.hold_samples(val.num_points())?;
        Ok(val)
    }

    /// Dispatches on the node type.
    fn eval_node(&self, steps: &Steps, expr: &Expr) -> EResult<Val> {
        match expr {
            Expr::NumberLiteral(v) => Ok(Val::Scalar(vec![*v; steps.len()])),
            Expr::StringLiteral(s) => Ok(Val::String(s.clone())),
            Expr::Paren(e) => self.eval(steps, e),
            Expr::VectorSelector {
                matchers,
                offset_ms,
                at,
                extended,
                ..
            } => {
                let at = self.at_time(*at);
                if *extended == Some(Extended::Smoothed) {
                    return selector::smoothed(self, steps, matchers, *offset_ms, at)
                        .map(Val::Vector);
                }
                selector::instant(self, steps, matchers, *offset_ms, at).map(Val::Vector)
            }
            Expr::MatrixSelector { selector, range_ms } => {
                selector::matrix(self, steps, selector, *range_ms).map(Val::Matrix)
            }
            Expr::Subquery {
                expr,
                range_ms,
                step_ms,
                offset_ms,
                at,
            } => {
                let at = self.at_time(*at);
                let sub = selector::SubqueryGeometry {
                    range_ms: *range_ms,
                    step_ms: step_ms.unwrap_or(self.opts.default_subquery_step_ms),
                    offset_ms: *offset_ms,
                    at,
                };
                selector::subquery(self, steps, expr, &sub).map(Val::Matrix)
            }
            Expr::Unary { negate, expr } => self.eval_unary(steps, *negate, expr),
            Expr::Call {
                func,
                args,
                pos,
                arg_pos,
            } => super::functions::call(self, steps, func, args, *pos, arg_pos),
            Expr::Aggregate {
                op,
                expr,
                param,
                grouping,
                without,
                param_pos,
            } => super::aggregate::eval(
                self,
                steps,
                &super::aggregate::AggSpec {
                    op: *op,
                    expr,
                    param: param.as_deref(),
                    grouping,
                    without: *without,
                    param_pos: *param_pos,
                },
            ),
            Expr::Binary { .. } => super::binary::eval(self, steps, expr),
        }
    }

    /// `-x` negates and drops the name; `+x` is `x`.
    fn eval_unary(&self, steps: &Steps, negate: bool, expr: &Expr) -> EResult<Val> {
        let val = self.eval(steps, expr)?;
        if !negate {
            return Ok(val);
        }
        match val {
            Val::Scalar(mut v) => {
                v.iter_mut().for_each(|x| *x = -*x);
                Ok(Val::Scalar(v))
            }
            Val::Vector(mut series) => {
                for s in &mut series {
                    self.drop_name(s);
                    s.points.iter_mut().for_each(|p| p.v = -p.v);
                }
                self.merge_if_names_dropped(series).map(Val::Vector)
            }
            other => Ok(other),
        }
    }

    /// Without delayed name removal, series that now share labels are merged (an error if
    /// they have points at the same step).
    pub(super) fn merge_if_names_dropped(&self, series: Vec<SSeries>) -> EResult<Vec<SSeries>> {
        if self.opts.delayed_name_removal {
            Ok(series)
        } else {
            merge_same_labels(series)
        }
    }

    /// Turns the top-level value of an instant query into the API value.
    fn finish_instant(&self, val: Val, t: i64) -> EResult<Value> {
        Ok(match val {
            Val::Scalar(v) => Value::Scalar {
                t,
                v: v.first().copied().unwrap_or(f64::NAN),
            },
            Val::String(s) => Value::String { t, v: s },
            Val::Vector(series) => {
                let series = self.cleanup_names(series)?;
                Value::Vector(
                    series
                        .into_iter()
                        .filter_map(|s| {
                            let p = s.points.first()?;
                            Some(Sample {
                                metric: s.metric,
                                t,
                                v: p.v,
                            })
                        })
                        .collect(),
                )
            }
            Val::Matrix(data) => {
                let windows = data.windows_at(self, t);
                let series = self.cleanup_names(windows)?;
                Value::Matrix(sorted_matrix(series))
            }
        })
    }

    /// Turns the top-level value of a range query into the API value.
    fn finish_range(&self, val: Val, steps: &Steps) -> EResult<Value> {
        Ok(match val {
            Val::Scalar(v) => scalar_matrix(steps, &v),
            Val::Vector(series) => {
                let series = self.cleanup_names(series)?;
                Value::Matrix(sorted_matrix(series))
            }
            Val::Matrix(_) | Val::String(_) => {
                return Err(QueryError::new(
                    ErrorKind::BadData,
                    "invalid expression type for range query, must be Scalar or instant Vector",
                ));
            }
        })
    }

    /// Delayed name removal: drops the names now and merges series that collide.
    fn cleanup_names(&self, series: Vec<SSeries>) -> EResult<Vec<SSeries>> {
        if !self.opts.delayed_name_removal {
            return Ok(series);
        }
        let series: Vec<SSeries> = series
            .into_iter()
            .map(|mut s| {
                if s.drop_name {
                    s.metric = without_metric_name(&s.metric);
                }
                s
            })
            .collect();
        merge_same_labels(series)
    }
}

/// A range query's scalar result: one series without labels.
fn scalar_matrix(steps: &Steps, v: &[f64]) -> Value {
    Value::Matrix(vec![Series {
        metric: Labels::empty(),
        points: v
            .iter()
            .enumerate()
            .map(|(i, &v)| Point { t: steps.ts(i), v })
            .collect(),
    }])
}

/// Drops empty series and sorts by labels.
fn sorted_matrix(series: Vec<SSeries>) -> Vec<Series> {
    let mut out: Vec<Series> = series
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| Series {
            metric: s.metric,
            points: s.points,
        })
        .collect();
    out.sort_by(|a, b| a.metric.cmp(&b.metric));
    out
}

/// The labels without `__name__` and the other metadata labels (`__type__`, `__unit__`).
pub(super) fn without_metric_name(l: &Labels) -> Labels {
    if !l.iter().any(is_metadata_label) {
        return l.clone();
    }
    l.filtered(|x| !is_metadata_label(x))
}

/// `__name__`, `__type__`, `__unit__`.
fn is_metadata_label(l: &Label) -> bool {
    matches!(&*l.name, "__name__" | "__type__" | "__unit__")
}

/// Merges series with identical labels whose points do not share a timestamp.
///
/// # Errors
/// `vector cannot contain metrics with the same labelset` when two points would collide.
pub(super) fn merge_same_labels(series: Vec<SSeries>) -> EResult<Vec<SSeries>> {
    if series.len() < 2 {
        return Ok(series);
    }
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(series.len());
    let mut out: Vec<SSeries> = Vec::with_capacity(series.len());
    for s in series {
        if s.points.is_empty() {
            continue;
        }
        match index.get(&s.metric) {
            None => {
                index.insert(s.metric.clone(), out.len());
                out.push(s);
            }
            Some(&i) => {
                let target = &mut out[i];
                let mut merged = Vec::with_capacity(target.points.len() + s.points.len());
                let (mut a, mut b) = (target.points.iter().peekable(), s.points.iter().peekable());
                loop {
                    match (a.peek(), b.peek()) {
                        (Some(x), Some(y)) if x.t == y.t => return Err(duplicate_labelset()),
                        (Some(x), Some(y)) if x.t < y.t => merged.push(**x),
                        (Some(_), Some(y)) => {
                            merged.push(**y);
                            b.next();
                            continue;
                        }
                        (Some(x), None) => merged.push(**x),
                        (None, Some(y)) => {
                            merged.push(**y);
                            b.next();
                            continue;
                        }
                        (None, None) => break,
                    }
                    a.next();
                }
                target.points = merged;
            }
        }
    }
    Ok(out)
}

/// Prometheus's error for two equal label sets in one vector.
pub(super) fn duplicate_labelset() -> QueryError {
    QueryError::exec("vector cannot contain metrics with the same labelset")
}

/// One input sample at a step: the index of its series in the input and its value.
pub(super) type StepSample = (usize, f64);

/// One output sample of a per-step computation.
#[derive(Debug, Clone)]
pub(super) struct OutSample {
    /// Labels.
    pub(super) metric: Labels,
    /// Delayed name removal flag.
    pub(super) drop_name: bool,
    /// Value.
    pub(super) v: f64,
}

impl Ctx<'_> {
    /// Prometheus's `rangeEval`: for every step, gathers each input's samples at that step and
    /// lets `f(step, inputs)` compute the output vector; assembles the outputs into series.
    ///
    /// For a single-step grid the output order is kept (sorting functions rely on it).
    ///
    /// # Errors
    /// Whatever `f` returns; two outputs with equal labels at one step.
    pub(super) fn step_wise(
        &self,
        steps: &Steps,
        inputs: &[&[SSeries]],
        mut f: impl FnMut(usize, &[Vec<StepSample>]) -> EResult<Vec<OutSample>>,
    ) -> EResult<Vec<SSeries>> {
        let mut cursors: Vec<Vec<usize>> = inputs.iter().map(|s| vec![0; s.len()]).collect();
        let mut gathered: Vec<Vec<StepSample>> = vec![Vec::new(); inputs.len()];
        let mut out: Vec<SSeries> = Vec::new();
        let mut index: HashMap<Labels, (usize, usize)> = HashMap::new();
        for step in 0..steps.len() {
            if step % 256 == 0 {
                self.check_deadline()?;
            }
            let ts = steps.ts(step);
            for (k, input) in inputs.iter().enumerate() {
                gather(input, &mut cursors[k], ts, &mut gathered[k]);
            }
            let result = f(step, &gathered)?;
            if steps.is_instant() {
                return self.instant_outputs(result, ts);
            }
            for o in result {
                let point = Point { t: ts, v: o.v };
                match index.get_mut(&o.metric) {
                    Some((i, last)) => {
                        if *last == step {
                            return Err(duplicate_labelset());
                        }
                        *last = step;
                        out[*i].points.push(point);
                    }
                    None => {
                        index.insert(o.metric.clone(), (out.len(), step));
                        out.push(SSeries {
                            metric: o.metric,
                            drop_name: o.drop_name,
                            points: vec![point],
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// The single step's outputs as series, in order.
    fn instant_outputs(&self, result: Vec<OutSample>, ts: i64) -> EResult<Vec<SSeries>> {
        if !self.opts.delayed_name_removal && result.len() > 1 {
            let mut seen = std::collections::HashSet::with_capacity(result.len());
            if !result.iter().all(|o| seen.insert(&o.metric)) {
                return Err(duplicate_labelset());
            }
        }
        Ok(result
            .into_iter()
            .map(|o| SSeries {
                metric: o.metric,
                drop_name: o.drop_name,
                points: vec![Point { t: ts, v: o.v }],
            })
            .collect())
    }
}

/// Collects `(series index, value)` of every series with a point at `ts`, advancing cursors.
fn gather(input: &[SSeries], cursors: &mut [usize], ts: i64, out: &mut Vec<StepSample>) {
    out.clear();
    for (i, s) in input.iter().enumerate() {
        let c = &mut cursors[i];
        while *c < s.points.len() && s.points[*c].t < ts {
            *c += 1;
        }
        if let Some(p) = s.points.get(*c)
            && p.t == ts
        {
            out.push((i, p.v));
        }
    }
}
