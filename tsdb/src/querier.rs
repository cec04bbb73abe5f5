//! The read path: [`model::Querier`] over the store and the head.

use std::collections::BTreeSet;

use model::{
    Labels, Matcher, Querier, Queryable, Sample, SelectHints, Series, SeriesSet, Timestamp,
};

use parking_lot::Mutex;

use crate::codec::SeriesId;
use crate::db::Db;
use crate::{Error, Result, index};

/// A reader of one time range of a [`Db`].
pub struct DbQuerier<'a> {
    db: &'a Db,
    mint: Timestamp,
    maxt: Timestamp,
    /// Warnings about damaged data this querier's reads left out, each once.
    damaged: Mutex<BTreeSet<String>>,
}

impl Queryable for Db {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> model::Result<Box<dyn Querier + '_>> {
        Ok(Box::new(DbQuerier {
            db: self,
            mint,
            maxt,
            damaged: Mutex::default(),
        }))
    }
}

impl Db {
    /// The samples of series `id` in `[mint, maxt]`, ascending, one per timestamp.
    ///
    /// The head is read before the store: a chunk sealed in between is then seen twice, never
    /// missed, and the merge drops the duplicate timestamps.
    ///
    /// Damaged stored data (a table failing its checksum, a chunk that does not decode) is
    /// left out, and a warning naming it is pushed to `damaged`.
    pub(crate) fn series_samples(
        &self,
        id: SeriesId,
        mint: Timestamp,
        maxt: Timestamp,
        damaged: &mut Vec<String>,
    ) -> Result<Vec<Sample>> {
        let mut head_part = Vec::new();
        self.state
            .lock()
            .head
            .samples_of(id, mint, maxt, &mut head_part);
        let mut out: Vec<Sample> = Vec::new();
        for part in self
            .store
            .series_parts(id, mint, maxt, self.opts.partition_ms, damaged)?
        {
            for chunk in &part.chunks {
                // The header says where a chunk ends: skip those outside the range.
                if chunk.mint > maxt || chunk.maxt.is_some_and(|m| m < mint) {
                    continue;
                }
                let decoded = self.store.chunk_samples(&part, chunk, |bytes| {
                    let mut v = Vec::new();
                    chunkenc::decode_sealed(bytes, &mut v)
                        .map_err(|e| self.chunk_error(id, chunk.mint, e))?;
                    Ok::<_, Error>(v)
                });
                let samples = match decoded {
                    Ok(samples) => samples,
                    Err(e) => {
                        let msg = format!("{e}: its samples are left out");
                        tracing::error!("storage: {msg}");
                        damaged.push(msg);
                        continue;
                    }
                };
                let lo = samples.partition_point(|s| s.t < mint);
                let hi = samples.partition_point(|s| s.t <= maxt);
                out.extend_from_slice(&samples[lo..hi.max(lo)]);
            }
        }
        let in_order = out.is_sorted_by(|a, b| a.t < b.t)
            && head_part.is_sorted_by(|a, b| a.t < b.t)
            && head_part
                .first()
                .is_none_or(|h| out.last().is_none_or(|s| s.t < h.t));
        out.extend(head_part);
        if !in_order {
            out.sort_by_key(|s| s.t);
            out.dedup_by_key(|s| s.t);
        }
        Ok(out)
    }

    /// The newest sample of series `id` in the store (not the head), if any.
    pub(crate) fn newest_stored(&self, id: SeriesId) -> Result<Option<Sample>> {
        let Some((cmint, bytes)) = self.store.last_chunk(id)? else {
            return Ok(None);
        };
        let mut samples = Vec::new();
        chunkenc::decode_sealed(&bytes, &mut samples)
            .map_err(|e| self.chunk_error(id, cmint, e))?;
        Ok(samples.last().copied())
    }

    /// The error for a stored chunk of series `id` starting at `mint` that does not decode.
    pub(crate) fn chunk_error(
        &self,
        id: SeriesId,
        mint: Timestamp,
        e: chunkenc::ChunkError,
    ) -> Error {
        Error::Corrupt {
            what: "chunk",
            path: self
                .dir
                .join("kv")
                .join(format!("p{}", self.opts.partition_start(mint))),
            offset: 0,
            reason: format!("series {id} chunk at {mint}: {e}"),
        }
    }

    /// Every damaged data file found since the database was opened (set aside at open, or
    /// met by a read), each a message naming the file and what was left out.
    pub fn damaged_files(&self) -> Vec<String> {
        self.store.damage.all()
    }

    /// Labels of a stored series.
    pub(crate) fn series_labels(&self, id: SeriesId) -> Result<Labels> {
        self.store.labels(id)?.ok_or_else(|| Error::Corrupt {
            what: "postings",
            path: self.dir.join("kv"),
            offset: 0,
            reason: format!("series {id} is indexed but has no labels"),
        })
    }
}

/// How a querier's range relates to the stored data.
#[derive(Debug, PartialEq, Eq)]
enum Coverage {
    /// The range holds every stored sample: the index answers label questions alone.
    Everything,
    /// The range holds some samples, or it is not known which: look at the series.
    Part,
}

impl DbQuerier<'_> {
    /// Whether the range spans every partition and the newest sample.
    fn coverage(&self) -> Result<Coverage> {
        let head_max = self.db.state.lock().head.max_t;
        let newest = self.db.store.max_t()?.unwrap_or(i64::MIN).max(head_max);
        let oldest = self.db.store.partition_starts().first().copied();
        Ok(match oldest {
            Some(o) if self.mint <= o && self.maxt >= newest => Coverage::Everything,
            _ => Coverage::Part,
        })
    }

    /// The series matching `matchers` (every series when empty) with samples in the range.
    fn series_in_range(&self, matchers: &[Matcher]) -> Result<Vec<Series>> {
        if !matchers.is_empty() {
            return self.matching(matchers);
        }
        let all = Matcher::new(model::MatchOp::Regex, "__name__", ".*")?;
        self.matching(&[all])
    }

    /// The labels and ids of the series matching `matchers`, sorted by labels when `sorted`.
    fn matching_ids(&self, matchers: &[Matcher], sorted: bool) -> Result<Vec<(Labels, SeriesId)>> {
        let mut out = Vec::new();
        for id in index::select_ids(&self.db.store, matchers)? {
            out.push((self.db.series_labels(id)?, id));
        }
        if sorted {
            out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(out)
    }

    /// The samples of series `id` in the range; warnings about damaged data are kept.
    fn samples_of(&self, id: SeriesId) -> Result<Vec<Sample>> {
        let mut damaged = Vec::new();
        let samples = self
            .db
            .series_samples(id, self.mint, self.maxt, &mut damaged);
        if !damaged.is_empty() {
            self.damaged.lock().extend(damaged);
        }
        samples
    }

    fn matching(&self, matchers: &[Matcher]) -> Result<Vec<Series>> {
        let mut out = Vec::new();
        for id in index::select_ids(&self.db.store, matchers)? {
            let samples = self.samples_of(id)?;
            if !samples.is_empty() {
                out.push(Series {
                    labels: self.db.series_labels(id)?,
                    samples,
                });
            }
        }
        out.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}

impl DbQuerier<'_> {
    /// `e`, naming the damaged file when it is a damaged-bytes error (see `damage.rs`).
    fn explain(&self, e: Error) -> model::Error {
        crate::damage::explain(&self.db.dir.join("kv"), e).into()
    }

    fn names_in_range(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        if matchers.is_empty() && self.coverage()? == Coverage::Everything {
            let mut names = self.db.store.names()?;
            names.sort_unstable();
            names.dedup();
            return Ok(names);
        }
        let names: BTreeSet<String> = self
            .series_in_range(matchers)?
            .iter()
            .flat_map(|s| s.labels.iter().map(|l| l.name.to_string()))
            .collect();
        Ok(names.into_iter().collect())
    }

    fn values_in_range(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        if matchers.is_empty() && self.coverage()? == Coverage::Everything {
            let mut values = self.db.store.values(name)?;
            values.sort_unstable();
            values.dedup();
            return Ok(values);
        }
        let values: BTreeSet<String> = self
            .series_in_range(matchers)?
            .iter()
            .filter_map(|s| s.labels.get(name).map(str::to_string))
            .collect();
        Ok(values.into_iter().collect())
    }
}

/// Errors that come from damaged stored bytes name the damaged file.
impl Querier for DbQuerier<'_> {
    /// Decodes each series' samples only when the iteration reaches it, so a reader that
    /// handles one series at a time holds one series' samples at a time.
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> model::Result<SeriesSet<'_>> {
        let ids = self
            .matching_ids(matchers, !hints.unordered)
            .map_err(|e| self.explain(e))?;
        Ok(Box::new(ids.into_iter().filter_map(
            move |(labels, id)| match self.samples_of(id) {
                Ok(samples) if samples.is_empty() => None,
                Ok(samples) => Some(Ok(Series { labels, samples })),
                Err(e) => Some(Err(self.explain(e))),
            },
        )))
    }

    /// Keyspaces set aside at open (this querier's range may have had samples there), then
    /// the damaged files its reads met.
    fn warnings(&self) -> Vec<String> {
        let mut out = self.db.store.damage.set_aside();
        out.extend(self.damaged.lock().iter().cloned());
        out
    }

    fn label_names(&self, matchers: &[Matcher]) -> model::Result<Vec<String>> {
        self.names_in_range(matchers).map_err(|e| self.explain(e))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> model::Result<Vec<String>> {
        self.values_in_range(name, matchers)
            .map_err(|e| self.explain(e))
    }
}
