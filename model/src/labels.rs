//! Label sets: sorted by name, `__name__` included, cheap to clone.

use std::fmt;
use std::sync::Arc;

use crate::{Error, Result};

/// The label that carries a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// One name/value pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The label name, never empty.
    pub name: Box<str>,
    /// The label value, never empty (an empty value means the label is absent).
    pub value: Box<str>,
}

impl Label {
    /// Builds a label.
    pub fn new(name: impl Into<Box<str>>, value: impl Into<Box<str>>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// An immutable label set, sorted by name with unique names and no empty values.
///
/// Cloning is a reference-count increment. Ordering compares label by label (name, then value),
/// which is the order Prometheus sorts series in.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Labels(Arc<[Label]>);

/// Label sets up to this size are searched linearly by [`Labels::get`].
const LINEAR_GET_MAX: usize = 8;

impl Labels {
    /// Builds a label set from pairs in any order; labels with an empty value are dropped.
    ///
    /// # Errors
    /// [`Error::InvalidLabels`] when a name is empty or appears twice.
    pub fn new(mut labels: Vec<Label>) -> Result<Self> {
        labels.retain(|l| !l.value.is_empty());
        labels.sort_unstable();
        for pair in labels.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(invalid(&labels, "duplicate label name"));
            }
        }
        if labels.iter().any(|l| l.name.is_empty()) {
            return Err(invalid(&labels, "empty label name"));
        }
        Ok(Self(labels.into()))
    }

    /// Builds a label set from `(name, value)` pairs.
    ///
    /// # Errors
    /// As [`Labels::new`].
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Result<Self> {
        Self::new(
            pairs
                .iter()
                .map(|(n, v)| Label::new(n.as_ref(), v.as_ref()))
                .collect(),
        )
    }

    /// The empty label set.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The labels for which `keep` holds, still sorted and unique.
    pub fn filtered(&self, keep: impl Fn(&Label) -> bool) -> Self {
        Self(self.0.iter().filter(|l| keep(l)).cloned().collect())
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        // Small sets (most series) are scanned: comparing for equality checks the length
        // first and so mostly skips the byte comparison a binary search always makes.
        if self.0.len() <= LINEAR_GET_MAX {
            return self.0.iter().find(|l| *l.name == *name).map(|l| &*l.value);
        }
        self.0
            .binary_search_by(|l| (*l.name).cmp(name))
            .ok()
            .map(|i| &*self.0[i].value)
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// The labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The number of labels, `__name__` included.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A builder starting from these labels.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self.0.to_vec(),
        }
    }

    /// The labels as a slice, in name order.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }
}

fn invalid(labels: &[Label], reason: &'static str) -> Error {
    let shown: Vec<String> = labels
        .iter()
        .map(|l| format!("{}={:?}", l.name, l.value))
        .collect();
    Error::InvalidLabels {
        labels: format!("{{{}}}", shown.join(", ")),
        reason,
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Formats as Prometheus does: `name{a="1", b="2"}`, or `{a="1"}` without a metric name.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.metric_name() {
            f.write_str(name)?;
        }
        f.write_str("{")?;
        let mut first = true;
        for l in self.0.iter().filter(|l| &*l.name != METRIC_NAME) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}=\"", l.name)?;
            write_escaped(f, &l.value)?;
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Writes `value` with `\\`, `\"` and `\n` escaped, as in the exposition format.
fn write_escaped(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    for c in value.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '"' => f.write_str("\\\"")?,
            '\n' => f.write_str("\\n")?,
            c => write!(f, "{c}")?,
        }
    }
    Ok(())
}

/// Builds a [`Labels`] by setting and deleting labels.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, replacing an earlier value; an empty value deletes the label.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.del(name);
        if !value.is_empty() {
            self.labels.push(Label::new(name, value));
        }
        self
    }

    /// Removes label `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        self.labels.retain(|l| &*l.name != name);
        self
    }

    /// Finishes the label set.
    ///
    /// # Errors
    /// [`Error::InvalidLabels`] when a name is empty.
    pub fn build(&self) -> Result<Labels> {
        Labels::new(self.labels.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_drops_empty_values() {
        let l =
            Labels::from_pairs(&[("b", "2"), ("__name__", "up"), ("a", "1"), ("c", "")]).unwrap();
        let names: Vec<&str> = l.iter().map(|l| &*l.name).collect();
        assert_eq!(names, ["__name__", "a", "b"]);
        assert_eq!(l.get("a"), Some("1"));
        assert_eq!(l.get("c"), None);
        assert_eq!(l.to_string(), r#"up{a="1", b="2"}"#);
    }

    #[test]
    fn rejects_duplicate_and_empty_names() {
        let dup = Labels::from_pairs(&[("a", "1"), ("a", "2")]).unwrap_err();
        assert!(dup.to_string().contains("duplicate label name"), "{dup}");
        let empty = Labels::from_pairs(&[("", "1")]).unwrap_err();
        assert!(empty.to_string().contains("empty label name"), "{empty}");
    }

    #[test]
    fn escapes_values_when_displayed() {
        let l = Labels::from_pairs(&[("a", "x\"y\\z\nw")]).unwrap();
        assert_eq!(l.to_string(), r#"{a="x\"y\\z\nw"}"#);
    }

    #[test]
    fn builder_sets_and_deletes() {
        let l = Labels::from_pairs(&[("a", "1"), ("b", "2")]).unwrap();
        let out = l
            .builder()
            .set("a", "9")
            .del("b")
            .set("c", "3")
            .build()
            .unwrap();
        assert_eq!(out, Labels::from_pairs(&[("a", "9"), ("c", "3")]).unwrap());
    }
}
