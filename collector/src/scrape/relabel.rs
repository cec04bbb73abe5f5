//! Relabeling as Prometheus's `model/relabel` does it: the same actions, defaults,
//! validation messages and expansion rules, on a label set held as a sorted map.
//!
//! Defaults: `separator` `;`, `regex` `(.*)` (always anchored: `^(?:regex)$`),
//! `replacement` `$1`, `action` `replace`. `$1`, `$name` and `${name}` in `target_label`
//! and `replacement` expand as Go's `Regexp.Expand` does (the longest name wins, so `$1x`
//! names group `1x`, which is empty; `$$` is a `$`), which is also what the `regex` crate
//! does. Setting a label to the empty string deletes it.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use regex::Regex;

use super::config::RelabelConfig;

/// A label set being relabeled: name to value, no empty values.
pub type LabelMap = BTreeMap<String, String>;

const DEFAULT_SEPARATOR: &str = ";";
const DEFAULT_REGEX: &str = "(.*)";
const DEFAULT_REPLACEMENT: &str = "$1";

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Writes `replacement` (expanded) to `target_label` (expanded) when `regex` matches.
    Replace,
    /// Drops the set unless `regex` matches the joined source values.
    Keep,
    /// Drops the set when `regex` matches the joined source values.
    Drop,
    /// Drops the set unless `target_label`'s value equals the joined source values.
    KeepEqual,
    /// Drops the set when `target_label`'s value equals the joined source values.
    DropEqual,
    /// Writes the joined source values, lowercased, to `target_label`.
    Lowercase,
    /// Writes the joined source values, uppercased, to `target_label`.
    Uppercase,
    /// Writes md5(joined source values) mod `modulus` to `target_label`.
    HashMod,
    /// Copies every label whose name matches `regex` to the name `replacement` gives.
    LabelMap,
    /// Deletes every label whose name matches `regex`.
    LabelDrop,
    /// Deletes every label whose name does not match `regex`.
    LabelKeep,
}

impl Action {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "replace" => Self::Replace,
            "keep" => Self::Keep,
            "drop" => Self::Drop,
            "keepequal" => Self::KeepEqual,
            "dropequal" => Self::DropEqual,
            "lowercase" => Self::Lowercase,
            "uppercase" => Self::Uppercase,
            "hashmod" => Self::HashMod,
            "labelmap" => Self::LabelMap,
            "labeldrop" => Self::LabelDrop,
            "labelkeep" => Self::LabelKeep,
            _ => return None,
        })
    }

    /// The action's name as written in a config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Replace => "replace",
            Self::Keep => "keep",
            Self::Drop => "drop",
            Self::KeepEqual => "keepequal",
            Self::DropEqual => "dropequal",
            Self::Lowercase => "lowercase",
            Self::Uppercase => "uppercase",
            Self::HashMod => "hashmod",
            Self::LabelMap => "labelmap",
            Self::LabelDrop => "labeldrop",
            Self::LabelKeep => "labelkeep",
        }
    }
}

/// A validated, compiled relabeling rule.
#[derive(Debug, Clone)]
pub struct Rule {
    action: Action,
    source_labels: Vec<String>,
    separator: String,
    regex: Regex,
    modulus: u64,
    target_label: String,
    replacement: String,
}

/// Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Prometheus's `relabelTarget`: label-name characters and `$` references.
fn is_valid_target_template(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while let Some(c) = rest.chars().next() {
        if c == '$' {
            let after = &rest[1..];
            let len = if let Some(inner) = after.strip_prefix('{') {
                let n = inner.bytes().take_while(|b| is_word(*b)).count();
                if n == 0 || inner.as_bytes().get(n) != Some(&b'}') {
                    return false;
                }
                n + 2
            } else {
                let n = after.bytes().take_while(|b| is_word(*b)).count();
                if n == 0 {
                    return false;
                }
                n
            };
            rest = &after[len..];
        } else if c.is_ascii() && is_word(c as u8) {
            rest = &rest[1..];
        } else {
            return false;
        }
    }
    // A leading digit is not allowed outside a reference.
    !s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Rule {
    /// Validates `c` as Prometheus does and compiles it.
    ///
    /// # Errors
    /// Prometheus's message for the first problem (`unknown relabel action "foo"`,
    /// `relabel configuration for hashmod requires non-zero modulus`, a bad regex, ...).
    pub fn new(c: &RelabelConfig) -> Result<Self, String> {
        let action_text = c.action.as_deref().unwrap_or("replace");
        if action_text.is_empty() {
            return Err("relabel action cannot be empty".into());
        }
        let action = Action::parse(action_text)
            .ok_or_else(|| format!("unknown relabel action {action_text:?}"))?;
        for name in c.source_labels.iter().flatten() {
            if !is_valid_label_name(name) {
                return Err(format!("{name:?} is not a valid label name"));
            }
        }
        let pattern = c.regex.as_deref().unwrap_or(DEFAULT_REGEX);
        let regex = Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| format!("invalid regex {pattern:?}: {e}"))?;
        let rule = Self {
            action,
            source_labels: c.source_labels.clone().unwrap_or_default(),
            separator: c
                .separator
                .clone()
                .unwrap_or_else(|| DEFAULT_SEPARATOR.into()),
            regex,
            modulus: c.modulus.unwrap_or(0),
            target_label: c.target_label.clone().unwrap_or_default(),
            replacement: c
                .replacement
                .clone()
                .unwrap_or_else(|| DEFAULT_REPLACEMENT.into()),
        };
        rule.validate(c)?;
        Ok(rule)
    }

    /// Prometheus's `Config.Validate`.
    fn validate(&self, c: &RelabelConfig) -> Result<(), String> {
        use Action::*;
        let a = self.action;
        let name = a.as_str();
        let target = &self.target_label;
        if a == HashMod && self.modulus == 0 {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            a,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        );
        if needs_target && target.is_empty() {
            return Err(format!(
                "relabel configuration for {name} action requires 'target_label' value"
            ));
        }
        let bad_target = || format!("{target:?} is invalid 'target_label' for {name} action");
        if a == Replace && !target.contains('$') && !is_valid_label_name(target) {
            return Err(bad_target());
        }
        if a == Replace && target.contains('$') && !is_valid_target_template(target) {
            return Err(bad_target());
        }
        let plain_target = matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual | HashMod);
        if plain_target && !is_valid_label_name(target) {
            return Err(bad_target());
        }
        let replacement_set = c
            .replacement
            .as_deref()
            .is_some_and(|r| r != DEFAULT_REPLACEMENT);
        if matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual) && replacement_set {
            return Err(format!("'replacement' can not be set for {name} action"));
        }
        if a == LabelMap && !is_valid_target_template(&self.replacement) {
            return Err(format!(
                "{:?} is invalid 'replacement' for {name} action",
                self.replacement
            ));
        }
        let regex_set = c.regex.as_deref().is_some_and(|r| r != DEFAULT_REGEX);
        let separator_set = c
            .separator
            .as_deref()
            .is_some_and(|s| s != DEFAULT_SEPARATOR);
        let modulus_set = self.modulus != 0;
        if matches!(a, KeepEqual | DropEqual) && (regex_set || modulus_set || separator_set) {
            return Err(format!(
                "{name} action requires only 'source_labels' and `target_label`, and no other fields"
            ));
        }
        if matches!(a, LabelDrop | LabelKeep)
            && (c.source_labels.is_some()
                || !target.is_empty()
                || modulus_set
                || separator_set
                || replacement_set)
        {
            return Err(format!(
                "{name} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }

    /// The action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Applies this rule; `false` means the label set is dropped.
    pub fn apply(&self, lb: &mut LabelMap) -> bool {
        let val = self
            .source_labels
            .iter()
            .map(|n| lb.get(n).map_or("", String::as_str))
            .collect::<Vec<_>>()
            .join(&self.separator);
        match self.action {
            Action::Drop => return !self.regex.is_match(&val),
            Action::Keep => return self.regex.is_match(&val),
            Action::DropEqual => return get(lb, &self.target_label) != val,
            Action::KeepEqual => return get(lb, &self.target_label) == val,
            Action::Replace => self.replace(lb, &val),
            Action::Lowercase => set(lb, &self.target_label, &val.to_lowercase()),
            Action::Uppercase => set(lb, &self.target_label, &val.to_uppercase()),
            Action::HashMod => {
                let m = hash_mod(&val, self.modulus);
                set(lb, &self.target_label, &m.to_string());
            }
            Action::LabelMap => self.label_map(lb),
            Action::LabelDrop => lb.retain(|name, _| !self.regex.is_match(name)),
            Action::LabelKeep => lb.retain(|name, _| self.regex.is_match(name)),
        }
        true
    }

    fn replace(&self, lb: &mut LabelMap, val: &str) {
        let Some(caps) = self.regex.captures(val) else {
            return;
        };
        let mut target = String::new();
        caps.expand(&self.target_label, &mut target);
        if !is_valid_label_name(&target) {
            return;
        }
        let mut res = String::new();
        caps.expand(&self.replacement, &mut res);
        set(lb, &target, &res);
    }

    fn label_map(&self, lb: &mut LabelMap) {
        let snapshot: Vec<(String, String)> =
            lb.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
        for (name, value) in snapshot {
            if self.regex.is_match(&name) {
                let new = self.regex.replace_all(&name, self.replacement.as_str());
                set(lb, &new, &value);
            }
        }
    }
}

fn get<'a>(lb: &'a LabelMap, name: &str) -> &'a str {
    lb.get(name).map_or("", String::as_str)
}

/// Sets `name` to `value`; an empty value deletes the label (Prometheus's `labels.Builder`).
fn set(lb: &mut LabelMap, name: &str, value: &str) {
    if value.is_empty() {
        lb.remove(name);
    } else {
        lb.insert(name.to_string(), value.to_string());
    }
}

/// Prometheus's hashmod: the last 8 bytes of md5(`val`) as a big-endian u64, mod `modulus`
/// (`binary.BigEndian.Uint64(hash[8:]) % cfg.Modulus`).
pub fn hash_mod(val: &str, modulus: u64) -> u64 {
    let digest = Md5::digest(val.as_bytes());
    let mut last = [0u8; 8];
    if let Some(tail) = digest.get(8..16) {
        last.copy_from_slice(tail);
    }
    u64::from_be_bytes(last).checked_rem(modulus).unwrap_or(0)
}

/// Applies `rules` in order; `false` as soon as one drops the set.
pub fn process(rules: &[Rule], lb: &mut LabelMap) -> bool {
    rules.iter().all(|r| r.apply(lb))
}
