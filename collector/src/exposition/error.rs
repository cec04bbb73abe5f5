//! The public [`ParseError`] and the nom error type the line parsers use internally.

use std::borrow::Cow;

use nom::error::ErrorKind;

/// Why and where an exposition body failed to parse.
///
/// `line` and `column` are 1-based; the column counts characters (not bytes) from the start
/// of the line. `message` says what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// The 1-based line of the offending input.
    pub line: usize,
    /// The 1-based column, in characters, of the offending input.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

/// A failure inside a line parser: the unparsed rest of the input where it happened, and why.
///
/// `rest` is always a suffix of the whole input, so its length gives the byte offset.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure<'a> {
    pub(crate) rest: &'a str,
    pub(crate) message: Cow<'static, str>,
}

impl<'a> nom::error::ParseError<&'a str> for Failure<'a> {
    /// Cheap on purpose: the line parsers use nom's primitives as probes whose failure
    /// is the common case, and they never let this message reach the user.
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        Failure {
            message: Cow::Borrowed("unexpected input"),
            rest: input,
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

/// The result type of every line parser: nom's, with [`Failure`] as the error.
pub(crate) type PResult<'a, T> = nom::IResult<&'a str, T, Failure<'a>>;

/// Fails at `rest` with `message`.
pub(crate) fn fail<'a, T>(rest: &'a str, message: impl Into<Cow<'static, str>>) -> PResult<'a, T> {
    Err(nom::Err::Error(Failure {
        rest,
        message: message.into(),
    }))
}

/// Fails at `rest` with "expected {what}, found {what rest starts with}".
pub(crate) fn expected<'a, T>(rest: &'a str, what: &str) -> PResult<'a, T> {
    fail(rest, format!("expected {what}, found {}", describe(rest)))
}

/// Describes the start of `rest` for a message: a quoted character, "end of line" or
/// "end of input".
pub(crate) fn describe(rest: &str) -> String {
    match rest.chars().next() {
        None => "end of input".to_owned(),
        Some('\n') => "end of line".to_owned(),
        Some(c) => format!("{c:?}"),
    }
}

impl Failure<'_> {
    /// Turns the failure into a [`ParseError`] with line and column.
    ///
    /// `input` is the whole input, `entry_start` the byte offset where the failing entry
    /// began and `entry_line` that entry's 1-based line number.
    pub(crate) fn locate(&self, input: &str, entry_start: usize, entry_line: usize) -> ParseError {
        let pos = input.len().saturating_sub(self.rest.len());
        let before = input.get(..pos).unwrap_or(input);
        let within = before.get(entry_start..).unwrap_or("");
        let line = entry_line + within.bytes().filter(|&b| b == b'\n').count();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or("").chars().count() + 1;
        ParseError {
            line,
            column,
            message: self.message.to_string(),
        }
    }
}
