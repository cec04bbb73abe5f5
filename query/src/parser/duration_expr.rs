//! Duration expressions (Prometheus 3.x): arithmetic over durations and numbers of seconds
//! in ranges (`x[2m*15]`), subquery steps and offsets (`offset (1h/2)`), with `step()`,
//! `range()`, `min_of(a, b)` and `max_of(a, b)`.
//!
//! Expressions are folded to milliseconds while parsing. `step()` and `range()` need the
//! query's step and range, so a query using them parses only with a [`QueryContext`].

use super::Parser;
use super::error::{PResult, ParseError};
use super::lex::Tok;

/// What `step()`, `range()`, `start()` and `end()` stand for: the query's step, `end -
/// start`, start and end, in ms (step and range are 0 for an instant query, whose start and
/// end are its evaluation time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryContext {
    /// The range query's step, ms (0 for an instant query).
    pub step_ms: i64,
    /// `end - start` of the query, ms (0 for an instant query).
    pub range_ms: i64,
    /// The query's start, ms since the epoch.
    pub start_ms: i64,
    /// The query's end, ms since the epoch.
    pub end_ms: i64,
}

impl QueryContext {
    /// An instant query at `t_ms`.
    pub fn instant(t_ms: i64) -> Self {
        Self {
            start_ms: t_ms,
            end_ms: t_ms,
            ..Self::default()
        }
    }

    /// A range query from `start_ms` to `end_ms` every `step_ms`.
    pub fn range(start_ms: i64, end_ms: i64, step_ms: i64) -> Self {
        Self {
            step_ms,
            range_ms: end_ms - start_ms,
            start_ms,
            end_ms,
        }
    }
}

/// The duration functions.
const FUNCTIONS: [&str; 4] = ["step", "range", "min_of", "max_of"];

impl Parser {
    /// Whether a duration expression (rather than a single literal) starts here: `(`, a
    /// duration function, or either after a sign.
    pub(super) fn at_duration_expr(&self) -> bool {
        let signed = self.at_op("-") || self.at_op("+");
        let tok = if signed {
            self.peek2()
        } else {
            &self.peek().tok
        };
        match tok {
            Tok::Op("(") => true,
            Tok::Ident(w) => FUNCTIONS.iter().any(|f| w.eq_ignore_ascii_case(f)),
            _ => false,
        }
    }

    /// Parses an offset's duration expression: an optional sign before one atom (`offset
    /// -step()*2` multiplies the offset selector by 2).
    pub(super) fn offset_duration_expr(&mut self) -> PResult<i64> {
        let start = self.peek().start;
        let neg = self.at_op("-");
        if neg || self.at_op("+") {
            self.next();
        }
        let secs = self.dur_atom("offset")?;
        self.secs_to_ms(if neg { -secs } else { secs }, start, "offset")
    }

    /// Parses a duration expression and folds it to milliseconds.
    pub(super) fn duration_expr(&mut self, what: &str) -> PResult<i64> {
        let start = self.peek().start;
        let secs = self.dur_sum(what)?;
        self.secs_to_ms(secs, start, what)
    }

    /// Converts seconds to whole milliseconds, failing outside `i64`.
    fn secs_to_ms(&self, secs: f64, start: usize, what: &str) -> PResult<i64> {
        let ms = secs * 1000.0;
        if !ms.is_finite() || ms.abs() >= 9.2e18 {
            return Err(ParseError::new(
                start,
                self.prev_end(),
                format!("{what} duration out of range"),
            ));
        }
        Ok(ms.round() as i64)
    }

    /// `a + b`, `a - b` (left-associative), over products.
    fn dur_sum(&mut self, what: &str) -> PResult<f64> {
        let mut v = self.dur_product(what)?;
        while self.at_op("+") || self.at_op("-") {
            let add = self.at_op("+");
            self.next();
            let r = self.dur_product(what)?;
            v = if add { v + r } else { v - r };
        }
        Ok(v)
    }

    /// `a * b`, `a / b`, `a % b` (left-associative), over signed powers.
    fn dur_product(&mut self, what: &str) -> PResult<f64> {
        let mut v = self.dur_unary(what)?;
        while self.at_op("*") || self.at_op("/") || self.at_op("%") {
            let op = self.next();
            let r = self.dur_unary(what)?;
            v = match op.tok {
                Tok::Op("*") => v * r,
                _ if r == 0.0 => {
                    return Err(ParseError::new(
                        op.start,
                        self.prev_end(),
                        "division by zero",
                    ));
                }
                Tok::Op("/") => v / r,
                _ => v % r,
            };
        }
        Ok(v)
    }

    /// An optional sign before a power: `-2 ^ 2` is `-(2 ^ 2)`.
    fn dur_unary(&mut self, what: &str) -> PResult<f64> {
        if self.at_op("-") || self.at_op("+") {
            let neg = self.at_op("-");
            self.next();
            let v = self.dur_unary(what)?;
            return Ok(if neg { -v } else { v });
        }
        self.dur_power(what)
    }

    /// `a ^ b` (right-associative).
    fn dur_power(&mut self, what: &str) -> PResult<f64> {
        let base = self.dur_atom(what)?;
        if self.at_op("^") {
            self.next();
            let exp = self.dur_unary(what)?;
            return Ok(base.powf(exp));
        }
        Ok(base)
    }

    /// A number of seconds, a duration, a parenthesised expression or a function call.
    fn dur_atom(&mut self, what: &str) -> PResult<f64> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Num(v) => {
                self.next();
                Ok(*v)
            }
            Tok::Dur(ms) => {
                self.next();
                Ok(*ms as f64 / 1000.0)
            }
            Tok::Op("(") => {
                self.next();
                let v = self.dur_sum(what)?;
                self.expect_op(")", &format!("in {what}"))?;
                Ok(v)
            }
            Tok::Ident(w) => {
                let name = w.to_ascii_lowercase();
                if !FUNCTIONS.contains(&name.as_str()) {
                    return Err(self.unexpected(&format!("in {what}, expected duration")));
                }
                self.next();
                self.dur_call(&name, t.start, what)
            }
            _ => Err(self.unexpected(&format!("in {what}, expected duration"))),
        }
    }

    /// `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)`.
    fn dur_call(&mut self, name: &str, start: usize, what: &str) -> PResult<f64> {
        self.expect_op("(", &format!("in {what}"))?;
        if name == "step" || name == "range" {
            self.expect_op(")", &format!("in {what}"))?;
            let ctx = self.query.ok_or_else(|| {
                ParseError::new(
                    start,
                    self.prev_end(),
                    format!("{name}() needs the query's step and range"),
                )
            })?;
            let ms = if name == "step" {
                ctx.step_ms
            } else {
                ctx.range_ms
            };
            return Ok(ms as f64 / 1000.0);
        }
        let a = self.dur_sum(what)?;
        self.expect_op(",", &format!("in {name}()"))?;
        let b = self.dur_sum(what)?;
        self.expect_op(")", &format!("in {name}()"))?;
        Ok(if name == "min_of" { a.min(b) } else { a.max(b) })
    }
}
