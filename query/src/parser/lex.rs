//! Tokenizer: turns a query into spanned tokens.

use super::error::{PResult, ParseError};
use super::literals::{duration, is_ident_char, number, string};

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An unsigned number literal.
    Num(f64),
    /// A duration literal, in milliseconds.
    Dur(i64),
    /// A quoted string, unescaped.
    Str(String),
    /// An identifier or keyword (keywords are recognized by the parser).
    Ident(String),
    /// An operator or punctuation, such as `+`, `=~` or `(`.
    Op(&'static str),
    /// End of input.
    Eof,
}

/// A token and its byte span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// The token.
    pub(crate) tok: Tok,
    /// Byte offset of its first character.
    pub(crate) start: usize,
    /// Byte offset just past it.
    pub(crate) end: usize,
}

/// Operators and punctuation, longest first so that `==` wins over `=`.
const OPS: [&str; 24] = [
    "==", "!=", "=~", "!~", "<=", ">=", "<", ">", "=", "+", "-", "*", "/", "%", "^", "(", ")", "{",
    "}", "[", "]", ",", ":", "@",
];

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> PResult<Vec<Token>> {
    let mut toks = Vec::new();
    let mut pos = 0;
    let mut depth = 0usize;
    while let Some(start) = skip_space(src, pos) {
        let (tok, end) = next_token(src, start, depth > 0)?;
        match tok {
            Tok::Op("[") => depth += 1,
            Tok::Op("]") => depth = depth.saturating_sub(1),
            _ => {}
        }
        toks.push(Token { tok, start, end });
        pos = end;
    }
    toks.push(Token {
        tok: Tok::Eof,
        start: src.len(),
        end: src.len(),
    });
    Ok(toks)
}

/// Skips whitespace and `#` comments; returns the next token start, if any.
fn skip_space(src: &str, mut pos: usize) -> Option<usize> {
    loop {
        let rest = src.get(pos..)?;
        let c = rest.chars().next()?;
        if c.is_whitespace() {
            pos += c.len_utf8();
        } else if c == '#' {
            pos += rest.find('\n').unwrap_or(rest.len());
        } else {
            return Some(pos);
        }
    }
}

/// Scans the token at `start`; returns it and its end offset. Inside brackets a `:` is the
/// subquery separator rather than the start of a metric name.
fn next_token(src: &str, start: usize, in_brackets: bool) -> PResult<(Tok, usize)> {
    let rest = &src[start..];
    let c = rest.chars().next().unwrap_or(' ');
    if c.is_ascii_digit() || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
        return scan_number(rest, start);
    }
    if c.is_ascii_alphabetic() || c == '_' || (c == ':' && !in_brackets) {
        let len = rest
            .find(|ch: char| !is_ident_char(ch))
            .unwrap_or(rest.len());
        return Ok((Tok::Ident(rest[..len].to_string()), start + len));
    }
    if matches!(c, '"' | '\'' | '`') {
        return match string(rest) {
            Ok((len, s)) => Ok((Tok::Str(s), start + len)),
            Err((off, msg)) => Err(ParseError::new(start + off, src.len(), msg)),
        };
    }
    if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
        return Ok((Tok::Op(op), start + op.len()));
    }
    let end = start + c.len_utf8();
    Err(ParseError::new(
        start,
        end,
        format!("unexpected character: {c:?}"),
    ))
}

/// Scans a duration or a number at the start of `rest`.
fn scan_number(rest: &str, start: usize) -> PResult<(Tok, usize)> {
    if let Some((after, ms)) = duration(rest) {
        return Ok((Tok::Dur(ms), start + rest.len() - after.len()));
    }
    if let Some((after, v)) = number(rest) {
        return Ok((Tok::Num(v), start + rest.len() - after.len()));
    }
    let len = rest
        .find(|ch: char| !is_ident_char(ch) && ch != '.')
        .unwrap_or(rest.len());
    Err(ParseError::new(
        start,
        start + len,
        format!("bad number or duration syntax: {:?}", &rest[..len]),
    ))
}

impl Tok {
    /// How the token is named in "unexpected ..." messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("number {}", super::literals::format_number(*v)),
            Tok::Dur(ms) => format!("duration {}", super::literals::format_duration(*ms)),
            Tok::Str(s) => format!("string {}", super::literals::quote(s)),
            Tok::Ident(s) => format!("identifier {s:?}"),
            Tok::Op(op) => format!("{op:?}"),
            Tok::Eof => "end of input".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        tokenize(src)
            .map(|t| t.into_iter().map(|t| t.tok).collect())
            .unwrap_or_default()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds("foo[5m:1m] # c\n>= 0x10"),
            vec![
                Tok::Ident("foo".into()),
                Tok::Op("["),
                Tok::Dur(300_000),
                Tok::Op(":"),
                Tok::Dur(60_000),
                Tok::Op("]"),
                Tok::Op(">="),
                Tok::Num(16.0),
                Tok::Eof
            ]
        );
        assert!(tokenize("5min").is_err());
        assert!(tokenize("a $ b").is_err());
    }
}
