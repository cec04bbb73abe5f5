//! Parse errors with byte spans and Prometheus-style `line:column` rendering.

/// A PromQL parse or type-check error.
///
/// `start..end` are byte offsets into the query; `line` and `column` (both 1-based) locate
/// `start` and are filled in by [`crate::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: parse error: {message}")]
pub struct ParseError {
    /// Byte offset where the offending text starts.
    pub start: usize,
    /// Byte offset just past the offending text.
    pub end: usize,
    /// What went wrong, worded like Prometheus.
    pub message: String,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in bytes) of `start` within its line.
    pub column: usize,
}

impl ParseError {
    /// An error over `start..end`; the position is resolved later by [`ParseError::locate`].
    pub(crate) fn new(start: usize, end: usize, message: impl Into<String>) -> Self {
        Self {
            start,
            end,
            message: message.into(),
            line: 1,
            column: start + 1,
        }
    }

    /// Computes `line` and `column` from `start` within `src`.
    pub(crate) fn locate(mut self, src: &str) -> Self {
        let start = self.start.min(src.len());
        let before = src.as_bytes().get(..start).unwrap_or_default();
        self.line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        self.column = start - line_start + 1;
        self
    }
}

/// Shorthand for parser results.
pub(crate) type PResult<T> = Result<T, ParseError>;
