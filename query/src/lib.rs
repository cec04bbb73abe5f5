//! PromQL for promlet: the parser (and, later, the evaluation engine).
//!
//! [`parse`] turns a query into an [`Expr`] tree, type-checked as Prometheus's `checkAST`
//! does, or into a [`ParseError`] carrying the byte span and `line:column` of the problem.
//! [`Expr`]'s `Display` prints PromQL back, so `parse(&e.to_string()) == Ok(e)`.
//! The function table lives in [`signatures`].
#![deny(missing_docs)]

pub mod engine;
pub mod gofmt;
pub mod parser;
pub mod promqltest;
pub mod signatures;

pub use engine::{Engine, EngineOptions};
pub use parser::ast::{
    AggregateOp, AtModifier, BinaryOp, Cardinality, Expr, Extended, ValueType, VectorMatching,
};
pub use parser::error::ParseError;
pub use parser::{QueryContext, parse, parse_with_context};
pub use signatures::{Function, function};
