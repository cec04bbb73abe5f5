//! Operators: binary precedence climbing, unary signs and postfix modifiers
//! (`[range]`, `[range:step]`, `offset`, `@`).

use super::ast::{AtModifier, BinaryOp, Cardinality, Expr, Extended, ValueType, VectorMatching};
use super::error::{PResult, ParseError};
use super::lex::Tok;
use super::{MAX_DEPTH, Parser, Span};

/// Precedence of `^`, which unary operands may contain (`-2 ^ 2` is `-(2 ^ 2)`).
const POW_PREC: u8 = 6;

/// Modifiers written after a binary operator.
struct BinMods {
    /// `bool` was given.
    return_bool: bool,
    /// `on`/`ignoring`/`group_x` were given.
    matching: Option<VectorMatching>,
    /// `fill(v)`, `fill_left(v)`, `fill_right(v)`: (left, right) fill values.
    fill: (Option<f64>, Option<f64>),
}

impl Parser {
    /// Parses an expression whose binary operators bind at least as tightly as `min_prec`.
    pub(crate) fn expr(&mut self, min_prec: u8) -> PResult<(Expr, Span)> {
        if self.depth >= MAX_DEPTH {
            let t = self.peek();
            return Err(ParseError::new(
                t.start,
                t.end,
                "expression nesting too deep",
            ));
        }
        self.depth += 1;
        let result = self.expr_inner(min_prec);
        self.depth -= 1;
        result
    }

    /// [`Parser::expr`] without the depth guard.
    fn expr_inner(&mut self, min_prec: u8) -> PResult<(Expr, Span)> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.peek_binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            let op_tok = self.next();
            let mods = self.bin_mods(op, (op_tok.start, op_tok.end))?;
            let next_min = if op == BinaryOp::Pow { prec } else { prec + 1 };
            let rhs = self.expr(next_min)?;
            lhs = build_binary(op, lhs, rhs, mods)?;
        }
        Ok(lhs)
    }

    /// The binary operator at the cursor, if any.
    fn peek_binop(&self) -> Option<BinaryOp> {
        match &self.peek().tok {
            Tok::Op(o) => BinaryOp::from_token(o),
            Tok::Ident(s) => {
                BinaryOp::from_token(s).filter(|op| op.is_set() || *op == BinaryOp::Atan2)
            }
            _ => None,
        }
    }

    /// Parses `bool`, `on(...)`/`ignoring(...)` and `group_left/right(...)` after an operator.
    fn bin_mods(&mut self, op: BinaryOp, op_span: Span) -> PResult<BinMods> {
        let return_bool = self.at_kw("bool");
        if return_bool {
            if !op.is_comparison() {
                let msg = "bool modifier can only be used on comparison operators";
                return Err(ParseError::new(op_span.0, self.peek().end, msg));
            }
            self.next();
        }
        let on = self.at_kw("on");
        if !on && !self.at_kw("ignoring") {
            let fill = self.fill_modifiers()?;
            return Ok(BinMods {
                return_bool,
                matching: None,
                fill,
            });
        }
        self.next();
        let labels = self.label_list()?;
        let card = if self.at_kw("group_left") || self.at_kw("group_right") {
            let left = self.at_kw("group_left");
            self.next();
            let extra = if self.at_op("(") {
                self.label_list()?
            } else {
                Vec::new()
            };
            if let Some(l) = extra.iter().find(|l| on && labels.contains(l)) {
                let msg = format!("label {l:?} must not occur in ON and GROUP clause at once");
                return Err(ParseError::new(op_span.0, self.prev_end(), msg));
            }
            if left {
                Cardinality::ManyToOne(extra)
            } else {
                Cardinality::OneToMany(extra)
            }
        } else {
            Cardinality::OneToOne
        };
        let fill = self.fill_modifiers()?;
        Ok(BinMods {
            return_bool,
            matching: Some(VectorMatching {
                card,
                on,
                labels,
                ..VectorMatching::default()
            }),
            fill,
        })
    }

    /// Parses `fill(v)`, or `fill_left(v)` and/or `fill_right(v)` in either order. The
    /// words are modifiers only when `(` follows (`x + fill` adds a metric named `fill`).
    fn fill_modifiers(&mut self) -> PResult<(Option<f64>, Option<f64>)> {
        let (mut left, mut right) = (None, None);
        for _ in 0..2 {
            let kw = ["fill", "fill_left", "fill_right"]
                .into_iter()
                .find(|k| self.at_kw(k));
            let Some(kw) = kw else { break };
            if !matches!(
                self.toks.get(self.pos + 1).map(|t| &t.tok),
                Some(Tok::Op("("))
            ) {
                break;
            }
            let repeated = match kw {
                "fill" => left.is_some() || right.is_some(),
                "fill_left" => left.is_some(),
                _ => right.is_some(),
            };
            if repeated {
                return Err(self.unexpected("in fill modifier"));
            }
            self.next();
            self.next();
            let v = self.fill_value()?;
            self.expect_op(")", "in fill modifier")?;
            match kw {
                "fill" => (left, right) = (Some(v), Some(v)),
                "fill_left" => left = Some(v),
                _ => right = Some(v),
            }
            if kw == "fill" {
                break;
            }
        }
        Ok((left, right))
    }

    /// A signed number literal inside `fill(...)`.
    fn fill_value(&mut self) -> PResult<f64> {
        let negate = self.at_op("-");
        if negate || self.at_op("+") {
            self.next();
        }
        let v = match &self.peek().tok {
            Tok::Num(v) => *v,
            Tok::Ident(w) if w.eq_ignore_ascii_case("nan") => f64::NAN,
            Tok::Ident(w) if w.eq_ignore_ascii_case("inf") => f64::INFINITY,
            _ => return Err(self.unexpected("in fill modifier, expected number")),
        };
        self.next();
        Ok(if negate { -v } else { v })
    }

    /// Parses an optional sign followed by a postfix expression.
    fn unary(&mut self) -> PResult<(Expr, Span)> {
        let negate = self.at_op("-");
        if !negate && !self.at_op("+") {
            let p = self.primary()?;
            return self.postfix(p);
        }
        let start = self.next().start;
        let (operand, (_, end)) = self.expr(POW_PREC)?;
        let span = (start, end);
        if let Expr::NumberLiteral(v) = operand {
            return Ok((Expr::NumberLiteral(if negate { -v } else { v }), span));
        }
        let t = operand.value_type();
        if !matches!(t, ValueType::Scalar | ValueType::Vector) {
            let msg = format!(
                "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                t.to_string()
            );
            return Err(ParseError::new(start, end, msg));
        }
        Ok((
            Expr::Unary {
                negate,
                expr: Box::new(operand),
            },
            span,
        ))
    }

    /// Applies `[range]`, `[range:step]`, `offset` and `@` modifiers.
    fn postfix(&mut self, (mut e, mut span): (Expr, Span)) -> PResult<(Expr, Span)> {
        loop {
            if self.at_op("[") {
                e = self.range_or_subquery(e, span)?;
            } else if self.at_kw("offset") {
                self.next();
                let d = if self.at_duration_expr() {
                    self.offset_duration_expr()?
                } else {
                    self.signed_duration("offset")?
                };
                e = set_offset(e, d, (span.0, self.prev_end()))?;
            } else if self.at_op("@") {
                self.next();
                let at = self.at_value()?;
                e = set_at(e, at, (span.0, self.prev_end()))?;
            } else if self.at_kw("anchored") || self.at_kw("smoothed") {
                let which = if self.at_kw("anchored") {
                    Extended::Anchored
                } else {
                    Extended::Smoothed
                };
                self.next();
                e = set_extended(e, which, (span.0, self.prev_end()))?;
            } else {
                return Ok((e, span));
            }
            span.1 = self.prev_end();
        }
    }

    /// Parses `[d]` or `[d:]` / `[d:s]` after `e`.
    fn range_or_subquery(&mut self, e: Expr, span: Span) -> PResult<Expr> {
        self.next();
        let range_ms = self.duration_expr("range")?;
        if !self.at_op(":") {
            let close = self.expect_op("]", "in range")?;
            let full = (span.0, close.end);
            return match e {
                Expr::VectorSelector {
                    offset_ms: 0,
                    at: None,
                    extended: None,
                    ..
                } => Ok(Expr::MatrixSelector {
                    selector: Box::new(e),
                    range_ms,
                }),
                Expr::VectorSelector { .. } => Err(ParseError::new(
                    full.0,
                    full.1,
                    "no offset modifiers allowed before range",
                )),
                _ => Err(ParseError::new(
                    full.0,
                    full.1,
                    "ranges only allowed for vector selectors",
                )),
            };
        }
        self.next();
        let step_ms = if self.at_op("]") {
            None
        } else {
            Some(self.duration_expr("subquery step")?)
        };
        let close = self.expect_op("]", "in subquery")?;
        let t = e.value_type();
        if t != ValueType::Vector {
            let msg = format!("subquery is only allowed on instant vector, got {t}");
            return Err(ParseError::new(span.0, close.end, msg));
        }
        Ok(Expr::Subquery {
            expr: Box::new(e),
            range_ms,
            step_ms,
            offset_ms: 0,
            at: None,
        })
    }

    /// Parses a duration, or a number of seconds, in milliseconds.
    fn duration(&mut self, what: &str) -> PResult<i64> {
        let t = self.peek().clone();
        let ms = match t.tok {
            Tok::Dur(ms) => ms,
            Tok::Num(secs) if secs.is_finite() && secs.abs() < 9.2e15 => {
                (secs * 1000.0).round() as i64
            }
            _ => return Err(self.unexpected(&format!("in {what}, expected duration"))),
        };
        self.next();
        Ok(ms)
    }

    /// Parses an optionally signed duration (for `offset`).
    fn signed_duration(&mut self, what: &str) -> PResult<i64> {
        let negate = self.at_op("-");
        if negate || self.at_op("+") {
            self.next();
        }
        let d = self.duration(what)?;
        Ok(if negate { -d } else { d })
    }

    /// Parses the value after `@`: a signed number of seconds, `start()` or `end()`.
    fn at_value(&mut self) -> PResult<AtModifier> {
        if self.at_kw("start") || self.at_kw("end") {
            let start = self.at_kw("start");
            self.next();
            self.expect_op("(", "in @")?;
            self.expect_op(")", "in @")?;
            return Ok(if start {
                AtModifier::Start
            } else {
                AtModifier::End
            });
        }
        let negate = self.at_op("-");
        if negate || self.at_op("+") {
            self.next();
        }
        let t = self.peek().clone();
        let secs = match t.tok {
            Tok::Num(secs) => secs,
            Tok::Dur(ms) => ms as f64 / 1000.0,
            _ => return Err(self.unexpected("in @, expected timestamp")),
        };
        self.next();
        let ms = secs * 1000.0 * if negate { -1.0 } else { 1.0 };
        if !ms.is_finite() || ms.abs() > i64::MAX as f64 {
            return Err(ParseError::new(
                t.start,
                t.end,
                "timestamp out of bounds for @ modifier",
            ));
        }
        Ok(AtModifier::Timestamp(ms.round() as i64))
    }
}

/// Sets `anchored` or `smoothed` on a selector.
fn set_extended(mut e: Expr, which: Extended, span: Span) -> PResult<Expr> {
    let err = |msg: String| Err(ParseError::new(span.0, span.1, msg));
    let slot = match &mut e {
        Expr::VectorSelector { extended, .. } => extended,
        Expr::MatrixSelector { selector, .. } => match selector.as_mut() {
            Expr::VectorSelector { extended, .. } => extended,
            _ => return err(format!("{} modifier not implemented", which.name())),
        },
        Expr::Subquery { .. } => {
            return err(format!(
                "{} modifier is not supported for subqueries",
                which.name()
            ));
        }
        _ => return err(format!("{} modifier not implemented", which.name())),
    };
    if slot.is_some_and(|s| s != which) {
        return err("anchored and smoothed modifiers cannot be used together".into());
    }
    *slot = Some(which);
    Ok(e)
}

/// Sets the offset of a selector or subquery.
fn set_offset(mut e: Expr, d: i64, span: Span) -> PResult<Expr> {
    let slot = match &mut e {
        Expr::VectorSelector { offset_ms, .. } | Expr::Subquery { offset_ms, .. } => offset_ms,
        Expr::MatrixSelector { selector, .. } => match selector.as_mut() {
            Expr::VectorSelector { offset_ms, .. } => offset_ms,
            _ => return Err(ParseError::new(span.0, span.1, "invalid matrix selector")),
        },
        _ => {
            let msg = "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery";
            return Err(ParseError::new(span.0, span.1, msg));
        }
    };
    if *slot != 0 {
        return Err(ParseError::new(
            span.0,
            span.1,
            "offset may not be set multiple times",
        ));
    }
    *slot = d;
    Ok(e)
}

/// Sets the `@` modifier of a selector or subquery.
fn set_at(mut e: Expr, value: AtModifier, span: Span) -> PResult<Expr> {
    let slot = match &mut e {
        Expr::VectorSelector { at, .. } | Expr::Subquery { at, .. } => at,
        Expr::MatrixSelector { selector, .. } => match selector.as_mut() {
            Expr::VectorSelector { at, .. } => at,
            _ => return Err(ParseError::new(span.0, span.1, "invalid matrix selector")),
        },
        _ => {
            let msg = "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery";
            return Err(ParseError::new(span.0, span.1, msg));
        }
    };
    if slot.is_some() {
        return Err(ParseError::new(
            span.0,
            span.1,
            "@ <timestamp> may not be set multiple times",
        ));
    }
    *slot = Some(value);
    Ok(e)
}

/// Builds a binary node after Prometheus's type checks.
fn build_binary(
    op: BinaryOp,
    (lhs, ls): (Expr, Span),
    (rhs, rs): (Expr, Span),
    mods: BinMods,
) -> PResult<(Expr, Span)> {
    let span = (ls.0, rs.1);
    let err = |msg: String| Err(ParseError::new(span.0, span.1, msg));
    let (lt, rt) = (lhs.value_type(), rhs.value_type());
    let ok = |t| matches!(t, ValueType::Scalar | ValueType::Vector);
    if !ok(lt) || !ok(rt) {
        return err("binary expression must contain only scalar and instant vector types".into());
    }
    let both_vectors = lt == ValueType::Vector && rt == ValueType::Vector;
    if op.is_comparison() && !mods.return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar
    {
        return err("comparisons between scalars must use BOOL modifier".into());
    }
    if op.is_set() && (lt == ValueType::Scalar || rt == ValueType::Scalar) {
        return err(format!(
            "set operator {:?} not allowed in binary scalar expression",
            op.as_str()
        ));
    }
    let has_fill = mods.fill.0.is_some() || mods.fill.1.is_some();
    if has_fill && !both_vectors {
        return err("filling in missing series only allowed between instant vectors".into());
    }
    if has_fill && op.is_set() {
        return err("filling in missing series not allowed for set operators".into());
    }
    let matching = match mods.matching {
        Some(m) if !both_vectors => {
            if !m.labels.is_empty() || m.card != Cardinality::OneToOne {
                return err("vector matching only allowed between instant vectors".into());
            }
            None
        }
        Some(_) | None if !both_vectors => None,
        Some(mut m) => {
            if op.is_set() {
                if m.card != Cardinality::OneToOne {
                    return err(format!(
                        "no grouping allowed for {:?} operation",
                        op.as_str()
                    ));
                }
                m.card = Cardinality::ManyToMany;
            }
            Some(m)
        }
        None => {
            let card = if op.is_set() {
                Cardinality::ManyToMany
            } else {
                Cardinality::OneToOne
            };
            Some(VectorMatching {
                card,
                ..VectorMatching::default()
            })
        }
    };
    let matching = matching.map(|mut m| {
        (m.fill_lhs, m.fill_rhs) = mods.fill;
        m
    });
    let e = Expr::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        return_bool: mods.return_bool,
        matching,
    };
    Ok((e, span))
}
