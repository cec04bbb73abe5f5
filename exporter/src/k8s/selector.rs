//! Kubernetes label and field selectors (the `labelSelector` and `fieldSelector` list
//! parameters), with apimachinery's grammar and matching semantics.
//!
//! Label selectors: comma-separated requirements, all of which must hold: `k=v`, `k==v`,
//! `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist), `k>N`, `k<N`.
//! Field selectors: comma-separated `field=value`, `field==value`, `field!=value` over a
//! fixed set of fields.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A selector that could not be parsed; the message names the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError(pub String);

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SelectorError {}

/// A parsed label selector: a conjunction of requirements on an object's labels. The
/// default (and the parse of `""`) has no requirements and selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// `s` with the regex metacharacters escaped.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One requirement of a label selector: a test of the value under `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    test: Test,
}

/// What a requirement asks of the value under its key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    /// Present with one of these values (`=`, `==`, `in`).
    In(BTreeSet<String>),
    /// Absent, or present with none of these values (`!=`, `notin`).
    NotIn(BTreeSet<String>),
    /// Present (`key`).
    Exists,
    /// Absent (`!key`).
    NotExists,
    /// Present with an integer value greater than this (`key>N`).
    Gt(i64),
    /// Present with an integer value less than this (`key<N`).
    Lt(i64),
}

impl LabelSelector {
    /// The selector as PromQL label matchers on series labels: `=`/`in` → `=`/`=~`,
    /// `!=`/`notin` → `!=`/`!~`, `key` → `key!=""`, `!key` → `key=""`.
    ///
    /// # Errors
    /// `key>N` and `key<N`, which PromQL matchers cannot express.
    pub fn to_matchers(&self) -> Result<Vec<model::Matcher>, SelectorError> {
        use model::{MatchOp, Matcher};
        let alternatives = |set: &BTreeSet<String>| {
            set.iter()
                .map(|v| regex_escape(v))
                .collect::<Vec<_>>()
                .join("|")
        };
        let mut out = Vec::new();
        for r in &self.requirements {
            let (op, value) = match &r.test {
                Test::In(set) if set.len() == 1 => (
                    MatchOp::Equal,
                    set.iter().next().cloned().unwrap_or_default(),
                ),
                Test::In(set) => (MatchOp::Regex, alternatives(set)),
                Test::NotIn(set) if set.len() == 1 => (
                    MatchOp::NotEqual,
                    set.iter().next().cloned().unwrap_or_default(),
                ),
                Test::NotIn(set) => (MatchOp::NotRegex, alternatives(set)),
                Test::Exists => (MatchOp::NotEqual, String::new()),
                Test::NotExists => (MatchOp::Equal, String::new()),
                Test::Gt(_) | Test::Lt(_) => {
                    return Err(SelectorError(format!(
                        "{}: > and < cannot select series",
                        r.key
                    )));
                }
            };
            out.push(
                Matcher::new(op, r.key.clone(), value).map_err(|e| SelectorError(e.to_string()))?,
            );
        }
        Ok(out)
    }

    /// Whether the selector has no requirements, i.e. selects every object.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object with these labels satisfies every requirement. `!=` and `notin`
    /// hold for objects lacking the key; `>` and `<` fail on values that are not integers.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements
            .iter()
            .all(|r| r.matches(labels.get(&r.key)))
    }
}

impl Requirement {
    /// Whether `value` (the object's value under the key, if any) satisfies the test.
    fn matches(&self, value: Option<&String>) -> bool {
        match (&self.test, value) {
            (Test::In(set), Some(v)) => set.contains(v),
            (Test::NotIn(set), Some(v)) => !set.contains(v),
            (Test::NotIn(_), None) | (Test::NotExists, None) | (Test::Exists, Some(_)) => true,
            (Test::Gt(n), Some(v)) => v.parse::<i64>().is_ok_and(|v| v > *n),
            (Test::Lt(n), Some(v)) => v.parse::<i64>().is_ok_and(|v| v < *n),
            _ => false,
        }
    }
}

/// Parses a label selector with apimachinery's grammar (see the module docs). Whitespace
/// around tokens is ignored; an empty or blank string selects everything. Keys are
/// qualified names (`[prefix/]name`, the prefix a DNS subdomain of at most 253 characters,
/// the name at most 63 characters of `[-_.A-Za-z0-9]` starting and ending alphanumeric);
/// values are empty or follow the name rule; `>`/`<` take one integer.
///
/// # Errors
/// `unable to parse requirement: ...`, quoting the unexpected token or invalid key/value
/// and the selector.
pub fn parse_label_selector(s: &str) -> Result<LabelSelector, SelectorError> {
    let tokens = tokenize(s);
    let mut parser = Parser {
        tokens,
        pos: 0,
        source: s,
    };
    let mut requirements = Vec::new();
    if parser.peek().is_empty() {
        return Ok(LabelSelector { requirements });
    }
    loop {
        requirements.push(parser.requirement()?);
        match parser.next() {
            "" => return Ok(LabelSelector { requirements }),
            "," => {}
            other => return Err(parser.unexpected(other, "',' or 'end of string'")),
        }
    }
}

/// Symbol tokens, longest first so that `==` and `!=` win over `=` and `!`.
const SYMBOLS: [&str; 9] = ["==", "!=", "=", "!", "(", ")", ",", ">", "<"];

/// The characters that end an identifier.
const SPECIAL: [char; 7] = ['=', '!', '(', ')', ',', '>', '<'];

/// Whitespace as apimachinery's selector lexer knows it.
const SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// Splits a label selector into tokens: [`SYMBOLS`] and identifiers (runs of characters
/// that are neither whitespace nor symbols: keys, values, `in`, `notin`). Tokens are never
/// empty; the parser reads `""` past the last one as the end of the input.
fn tokenize(s: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut rest = s.trim_start_matches(SPACE);
    while !rest.is_empty() {
        let symbol = SYMBOLS
            .iter()
            .find_map(|sym| rest.strip_prefix(sym).map(|r| (*sym, r)));
        let (token, after) = symbol.unwrap_or_else(|| {
            let end = rest.find(|c| SPACE.contains(&c) || SPECIAL.contains(&c));
            rest.split_at_checked(end.unwrap_or(rest.len()))
                .unwrap_or((rest, ""))
        });
        tokens.push(token);
        rest = after.trim_start_matches(SPACE);
    }
    tokens
}

/// Whether a token is an identifier (not a symbol, not the end).
fn is_ident(token: &str) -> bool {
    !token.is_empty() && !SYMBOLS.contains(&token)
}

/// A recursive-descent parser over the tokens of one label selector.
struct Parser<'a> {
    tokens: Vec<&'a str>,
    pos: usize,
    source: &'a str,
}

impl<'a> Parser<'a> {
    /// The next token without consuming it; `""` at the end.
    fn peek(&self) -> &'a str {
        self.tokens.get(self.pos).copied().unwrap_or("")
    }

    /// Consumes and returns the next token; `""` at the end.
    fn next(&mut self) -> &'a str {
        let token = self.peek();
        self.pos += 1;
        token
    }

    /// The error for finding `found` where `expected` was due.
    fn unexpected(&self, found: &str, expected: &str) -> SelectorError {
        let found = if found.is_empty() {
            "end of string"
        } else {
            found
        };
        self.invalid(&format!("found '{found}', expected: {expected}"))
    }

    /// The error with `detail`, naming the selector.
    fn invalid(&self, detail: &str) -> SelectorError {
        let source = self.source;
        SelectorError(format!(
            "unable to parse requirement: {detail} (in selector {source:?})"
        ))
    }

    /// `!key`, `key`, or `key <operator> <values>`.
    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        if self.peek() == "!" {
            self.pos += 1;
            let key = self.key("identifier")?;
            return Ok(Requirement {
                key,
                test: Test::NotExists,
            });
        }
        let key = self.key("!, identifier")?;
        let test = match self.peek() {
            "" | "," => Test::Exists,
            _ => self.operation(&key)?,
        };
        Ok(Requirement { key, test })
    }

    /// A validated label key; `expected` describes what was due, for the error.
    fn key(&mut self, expected: &str) -> Result<String, SelectorError> {
        match self.next() {
            key if is_ident(key) && key != "in" && key != "notin" => {
                check_key(key).map_err(|e| self.invalid(&e))?;
                Ok(key.to_owned())
            }
            other => Err(self.unexpected(other, expected)),
        }
    }

    /// An operator and its operand(s), checked against the rules for `key`.
    fn operation(&mut self, key: &str) -> Result<Test, SelectorError> {
        let test = match self.next() {
            "=" | "==" => Test::In(self.exact_value()?),
            "!=" => Test::NotIn(self.exact_value()?),
            "in" => Test::In(self.value_set()?),
            "notin" => Test::NotIn(self.value_set()?),
            ">" => Test::Gt(self.integer(key)?),
            "<" => Test::Lt(self.integer(key)?),
            other => return Err(self.unexpected(other, "=, ==, !=, in, notin, >, <")),
        };
        if let Test::In(set) | Test::NotIn(set) = &test {
            for value in set {
                check_value(key, value).map_err(|e| self.invalid(&e))?;
            }
        }
        Ok(test)
    }

    /// The single operand of `=`, `==`, `!=`: an identifier, or empty before `,`/the end.
    fn exact_value(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        match self.peek() {
            "" | "," => Ok(BTreeSet::from([String::new()])),
            value if is_ident(value) => {
                self.pos += 1;
                Ok(BTreeSet::from([value.to_owned()]))
            }
            other => Err(self.unexpected(other, "identifier")),
        }
    }

    /// The integer operand of `>` or `<`, which must also be a valid label value.
    fn integer(&mut self, key: &str) -> Result<i64, SelectorError> {
        let value = self.exact_value()?.pop_first().unwrap_or_default();
        check_value(key, &value).map_err(|e| self.invalid(&e))?;
        let why = format!("for '>', '<' operators the value must be an integer, not {value:?}");
        value.parse::<i64>().map_err(|_| self.invalid(&why))
    }

    /// `(v1, v2, ...)`; empty elements (`()`, `(a,)`, `(,a)`) stand for the empty value.
    fn value_set(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        match self.next() {
            "(" => {}
            other => return Err(self.unexpected(other, "'('")),
        }
        let (mut values, mut element) = (BTreeSet::new(), "");
        loop {
            match self.next() {
                value if is_ident(value) && element.is_empty() => element = value,
                "," => {
                    values.insert(std::mem::take(&mut element).to_owned());
                }
                ")" => {
                    values.insert(element.to_owned());
                    return Ok(values);
                }
                other if element.is_empty() => {
                    return Err(self.unexpected(other, "',', ')' or identifier"));
                }
                other => return Err(self.unexpected(other, "',' or ')'")),
            }
        }
    }
}

/// Checks a label key: an optional DNS-subdomain prefix and `/`, then a name.
fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = key
        .split_once('/')
        .map_or((None, key), |(p, n)| (Some(p), n));
    let bad = |why: &str| Err(format!("invalid label key {key:?}: {why}"));
    if let Some(prefix) = prefix
        && (prefix.is_empty() || prefix.len() > 253 || !is_dns_subdomain(prefix))
    {
        return bad("prefix part must be a DNS subdomain of at most 253 characters");
    }
    if name.is_empty() || name.len() > 63 || !is_name(name) {
        return bad("name part must be 1 to 63 characters of [-_.A-Za-z0-9], \
             starting and ending with an alphanumeric character");
    }
    Ok(())
}

/// Checks a label value: empty, or at most 63 characters following the name rule.
fn check_value(key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && is_name(value)) {
        return Ok(());
    }
    Err(format!(
        "invalid label value {value:?} for key {key:?}: must be at most 63 characters of \
         [-_.A-Za-z0-9], starting and ending with an alphanumeric character"
    ))
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    let inner_ok = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    let ends_ok = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    inner_ok && ends_ok(b.first()) && ends_ok(b.last())
}

/// Dot-separated labels of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|label| {
        let b = label.as_bytes();
        let lower_alnum =
            |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_digit() || c.is_ascii_lowercase());
        b.iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || *c == b'-')
            && lower_alnum(b.first())
            && lower_alnum(b.last())
    })
}

/// A parsed field selector: a conjunction of equality tests on named fields of an object.
/// The default (and the parse of `""`) selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

/// `field = value` (`equal`) or `field != value`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldTerm {
    field: String,
    value: String,
    equal: bool,
}

impl FieldSelector {
    /// Whether the selector has no terms, i.e. selects every object.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether the object whose field values `get` returns satisfies every term. A field
    /// for which `get` returns `None` counts as the empty string, as in Kubernetes.
    pub fn matches<'v>(&self, get: impl Fn(&str) -> Option<&'v str>) -> bool {
        self.terms
            .iter()
            .all(|t| (get(&t.field).unwrap_or("") == t.value) == t.equal)
    }
}

/// Parses a field selector: comma-separated `field=value`, `field==value`, `field!=value`,
/// split at the first operator, with no whitespace trimming (as Kubernetes). In values,
/// `\,` `\=` `\\` stand for `,` `=` `\`; an unescaped `=` or `,` is an error. Empty terms
/// are skipped, so `""` selects everything. Every field must be one of `allowed`.
///
/// # Errors
/// `invalid selector: '<s>'; can't understand '<term>'` for a term without an operator,
/// an escape error naming the value, or, for a field not in `allowed`,
/// `"spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"`.
pub fn parse_field_selector(s: &str, allowed: &[&str]) -> Result<FieldSelector, SelectorError> {
    let mut terms = Vec::new();
    let not_understood = |part| format!("invalid selector: '{s}'; can't understand '{part}'");
    for part in split_unescaped_commas(s)
        .into_iter()
        .filter(|p| !p.is_empty())
    {
        let term = parse_field_term(part).ok_or_else(|| SelectorError(not_understood(part)));
        terms.push(term??);
    }
    if let Some(FieldTerm { field, .. }) =
        terms.iter().find(|t| !allowed.contains(&t.field.as_str()))
    {
        let only: Vec<String> = allowed.iter().map(|f| format!("{f:?}")).collect();
        let only = only.join(", ");
        let message = format!("{field:?} is not a known field selector: only {only}");
        return Err(SelectorError(message));
    }
    Ok(FieldSelector { terms })
}

/// Splits at commas not preceded by an escaping backslash, keeping escapes.
fn split_unescaped_commas(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, c) in s.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, ',') => {
                parts.push(s.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s.get(start..).unwrap_or(""));
    parts
}

/// One term split at its first operator; `None` if it has none, `Some(Err)` if its value
/// has a bad escape.
fn parse_field_term(part: &str) -> Option<Result<FieldTerm, SelectorError>> {
    let (field, op, raw) = part.char_indices().find_map(|(i, _)| {
        let (field, rest) = part.split_at_checked(i)?;
        let op = ["!=", "==", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))?;
        Some((field, op, rest.get(op.len()..)?))
    })?;
    Some(unescape_field_value(raw).map(|value| FieldTerm {
        field: field.to_owned(),
        value,
        equal: op != "!=",
    }))
}

/// Resolves `\\`, `\,`, `\=` in a field selector value.
fn unescape_field_value(raw: &str) -> Result<String, SelectorError> {
    let bad = |why: &str| SelectorError(format!("invalid field selector value {raw:?}: {why}"));
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(bad(&format!("invalid escape sequence \\{e}"))),
                None => return Err(bad("invalid escape sequence \\ at the end")),
            },
            ',' | '=' => return Err(bad(&format!("unescaped {c} in value"))),
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels from `k=v;k=v` (a bare `k` has the empty value).
    fn labels(pairs: &str) -> BTreeMap<String, String> {
        let pair = |p: &str| -> (String, String) {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        };
        pairs
            .split(';')
            .filter(|p| !p.is_empty())
            .map(pair)
            .collect()
    }

    fn label_error(selector: &str) -> String {
        match parse_label_selector(selector) {
            Ok(sel) => panic!("{selector:?} parsed as {sel:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// (selector, object labels, selected?)
    const LABEL_CASES: &[(&str, &str, bool)] = &[
        ("", "", true),
        (" \t\n", "a=b", true),
        ("app=web", "app=web;tier=front", true),
        ("app==web", "app=web", true),
        (" app = web , tier == front ", "app=web;tier=front", true),
        ("app=db", "app=web", false),
        ("app=web,tier=back", "app=web;tier=front", false),
        ("app!=db", "app=web", true),
        ("app!=web", "app=web", false),
        ("zone!=a", "app=web", true),
        ("app=", "app", true),
        ("app=", "app=web", false),
        ("app!=,tier=front", "app=web;tier=front", true),
        ("env in (prod,dev)", "env=prod", true),
        ("env in ( dev , prod )", "env=prod", true),
        ("env in(prod)", "env=prod", true),
        ("env in (dev)", "env=prod", false),
        ("other in (prod)", "env=prod", false),
        ("env notin (dev,qa)", "env=prod", true),
        ("env notin (prod)", "env=prod", false),
        ("other notin (prod)", "env=prod", true),
        ("env in (in,notin,prod)", "env=prod", true),
        ("e in ()", "e", true),
        ("e in (a,)", "e", true),
        ("e in (,a)", "e=a", true),
        ("e in (a,,b)", "e", true),
        ("e in (a,b)", "e", false),
        ("app", "app=web", true),
        ("db", "app=web", false),
        ("!db", "app=web", true),
        (" ! db ", "app=web", true),
        ("!app", "app=web", false),
        ("app,!db", "app=web", true),
        ("app,!app", "app=web", false),
        ("n>5", "n=6", true),
        ("n>5", "n=5", false),
        ("n<5", "n=4", true),
        ("n<5", "n=5", false),
        ("n>5", "", false),
        ("n>5", "n=x", false),
        ("n > 1 , n < 10", "n=09", true),
        ("app.k8s.io/name=web", "app.k8s.io/name=web", true),
        ("k8s.io/a_b-c.D", "k8s.io/a_b-c.D", true),
    ];

    #[test]
    fn label_selectors_match_as_kubernetes_does() {
        for &(selector, pairs, want) in LABEL_CASES {
            let got = parse_label_selector(selector).map(|sel| sel.matches(&labels(pairs)));
            assert_eq!(got, Ok(want), "{selector:?} on {pairs:?}");
        }
        assert!(parse_label_selector(" ").is_ok_and(|s| s.is_empty()));
        assert!(parse_label_selector("a").is_ok_and(|s| !s.is_empty()));
    }

    #[test]
    fn label_keys_and_values_have_length_limits() {
        let (name63, name64) = ("a".repeat(63), "a".repeat(64));
        let prefix = [63, 63, 63, 61].map(|n| "a".repeat(n)).join(".");
        assert_eq!(prefix.len(), 253);
        for ok in [format!("{name63}={name63}"), format!("{prefix}/{name63}")] {
            assert!(parse_label_selector(&ok).is_ok(), "{ok}");
        }
        let too_long = [
            format!("{name64}=v"),
            format!("k={name64}"),
            format!("k in (a,{name64})"),
            format!("{prefix}a/x"),
            format!("p/{name64}"),
        ];
        for bad in &too_long {
            assert!(
                label_error(bad).contains("unable to parse requirement: invalid"),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_invalid_keys_and_values_naming_them() {
        let cases = [
            ("-a=b", "\"-a\""),
            ("a-=b", "\"a-\""),
            ("a/b/c=d", "\"a/b/c\""),
            ("/a=b", "\"/a\""),
            ("Upper.io/a=b", "\"Upper.io/a\""),
            ("a..b.io/a=b", "\"a..b.io/a\""),
            ("a=-b", "\"-b\""),
            ("a=b/c", "\"b/c\""),
            ("é=b", "\"é\""),
            ("n>x", "\"x\""),
            ("n<1.5", "\"1.5\""),
            ("n>-1", "\"-1\""),
            ("n>99999999999999999999", "\"99999999999999999999\""),
        ];
        for (selector, named) in cases {
            let err = label_error(selector);
            assert!(err.starts_with("unable to parse requirement: "), "{err}");
            assert!(err.contains(named), "{selector}: {err}");
        }
    }

    #[test]
    fn rejects_malformed_label_selectors() {
        let cases = [
            ("a in (b", "found 'end of string', expected: ',' or ')'"),
            ("a in b", "found 'b', expected: '('"),
            ("a in", "found 'end of string', expected: '('"),
            (
                "a notin (",
                "found 'end of string', expected: ',', ')' or identifier",
            ),
            ("a in (=)", "found '=', expected: ',', ')' or identifier"),
            ("a in (b,c d)", "found 'd', expected: ',' or ')'"),
            ("=x", "found '=', expected: !, identifier"),
            ("a!", "found '!', expected: =, ==, !=, in, notin, >, <"),
            ("a b", "found 'b', expected: =, ==, !=, in, notin, >, <"),
            ("a=b c", "found 'c', expected: ',' or 'end of string'"),
            ("a=(b)", "found '(', expected: identifier"),
            ("a=b,", "found 'end of string', expected: !, identifier"),
            (",a", "found ',', expected: !, identifier"),
            ("a,,b", "found ',', expected: !, identifier"),
            ("!", "found 'end of string', expected: identifier"),
            ("!a=b", "found '=', expected: ',' or 'end of string'"),
            ("in=b", "found 'in', expected: !, identifier"),
            ("a>=1", "found '=', expected: identifier"),
            ("a in (b))", "found ')', expected: ',' or 'end of string'"),
        ];
        for (selector, detail) in cases {
            let want = format!("unable to parse requirement: {detail} (in selector {selector:?})");
            assert_eq!(label_error(selector), want);
        }
    }

    const POD_FIELDS: [&str; 2] = ["metadata.name", "metadata.namespace"];

    /// (selector, metadata.name, metadata.namespace, selected?)
    const FIELD_CASES: &[(&str, &str, &str, bool)] = &[
        ("", "p", "ns", true),
        (",", "p", "ns", true),
        ("metadata.name=p", "p", "ns", true),
        ("metadata.name==p", "p", "ns", true),
        ("metadata.name=q", "p", "ns", false),
        ("metadata.name!=q", "p", "ns", true),
        ("metadata.name!=p", "p", "ns", false),
        ("metadata.name=p,metadata.namespace=ns", "p", "ns", true),
        ("metadata.name=p,metadata.namespace=kube", "p", "ns", false),
        ("metadata.namespace!=kube-system", "p", "default", true),
        ("metadata.name=", "", "ns", true),
        (r"metadata.name=a\,b\=c\\", r"a,b=c\", "ns", true),
    ];

    #[test]
    fn field_selectors_match_equality_terms() {
        for &(selector, name, namespace, want) in FIELD_CASES {
            let (name, namespace) = (name.to_owned(), namespace.to_owned());
            let get = |f: &str| match f {
                "metadata.name" => Some(name.as_str()),
                "metadata.namespace" => Some(namespace.as_str()),
                _ => None,
            };
            let got = parse_field_selector(selector, &POD_FIELDS).map(|sel| sel.matches(get));
            assert_eq!(got, Ok(want), "{selector:?}");
        }
        assert!(parse_field_selector("", &POD_FIELDS).is_ok_and(|s| s.is_empty()));
    }

    #[test]
    fn missing_fields_count_as_empty() {
        let sel = parse_field_selector("metadata.name=,metadata.namespace!=x", &POD_FIELDS);
        assert_eq!(sel.map(|s| s.matches(|_| None)), Ok(true));
        let sel = parse_field_selector("metadata.name=a", &POD_FIELDS);
        assert_eq!(sel.map(|s| s.matches(|_| None)), Ok(false));
    }

    fn field_error(selector: &str, allowed: &[&str]) -> String {
        match parse_field_selector(selector, allowed) {
            Ok(sel) => panic!("{selector:?} parsed as {sel:?}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn unknown_fields_are_rejected_as_kubernetes_does() {
        let want = r#""spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace""#;
        assert_eq!(field_error("spec.nodeName=n1", &POD_FIELDS), want);
        let want = r#""metadata.name " is not a known field selector: only "metadata.name", "metadata.namespace""#;
        assert_eq!(field_error("metadata.name = p", &POD_FIELDS), want);
        let want = r#""metadata.namespace" is not a known field selector: only "metadata.name""#;
        assert_eq!(
            field_error("metadata.namespace=x", &["metadata.name"]),
            want
        );
    }

    #[test]
    fn rejects_malformed_field_selectors() {
        let want = "invalid selector: 'metadata.name'; can't understand 'metadata.name'";
        assert_eq!(field_error("metadata.name", &POD_FIELDS), want);
        for bad in [
            "metadata.name=a=b",
            r"metadata.name=a\x",
            r"metadata.name=a\",
        ] {
            let err = field_error(bad, &POD_FIELDS);
            assert!(err.contains("invalid field selector value"), "{bad}: {err}");
        }
    }

    #[test]
    fn selector_error_is_an_error() {
        let err: Box<dyn std::error::Error> = Box::new(SelectorError("boom".to_owned()));
        assert_eq!(err.to_string(), "boom");
    }
}
