//! Legend texts: only the labels that tell the series apart, values shortened.

use std::collections::BTreeSet;

use model::Labels;

/// Label values longer than this are shortened in the middle.
const MAX_VALUE_CHARS: usize = 32;

/// One legend text per label set: the labels whose values differ between the sets, as
/// `{name="value", ...}`, the metric name first when it differs; a single series is named
/// by its metric name and all its labels. An empty set is `{}`.
pub fn texts(sets: &[&Labels]) -> Vec<String> {
    let names: BTreeSet<&str> = sets
        .iter()
        .flat_map(|l| l.iter().map(|x| &*x.name))
        .collect();
    let differing: Vec<&str> = if sets.len() <= 1 {
        names.into_iter().collect()
    } else {
        names
            .into_iter()
            .filter(|n| {
                let first = sets[0].get(n);
                sets.iter().any(|l| l.get(n) != first)
            })
            .collect()
    };
    sets.iter().map(|l| text(l, &differing)).collect()
}

fn text(l: &Labels, names: &[&str]) -> String {
    let metric = names
        .contains(&model::METRIC_NAME)
        .then(|| l.get(model::METRIC_NAME))
        .flatten()
        .unwrap_or("");
    let pairs: Vec<String> = names
        .iter()
        .filter(|n| **n != model::METRIC_NAME)
        .filter_map(|n| l.get(n).map(|v| format!("{n}=\"{}\"", shorten(v))))
        .collect();
    if pairs.is_empty() && !metric.is_empty() {
        return metric.to_string();
    }
    format!("{metric}{{{}}}", pairs.join(", "))
}

/// `v` cut in the middle with `…` when longer than [`MAX_VALUE_CHARS`].
fn shorten(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() <= MAX_VALUE_CHARS {
        return v.to_string();
    }
    let keep = (MAX_VALUE_CHARS - 1) / 2;
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs).unwrap_or_default()
    }

    #[test]
    fn only_differing_labels_are_shown() {
        let a = l(&[("__name__", "up"), ("job", "node"), ("instance", "a:9100")]);
        let b = l(&[("__name__", "up"), ("job", "node"), ("instance", "b:9100")]);
        assert_eq!(
            texts(&[&a, &b]),
            ["{instance=\"a:9100\"}", "{instance=\"b:9100\"}"]
        );
        assert_eq!(texts(&[&a]), ["up{instance=\"a:9100\", job=\"node\"}"]);
        let c = l(&[
            ("__name__", "down"),
            ("job", "node"),
            ("instance", "a:9100"),
        ]);
        assert_eq!(texts(&[&a, &c]), ["up", "down"]);
        assert_eq!(texts(&[&l(&[])]), ["{}"]);
    }

    #[test]
    fn long_values_are_shortened_in_the_middle() {
        let id = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice";
        let s = shorten(id);
        assert_eq!(s.chars().count(), 31);
        assert!(
            s.starts_with("/kubepods.slice") && s.ends_with("pod1234.slice"),
            "{s}"
        );
    }
}
