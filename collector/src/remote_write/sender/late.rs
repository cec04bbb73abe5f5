//! Late samples: stored after the sender read past their time, kept for it by the storage
//! ([`model::LateSamples`]), and sent after the window that was read.
//!
//! Order and repeats: the horizon is set to a window's end before the window is read, so a
//! sample committed from then on with a time in the window or before it is kept; those the
//! window read anyway are recognised (the window's newest time per series) and left out, so
//! no series gets a sample older than one it was sent (which a receiver would refuse, with
//! the rest of the request). Durability: once taken they are written to `<name>.late` (a
//! remote-write request body) before the watermark moves past them, and the file is removed
//! once they are sent; a stop or a crash sends it at the next start. A crash loses only what
//! the storage kept in memory and the sender had not taken yet (less than one round), and
//! samples past the storage's limit of kept samples are counted as dropped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use model::LateSamples;

use super::shards::Pool;
use super::{Sender, hash64};
use crate::remote_write::proto::{TimeSeries, decode_write_request, encode_write_request};

impl Sender {
    /// Also sends samples that `late` keeps for this sender (committed after the sender
    /// read past their time). Registers the sender's horizon at once, at its persisted
    /// watermark, so that nothing committed from now on is missed.
    #[must_use]
    pub fn with_late(mut self, late: Arc<dyn LateSamples>) -> Self {
        late.set_horizon(&self.reader_name(), self.load_watermark(model::now_ms()));
        self.late = Some(late);
        self
    }

    /// The name this sender has as a reader of late samples.
    pub(super) fn reader_name(&self) -> String {
        format!("remote_write/{}", self.cfg.display_name())
    }

    /// Takes the samples kept for this sender, leaves out those the window sent (`newest`:
    /// the window's newest time per relabeled series), and writes the rest to the pending
    /// file; `None` when there are none.
    pub(super) fn take_late_pending(
        &self,
        newest: &HashMap<u64, i64>,
    ) -> Result<Option<Vec<TimeSeries>>, String> {
        let Some(late) = &self.late else {
            return Ok(None);
        };
        let take = late
            .take_late(&self.reader_name())
            .map_err(|e| e.to_string())?;
        if take.not_kept > 0 {
            tracing::error!(remote = %self.cfg.display_name(), samples = take.not_kept, "remote write: more late samples than the storage keeps; these are not sent");
            self.stats
                .samples_dropped
                .fetch_add(take.not_kept, Ordering::Relaxed);
        }
        let mut series = Vec::new();
        for s in take.series {
            let Some(labels) = self.relabel(&s.labels) else {
                continue;
            };
            let labels: Vec<(String, String)> = labels.into_iter().collect();
            let sent_up_to = newest.get(&hash64(&labels)).copied();
            let samples: Vec<(i64, f64)> = s
                .samples
                .iter()
                .filter(|p| sent_up_to.is_none_or(|n| p.t > n))
                .map(|p| (p.t, p.v))
                .collect();
            if !samples.is_empty() {
                series.push(TimeSeries {
                    labels,
                    samples,
                    histograms: 0,
                });
            }
        }
        if series.is_empty() {
            return Ok(None);
        }
        self.save_pending(&series)?;
        Ok(Some(series))
    }

    /// The file holding late samples on their way.
    fn pending_file(&self) -> PathBuf {
        self.state_file.with_extension("late")
    }

    /// Writes `series` (a remote-write request body) to the pending file.
    pub(super) fn save_pending(&self, series: &[TimeSeries]) -> Result<(), String> {
        let file = self.pending_file();
        let tmp = file.with_extension("late.tmp");
        std::fs::write(&tmp, encode_write_request(series))
            .and_then(|()| std::fs::rename(&tmp, &file))
            .map_err(|e| format!("{}: {e}", file.display()))
    }

    /// Sends `series` over `shards` shards, then removes the pending file.
    pub(super) fn send_pending(
        &self,
        series: Vec<TimeSeries>,
        shards: usize,
        pool: &mut Pool<'_, '_>,
        stop: &AtomicBool,
    ) -> Result<(), String> {
        let shards = pool.grow(shards);
        if shards == 0 {
            return Err("no remote write shard thread could start".into());
        }
        for s in series {
            if !self.queue_series(s.labels, s.samples, pool, shards, stop) {
                break;
            }
        }
        if !pool.finish(shards, stop) || stop.load(Ordering::Relaxed) {
            return Err("stopping".into());
        }
        let file = self.pending_file();
        std::fs::remove_file(&file).map_err(|e| format!("{}: {e}", file.display()))
    }

    /// Sends the late samples a stop or crash left in the pending file, if any. A file that
    /// does not decode is renamed `.late.bad` and reported.
    pub(super) fn resume_pending(
        &self,
        shards: usize,
        pool: &mut Pool<'_, '_>,
        stop: &AtomicBool,
    ) -> Result<(), String> {
        let file = self.pending_file();
        let Ok(body) = std::fs::read(&file) else {
            return Ok(());
        };
        match decode_write_request(&body) {
            Ok(series) => self.send_pending(series, shards, pool, stop),
            Err(e) => {
                let bad = file.with_extension("late.bad");
                let _ = std::fs::rename(&file, &bad);
                Err(format!(
                    "{}: {e}; moved to {}",
                    file.display(),
                    bad.display()
                ))
            }
        }
    }
}
