//! The PromQL parser: a nom-based tokenizer feeding a precedence-climbing parser.
//!
//! Type checks (Prometheus's `checkAST`) run while nodes are built, so every error carries
//! the byte span of the offending node.
//!
//! What the evaluator can rely on:
//! * Every time in the AST is in milliseconds: `@` timestamps, offsets, ranges, steps.
//! * A duration where a number is expected is that many seconds (`predict_linear(x[5m], 1h)`
//!   gets 3600.0), as in Prometheus 3; `@` also takes a duration.
//! * A `-` before a number literal is folded into it (`-1` is `NumberLiteral(-1.0)`); other
//!   unary minus and every unary plus stay `Unary`.
//! * When a selector names its metric, `matchers[0]` is `__name__="name"`; `{__name__="x"}`
//!   leaves `name` as `None`. For a `MatrixSelector`, `offset` and `@` sit on the inner
//!   vector selector.
//! * A subquery's `step_ms` of `None` means the default resolution.
//! * `Binary::matching` is `Some` exactly when both sides are instant vectors; set operators
//!   get `ManyToMany`; `on: true` with no labels is `on()`.
//! * Inside `info(...)` the non-empty-matcher rule is not applied, as in Prometheus.
//! * Nesting deeper than 200 is an error rather than a stack overflow.
//! * Regular expressions are checked by Rust's `regex` (through `model::Matcher`), not Go's
//!   RE2: a few edge-case patterns may be accepted or refused differently.

pub mod ast;
mod duration_expr;
pub mod error;
mod expr;
mod lex;
pub(crate) mod literals;
mod primary;

use ast::Expr;
pub use duration_expr::QueryContext;
use error::{PResult, ParseError};
use lex::{Tok, Token, tokenize};

/// Byte span `start..end` of a node in the source.
pub(crate) type Span = (usize, usize);

/// Parses a PromQL expression.
///
/// # Errors
/// A [`ParseError`] with the byte span and `line:column` of the problem.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let mut e = parse_inner(input, None).map_err(|e| e.locate(input))?;
    locate_positions(&mut e, input);
    Ok(e)
}

/// Parses a PromQL expression of a query with a known step and range, so that the duration
/// functions `step()` and `range()` can be resolved (to 0 for an instant query).
///
/// # Errors
/// As [`parse`].
pub fn parse_with_context(input: &str, query: &QueryContext) -> Result<Expr, ParseError> {
    let mut e = parse_inner(input, Some(*query)).map_err(|e| e.locate(input))?;
    locate_positions(&mut e, input);
    Ok(e)
}

/// Fills in the line and column of every position in the tree from its byte offset.
fn locate_positions(e: &mut Expr, src: &str) {
    let locate = |p: &mut ast::Pos| {
        let err = ParseError::new(p.offset, p.offset, "").locate(src);
        (p.line, p.column) = (err.line, err.column);
    };
    match e {
        Expr::Call {
            args, pos, arg_pos, ..
        } => {
            locate(pos);
            arg_pos.iter_mut().for_each(locate);
            args.iter_mut().for_each(|a| locate_positions(a, src));
        }
        Expr::Aggregate {
            expr,
            param,
            param_pos,
            ..
        } => {
            locate(param_pos);
            locate_positions(expr, src);
            if let Some(p) = param {
                locate_positions(p, src);
            }
        }
        Expr::MatrixSelector { selector: x, .. }
        | Expr::Subquery { expr: x, .. }
        | Expr::Unary { expr: x, .. }
        | Expr::Paren(x) => locate_positions(x, src),
        Expr::Binary { lhs, rhs, .. } => {
            locate_positions(lhs, src);
            locate_positions(rhs, src);
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::VectorSelector { .. } => {}
    }
}

/// Parses without resolving line and column.
fn parse_inner(input: &str, query: Option<QueryContext>) -> PResult<Expr> {
    let toks = tokenize(input)?;
    let mut p = Parser {
        toks,
        pos: 0,
        info_depth: 0,
        depth: 0,
        query,
    };
    if p.peek().tok == Tok::Eof {
        return Err(ParseError::new(0, 0, "no expression found in input"));
    }
    let (expr, _) = p.expr(0)?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        return Err(p.unexpected(""));
    }
    Ok(expr)
}

/// A cursor over the tokens.
pub(crate) struct Parser {
    /// All tokens, ending with [`Tok::Eof`].
    toks: Vec<Token>,
    /// Index of the next token.
    pos: usize,
    /// How many `info(...)` calls enclose the cursor; their data-label selectors may
    /// match the empty value (`info(x, {data=~".*"})`).
    info_depth: usize,
    /// Current recursion depth of [`Parser::expr`], bounded by [`MAX_DEPTH`].
    depth: usize,
    /// The query's step and range for `step()` and `range()`, when known.
    query: Option<QueryContext>,
}

/// Deepest nesting of sub-expressions accepted, so that hostile input cannot overflow the
/// stack (while parsing, printing or dropping the tree).
pub(crate) const MAX_DEPTH: usize = 200;

impl Parser {
    /// The next token (the final `Eof` repeats).
    fn peek(&self) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[self.pos.min(last)]
    }

    /// The token after the next one.
    fn peek2(&self) -> &Tok {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.pos + 1).min(last)].tok
    }

    /// Consumes and returns the next token.
    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    /// End offset of the previously consumed token.
    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.end)
    }

    /// Whether the next token is the operator `op`.
    fn at_op(&self, op: &str) -> bool {
        matches!(&self.peek().tok, Tok::Op(o) if *o == op)
    }

    /// Whether the next token is the keyword `kw` (any case).
    fn at_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    /// Consumes the operator `op` or fails with an "unexpected" error.
    fn expect_op(&mut self, op: &str, context: &str) -> PResult<Token> {
        if self.at_op(op) {
            Ok(self.next())
        } else {
            Err(self.unexpected(&format!("{context}, expected \"{op}\"")))
        }
    }

    /// An "unexpected <token>" error at the next token, with optional context.
    fn unexpected(&self, context: &str) -> ParseError {
        let t = self.peek();
        let sep = if context.is_empty() || context.starts_with(',') {
            ""
        } else {
            " "
        };
        ParseError::new(
            t.start,
            t.end,
            format!("unexpected {}{sep}{context}", t.tok.describe()),
        )
    }
}

#[cfg(test)]
mod tests;
