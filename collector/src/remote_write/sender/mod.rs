//! Sending stored samples to a remote-write receiver. The queue is the storage itself: a
//! watermark (the newest sample time sent, persisted in a state file after every window)
//! marks how far the receiver has everything, and each round reads the next window of
//! samples from storage (at most [`MAX_WINDOW_MS`]), relabels them, and streams them series
//! by series into shards; each shard is a worker thread that sends its series in order, in
//! requests of at most `max_samples_per_send` samples, retrying with exponential backoff
//! until the receiver takes them. The watermark moves only once every shard has sent its
//! part of the window. A receiver outage therefore loses nothing while the data is retained.
//!
//! Shards: each shard is a worker thread that lives across windows. A window uses as many as
//! the last one asked for, between `min_shards` and `max_shards` (one at the start), as
//! Prometheus reshards: enough concurrency to send the data's rate plus the backlog within
//! [`CATCH_UP_S`] seconds, at the cost per sample of the window's fastest request (at most
//! doubling per window). Workers no longer wanted (fewer than 70% of those running) end, so
//! that their memory goes back. Each keeps one keep-alive connection in the agent's pool.
//!
//! Why not one thread per shard and window, `ceil(window samples / capacity)` of them as
//! before: a 10 s window at 50k samples/s made that 200 threads, spawned and joined for every
//! window. The drain after a 10-minute outage peaked at 1.5 GiB RSS. Measured over the drain
//! of a 2-minute outage (peak RSS over the one before the drain): 200 threads per window
//! +813 MiB, 200 *persistent* threads +947 MiB, 20 +62 MiB, 1 +6 MiB, and 200 persistent
//! threads with `MIMALLOC_ALLOW_THP=0` +139 MiB. The memory is not the samples (one window
//! is tens of MB) but the allocator's per-thread heaps: mimalloc advises its arenas to use
//! transparent huge pages, so every thread that allocates at all touches its own 2 MiB pages
//! (about 4.5 MiB per sending thread here). The cost of a shard is therefore a few MiB, and
//! the sender runs only the shards that pay off.
//!
//! Memory bound: whatever the outage's length and the window's size, the sender holds at most
//! `shards * (capacity + max_samples_per_send)` samples: a shard's queue takes at most
//! `capacity` samples (the reader waits for room, as Prometheus's WAL reader waits for a full
//! shard) and its request in flight at most `max_samples_per_send`. Each queued piece of a
//! series carries its labels once. With Prometheus's defaults (capacity 2,500, 500 per
//! request) that is 3,000 samples per shard, about 16 B each plus the labels of at most as
//! many series: under 1 MB per shard, 600k samples (tens of MB) at 200 shards, besides each
//! running shard thread's allocator heap (above). The series already queued in the current
//! window are also remembered (a 64-bit hash each), so that a window retried after a storage
//! read error does not send them again.
//!
//! Samples are sent once they are [`Sender::delay_ms`] old (scrapes commit samples with
//! their start time, up to a scrape timeout later). A sample stored after the sender read
//! past its time (a new series with old timestamps, a remote-write client catching up) is
//! kept for the sender by the storage ([`model::LateSamples`], see [`Sender::with_late`]) and
//! sent after its window, in commit order, without the ones the window already sent (see
//! `late.rs`). Backfills into a stopped server are not sent (Prometheus does not send
//! backfilled blocks either). 4xx answers (except 429 with `retry_on_http_429`) drop the
//! request, as Prometheus does. Stopping in the middle of a window sends that window again
//! from its start after a restart.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use model::{Labels, LateSamples, MatchOp, Matcher, Queryable, SelectHints};

use super::config::{Queue, RemoteWriteConfig};
use super::proto::TimeSeries;
use crate::scrape::http::tls;
use crate::scrape::relabel::{LabelMap, Rule, process};
use shards::Pool;

/// The longest stretch of samples read in one round, ms.
pub const MAX_WINDOW_MS: i64 = 10_000;

/// The shards are sized to send the backlog after an outage within this many seconds, on top
/// of the new data: more than the receiver can take, so that the drain goes as fast as the
/// receiver goes, while the shards' number still follows the receiver's cost per sample
/// (on loopback a few shards do; a receiver 100 ms away takes `max_shards`).
const CATCH_UP_S: f64 = 2.0;

/// How often a waiting reader looks at the stop flag, ms.
const POLL_MS: u64 = 50;

/// Counters of one remote, for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// Samples the receiver accepted.
    pub samples_sent: AtomicU64,
    /// Samples dropped (relabeled away are not counted; refused with a 4xx are).
    pub samples_dropped: AtomicU64,
    /// Failed attempts (each retried).
    pub retries: AtomicU64,
    /// The watermark, ms.
    pub watermark_ms: AtomicU64,
    /// Shard worker threads started so far (a thread serves many windows).
    pub shard_threads: AtomicU64,
    /// Shard worker threads running now.
    pub shards: AtomicU64,
}

/// One `remote_write` target.
pub struct Sender {
    cfg: RemoteWriteConfig,
    queue: Queue,
    rules: Vec<Rule>,
    external: LabelMap,
    storage: Arc<dyn Queryable>,
    /// Where samples stored after the sender read past them are kept for it.
    late: Option<Arc<dyn LateSamples>>,
    state_file: PathBuf,
    agent: ureq::Agent,
    /// Samples are sent once this old, ms.
    pub delay_ms: i64,
    /// Counters.
    pub stats: Arc<Stats>,
    /// The fastest request of the current window, in picoseconds per sample (encoding and
    /// the accepted attempt; `u64::MAX` before the first).
    fastest_ps: AtomicU64,
}

/// The result of sending one request.
pub(super) enum Outcome {
    Sent,
    Dropped(String),
    Retry(String),
}

/// One window of samples to send: `(lo, hi]`, ms, over `shards` shards.
struct Window {
    lo: i64,
    hi: i64,
    shards: usize,
}

/// A 64-bit hash of `value` (the same in every run).
fn hash64(value: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

impl Sender {
    /// A sender for `cfg`, reading `storage`, keeping its watermark in `state_dir`, sending
    /// samples once `delay_ms` old, with `external` labels added to every series.
    ///
    /// # Errors
    /// Invalid relabel rules or TLS files, naming the field.
    pub fn new(
        cfg: RemoteWriteConfig,
        external: LabelMap,
        storage: Arc<dyn Queryable>,
        state_dir: &std::path::Path,
        delay_ms: i64,
    ) -> Result<Sender, String> {
        cfg.validate()?;
        let rules = cfg
            .write_relabel_configs
            .iter()
            .enumerate()
            .map(|(i, r)| Rule::new(r).map_err(|e| format!("write_relabel_configs[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        let queue = cfg.queue_config.effective();
        let timeout = cfg.remote_timeout.map_or(Duration::from_secs(30), |d| d.0);
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("promlet/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls(cfg.tls_config.as_ref())?)
            // One idle connection per shard: a shard reconnecting for every request costs a
            // handshake and a fresh pair of buffers each time.
            .max_idle_connections(queue.max_shards)
            .max_idle_connections_per_host(queue.max_shards)
            .build()
            .new_agent();
        let state_file = state_dir.join(format!("{}.watermark", cfg.display_name()));
        Ok(Sender {
            queue,
            cfg,
            rules,
            external,
            storage,
            late: None,
            state_file,
            agent,
            delay_ms,
            stats: Arc::new(Stats::default()),
            fastest_ps: AtomicU64::new(u64::MAX),
        })
    }

    /// The persisted watermark, else `now` (a new remote gets new samples only).
    fn load_watermark(&self, now: i64) -> i64 {
        std::fs::read_to_string(&self.state_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(now)
    }

    /// Persists `wm` (write a temporary file, then rename).
    fn save_watermark(&self, wm: i64) -> Result<(), String> {
        let tmp = self.state_file.with_extension("tmp");
        std::fs::write(&tmp, format!("{wm}\n"))
            .and_then(|()| std::fs::rename(&tmp, &self.state_file))
            .map_err(|e| format!("{}: {e}", self.state_file.display()))
    }

    /// Sends until `stop` is set, `clock` giving now in ms.
    pub fn run(&self, stop: &AtomicBool, clock: &dyn Fn() -> i64) {
        std::thread::scope(|scope| {
            let mut pool = Pool {
                scope,
                sender: self,
                stop,
                shards: Vec::new(),
            };
            self.run_rounds(&mut pool, stop, clock);
        });
    }

    /// The rounds of [`Self::run`], with its shard workers.
    fn run_rounds(&self, pool: &mut Pool<'_, '_>, stop: &AtomicBool, clock: &dyn Fn() -> i64) {
        let mut wm = self.load_watermark(clock());
        self.stats
            .watermark_ms
            .store(wm.max(0) as u64, Ordering::Relaxed);
        // The shards the next window wants.
        let mut shards = self.queue.min_shards;
        // A window that failed halfway: its end, and the series already queued.
        let mut retry_hi = None;
        let mut queued = HashSet::new();
        // The newest sample time queued per series (relabeled) in the current window.
        let mut newest = HashMap::new();
        while let Err(e) = self.resume_pending(shards, pool, stop) {
            tracing::warn!(remote = %self.cfg.display_name(), error = %e, "remote write: late samples left by the last run");
            if stop.load(Ordering::Relaxed) {
                return;
            }
            sleep_unless(stop, self.queue.max_backoff_ms);
        }
        while !stop.load(Ordering::Relaxed) {
            let hi = retry_hi.unwrap_or_else(|| (clock() - self.delay_ms).min(wm + MAX_WINDOW_MS));
            if hi <= wm {
                sleep_unless(stop, self.queue.batch_send_deadline_ms);
                continue;
            }
            // Workers already running are used (a window never uses fewer than it wants).
            let use_shards = shards.max(pool.shards.len());
            self.fastest_ps.store(u64::MAX, Ordering::Relaxed);
            if let Some(late) = &self.late {
                late.set_horizon(&self.reader_name(), hi);
            }
            let window = Window {
                lo: wm,
                hi,
                shards: use_shards,
            };
            match self.send_window(&window, pool, stop, &mut queued, &mut newest) {
                Ok(total) => {
                    let behind_ms = clock() - self.delay_ms - hi;
                    let fastest = self.fastest_ps.load(Ordering::Relaxed);
                    if let Some(want) = self.shards_wanted(total, fastest, hi - wm, behind_ms) {
                        // At most twice as many per window: one slow window (a receiver
                        // creating every series on the first requests) is no trend.
                        let want = want.min(use_shards * 2);
                        if want != shards {
                            tracing::info!(remote = %self.cfg.display_name(), from = shards, to = want, ns_per_sample = fastest / 1000, "remote write resharding");
                        }
                        shards = want;
                        // Fewer workers only when clearly fewer are wanted (no churn).
                        if want * 10 < pool.shards.len() * 7 {
                            pool.retire(want);
                        }
                    }
                    // Late samples go to the pending file before the watermark moves past
                    // them, and are sent after.
                    let late = self.take_late_pending(&newest);
                    wm = hi;
                    retry_hi = None;
                    queued.clear();
                    newest.clear();
                    self.stats
                        .watermark_ms
                        .store(wm.max(0) as u64, Ordering::Relaxed);
                    if let Err(e) = self.save_watermark(wm) {
                        tracing::error!(remote = %self.cfg.display_name(), error = %e, "saving the remote write watermark");
                    }
                    let sent = late.and_then(|l| match l {
                        Some(series) => self.send_pending(series, use_shards, pool, stop),
                        None => Ok(()),
                    });
                    if let Err(e) = sent {
                        tracing::warn!(remote = %self.cfg.display_name(), error = %e, "remote write: late samples (sent at the next start)");
                    }
                }
                Err(e) => {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    retry_hi = Some(hi);
                    tracing::warn!(remote = %self.cfg.display_name(), error = %e, "remote write round");
                    sleep_unless(stop, self.queue.max_backoff_ms);
                }
            }
            if clock() - self.delay_ms <= wm {
                sleep_unless(stop, self.queue.batch_send_deadline_ms);
            }
        }
    }

    /// The shards the next window wants, as Prometheus's resharding reckons them: the
    /// concurrency that sends the data's rate plus the backlog over [`CATCH_UP_S`], at the
    /// cost per sample of the window's fastest request (`fastest_ps` picoseconds; the fastest,
    /// not the average, so that requests slowed by the shards' own contention for the CPU do
    /// not ask for more shards still). `total` samples of a window `window_ms` long were
    /// sent, and the newest due sample is `behind_ms` past it. `None` without a measurement.
    fn shards_wanted(
        &self,
        total: usize,
        fastest_ps: u64,
        window_ms: i64,
        behind_ms: i64,
    ) -> Option<usize> {
        if total == 0 || fastest_ps == u64::MAX || window_ms <= 0 {
            return None;
        }
        let rate = total as f64 * 1000.0 / window_ms as f64;
        let backlog = rate * behind_ms.max(0) as f64 / 1000.0;
        let busy = fastest_ps as f64 * 1e-12 * (rate + backlog / CATCH_UP_S);
        Some((busy.ceil() as usize).clamp(self.queue.min_shards, self.queue.max_shards))
    }

    /// Streams the samples in `(lo, hi]` into `shards` shards and waits until they are all
    /// sent (or dropped); returns how many samples were queued. Series whose stored labels'
    /// hash is in `queued` are skipped (an earlier attempt at this window queued them), and
    /// those queued now are added. On a read error, what was queued is still sent before the
    /// error is returned.
    fn send_window(
        &self,
        window: &Window,
        pool: &mut Pool<'_, '_>,
        stop: &AtomicBool,
        queued: &mut HashSet<u64>,
        newest: &mut HashMap<u64, i64>,
    ) -> Result<usize, String> {
        let (lo, hi) = (window.lo, window.hi);
        let err = |e: model::Error| e.to_string();
        let q = self.storage.querier(lo + 1, hi).map_err(err)?;
        let all = [Matcher::new(MatchOp::Regex, model::METRIC_NAME, ".+").map_err(err)?];
        let hints = SelectHints {
            start: lo + 1,
            end: hi,
            unordered: true,
            ..SelectHints::default()
        };
        let set = q.select(&hints, &all).map_err(err)?;
        let shards = pool.grow(window.shards);
        if shards == 0 {
            return Err("no remote write shard thread could start".into());
        }
        let mut total = 0;
        let mut failed = None;
        for s in set {
            let s = match s {
                Ok(s) => s,
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            };
            let stored = hash64(&s.labels);
            if queued.contains(&stored) {
                continue;
            }
            let samples: Vec<(i64, f64)> = s
                .samples
                .iter()
                .filter(|p| p.t > lo && p.t <= hi)
                .map(|p| (p.t, p.v))
                .collect();
            if samples.is_empty() {
                continue;
            }
            queued.insert(stored);
            let Some(labels) = self.relabel(&s.labels) else {
                continue;
            };
            let labels: Vec<(String, String)> = labels.into_iter().collect();
            total += samples.len();
            if let Some(last) = samples.last() {
                newest.insert(hash64(&labels), last.0);
            }
            if !self.queue_series(labels, samples, pool, shards, stop) {
                break;
            }
        }
        // What was queued is sent also after a read error: the retry skips it.
        if !pool.finish(shards, stop) || stop.load(Ordering::Relaxed) {
            return Err("stopping".into());
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(total),
        }
    }

    /// Queues one series' samples on its shard (of the first `shards`), in pieces of at most
    /// `capacity` samples; `false` when stopping.
    fn queue_series(
        &self,
        labels: Vec<(String, String)>,
        samples: Vec<(i64, f64)>,
        pool: &Pool<'_, '_>,
        shards: usize,
        stop: &AtomicBool,
    ) -> bool {
        let (capacity, max) = (self.queue.capacity, self.queue.max_samples_per_send);
        // Equal labels after relabeling go to one shard, so their samples stay in order.
        let shard = &pool.shards[(hash64(&labels) % shards as u64) as usize];
        let pieces = if samples.len() <= capacity {
            vec![samples]
        } else {
            samples.chunks(capacity).map(<[_]>::to_vec).collect()
        };
        for samples in pieces {
            let piece = TimeSeries {
                labels: labels.clone(),
                samples,
                histograms: 0,
            };
            if !shard.push(piece, capacity, max, stop) {
                return false;
            }
        }
        true
    }

    /// `write_relabel_configs` and external labels applied; `None` when dropped.
    fn relabel(&self, labels: &Labels) -> Option<LabelMap> {
        let mut lb: LabelMap = labels
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        for (n, v) in &self.external {
            lb.entry(n.clone()).or_insert_with(|| v.clone());
        }
        process(&self.rules, &mut lb).then_some(lb)
    }
}

/// Sleeps `ms`, waking early (in steps of 50 ms) when `stop` is set.
fn sleep_unless(stop: &AtomicBool, ms: i64) {
    let mut left = ms.max(0);
    while left > 0 && !stop.load(Ordering::Relaxed) {
        let step = left.min(50);
        std::thread::sleep(Duration::from_millis(step.unsigned_abs()));
        left -= step;
    }
}

mod late;
mod shards;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
