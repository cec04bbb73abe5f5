//! [`model::LateSamples`] for the database: samples committed at or before a reader's
//! horizon, kept in memory per reader until taken.
//!
//! The commit path looks at one atomic (the largest horizon) per commit and, only when a
//! sample is at or before it, at the readers. Horizons are set with `SeqCst` and looked at
//! after the samples are applied to the head, under the head's lock: either the commit sees
//! the new horizon (and keeps the sample) or it applied the sample before the horizon was set,
//! so the reader's read after setting it sees the sample.
//!
//! At most `Options::late_samples_kept` samples are kept per reader; past that, samples are
//! counted and not kept. What is kept is lost with the process: a sample committed just
//! before a crash and not yet taken is not offered again (it is stored, though).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};

use model::{LateSamples, LateTake, Sample, Series, Timestamp};
use parking_lot::{Mutex, RwLock};

use crate::codec::SeriesId;
use crate::db::Db;

/// What one reader has not taken yet.
#[derive(Default)]
struct Kept {
    horizon: Timestamp,
    samples: Vec<(SeriesId, Timestamp, f64)>,
    not_kept: u64,
}

/// Every reader's horizon and kept samples.
pub(crate) struct LateFeed {
    /// The largest horizon of any reader, `i64::MIN` without readers.
    max_horizon: AtomicI64,
    readers: RwLock<HashMap<String, Mutex<Kept>>>,
}

impl Default for LateFeed {
    fn default() -> Self {
        Self {
            max_horizon: AtomicI64::new(i64::MIN),
            readers: RwLock::new(HashMap::new()),
        }
    }
}

impl LateFeed {
    /// Keeps, for every reader whose horizon is at or after a sample's time, the samples of a
    /// commit just applied. Call with the head locked, after applying.
    pub(crate) fn observe(
        &self,
        samples: impl Iterator<Item = (SeriesId, Timestamp, f64)>,
        max_kept: usize,
    ) {
        let max = self.max_horizon.load(Ordering::SeqCst);
        let mut late = samples.filter(|&(_, t, _)| t <= max).peekable();
        if late.peek().is_none() {
            return;
        }
        let late: Vec<_> = late.collect();
        for kept in self.readers.read().values() {
            let mut k = kept.lock();
            for &(id, t, v) in &late {
                if t > k.horizon {
                    continue;
                }
                if k.samples.len() < max_kept {
                    k.samples.push((id, t, v));
                } else {
                    k.not_kept += 1;
                }
            }
        }
    }

    fn set_horizon(&self, reader: &str, horizon: Timestamp) {
        let mut readers = self.readers.write();
        readers
            .entry(reader.to_string())
            .or_insert_with(|| Mutex::new(Kept::default()))
            .lock()
            .horizon = horizon;
        let max = readers
            .values()
            .map(|k| k.lock().horizon)
            .max()
            .unwrap_or(i64::MIN);
        self.max_horizon.store(max, Ordering::SeqCst);
    }

    /// Takes a reader's kept samples and the count of those not kept.
    fn take(&self, reader: &str) -> (Vec<(SeriesId, Timestamp, f64)>, u64) {
        let readers = self.readers.read();
        let Some(k) = readers.get(reader) else {
            return (Vec::new(), 0);
        };
        let mut k = k.lock();
        (
            std::mem::take(&mut k.samples),
            std::mem::take(&mut k.not_kept),
        )
    }
}

impl LateSamples for Db {
    fn set_horizon(&self, reader: &str, horizon: Timestamp) {
        self.late.set_horizon(reader, horizon);
    }

    fn take_late(&self, reader: &str) -> model::Result<LateTake> {
        let (samples, not_kept) = self.late.take(reader);
        let mut by_id: HashMap<SeriesId, Vec<Sample>> = HashMap::new();
        let mut order = Vec::new();
        for (id, t, v) in samples {
            by_id
                .entry(id)
                .or_insert_with(|| {
                    order.push(id);
                    Vec::new()
                })
                .push(Sample::new(t, v));
        }
        let mut series = Vec::with_capacity(order.len());
        for id in order {
            let samples = by_id.remove(&id).unwrap_or_default();
            series.push(Series {
                labels: self.series_labels(id)?,
                samples,
            });
        }
        Ok(LateTake { series, not_kept })
    }
}
