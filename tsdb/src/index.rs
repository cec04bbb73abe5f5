//! Matchers to series ids over the store's postings, as Prometheus's `PostingsForMatchers`.

use model::{MatchOp, Matcher};

use crate::Result;
use crate::codec::SeriesId;
use crate::store::Store;

/// The sorted ids of the series that satisfy every matcher. An empty list selects nothing.
///
/// Matchers that do not match the empty value narrow the set through postings. Those that do
/// (`a=""`, `a!="x"`, `a=~".*"`, ...) remove the series whose value of the label fails them; when
/// every matcher is of that kind the search starts from all series.
pub(crate) fn select_ids(store: &Store, matchers: &[Matcher]) -> Result<Vec<SeriesId>> {
    if matchers.is_empty() {
        return Ok(Vec::new());
    }
    let mut set: Option<Vec<SeriesId>> = None;
    for m in matchers.iter().filter(|m| !m.matches_empty()) {
        let ids = ids_matching(store, m)?;
        set = Some(match set {
            None => ids,
            Some(prev) => intersect(&prev, &ids),
        });
        if set.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
    }
    let mut set = match set {
        Some(s) => s,
        None => store.all_ids()?,
    };
    for m in matchers.iter().filter(|m| m.matches_empty()) {
        let failing = ids_with_value(store, &m.name, |v| !m.matches(v))?;
        set = subtract(&set, &failing);
    }
    Ok(set)
}

/// Ids of series whose label `m.name` has a value satisfying `m` (which rejects "").
fn ids_matching(store: &Store, m: &Matcher) -> Result<Vec<SeriesId>> {
    match (m.op, m.set_matches()) {
        (MatchOp::Equal, _) => store.postings(&m.name, &m.value),
        (_, Some(values)) => {
            let lists: Result<Vec<_>> = values.iter().map(|v| store.postings(&m.name, v)).collect();
            Ok(union(lists?))
        }
        _ => ids_with_value(store, &m.name, |v| m.matches(v)),
    }
}

/// Ids of series that have label `name` with a value for which `keep` holds.
fn ids_with_value(store: &Store, name: &str, keep: impl Fn(&str) -> bool) -> Result<Vec<SeriesId>> {
    let mut lists = Vec::new();
    for value in store.values(name)? {
        if keep(&value) {
            lists.push(store.postings(name, &value)?);
        }
    }
    Ok(union(lists))
}

fn union(lists: Vec<Vec<SeriesId>>) -> Vec<SeriesId> {
    let mut all: Vec<SeriesId> = lists.into_iter().flatten().collect();
    all.sort_unstable();
    all.dedup();
    all
}

fn intersect(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn subtract(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|&x| {
            while b.get(j).is_some_and(|&y| y < x) {
                j += 1;
            }
            b.get(j) != Some(&x)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        assert_eq!(intersect(&[1, 3, 5, 7], &[3, 4, 5]), vec![3, 5]);
        assert_eq!(subtract(&[1, 3, 5, 7], &[3, 4, 7]), vec![1, 5]);
        assert_eq!(union(vec![vec![5, 1], vec![1, 2]]), vec![1, 2, 5]);
    }
}
