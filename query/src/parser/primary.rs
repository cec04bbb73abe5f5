//! Primary expressions: literals, parentheses, selectors, function calls and aggregations.

use model::{MatchOp, Matcher};

use super::ast::{AggregateOp, Expr, Pos, ValueType};
use super::error::{PResult, ParseError};
use super::lex::Tok;
use super::literals::special_float;
use super::{Parser, Span};
use crate::signatures::{Function, function};

/// The metric-name label.
const NAME: &str = "__name__";

impl Parser {
    /// Parses a literal, parenthesized expression, selector, call or aggregation.
    pub(crate) fn primary(&mut self) -> PResult<(Expr, Span)> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Num(v) => {
                self.next();
                Ok((Expr::NumberLiteral(*v), (t.start, t.end)))
            }
            Tok::Dur(ms) => {
                // Prometheus 3 reads a duration in expression context as seconds.
                self.next();
                Ok((Expr::NumberLiteral(*ms as f64 / 1000.0), (t.start, t.end)))
            }
            Tok::Str(s) => {
                self.next();
                Ok((Expr::StringLiteral(s.clone()), (t.start, t.end)))
            }
            Tok::Op("(") => {
                self.next();
                let (inner, _) = self.expr(0)?;
                let close = self.expect_op(")", "in paren expression")?;
                Ok((Expr::Paren(Box::new(inner)), (t.start, close.end)))
            }
            Tok::Op("{") => self.selector(None, t.start),
            Tok::Ident(word) => self.identifier(word.clone(), t.start),
            _ => Err(self.unexpected("")),
        }
    }

    /// Parses what starts with an identifier: number, aggregation, call or selector.
    fn identifier(&mut self, word: String, start: usize) -> PResult<(Expr, Span)> {
        if let Some(v) = special_float(&word) {
            self.next();
            return Ok((Expr::NumberLiteral(v), (start, self.prev_end())));
        }
        let next_is_paren = self.peek2() == &Tok::Op("(");
        if let Some(op) = AggregateOp::from_name(&word) {
            let grouping_next = matches!(self.peek2(), Tok::Ident(s)
                if s.eq_ignore_ascii_case("by") || s.eq_ignore_ascii_case("without"));
            if next_is_paren || grouping_next {
                self.next();
                return self.aggregate(op, start);
            }
        }
        if next_is_paren {
            let end = self.peek().end;
            let func = function(&word).ok_or_else(|| {
                ParseError::new(start, end, format!("unknown function with name {word:?}"))
            })?;
            self.next();
            return self.call(func, start);
        }
        self.next();
        if self.at_op("{") {
            let brace = self.peek().start;
            return self
                .selector(Some(word), brace)
                .map(|(e, (_, end))| (e, (start, end)));
        }
        let matchers = vec![Matcher::equal(NAME, &word)];
        let sel = Expr::VectorSelector {
            name: Some(word),
            matchers,
            offset_ms: 0,
            at: None,
            extended: None,
        };
        Ok((sel, (start, self.prev_end())))
    }

    /// Parses `{...}` (the next token) into a selector, with an optional name written before.
    fn selector(&mut self, mut name: Option<String>, start: usize) -> PResult<(Expr, Span)> {
        self.next();
        let mut matchers = Vec::new();
        while !self.at_op("}") {
            self.matcher_item(&mut name, &mut matchers)?;
            if !self.at_op(",") {
                break;
            }
            self.next();
        }
        let close = self.expect_op("}", "in label matching")?;
        let span = (start, close.end);
        if let Some(n) = &name {
            if let Some(m) = matchers.iter().find(|m| m.name == NAME) {
                let msg = format!("metric name must not be set twice: {n:?} or {:?}", m.value);
                return Err(ParseError::new(span.0, span.1, msg));
            }
            matchers.insert(0, Matcher::equal(NAME, n));
        } else if self.info_depth == 0 && matchers.iter().all(Matcher::matches_empty) {
            let msg = "vector selector must contain at least one non-empty matcher";
            return Err(ParseError::new(span.0, span.1, msg));
        }
        Ok((
            Expr::VectorSelector {
                name,
                matchers,
                offset_ms: 0,
                at: None,
                extended: None,
            },
            span,
        ))
    }

    /// Parses one `label op "value"` matcher, or a quoted metric name.
    fn matcher_item(&mut self, name: &mut Option<String>, out: &mut Vec<Matcher>) -> PResult<()> {
        let t = self.next();
        let label = match t.tok {
            Tok::Ident(s) => s,
            Tok::Str(s) => {
                if !matches!(self.peek().tok, Tok::Op("=" | "!=" | "=~" | "!~")) {
                    if name.is_some() {
                        let msg = "metric name must not be set twice";
                        return Err(ParseError::new(t.start, t.end, msg));
                    }
                    *name = Some(s);
                    return Ok(());
                }
                s
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("in label matching, expected label name"));
            }
        };
        let op = match self.peek().tok {
            Tok::Op("=") => MatchOp::Equal,
            Tok::Op("!=") => MatchOp::NotEqual,
            Tok::Op("=~") => MatchOp::Regex,
            Tok::Op("!~") => MatchOp::NotRegex,
            _ => return Err(self.unexpected("in label matching, expected label matching operator")),
        };
        self.next();
        let v = self.peek().clone();
        let Tok::Str(value) = v.tok else {
            return Err(self.unexpected("in label matching, expected string"));
        };
        self.next();
        let m = Matcher::new(op, label, value)
            .map_err(|e| ParseError::new(t.start, v.end, e.to_string()))?;
        out.push(m);
        Ok(())
    }

    /// Parses `(l1, l2, ...)` for `by`, `without`, `on`, `ignoring` and `group_x`.
    pub(crate) fn label_list(&mut self) -> PResult<Vec<String>> {
        self.expect_op("(", "in grouping opts")?;
        let mut labels = Vec::new();
        while !self.at_op(")") {
            match self.next().tok {
                Tok::Ident(s) | Tok::Str(s) => labels.push(s),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("in grouping opts, expected label"));
                }
            }
            if !self.at_op(",") {
                break;
            }
            self.next();
        }
        self.expect_op(")", "in grouping opts")?;
        Ok(labels)
    }

    /// Parses `(arg, ...)` and returns the arguments with their spans and the closing offset.
    fn arguments(&mut self) -> PResult<(Vec<(Expr, Span)>, usize)> {
        self.expect_op("(", "")?;
        let mut args = Vec::new();
        while !self.at_op(")") {
            args.push(self.expr(0)?);
            if !self.at_op(",") {
                break;
            }
            self.next();
        }
        let close = self.expect_op(")", "in argument list")?;
        Ok((args, close.end))
    }

    /// Parses `by|without (labels)` if present; returns `(labels, without)`.
    fn grouping(&mut self) -> PResult<Option<(Vec<String>, bool)>> {
        let without = self.at_kw("without");
        if !without && !self.at_kw("by") {
            return Ok(None);
        }
        self.next();
        Ok(Some((self.label_list()?, without)))
    }

    /// Parses an aggregation after its operator name.
    fn aggregate(&mut self, op: AggregateOp, start: usize) -> PResult<(Expr, Span)> {
        let before = self.grouping()?;
        let (mut args, mut end) = self.arguments()?;
        let after = if before.is_none() {
            self.grouping()?
        } else {
            None
        };
        if after.is_some() {
            end = self.prev_end();
        }
        let (grouping, without) = before.or(after).unwrap_or_default();
        let want = if op.has_param() { 2 } else { 1 };
        if args.len() != want {
            let msg = format!(
                "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                args.len()
            );
            return Err(ParseError::new(start, end, msg));
        }
        let (expr, espan) = args
            .pop()
            .unwrap_or((Expr::NumberLiteral(0.0), (start, end)));
        expect_type(&expr, espan, ValueType::Vector, "aggregation expression")?;
        let param_pos = Pos::at(args.first().map_or(start, |(_, span)| span.0));
        let param = args.pop().map(|(p, pspan)| {
            let want = if op == AggregateOp::CountValues {
                ValueType::String
            } else {
                ValueType::Scalar
            };
            expect_type(&p, pspan, want, "aggregation parameter").map(|()| Box::new(p))
        });
        let param = param.transpose()?;
        let e = Expr::Aggregate {
            op,
            expr: Box::new(expr),
            param,
            grouping,
            without,
            param_pos,
        };
        Ok((e, (start, end)))
    }

    /// Parses a function call after its name and checks the arguments.
    fn call(&mut self, func: &'static Function, start: usize) -> PResult<(Expr, Span)> {
        let info = func.name == "info";
        self.info_depth += usize::from(info);
        let parsed = self.arguments();
        self.info_depth -= usize::from(info);
        let (args, end) = parsed?;
        check_arity(func, args.len(), (start, end))?;
        for (i, (arg, span)) in args.iter().enumerate() {
            let ctx = format!("call to function {:?}", func.name);
            expect_type(arg, *span, func.arg_type(i), &ctx)?;
        }
        let arg_pos = args.iter().map(|(_, span)| Pos::at(span.0)).collect();
        let args = args.into_iter().map(|(e, _)| e).collect();
        let call = Expr::Call {
            func,
            args,
            pos: Pos::at(start),
            arg_pos,
        };
        Ok((call, (start, end)))
    }
}

/// Checks the argument count of a call.
fn check_arity(func: &Function, n: usize, span: Span) -> PResult<()> {
    let name = func.name;
    let msg = if func.variadic == 0 && n != func.min_args() {
        format!(
            "expected {} argument(s) in call to {name:?}, got {n}",
            func.min_args()
        )
    } else if n < func.min_args() {
        format!(
            "expected at least {} argument(s) in call to {name:?}, got {n}",
            func.min_args()
        )
    } else if func.max_args().is_some_and(|max| n > max) {
        let max = func.max_args().unwrap_or_default();
        format!("expected at most {max} argument(s) in call to {name:?}, got {n}")
    } else {
        return Ok(());
    };
    Err(ParseError::new(span.0, span.1, msg))
}

/// Fails unless `e` has type `want`, with Prometheus's wording.
pub(crate) fn expect_type(e: &Expr, span: Span, want: ValueType, context: &str) -> PResult<()> {
    let got = e.value_type();
    if got == want {
        return Ok(());
    }
    let msg = format!("expected type {want} in {context}, got {got}");
    Err(ParseError::new(span.0, span.1, msg))
}
