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
//! Limits: samples are sent once they are [`Sender::delay_ms`] old (scrapes commit samples
//! with their start time, up to a scrape timeout later); a sample stored later than that
//! with a timestamp at or below the watermark (a late backfill) is not sent. 4xx answers
//! (except 429 with `retry_on_http_429`) drop the request, as Prometheus does. Stopping in
//! the middle of a window sends that window again from its start after a restart.

use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::Scope;
use std::time::Duration;

use model::{Labels, MatchOp, Matcher, Queryable, SelectHints};
use parking_lot::{Condvar, Mutex};

use super::config::{Queue, RemoteWriteConfig};
use super::proto::{TimeSeries, encode_write_request};
use crate::scrape::http::{HttpAuth, authorization_header, tls};
use crate::scrape::relabel::{LabelMap, Rule, process};

/// The longest stretch of samples read in one round, ms.
pub const MAX_WINDOW_MS: i64 = 10_000;

/// The backlog after an outage is sent at (at least) this fraction per second: the
/// shards are sized to send it within this many seconds, on top of the new data.
const CATCH_UP_S: f64 = 10.0;

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
enum Outcome {
    Sent,
    Dropped(String),
    Retry(String),
}

/// One shard: the queue between the reader and the shard's worker thread.
#[derive(Default)]
struct Shard {
    state: Mutex<ShardState>,
    /// The worker waits here for a full request, the end of the window, or quitting.
    work: Condvar,
    /// The reader waits here for room in the queue, or for the window's end to be sent.
    room: Condvar,
}

#[derive(Default)]
struct ShardState {
    /// Series (or pieces of one) in the order they are to be sent.
    queue: VecDeque<TimeSeries>,
    /// Samples in `queue`.
    queued: usize,
    /// The reader waits for room: send what is queued even if it is not a full request.
    reader_waiting: bool,
    /// The window's last series is queued: send everything, then clear this.
    flush: bool,
    /// The sender is stopping: the worker ends.
    quit: bool,
}

impl ShardState {
    /// Moves the queue's first `max` samples into `batch` (a series may be split; the rest
    /// stays first in the queue). Order is kept, also within a split series.
    fn take(&mut self, max: usize, batch: &mut Vec<TimeSeries>) -> usize {
        let mut count = 0;
        while count < max {
            let Some(front) = self.queue.front_mut() else {
                break;
            };
            let room = max - count;
            if front.samples.len() <= room {
                if let Some(ts) = self.queue.pop_front() {
                    count += ts.samples.len();
                    batch.push(ts);
                }
            } else {
                let rest = front.samples.split_off(room);
                batch.push(TimeSeries {
                    labels: front.labels.clone(),
                    samples: std::mem::replace(&mut front.samples, rest),
                    histograms: 0,
                });
                count += room;
            }
        }
        self.queued -= count;
        count
    }
}

impl Shard {
    /// Queues `ts` (at most `capacity` samples), waiting while the queue would hold more than
    /// `capacity`; `false` when `stop` is set meanwhile.
    fn push(&self, ts: TimeSeries, capacity: usize, max: usize, stop: &AtomicBool) -> bool {
        let n = ts.samples.len();
        let mut st = self.state.lock();
        while st.queued > 0 && st.queued + n > capacity {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            if !st.reader_waiting {
                st.reader_waiting = true;
                self.work.notify_one();
            }
            self.room.wait_for(&mut st, Duration::from_millis(POLL_MS));
        }
        st.reader_waiting = false;
        st.queue.push_back(ts);
        st.queued += n;
        if st.queued >= max {
            self.work.notify_one();
        }
        true
    }

    /// Tells the worker that the window's last series is queued.
    fn flush(&self) {
        self.state.lock().flush = true;
        self.work.notify_one();
    }

    /// Waits until the worker has sent (or dropped) everything queued; `false` when `stop`
    /// is set meanwhile.
    fn wait_flushed(&self, stop: &AtomicBool) -> bool {
        let mut st = self.state.lock();
        while st.flush {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            self.room.wait_for(&mut st, Duration::from_millis(POLL_MS));
        }
        true
    }

    /// Ends the worker (after its request in flight).
    fn quit(&self) {
        self.state.lock().quit = true;
        self.work.notify_one();
    }
}

/// The shard worker threads of one [`Sender::run`].
struct Pool<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    sender: &'env Sender,
    stop: &'env AtomicBool,
    shards: Vec<Arc<Shard>>,
}

impl Pool<'_, '_> {
    /// Starts workers until there are `n`; returns how many there are (fewer only if a thread
    /// could not be started).
    fn grow(&mut self, n: usize) -> usize {
        while self.shards.len() < n {
            let shard = Arc::new(Shard::default());
            let (sender, stop, worker) = (self.sender, self.stop, shard.clone());
            let started = std::thread::Builder::new()
                .name(format!("rw-shard-{}", self.shards.len()))
                .spawn_scoped(self.scope, move || sender.work(&worker, stop));
            if let Err(e) = started {
                tracing::error!(remote = %sender.cfg.display_name(), error = %e, shards = self.shards.len(), "starting a remote write shard");
                break;
            }
            self.shards.push(shard);
            sender.stats.shard_threads.fetch_add(1, Ordering::Relaxed);
        }
        self.sender
            .stats
            .shards
            .store(self.shards.len() as u64, Ordering::Relaxed);
        self.shards.len().min(n)
    }

    /// Ends the workers past the first `keep` (their queues are empty between windows), so
    /// that their memory goes back.
    fn retire(&mut self, keep: usize) {
        for shard in self.shards.drain(keep.min(self.shards.len())..) {
            shard.quit();
        }
        self.sender
            .stats
            .shards
            .store(self.shards.len() as u64, Ordering::Relaxed);
    }

    /// Flushes the first `n` shards and waits until they have sent everything; `false` when
    /// stopping.
    fn finish(&self, n: usize, stop: &AtomicBool) -> bool {
        let used = &self.shards[..n.min(self.shards.len())];
        for shard in used {
            shard.flush();
        }
        used.iter().all(|shard| shard.wait_flushed(stop))
    }
}

impl Drop for Pool<'_, '_> {
    fn drop(&mut self) {
        for shard in &self.shards {
            shard.quit();
        }
    }
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
        while !stop.load(Ordering::Relaxed) {
            let hi = retry_hi.unwrap_or_else(|| (clock() - self.delay_ms).min(wm + MAX_WINDOW_MS));
            if hi <= wm {
                sleep_unless(stop, self.queue.batch_send_deadline_ms);
                continue;
            }
            // Workers already running are used (a window never uses fewer than it wants).
            let use_shards = shards.max(pool.shards.len());
            self.fastest_ps.store(u64::MAX, Ordering::Relaxed);
            match self.send_window(wm, hi, use_shards, pool, stop, &mut queued) {
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
                    wm = hi;
                    retry_hi = None;
                    queued.clear();
                    self.stats
                        .watermark_ms
                        .store(wm.max(0) as u64, Ordering::Relaxed);
                    if let Err(e) = self.save_watermark(wm) {
                        tracing::error!(remote = %self.cfg.display_name(), error = %e, "saving the remote write watermark");
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
        lo: i64,
        hi: i64,
        shards: usize,
        pool: &mut Pool<'_, '_>,
        stop: &AtomicBool,
        queued: &mut HashSet<u64>,
    ) -> Result<usize, String> {
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
        let shards = pool.grow(shards);
        if shards == 0 {
            return Err("no remote write shard thread could start".into());
        }
        let (capacity, max) = (self.queue.capacity, self.queue.max_samples_per_send);
        let mut total = 0;
        let mut failed = None;
        'series: for s in set {
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
            // Equal labels after relabeling go to one shard, so their samples stay in order.
            let shard = &pool.shards[(hash64(&labels) % shards as u64) as usize];
            total += samples.len();
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
                    break 'series;
                }
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

    /// A shard's worker: sends the shard's queue in requests of at most
    /// `max_samples_per_send` samples, in order, each until sent or dropped; a full request
    /// as soon as there is one, the rest once the window's end is queued. When `stop` is set
    /// it drops what is queued instead.
    fn work(&self, shard: &Shard, stop: &AtomicBool) {
        let max = self.queue.max_samples_per_send;
        let mut batch: Vec<TimeSeries> = Vec::new();
        let mut encoder = snap::raw::Encoder::new();
        let mut body = Vec::new();
        loop {
            {
                let mut st = shard.state.lock();
                loop {
                    if st.quit {
                        return;
                    }
                    if st.queued > 0 && (st.queued >= max || st.flush || st.reader_waiting) {
                        break;
                    }
                    if st.flush {
                        st.flush = false;
                        shard.room.notify_all();
                    }
                    shard.work.wait(&mut st);
                }
                st.take(max, &mut batch);
            }
            shard.room.notify_all();
            if !stop.load(Ordering::Relaxed) {
                self.send_batch(&batch, &mut encoder, &mut body, stop);
            }
            batch.clear();
        }
    }

    /// Sends `batch` until it is sent, dropped, or `stop` (`body` is a buffer kept between
    /// requests).
    fn send_batch(
        &self,
        batch: &[TimeSeries],
        encoder: &mut snap::raw::Encoder,
        body: &mut Vec<u8>,
        stop: &AtomicBool,
    ) {
        let n: usize = batch.iter().map(|s| s.samples.len()).sum();
        let started = std::time::Instant::now();
        let raw = encode_write_request(batch);
        body.resize(snap::raw::max_compress_len(raw.len()), 0);
        let body = match encoder.compress(&raw, body) {
            Ok(len) => &body[..len],
            Err(e) => {
                tracing::error!(error = %e, "snappy compression");
                return;
            }
        };
        let encoding = started.elapsed();
        let mut backoff = self.queue.min_backoff_ms;
        loop {
            let attempt = std::time::Instant::now();
            let outcome = self.post(body);
            if !matches!(outcome, Outcome::Retry(_)) && n > 0 {
                let ps = (encoding + attempt.elapsed()).as_nanos() * 1000 / n as u128;
                self.fastest_ps
                    .fetch_min(u64::try_from(ps).unwrap_or(u64::MAX), Ordering::Relaxed);
            }
            match outcome {
                Outcome::Sent => {
                    self.stats
                        .samples_sent
                        .fetch_add(n as u64, Ordering::Relaxed);
                    return;
                }
                Outcome::Dropped(why) => {
                    tracing::error!(remote = %self.cfg.display_name(), samples = n, %why, "remote write dropped a request");
                    self.stats
                        .samples_dropped
                        .fetch_add(n as u64, Ordering::Relaxed);
                    return;
                }
                Outcome::Retry(why) => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(remote = %self.cfg.display_name(), %why, backoff_ms = backoff, "remote write retry");
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    sleep_unless(stop, backoff);
                    backoff = (backoff * 2).min(self.queue.max_backoff_ms);
                }
            }
        }
    }

    /// One POST.
    fn post(&self, body: &[u8]) -> Outcome {
        let auth = HttpAuth {
            basic_auth: self.cfg.basic_auth.as_ref(),
            authorization: self.cfg.authorization.as_ref(),
            bearer_token: self.cfg.bearer_token.as_deref(),
            bearer_token_file: self.cfg.bearer_token_file.as_deref(),
        };
        let mut req = self
            .agent
            .post(&self.cfg.url)
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0");
        for (k, v) in &self.cfg.headers {
            req = req.header(k, v);
        }
        match authorization_header(&auth) {
            Ok(Some(h)) => req = req.header("Authorization", &h),
            Ok(None) => {}
            Err(e) => return Outcome::Retry(e),
        }
        match req.send(body) {
            Err(e) => Outcome::Retry(format!("POST {}: {e}", self.cfg.url)),
            Ok(mut resp) => {
                let code = resp.status().as_u16();
                let text = resp.body_mut().read_to_string().unwrap_or_default();
                match code {
                    200..=299 => Outcome::Sent,
                    429 if self.queue.retry_on_http_429 => {
                        Outcome::Retry(format!("HTTP 429: {text}"))
                    }
                    400..=499 => Outcome::Dropped(format!("HTTP {code}: {}", text.trim())),
                    _ => Outcome::Retry(format!("HTTP {code}: {}", text.trim())),
                }
            }
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    use model::{Querier, Sample, Series, SeriesSet};

    use super::*;
    use crate::remote_write::proto::decode_write_request;

    fn ts(name: &str, n: usize) -> TimeSeries {
        TimeSeries {
            labels: vec![("__name__".into(), name.into())],
            samples: (0..n).map(|i| (i as i64, 1.0)).collect(),
            histograms: 0,
        }
    }

    #[test]
    fn take_cuts_full_requests_of_at_most_max_and_keeps_order_and_everything() {
        let mut st = ShardState::default();
        for part in [ts("a", 7), ts("b", 3), ts("c", 12)] {
            st.queued += part.samples.len();
            st.queue.push_back(part);
        }
        let mut requests = Vec::new();
        loop {
            let mut batch = Vec::new();
            let n = st.take(5, &mut batch);
            if n == 0 {
                break;
            }
            assert_eq!(n, batch.iter().map(|s| s.samples.len()).sum::<usize>());
            assert!(
                n == 5 || st.queue.is_empty(),
                "a short request before the end: {n}"
            );
            requests.push(batch);
        }
        assert_eq!((requests.len(), st.queued), (5, 0));
        for (name, n) in [("a", 7), ("b", 3), ("c", 12)] {
            let sent: Vec<(i64, f64)> = requests
                .iter()
                .flatten()
                .filter(|s| s.labels[0].1 == name)
                .flat_map(|s| s.samples.iter().copied())
                .collect();
            assert_eq!(sent, ts(name, n).samples, "{name}");
        }
    }

    /// Stored series, read back one at a time, with one read error on demand.
    struct Store {
        series: Vec<Series>,
        /// The index of the series whose read fails, once.
        fail_at: AtomicUsize,
        /// Series read so far.
        pulled: AtomicUsize,
    }

    struct StoreQuerier<'a> {
        store: &'a Store,
        mint: i64,
        maxt: i64,
    }

    impl Queryable for Store {
        fn querier(&self, mint: i64, maxt: i64) -> model::Result<Box<dyn Querier + '_>> {
            Ok(Box::new(StoreQuerier {
                store: self,
                mint,
                maxt,
            }))
        }
    }

    impl Querier for StoreQuerier<'_> {
        fn select(&self, _: &SelectHints, _: &[Matcher]) -> model::Result<SeriesSet<'_>> {
            let (store, mint, maxt) = (self.store, self.mint, self.maxt);
            Ok(Box::new(store.series.iter().enumerate().filter_map(
                move |(i, s)| {
                    let failing = store.fail_at.compare_exchange(
                        i,
                        usize::MAX,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                    if failing.is_ok() {
                        return Some(Err(model::Error::Storage("injected".into())));
                    }
                    store.pulled.fetch_add(1, Ordering::SeqCst);
                    let samples: Vec<Sample> = s
                        .samples
                        .iter()
                        .filter(|p| p.t >= mint && p.t <= maxt)
                        .copied()
                        .collect();
                    (!samples.is_empty()).then(|| {
                        Ok(Series {
                            labels: s.labels.clone(),
                            samples,
                        })
                    })
                },
            )))
        }

        fn label_names(&self, _: &[Matcher]) -> model::Result<Vec<String>> {
            Ok(Vec::new())
        }

        fn label_values(&self, _: &str, _: &[Matcher]) -> model::Result<Vec<String>> {
            Ok(Vec::new())
        }
    }

    /// `series` series `s<i>` with a sample every 100 ms in `(0, end_ms]`.
    fn store(series: usize, end_ms: i64) -> Arc<Store> {
        Arc::new(Store {
            series: (0..series)
                .map(|i| Series {
                    labels: Labels::from_pairs(&[("__name__", format!("s{i}"))]).unwrap(),
                    samples: (1..=end_ms / 100)
                        .map(|k| Sample::new(k * 100, (i * 1000) as f64 + k as f64))
                        .collect(),
                })
                .collect(),
            fail_at: AtomicUsize::new(usize::MAX),
            pulled: AtomicUsize::new(0),
        })
    }

    type Answer = Box<dyn Fn(usize, &[TimeSeries]) -> u16 + Send + Sync>;

    /// A remote-write receiver on 127.0.0.1 keeping the requests it accepts, answering each
    /// request (numbered from 0) with `answer`'s status.
    struct Receiver {
        url: String,
        answer: Answer,
        accepted: Mutex<Vec<Vec<TimeSeries>>>,
        requests: AtomicUsize,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
    }

    fn receiver(answer: Answer) -> Arc<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let rx = Arc::new(Receiver {
            url: format!("http://{}/api/v1/write", listener.local_addr().unwrap()),
            answer,
            accepted: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let server = rx.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let server = server.clone();
                std::thread::spawn(move || server.serve(conn));
            }
        });
        rx
    }

    impl Receiver {
        /// Answers the requests of one keep-alive connection.
        fn serve(&self, conn: TcpStream) {
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut out = conn;
            out.set_nodelay(true).unwrap();
            loop {
                let mut len = 0;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                self.max_in_flight.fetch_max(now, Ordering::SeqCst);
                let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
                let series = decode_write_request(&raw).unwrap();
                std::thread::sleep(Duration::from_millis(1));
                let code = (self.answer)(self.requests.fetch_add(1, Ordering::SeqCst), &series);
                if (200..300).contains(&code) {
                    self.accepted.lock().push(series);
                }
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                let head = format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n");
                if out.write_all(head.as_bytes()).is_err() {
                    return;
                }
            }
        }

        /// The samples received per series, in the order they were accepted.
        fn received(&self) -> BTreeMap<String, Vec<(i64, f64)>> {
            let mut out: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
            for ts in self.accepted.lock().iter().flatten() {
                out.entry(ts.labels[0].1.clone())
                    .or_default()
                    .extend(&ts.samples);
            }
            out
        }
    }

    use std::collections::BTreeMap;

    /// The samples of `store` per series, as a receiver should get them.
    fn expected(store: &Store) -> BTreeMap<String, Vec<(i64, f64)>> {
        store
            .series
            .iter()
            .map(|s| {
                let samples = s.samples.iter().map(|p| (p.t, p.v)).collect();
                (s.labels.get("__name__").unwrap().to_string(), samples)
            })
            .collect()
    }

    /// The clock of the tests: every window up to it is due.
    const NOW: i64 = 100_000;

    /// A sender to `url` with `queue_config: {queue}` over `store`, from watermark 0.
    fn sender(url: &str, queue: &str, store: Arc<Store>) -> (Sender, tempfile::TempDir) {
        let cfg: RemoteWriteConfig =
            serde_yaml::from_str(&format!("url: {url}\nname: t\nqueue_config: {{{queue}}}\n"))
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.watermark"), "0\n").unwrap();
        let sender = Sender::new(cfg, LabelMap::new(), store, dir.path(), 0).unwrap();
        (sender, dir)
    }

    /// Runs a sender with `queue_config: {queue}` from watermark 0 over `store` to `rx` until
    /// `done` holds (or 60 s have passed), then stops it; its counters.
    fn run_until(
        store: Arc<Store>,
        rx: &Receiver,
        queue: &str,
        done: impl Fn(&Stats) -> bool,
    ) -> Arc<Stats> {
        let (sender, _dir) = sender(&rx.url, queue, store);
        let stats = sender.stats.clone();
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        /// Sets the flag when dropped, also when a check panics.
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        std::thread::scope(|s| {
            s.spawn(|| sender.run(&stop, &|| NOW));
            let _stop = StopOnDrop(&stop);
            while !done(&stats) && started.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sender did not finish"
        );
        stats
    }

    fn finished(stats: &Stats) -> bool {
        stats.watermark_ms.load(Ordering::Relaxed) == NOW as u64
    }

    #[test]
    fn every_sample_arrives_once_in_order_in_full_requests_from_reused_shards() {
        let store = store(40, 60_000);
        let rx = receiver(Box::new(|_, _| 204));
        let stats = run_until(
            store.clone(),
            &rx,
            "max_samples_per_send: 70, capacity: 300, max_shards: 4, min_shards: 4",
            finished,
        );
        assert_eq!(rx.received(), expected(&store));
        let total: usize = 40 * 600;
        assert_eq!(stats.samples_sent.load(Ordering::Relaxed), total as u64);
        let requests = rx.accepted.lock().clone();
        for r in &requests {
            let n: usize = r.iter().map(|s| s.samples.len()).sum();
            assert!(n <= 70, "a request of {n} samples");
        }
        // Full requests but for the last one of each shard in each of the 6 windows.
        assert!(
            requests.len() <= total.div_ceil(70) + 6 * 4,
            "{}",
            requests.len()
        );
        assert!(rx.max_in_flight.load(Ordering::SeqCst) <= 4);
        // 4 shards, started once, not once per window.
        assert_eq!(stats.shard_threads.load(Ordering::Relaxed), 4);
        assert_eq!(stats.shards.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn shards_follow_the_receivers_speed_and_the_backlog() {
        let (s, _dir) = sender(
            "http://127.0.0.1:1/",
            "max_shards: 200, min_shards: 1",
            store(1, 100),
        );
        let window = 10_000;
        // 50k samples/s (500k per 10 s window), requests costing 2 µs per sample.
        let fast = 2_000_000;
        // Caught up: 0.1 of a shard's time.
        assert_eq!(s.shards_wanted(500_000, fast, window, 0), Some(1));
        // 10 minutes behind: the backlog of 30M samples in 10 s, 3.05M samples/s.
        assert_eq!(s.shards_wanted(500_000, fast, window, 600_000), Some(7));
        // A receiver 50 times slower wants more than max_shards.
        assert_eq!(
            s.shards_wanted(500_000, 50 * fast, window, 600_000),
            Some(200)
        );
        // Nothing measured: no change.
        assert_eq!(s.shards_wanted(0, fast, window, 600_000), None);
        assert_eq!(s.shards_wanted(500_000, u64::MAX, window, 600_000), None);
    }

    #[test]
    fn a_slow_receiver_gets_more_shards_a_fast_one_one() {
        let slow = receiver(Box::new(|_, _| {
            std::thread::sleep(Duration::from_millis(20));
            204
        }));
        let store_slow = store(100, 30_000);
        let stats = run_until(
            store_slow.clone(),
            &slow,
            "max_samples_per_send: 50, max_shards: 8",
            finished,
        );
        assert_eq!(slow.received(), expected(&store_slow));
        // 400 µs per sample, 1,000 samples/s with up to 90 s behind: 4 shards and more.
        let started = stats.shard_threads.load(Ordering::Relaxed);
        assert!((3..=8).contains(&started), "{started}");
        assert!(slow.max_in_flight.load(Ordering::SeqCst) >= 3);

        let fast = receiver(Box::new(|_, _| 204));
        let store_fast = store(20, 60_000);
        let stats = run_until(
            store_fast.clone(),
            &fast,
            "max_samples_per_send: 50, max_shards: 8",
            finished,
        );
        assert_eq!(fast.received(), expected(&store_fast));
        assert_eq!(stats.shard_threads.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn an_outage_is_retried_until_everything_arrives_once_in_order() {
        let store = store(30, 30_000);
        let rx = receiver(Box::new(|k, _| if k < 40 { 503 } else { 204 }));
        let stats = run_until(
            store.clone(),
            &rx,
            "max_samples_per_send: 50, max_shards: 3, min_shards: 3, min_backoff: 1ms, max_backoff: 10ms",
            finished,
        );
        assert_eq!(rx.received(), expected(&store));
        assert!(stats.retries.load(Ordering::Relaxed) >= 40);
        assert_eq!(stats.samples_dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_4xx_drops_its_request_and_the_rest_arrives() {
        let store = store(20, 20_000);
        let bad = |r: &[TimeSeries]| r.iter().any(|s| s.labels[0].1 == "s7");
        let rx = receiver(Box::new(move |_, r| if bad(r) { 400 } else { 204 }));
        let stats = run_until(
            store.clone(),
            &rx,
            "max_samples_per_send: 40, max_shards: 2, min_shards: 2",
            finished,
        );
        let (sent, dropped) = (
            stats.samples_sent.load(Ordering::Relaxed),
            stats.samples_dropped.load(Ordering::Relaxed),
        );
        assert!(dropped >= 200, "{dropped}");
        assert_eq!(sent + dropped, 20 * 200);
        let got = rx.received();
        assert!(!got.contains_key("s7"));
        assert_eq!(got.values().map(Vec::len).sum::<usize>() as u64, sent);
    }

    #[test]
    fn a_read_error_halfway_retries_the_window_without_sending_anything_twice() {
        let store = store(50, 30_000);
        store.fail_at.store(25, Ordering::SeqCst);
        let rx = receiver(Box::new(|_, _| 204));
        run_until(
            store.clone(),
            &rx,
            "max_samples_per_send: 60, max_shards: 3, max_backoff: 10ms",
            finished,
        );
        assert_eq!(
            store.fail_at.load(Ordering::SeqCst),
            usize::MAX,
            "no error injected"
        );
        assert_eq!(rx.received(), expected(&store));
    }

    #[test]
    fn a_stalled_receiver_holds_the_reader_at_capacity_per_shard() {
        let store = store(200, 10_000);
        let open = Arc::new(AtomicBool::new(false));
        let gate = open.clone();
        let rx = receiver(Box::new(move |_, _| {
            if gate.load(Ordering::SeqCst) {
                204
            } else {
                503
            }
        }));
        let pulled = store.clone();
        let stats = run_until(
            store.clone(),
            &rx,
            "max_samples_per_send: 70, capacity: 150, max_shards: 2, min_shards: 2, min_backoff: 1ms, max_backoff: 5ms",
            |stats| {
                if !open.load(Ordering::SeqCst) && stats.retries.load(Ordering::Relaxed) > 50 {
                    // Each series has 100 samples in the window: a shard holds at most
                    // 150 queued and 70 in flight, about 2 series, plus one being queued.
                    let n = pulled.pulled.load(Ordering::SeqCst);
                    assert!(n <= 2 * 4, "{n} of 200 series read while nothing is sent");
                    open.store(true, Ordering::SeqCst);
                }
                finished(stats)
            },
        );
        assert_eq!(rx.received(), expected(&store));
        assert_eq!(stats.samples_sent.load(Ordering::Relaxed), 200 * 100);
    }
}
