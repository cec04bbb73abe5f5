//! The PromQL syntax tree, its value types and printing back to PromQL.

use std::fmt::{self, Display, Formatter, Write};

use model::{MatchOp, Matcher};

use super::literals::{format_duration, format_number, quote};
use crate::signatures::Function;

/// The type of value an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A single float.
    Scalar,
    /// An instant vector.
    Vector,
    /// A range vector.
    Matrix,
    /// A string.
    String,
}

impl Display for ValueType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scalar => "scalar",
            Self::Vector => "instant vector",
            Self::Matrix => "range vector",
            Self::String => "string",
        })
    }
}

/// The extended range-selector modifiers (experimental in Prometheus 3.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extended {
    /// `anchored`: the window also takes the last sample at or before its start, and no
    /// extrapolation happens.
    Anchored,
    /// `smoothed`: values at the window's edges (or at the evaluation time, for an instant
    /// selector) are interpolated between the neighbouring samples.
    Smoothed,
}

impl Extended {
    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Extended::Anchored => "anchored",
            Extended::Smoothed => "smoothed",
        }
    }
}

/// The `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtModifier {
    /// `@ <unix seconds>`, stored in milliseconds.
    Timestamp(i64),
    /// `@ start()`.
    Start,
    /// `@ end()`.
    End,
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    /// `sum`.
    Sum,
    /// `avg`.
    Avg,
    /// `count`.
    Count,
    /// `min`.
    Min,
    /// `max`.
    Max,
    /// `group` (every value becomes 1).
    Group,
    /// `stddev` (population).
    Stddev,
    /// `stdvar` (population).
    Stdvar,
    /// `topk(k, v)`.
    Topk,
    /// `bottomk(k, v)`.
    Bottomk,
    /// `quantile(φ, v)`.
    Quantile,
    /// `count_values("label", v)`.
    CountValues,
    /// `limitk(k, v)` (experimental).
    Limitk,
    /// `limit_ratio(r, v)` (experimental).
    LimitRatio,
}

/// Every aggregation operator with its lowercase name.
const AGGREGATES: [(AggregateOp, &str); 14] = [
    (AggregateOp::Sum, "sum"),
    (AggregateOp::Avg, "avg"),
    (AggregateOp::Count, "count"),
    (AggregateOp::Min, "min"),
    (AggregateOp::Max, "max"),
    (AggregateOp::Group, "group"),
    (AggregateOp::Stddev, "stddev"),
    (AggregateOp::Stdvar, "stdvar"),
    (AggregateOp::Topk, "topk"),
    (AggregateOp::Bottomk, "bottomk"),
    (AggregateOp::Quantile, "quantile"),
    (AggregateOp::CountValues, "count_values"),
    (AggregateOp::Limitk, "limitk"),
    (AggregateOp::LimitRatio, "limit_ratio"),
];

impl AggregateOp {
    /// Looks an operator up by name, ignoring case.
    pub fn from_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        AGGREGATES
            .iter()
            .find(|(_, n)| *n == lower)
            .map(|(op, _)| *op)
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        AGGREGATES
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("", |(_, n)| n)
    }

    /// Whether the operator takes a parameter before the vector (`topk(3, x)`).
    pub fn has_param(self) -> bool {
        use AggregateOp::*;
        matches!(
            self,
            Topk | Bottomk | Quantile | CountValues | Limitk | LimitRatio
        )
    }
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `^` (right-associative).
    Pow,
    /// `atan2`.
    Atan2,
    /// `==`.
    Eql,
    /// `!=`.
    Neq,
    /// `<=`.
    Lte,
    /// `<`.
    Lss,
    /// `>=`.
    Gte,
    /// `>`.
    Gtr,
    /// `and`.
    And,
    /// `or`.
    Or,
    /// `unless`.
    Unless,
}

/// Every binary operator with its spelling.
const BINARY: [(BinaryOp, &str); 16] = [
    (BinaryOp::Add, "+"),
    (BinaryOp::Sub, "-"),
    (BinaryOp::Mul, "*"),
    (BinaryOp::Div, "/"),
    (BinaryOp::Mod, "%"),
    (BinaryOp::Pow, "^"),
    (BinaryOp::Atan2, "atan2"),
    (BinaryOp::Eql, "=="),
    (BinaryOp::Neq, "!="),
    (BinaryOp::Lte, "<="),
    (BinaryOp::Lss, "<"),
    (BinaryOp::Gte, ">="),
    (BinaryOp::Gtr, ">"),
    (BinaryOp::And, "and"),
    (BinaryOp::Or, "or"),
    (BinaryOp::Unless, "unless"),
];

impl BinaryOp {
    /// Looks an operator up by spelling (keywords ignore case).
    pub fn from_token(tok: &str) -> Option<Self> {
        let lower = tok.to_ascii_lowercase();
        BINARY.iter().find(|(_, s)| *s == lower).map(|(op, _)| *op)
    }

    /// The spelling.
    pub fn as_str(self) -> &'static str {
        BINARY
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("", |(_, s)| s)
    }

    /// Binding strength: `or` 1, `and unless` 2, comparisons 3, `+ -` 4, `* / % atan2` 5, `^` 6.
    pub fn precedence(self) -> u8 {
        use BinaryOp::*;
        match self {
            Or => 1,
            And | Unless => 2,
            Eql | Neq | Lte | Lss | Gte | Gtr => 3,
            Add | Sub => 4,
            Mul | Div | Mod | Atan2 => 5,
            Pow => 6,
        }
    }

    /// Whether the operator is a comparison (which may take `bool`).
    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    /// Whether the operator is `and`, `or` or `unless`.
    pub fn is_set(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }
}

/// How series on both sides of a vector binary operation are paired.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cardinality {
    /// Default pairing.
    #[default]
    OneToOne,
    /// `group_left(labels)`: the labels are copied from the right side.
    ManyToOne(Vec<String>),
    /// `group_right(labels)`: the labels are copied from the left side.
    OneToMany(Vec<String>),
    /// Set operators.
    ManyToMany,
}

/// Vector matching of a binary operation between two instant vectors.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorMatching {
    /// The cardinality.
    pub card: Cardinality,
    /// `on(...)` when true, otherwise `ignoring(...)` (or nothing when `labels` is empty).
    pub on: bool,
    /// The labels of `on`/`ignoring`.
    pub labels: Vec<String>,
    /// `fill_left(v)` or `fill(v)`: the value of a missing left-hand sample.
    pub fill_lhs: Option<f64>,
    /// `fill_right(v)` or `fill(v)`: the value of a missing right-hand sample.
    pub fill_rhs: Option<f64>,
}

/// Where a node starts in the query text: byte offset and 1-based line and column. Any two
/// positions compare equal: where an expression was written is not part of what it means.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pos {
    /// Byte offset.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in bytes.
    pub column: usize,
}

impl PartialEq for Pos {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Pos {
    /// A position at byte `offset`; line and column are resolved after parsing.
    pub(crate) fn at(offset: usize) -> Self {
        Self {
            offset,
            line: 1,
            column: offset + 1,
        }
    }

    /// Prometheus's annotation suffix: ` (line:column)`.
    pub fn suffix(&self) -> String {
        format!(" ({}:{})", self.line, self.column)
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A float literal (a leading `-` on a literal is folded in).
    NumberLiteral(f64),
    /// A string literal.
    StringLiteral(String),
    /// `name{matchers} offset d @ t`. With a name, `matchers[0]` is `__name__="name"`.
    VectorSelector {
        /// The metric name, if written.
        name: Option<String>,
        /// All matchers, including the metric name one.
        matchers: Vec<Matcher>,
        /// Offset in milliseconds (0 when absent).
        offset_ms: i64,
        /// The `@` modifier.
        at: Option<AtModifier>,
        /// `anchored` or `smoothed` (for a range selector, set on its inner selector).
        extended: Option<Extended>,
    },
    /// `selector[range]`; offset, `@` and `anchored`/`smoothed` live in the inner selector.
    MatrixSelector {
        /// Always an [`Expr::VectorSelector`].
        selector: Box<Expr>,
        /// The range in milliseconds.
        range_ms: i64,
    },
    /// `expr[range:step] offset d @ t`.
    Subquery {
        /// The inner instant-vector expression.
        expr: Box<Expr>,
        /// Range in milliseconds.
        range_ms: i64,
        /// Step in milliseconds (`None`: the engine's default).
        step_ms: Option<i64>,
        /// Offset in milliseconds.
        offset_ms: i64,
        /// The `@` modifier.
        at: Option<AtModifier>,
    },
    /// A function call.
    Call {
        /// The function's signature.
        func: &'static Function,
        /// The arguments.
        args: Vec<Expr>,
        /// Where the call starts.
        pos: Pos,
        /// Where each argument starts.
        arg_pos: Vec<Pos>,
    },
    /// An aggregation.
    Aggregate {
        /// The operator.
        op: AggregateOp,
        /// The aggregated vector.
        expr: Box<Expr>,
        /// The parameter of `topk`, `quantile`, `count_values`, ...
        param: Option<Box<Expr>>,
        /// The `by`/`without` labels.
        grouping: Vec<String>,
        /// `without` rather than `by`.
        without: bool,
        /// Where the parameter starts (when there is one).
        param_pos: Pos,
    },
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// The `bool` modifier of comparisons.
        return_bool: bool,
        /// Present exactly when both operands are instant vectors.
        matching: Option<VectorMatching>,
    },
    /// `-expr` (negate) or `+expr`.
    Unary {
        /// True for `-`.
        negate: bool,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `(expr)`.
    Paren(Box<Expr>),
}

impl Expr {
    /// The type of the value the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::NumberLiteral(_) => ValueType::Scalar,
            Expr::StringLiteral(_) => ValueType::String,
            Expr::VectorSelector { .. } | Expr::Aggregate { .. } => ValueType::Vector,
            Expr::MatrixSelector { .. } | Expr::Subquery { .. } => ValueType::Matrix,
            Expr::Call { func, .. } => func.return_type,
            Expr::Binary { lhs, rhs, .. } => {
                if lhs.value_type() == ValueType::Scalar && rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Unary { expr, .. } | Expr::Paren(expr) => expr.value_type(),
        }
    }
}

/// Whether `s` can be written without quotes as a label or metric name.
fn is_plain_name(s: &str, metric: bool) -> bool {
    let mut chars = s.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (metric && c == ':');
    chars.next().is_some_and(ok_first)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (metric && c == ':'))
}

/// Prints a label name, quoting it when needed.
fn label(s: &str) -> String {
    if is_plain_name(s, false) {
        s.to_string()
    } else {
        quote(s)
    }
}

/// Prints `(a, b)`.
fn label_list(labels: &[String]) -> String {
    format!(
        "({})",
        labels
            .iter()
            .map(|l| label(l))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Prints ` offset d` and ` @ t` suffixes.
fn modifiers(f: &mut Formatter<'_>, offset_ms: i64, at: Option<AtModifier>) -> fmt::Result {
    if let Some(at) = at {
        match at {
            AtModifier::Timestamp(ms) => write!(f, " @ {}", format_number(ms as f64 / 1000.0))?,
            AtModifier::Start => f.write_str(" @ start()")?,
            AtModifier::End => f.write_str(" @ end()")?,
        }
    }
    if offset_ms != 0 {
        write!(f, " offset {}", format_duration(offset_ms))?;
    }
    Ok(())
}

/// Prints ` anchored` or ` smoothed`.
fn extended_suffix(f: &mut Formatter<'_>, e: Option<Extended>) -> fmt::Result {
    match e {
        Some(e) => write!(f, " {}", e.name()),
        None => Ok(()),
    }
}

/// Prints a selector's name and matchers, without modifiers.
fn selector_core(f: &mut Formatter<'_>, name: Option<&str>, matchers: &[Matcher]) -> fmt::Result {
    let rest = match name {
        Some(n) => {
            let skip = usize::from(matchers.first().is_some_and(|m| m.name == "__name__"));
            let rest = &matchers[skip..];
            if is_plain_name(n, true) {
                f.write_str(n)?;
                if rest.is_empty() {
                    return Ok(());
                }
                rest.iter().collect::<Vec<_>>()
            } else {
                let mut v = vec![];
                f.write_char('{')?;
                f.write_str(&quote(n))?;
                if !rest.is_empty() {
                    f.write_str(", ")?;
                }
                v.extend(rest.iter());
                return write_matchers(f, &v, true);
            }
        }
        None => matchers.iter().collect(),
    };
    f.write_char('{')?;
    write_matchers(f, &rest, true)
}

/// Prints `a="b", c=~"d"` and, when `close`, the closing brace.
fn write_matchers(f: &mut Formatter<'_>, ms: &[&Matcher], close: bool) -> fmt::Result {
    let parts: Vec<String> = ms
        .iter()
        .map(|m| {
            let op = match m.op {
                MatchOp::Equal => "=",
                MatchOp::NotEqual => "!=",
                MatchOp::Regex => "=~",
                MatchOp::NotRegex => "!~",
            };
            format!("{}{op}{}", label(&m.name), quote(&m.value))
        })
        .collect();
    f.write_str(&parts.join(", "))?;
    if close { f.write_char('}') } else { Ok(()) }
}

/// Prints a binary operator with its `bool` and matching modifiers.
fn binary_op(op: BinaryOp, return_bool: bool, matching: Option<&VectorMatching>) -> String {
    let mut s = op.as_str().to_string();
    if return_bool {
        s.push_str(" bool");
    }
    let Some(m) = matching else { return s };
    let group = match &m.card {
        Cardinality::ManyToOne(l) => Some(("group_left", l)),
        Cardinality::OneToMany(l) => Some(("group_right", l)),
        _ => None,
    };
    if m.on {
        s.push_str(&format!(" on{}", label_list(&m.labels)));
    } else if !m.labels.is_empty() || group.is_some() {
        s.push_str(&format!(" ignoring{}", label_list(&m.labels)));
    }
    if let Some((kw, l)) = group {
        s.push_str(&format!(" {kw}{}", label_list(l)));
    }
    match (m.fill_lhs, m.fill_rhs) {
        (Some(l), Some(r)) if l.to_bits() == r.to_bits() => {
            s.push_str(&format!(" fill({})", format_number(l)));
        }
        (l, r) => {
            if let Some(l) = l {
                s.push_str(&format!(" fill_left({})", format_number(l)));
            }
            if let Some(r) = r {
                s.push_str(&format!(" fill_right({})", format_number(r)));
            }
        }
    }
    s
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::NumberLiteral(v) => f.write_str(&format_number(*v)),
            Expr::StringLiteral(s) => f.write_str(&quote(s)),
            Expr::VectorSelector {
                name,
                matchers,
                offset_ms,
                at,
                extended,
            } => {
                selector_core(f, name.as_deref(), matchers)?;
                modifiers(f, *offset_ms, *at)?;
                extended_suffix(f, *extended)
            }
            Expr::MatrixSelector { selector, range_ms } => match selector.as_ref() {
                Expr::VectorSelector {
                    name,
                    matchers,
                    offset_ms,
                    at,
                    extended,
                } => {
                    selector_core(f, name.as_deref(), matchers)?;
                    write!(f, "[{}]", format_duration(*range_ms))?;
                    modifiers(f, *offset_ms, *at)?;
                    extended_suffix(f, *extended)
                }
                other => write!(f, "{other}[{}]", format_duration(*range_ms)),
            },
            Expr::Subquery {
                expr,
                range_ms,
                step_ms,
                offset_ms,
                at,
            } => {
                let step = step_ms.map(format_duration).unwrap_or_default();
                write!(f, "{expr}[{}:{step}]", format_duration(*range_ms))?;
                modifiers(f, *offset_ms, *at)
            }
            Expr::Call { func, args, .. } => {
                let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                write!(f, "{}({})", func.name, args.join(", "))
            }
            Expr::Aggregate {
                op,
                expr,
                param,
                grouping,
                without,
                ..
            } => {
                f.write_str(op.name())?;
                if *without {
                    write!(f, " without{} ", label_list(grouping))?;
                } else if !grouping.is_empty() {
                    write!(f, " by{} ", label_list(grouping))?;
                }
                match param {
                    Some(p) => write!(f, "({p}, {expr})"),
                    None => write!(f, "({expr})"),
                }
            }
            Expr::Binary {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
            } => {
                write!(
                    f,
                    "{lhs} {} {rhs}",
                    binary_op(*op, *return_bool, matching.as_ref())
                )
            }
            Expr::Unary { negate, expr } => write!(f, "{}{expr}", if *negate { "-" } else { "+" }),
            Expr::Paren(e) => write!(f, "({e})"),
        }
    }
}
