//! Binary operators: arithmetic, comparisons and set operators, with vector matching.

use std::collections::{HashMap, HashSet};

use model::Labels;

use super::eval::{Ctx, EResult, OutSample, SSeries, StepSample, Steps, Val};
use super::value::QueryError;
use crate::parser::ast::{BinaryOp, Cardinality, Expr, VectorMatching};

/// Evaluates a binary expression.
pub(super) fn eval(ctx: &Ctx<'_>, steps: &Steps, expr: &Expr) -> EResult<Val> {
    let Expr::Binary {
        op,
        lhs,
        rhs,
        return_bool,
        matching,
    } = expr
    else {
        return Err(QueryError::exec("not a binary expression"));
    };
    let (op, return_bool) = (*op, *return_bool);
    let l = ctx.eval(steps, lhs)?;
    let r = ctx.eval(steps, rhs)?;
    match (l, r) {
        (Val::Scalar(a), Val::Scalar(b)) => Ok(Val::Scalar(
            a.iter()
                .zip(&b)
                .map(|(&x, &y)| scalar_binop(op, x, y))
                .collect(),
        )),
        (Val::Vector(v), Val::Scalar(s)) => {
            vector_scalar(ctx, steps, op, v, &s, false, return_bool).map(Val::Vector)
        }
        (Val::Scalar(s), Val::Vector(v)) => {
            vector_scalar(ctx, steps, op, v, &s, true, return_bool).map(Val::Vector)
        }
        (Val::Vector(a), Val::Vector(b)) => {
            let default = VectorMatching::default();
            let matching = matching.as_ref().unwrap_or(&default);
            vector_vector(ctx, steps, op, &a, &b, matching, return_bool).map(Val::Vector)
        }
        _ => Err(QueryError::exec(
            "binary operator on unsupported operand types",
        )),
    }
}

/// Applies `op` to two floats: the value, and whether a comparison holds (always true for
/// arithmetic).
pub(super) fn elem_binop(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    use BinaryOp::*;
    match op {
        Add => (l + r, true),
        Sub => (l - r, true),
        Mul => (l * r, true),
        Div => (l / r, true),
        Pow => (l.powf(r), true),
        Mod => (l % r, true),
        Atan2 => (l.atan2(r), true),
        Eql => (l, l == r),
        Neq => (l, l != r),
        Gtr => (l, l > r),
        Lss => (l, l < r),
        Gte => (l, l >= r),
        Lte => (l, l <= r),
        And | Or | Unless => (f64::NAN, false),
    }
}

/// Scalar ⊕ scalar; comparisons (which must be `bool`) give 1 or 0.
fn scalar_binop(op: BinaryOp, l: f64, r: f64) -> f64 {
    let (v, keep) = elem_binop(op, l, r);
    if op.is_comparison() {
        if keep { 1.0 } else { 0.0 }
    } else {
        v
    }
}

/// Whether the operator changes what the value means (so the metric name goes).
fn changes_schema(op: BinaryOp) -> bool {
    !op.is_comparison() && !op.is_set()
}

/// Vector ⊕ scalar (or scalar ⊕ vector with `swap`).
fn vector_scalar(
    ctx: &Ctx<'_>,
    steps: &Steps,
    op: BinaryOp,
    mut series: Vec<SSeries>,
    scalar: &[f64],
    swap: bool,
    return_bool: bool,
) -> EResult<Vec<SSeries>> {
    let drops = changes_schema(op) || return_bool;
    for s in &mut series {
        s.points.retain_mut(|p| {
            let sv = steps
                .index(p.t)
                .and_then(|i| scalar.get(i))
                .copied()
                .unwrap_or(f64::NAN);
            let (l, r) = if swap { (sv, p.v) } else { (p.v, sv) };
            let (mut v, mut keep) = elem_binop(op, l, r);
            if op.is_comparison() && swap {
                v = r;
            }
            if return_bool {
                v = if keep { 1.0 } else { 0.0 };
                keep = true;
            }
            p.v = v;
            keep
        });
        if drops {
            ctx.drop_name(s);
        }
    }
    series.retain(|s| !s.points.is_empty());
    if drops {
        ctx.merge_if_names_dropped(series)
    } else {
        Ok(series)
    }
}

/// The matching signature of each series: its `on` labels, or all but the `ignoring` ones
/// and `__name__`.
fn signatures(lhs: &[SSeries], rhs: &[SSeries], m: &VectorMatching) -> (Vec<usize>, Vec<usize>) {
    let mut ords: HashMap<Labels, usize> = HashMap::new();
    let mut sig = |s: &SSeries| {
        let key = match_labels(&s.metric, m);
        let next = ords.len();
        *ords.entry(key).or_insert(next)
    };
    let l = lhs.iter().map(&mut sig).collect();
    let r = rhs.iter().map(&mut sig).collect();
    (l, r)
}

/// Prometheus's `MatchLabels`: the labels that take part in matching.
fn match_labels(l: &Labels, m: &VectorMatching) -> Labels {
    if m.on {
        l.filtered(|x| m.labels.iter().any(|n| *n == *x.name))
    } else {
        l.filtered(|x| &*x.name != "__name__" && !m.labels.iter().any(|n| *n == *x.name))
    }
}

/// Vector ⊕ vector.
fn vector_vector(
    ctx: &Ctx<'_>,
    steps: &Steps,
    op: BinaryOp,
    lhs: &[SSeries],
    rhs: &[SSeries],
    m: &VectorMatching,
    return_bool: bool,
) -> EResult<Vec<SSeries>> {
    let (lsig, rsig) = signatures(lhs, rhs, m);
    let n_sigs = lsig.iter().chain(&rsig).copied().max().map_or(0, |x| x + 1);
    let mut present = vec![false; n_sigs];
    let out_of = |side: &[SSeries], i: usize| OutSample {
        metric: side[i].metric.clone(),
        drop_name: side[i].drop_name,
        v: f64::NAN,
    };
    let mut binop = VectorBinop::new(ctx, op, lhs, rhs, m, return_bool, &lsig, &rsig);
    ctx.step_wise(steps, &[lhs, rhs], |_, inputs: &[Vec<StepSample>]| {
        let (l, r) = (&inputs[0], &inputs[1]);
        let with_v = |side: &[SSeries], (i, v): StepSample| OutSample {
            v,
            ..out_of(side, i)
        };
        match op {
            BinaryOp::And | BinaryOp::Unless => {
                if l.is_empty() || (op == BinaryOp::And && r.is_empty()) {
                    return Ok(Vec::new());
                }
                present.iter_mut().for_each(|p| *p = false);
                r.iter().for_each(|&(i, _)| present[rsig[i]] = true);
                let want = op == BinaryOp::And;
                Ok(l.iter()
                    .filter(|&&(i, _)| present[lsig[i]] == want)
                    .map(|&s| with_v(lhs, s))
                    .collect())
            }
            BinaryOp::Or => {
                present.iter_mut().for_each(|p| *p = false);
                let mut out: Vec<OutSample> = Vec::with_capacity(l.len() + r.len());
                for &s in l {
                    present[lsig[s.0]] = true;
                    out.push(with_v(lhs, s));
                }
                for &s in r {
                    if !present[rsig[s.0]] {
                        out.push(with_v(rhs, s));
                    }
                }
                Ok(out)
            }
            _ => binop.step(l, r),
        }
    })
}

/// State of an arithmetic or comparison operation between two vectors across steps.
struct VectorBinop<'a> {
    ctx: &'a Ctx<'a>,
    op: BinaryOp,
    lhs: &'a [SSeries],
    rhs: &'a [SSeries],
    m: &'a VectorMatching,
    return_bool: bool,
    lsig: &'a [usize],
    rsig: &'a [usize],
    /// Result labels per (many series, one series, signature); `None` is a filled sample.
    metrics: HashMap<(Option<usize>, Option<usize>, usize), Labels>,
}

/// One operand of a pair: a real sample (series index, value) or a fill value.
#[derive(Debug, Clone, Copy)]
enum Side {
    /// A sample of the input.
    Real(StepSample),
    /// A `fill(...)` value standing in for a missing sample.
    Fill(f64),
}

impl Side {
    /// The value.
    fn value(self) -> f64 {
        match self {
            Side::Real((_, v)) | Side::Fill(v) => v,
        }
    }

    /// The input series index, if real.
    fn index(self) -> Option<usize> {
        match self {
            Side::Real((i, _)) => Some(i),
            Side::Fill(_) => None,
        }
    }
}

/// Signatures matched so far in one step.
#[derive(Debug, Default)]
struct Matched {
    /// One-to-one: signatures used.
    one: HashSet<usize>,
    /// Many-to-one: result labels per signature.
    many: HashMap<usize, HashSet<Labels>>,
}

impl Matched {
    /// Whether signature `sig` has been matched.
    fn contains(&self, sig: usize) -> bool {
        self.one.contains(&sig) || self.many.get(&sig).is_some_and(|s| !s.is_empty())
    }
}

impl<'a> VectorBinop<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        ctx: &'a Ctx<'a>,
        op: BinaryOp,
        lhs: &'a [SSeries],
        rhs: &'a [SSeries],
        m: &'a VectorMatching,
        return_bool: bool,
        lsig: &'a [usize],
        rsig: &'a [usize],
    ) -> Self {
        Self {
            ctx,
            op,
            lhs,
            rhs,
            m,
            return_bool,
            lsig,
            rsig,
            metrics: HashMap::new(),
        }
    }

    /// One step of `VectorBinop`. Works in the frame where `many` is the side whose series
    /// may repeat a signature (the right-hand side for `group_right`); a missing "one"
    /// sample takes `fill_rhs`, an unmatched "one" sample gets a "many" sample of `fill_lhs`.
    fn step(&mut self, l: &[StepSample], r: &[StepSample]) -> EResult<Vec<OutSample>> {
        let (fill_many, fill_one) = (self.m.fill_lhs, self.m.fill_rhs);
        let no_fill = fill_many.is_none() && fill_one.is_none();
        if (l.is_empty() && r.is_empty()) || ((l.is_empty() || r.is_empty()) && no_fill) {
            return Ok(Vec::new());
        }
        let one_to_many = matches!(self.m.card, Cardinality::OneToMany(_));
        let (many, one, many_sig, one_sig) = if one_to_many {
            (r, l, self.rsig, self.lsig)
        } else {
            (l, r, self.lsig, self.rsig)
        };
        let one_series = if one_to_many { self.lhs } else { self.rhs };
        let mut by_sig: HashMap<usize, StepSample> = HashMap::with_capacity(one.len());
        for &s in one {
            if let Some(&prev) = by_sig.get(&one_sig[s.0]) {
                return Err(self.duplicate_error(one_series, s.0, prev.0, one_to_many));
            }
            by_sig.insert(one_sig[s.0], s);
        }
        let mut matched = Matched::default();
        let mut out = Vec::new();
        for &ms in many {
            let sig = many_sig[ms.0];
            let os = match by_sig.get(&sig) {
                Some(&os) => Side::Real(os),
                None => match fill_one {
                    Some(f) => Side::Fill(f),
                    None => continue,
                },
            };
            self.apply(Side::Real(ms), os, sig, &mut matched, &mut out)?;
        }
        if let Some(f) = fill_many {
            for &os in one {
                let sig = one_sig[os.0];
                if !matched.contains(sig) {
                    self.apply(Side::Fill(f), Side::Real(os), sig, &mut matched, &mut out)?;
                }
            }
        }
        Ok(out)
    }

    /// Computes one pair (in the many/one frame) and records the match.
    fn apply(
        &mut self,
        many: Side,
        one: Side,
        sig: usize,
        matched: &mut Matched,
        out: &mut Vec<OutSample>,
    ) -> EResult<()> {
        let one_to_many = matches!(self.m.card, Cardinality::OneToMany(_));
        let (lv, rv) = if one_to_many {
            (one.value(), many.value())
        } else {
            (many.value(), one.value())
        };
        let (mut v, keep) = elem_binop(self.op, lv, rv);
        if self.return_bool {
            v = if keep { 1.0 } else { 0.0 };
        }
        let metric = self.result_metric(many.index(), one.index(), sig);
        if matches!(self.m.card, Cardinality::OneToOne) {
            if !matched.one.insert(sig) {
                return Err(QueryError::exec(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else if !matched.many.entry(sig).or_default().insert(metric.clone()) {
            return Err(QueryError::exec(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        if keep || self.return_bool {
            out.push(OutSample {
                metric,
                drop_name: self.return_bool,
                v,
            });
        }
        Ok(())
    }

    /// The series of the many/one frame.
    fn frame(&self) -> (&'a [SSeries], &'a [SSeries]) {
        if matches!(self.m.card, Cardinality::OneToMany(_)) {
            (self.rhs, self.lhs)
        } else {
            (self.lhs, self.rhs)
        }
    }

    /// The labels of a result: the "many" side's (for a filled "many" sample, the matching
    /// labels of the "one" side), reduced by `on`/`ignoring` for one-to-one, plus `group_x`
    /// labels copied from the "one" side; no name after arithmetic.
    fn result_metric(&mut self, many_i: Option<usize>, one_i: Option<usize>, sig: usize) -> Labels {
        let key = (many_i, one_i, sig);
        if let Some(l) = self.metrics.get(&key) {
            return l.clone();
        }
        let (many, one) = self.frame();
        let base = match (many_i, one_i) {
            (Some(i), _) => many[i].metric.clone(),
            (None, Some(j)) => match_labels(&one[j].metric, self.m),
            (None, None) => Labels::empty(),
        };
        let drop_name =
            changes_schema(self.op) || (self.return_bool && !self.ctx.opts.delayed_name_removal);
        let mut labels: Vec<model::Label> = base
            .iter()
            .filter(|x| !(drop_name && matches!(&*x.name, "__name__" | "__type__" | "__unit__")))
            .cloned()
            .collect();
        let include: &[String] = match &self.m.card {
            Cardinality::OneToOne => {
                if self.m.on {
                    labels.retain(|x| self.m.labels.iter().any(|n| *n == *x.name));
                } else {
                    labels.retain(|x| !self.m.labels.iter().any(|n| *n == *x.name));
                }
                &[]
            }
            Cardinality::ManyToOne(inc) | Cardinality::OneToMany(inc) => inc,
            Cardinality::ManyToMany => &[],
        };
        let one_metric = match (one_i, many_i) {
            (Some(j), _) => one[j].metric.clone(),
            (None, Some(i)) => match_labels(&many[i].metric, self.m),
            (None, None) => Labels::empty(),
        };
        for name in include {
            labels.retain(|x| *x.name != **name);
            if let Some(v) = one_metric.get(name) {
                labels.push(model::Label::new(name.as_str(), v));
            }
        }
        let result = Labels::new(labels).unwrap_or(base);
        self.metrics.insert(key, result.clone());
        result
    }

    /// Prometheus's error for two series with one signature on the "one" side.
    fn duplicate_error(&self, side: &[SSeries], a: usize, b: usize, left: bool) -> QueryError {
        let matched = match_labels(&side[a].metric, self.m);
        let (mut d1, mut d2) = (
            crate::gofmt::labels(&side[a].metric),
            crate::gofmt::labels(&side[b].metric),
        );
        if d1 > d2 {
            std::mem::swap(&mut d1, &mut d2);
        }
        QueryError::exec(format!(
            "found duplicate series for the match group {} on the {} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side",
            crate::gofmt::labels(&matched),
            if left { "left" } else { "right" }
        ))
    }
}
