//! Label matchers with Prometheus's semantics.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

use crate::{Error, Result};

/// The kind of comparison a [`Matcher`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`: the value equals.
    Equal,
    /// `!=`: the value differs.
    NotEqual,
    /// `=~`: the whole value matches the regular expression.
    Regex,
    /// `!~`: the whole value does not match the regular expression.
    NotRegex,
}

impl MatchOp {
    /// The operator as written in PromQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::Regex => "=~",
            Self::NotRegex => "!~",
        }
    }
}

/// A condition on one label, such as `job=~"api|web"`.
///
/// A missing label has the empty value, so `foo=""` selects series without `foo` and
/// `foo=~".*"` selects every series. Regular expressions are fully anchored and `.` matches a
/// newline, as Prometheus compiles them (`^(?s:expr)$`).
#[derive(Clone)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value or the regular expression as written.
    pub value: String,
    regex: Option<Arc<Regex>>,
}

impl Matcher {
    /// Builds a matcher, compiling the regular expression of `=~` and `!~`.
    ///
    /// # Errors
    /// [`Error::InvalidRegex`] when the expression does not compile.
    pub fn new(op: MatchOp, name: impl Into<String>, value: impl Into<String>) -> Result<Self> {
        let (name, value) = (name.into(), value.into());
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => {
                let anchored = format!("^(?s:{value})$");
                let re = Regex::new(&anchored).map_err(|e| Error::InvalidRegex {
                    pattern: value.clone(),
                    reason: e.to_string(),
                })?;
                Some(Arc::new(re))
            }
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Self {
            name,
            op,
            value,
            regex,
        })
    }

    /// An `=` matcher; it cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            regex: None,
        }
    }

    /// Whether a label value (empty when the label is absent) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => self.value == value,
            (MatchOp::NotEqual, _) => self.value != value,
            (MatchOp::Regex, Some(re)) => re.is_match(value),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(value),
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// Whether the matcher selects series that lack the label (it matches the empty value).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=~` matchers whose expression is a plain alternation of literals (`a|b|c`), the
    /// literals; storage uses them to look up postings instead of scanning every value.
    pub fn set_matches(&self) -> Option<Vec<String>> {
        if self.op != MatchOp::Regex {
            return None;
        }
        let parts: Vec<&str> = self.value.split('|').collect();
        let literal = |s: &&str| {
            s.chars()
                .all(|c| c.is_alphanumeric() || "_-:/ ,@".contains(c))
        };
        parts
            .iter()
            .all(literal)
            .then(|| parts.iter().map(|s| s.to_string()).collect())
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(op: MatchOp, v: &str) -> Matcher {
        Matcher::new(op, "job", v).unwrap()
    }

    #[test]
    fn regex_is_fully_anchored() {
        assert!(m(MatchOp::Regex, "api").matches("api"));
        assert!(!m(MatchOp::Regex, "api").matches("xapi"));
        assert!(!m(MatchOp::Regex, "api").matches("apix"));
        assert!(m(MatchOp::Regex, "a|b").matches("b"));
        assert!(!m(MatchOp::Regex, "a|b").matches("ab"));
        assert!(m(MatchOp::NotRegex, "a.*").matches("ba"));
        assert!(!m(MatchOp::NotRegex, "a.*").matches("abc"));
    }

    #[test]
    fn dot_matches_newline() {
        assert!(m(MatchOp::Regex, "a.b").matches("a\nb"));
    }

    #[test]
    fn empty_value_stands_for_a_missing_label() {
        assert!(m(MatchOp::Equal, "").matches_empty());
        assert!(m(MatchOp::Regex, ".*").matches_empty());
        assert!(!m(MatchOp::Regex, ".+").matches_empty());
        assert!(m(MatchOp::NotEqual, "x").matches_empty());
    }

    #[test]
    fn bad_regex_names_the_pattern() {
        let err = Matcher::new(MatchOp::Regex, "job", "a(").unwrap_err();
        assert!(err.to_string().contains("\"a(\""), "{err}");
    }

    #[test]
    fn set_matches_only_for_literal_alternations() {
        assert_eq!(
            m(MatchOp::Regex, "a|b").set_matches(),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(m(MatchOp::Regex, "a.*").set_matches(), None);
        assert_eq!(m(MatchOp::Equal, "a").set_matches(), None);
    }
}
