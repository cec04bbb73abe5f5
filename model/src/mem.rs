//! An in-memory storage implementing both sides of the traits, for tests of other crates.

use std::collections::{BTreeMap, BTreeSet};

use parking_lot::RwLock;

use crate::{
    Appendable, Appender, Error, Labels, Matcher, Querier, Queryable, Result, Sample, SelectHints,
    Series, SeriesRef, SeriesSet, Timestamp, matches_all,
};

/// In-memory storage with the same sample rules as the database: it is the model the
/// database is checked against, and the storage other crates' tests run on.
#[derive(Debug, Default)]
pub struct MemStorage {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    series: BTreeMap<Labels, Vec<Sample>>,
    refs: Vec<Labels>,
}

impl MemStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends and commits `samples` of one series; a convenience for test set-up.
    ///
    /// # Errors
    /// As [`Appender::append`].
    pub fn add_series(&self, labels: &Labels, samples: &[Sample]) -> Result<()> {
        let mut app = self.appender();
        for s in samples {
            app.append(None, labels, s.t, s.v)?;
        }
        app.commit()
    }

    /// The number of stored series.
    pub fn series_count(&self) -> usize {
        self.inner.read().series.len()
    }
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender {
            storage: self,
            pending: Vec::new(),
        })
    }
}

struct MemAppender<'a> {
    storage: &'a MemStorage,
    pending: Vec<(Labels, Sample)>,
}

impl MemAppender<'_> {
    fn newest(&self, labels: &Labels) -> Option<Sample> {
        let batch = self
            .pending
            .iter()
            .rev()
            .find(|(l, _)| l == labels)
            .map(|(_, s)| *s);
        batch.or_else(|| {
            self.storage
                .inner
                .read()
                .series
                .get(labels)
                .and_then(|s| s.last().copied())
        })
    }

    fn reference(&self, labels: &Labels) -> SeriesRef {
        let mut inner = self.storage.inner.write();
        let pos = inner
            .refs
            .iter()
            .position(|l| l == labels)
            .unwrap_or_else(|| {
                inner.refs.push(labels.clone());
                inner.refs.len() - 1
            });
        SeriesRef(pos as u64)
    }
}

impl Appender for MemAppender<'_> {
    fn append(
        &mut self,
        series: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef> {
        if labels.is_empty() {
            return Err(Error::InvalidLabels {
                labels: "{}".into(),
                reason: "no labels",
            });
        }
        if let Some(newest) = self.newest(labels) {
            if t < newest.t {
                return Err(Error::OutOfOrderSample);
            }
            if t == newest.t {
                if v.to_bits() != newest.v.to_bits() {
                    return Err(Error::DuplicateSampleForTimestamp);
                }
                return Ok(series.unwrap_or_else(|| self.reference(labels)));
            }
        }
        self.pending.push((labels.clone(), Sample::new(t, v)));
        Ok(series.unwrap_or_else(|| self.reference(labels)))
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let mut inner = self.storage.inner.write();
        for (labels, sample) in self.pending {
            inner.series.entry(labels).or_default().push(sample);
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {}
}

impl Queryable for MemStorage {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier + '_>> {
        Ok(Box::new(MemQuerier {
            storage: self,
            mint,
            maxt,
        }))
    }
}

struct MemQuerier<'a> {
    storage: &'a MemStorage,
    mint: Timestamp,
    maxt: Timestamp,
}

impl MemQuerier<'_> {
    fn matching(&self, matchers: &[Matcher]) -> Vec<Series> {
        let inner = self.storage.inner.read();
        inner
            .series
            .iter()
            .filter(|(labels, _)| matches_all(labels, matchers))
            .map(|(labels, samples)| Series {
                labels: labels.clone(),
                samples: samples
                    .iter()
                    .filter(|s| s.t >= self.mint && s.t <= self.maxt)
                    .copied()
                    .collect(),
            })
            .filter(|s| !s.samples.is_empty())
            .collect()
    }
}

impl Querier for MemQuerier<'_> {
    fn select(&self, _hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet<'_>> {
        if matchers.is_empty() {
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(Box::new(self.matching(matchers).into_iter().map(Ok)))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        let names: BTreeSet<String> = self
            .matching(matchers)
            .iter()
            .flat_map(|s| {
                s.labels
                    .iter()
                    .map(|l| l.name.to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        let values: BTreeSet<String> = self
            .matching(matchers)
            .iter()
            .filter_map(|s| s.labels.get(name).map(str::to_string))
            .collect();
        Ok(values.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MatchOp;

    fn labels(job: &str) -> Labels {
        Labels::from_pairs(&[("__name__", "up"), ("job", job)]).unwrap()
    }

    #[test]
    fn applies_prometheus_sample_rules() {
        let db = MemStorage::new();
        let mut app = db.appender();
        app.append(None, &labels("a"), 10, 1.0).unwrap();
        assert!(matches!(
            app.append(None, &labels("a"), 5, 1.0),
            Err(Error::OutOfOrderSample)
        ));
        assert!(matches!(
            app.append(None, &labels("a"), 10, 2.0),
            Err(Error::DuplicateSampleForTimestamp)
        ));
        app.append(None, &labels("a"), 10, 1.0).unwrap();
        app.commit().unwrap();
        let q = db.querier(0, 100).unwrap();
        let all: Vec<Series> = q
            .select(&SelectHints::default(), &[Matcher::equal("job", "a")])
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].samples, vec![Sample::new(10, 1.0)]);
    }

    #[test]
    fn rollback_stores_nothing_and_ranges_filter() {
        let db = MemStorage::new();
        let mut app = db.appender();
        app.append(None, &labels("a"), 10, 1.0).unwrap();
        app.rollback();
        assert_eq!(db.series_count(), 0);
        db.add_series(&labels("b"), &[Sample::new(10, 1.0), Sample::new(20, 2.0)])
            .unwrap();
        let q = db.querier(15, 25).unwrap();
        let re = Matcher::new(MatchOp::Regex, "job", "b|c").unwrap();
        let got: Vec<Series> = q
            .select(&SelectHints::default(), &[re])
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(got[0].samples, vec![Sample::new(20, 2.0)]);
        assert_eq!(q.label_values("job", &[]).unwrap(), vec!["b".to_string()]);
    }
}
