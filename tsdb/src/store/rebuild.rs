//! Rebuilding the index keyspaces that derive from `series` (hashes, postings, values) and
//! the `meta` entry that derives from the partitions, after they were found damaged.

use fjall::Keyspace;
use model::{Labels, Timestamp};

use super::{MAX_T_KEY, Store};
use crate::codec::{self, Reader, SeriesId};
use crate::damage::index_damage;
use crate::{Error, Result};

/// Series per rebuild batch: bounds the memory a rebuild takes.
const BATCH: usize = 65_536;

impl Store {
    /// Rebuilds the keyspaces named in `names` (any of `hashes`, `postings`, `values`,
    /// `meta`), which must be empty, from `series` and the partitions.
    ///
    /// # Errors
    /// A store error, or a damaged `series` keyspace.
    pub(crate) fn rebuild_index(&self, names: &[&str]) -> Result<()> {
        let index: Vec<&Keyspace> = [
            ("hashes", &self.hashes),
            ("postings", &self.postings),
            ("values", &self.values),
        ]
        .into_iter()
        .filter(|(n, _)| names.contains(n))
        .map(|(_, ks)| ks)
        .collect();
        if !index.is_empty() {
            let series = self.rebuild_postings(&index)?;
            tracing::warn!(series, keyspaces = ?names, "storage: index rebuilt from the series keyspace");
        }
        if names.contains(&"meta") {
            if let Some(max_t) = self.newest_chunk_time()? {
                self.meta.insert(MAX_T_KEY, max_t.to_be_bytes())?;
            }
            tracing::warn!("storage: meta rebuilt from the partitions");
        }
        Ok(())
    }

    /// Writes the entries of every stored series into the keyspaces `into`; returns how many
    /// series there are.
    fn rebuild_postings(&self, into: &[&Keyspace]) -> Result<usize> {
        let mut batch: Vec<(SeriesId, Labels)> = Vec::with_capacity(BATCH);
        let mut total = 0;
        for kv in self.series.iter() {
            let (k, v) = kv
                .into_inner()
                .map_err(|e| index_damage(&self.series, "series", e))?;
            let id: [u8; 8] = (*k).try_into().map_err(|_| self.corrupt("series key", 0))?;
            let labels = codec::decode_labels(&mut Reader::new(&v))
                .map_err(|off| self.corrupt("series entry", off))?;
            batch.push((u64::from_be_bytes(id), labels));
            if batch.len() == BATCH {
                total += batch.len();
                self.write_entries(&std::mem::take(&mut batch), into)?;
            }
        }
        total += batch.len();
        self.write_entries(&batch, into)?;
        Ok(total)
    }

    /// Writes the hashes, postings and values entries of `series` to those of `into`.
    fn write_entries(&self, series: &[(SeriesId, Labels)], into: &[&Keyspace]) -> Result<()> {
        if series.is_empty() {
            return Ok(());
        }
        let e = self.series_entries(series);
        let mut b = self.db.batch();
        let wants = |ks: &Keyspace| into.iter().any(|k| k.name() == ks.name());
        if wants(&self.hashes) {
            for k in &e.hash_keys {
                b.insert(&self.hashes, k.as_slice(), []);
            }
        }
        if wants(&self.postings) {
            for (k, v) in &e.postings {
                b.insert(&self.postings, k.as_slice(), v.as_slice());
            }
        }
        if wants(&self.values) {
            for k in &e.values {
                b.insert(&self.values, &**k, []);
            }
        }
        b.commit()?;
        self.known_values.write().extend(e.values);
        Ok(())
    }

    /// The newest sample time in any stored chunk: the largest end time of the chunks of the
    /// newest partition that holds any.
    fn newest_chunk_time(&self) -> Result<Option<Timestamp>> {
        let parts: Vec<Keyspace> = self.partitions.read().values().rev().cloned().collect();
        for ks in parts {
            let mut newest: Option<Timestamp> = None;
            for kv in ks.iter() {
                let v = kv.value().map_err(Error::from)?;
                if let Ok(m) = chunkenc::sealed_meta(&v) {
                    newest = Some(newest.map_or(m.maxt, |n| n.max(m.maxt)));
                }
            }
            if newest.is_some() {
                return Ok(newest);
            }
        }
        Ok(None)
    }
}
