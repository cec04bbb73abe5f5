//! The shard workers of a sender: bounded queues between the window reader and one worker
//! thread per shard, each sending its queue in order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Scope;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::{Outcome, POLL_MS, Sender, sleep_unless};
use crate::remote_write::proto::{TimeSeries, encode_write_request};
use crate::scrape::http::{HttpAuth, authorization_header};

/// One shard: the queue between the reader and the shard's worker thread.
#[derive(Default)]
pub(super) struct Shard {
    state: Mutex<ShardState>,
    /// The worker waits here for a full request, the end of the window, or quitting.
    work: Condvar,
    /// The reader waits here for room in the queue, or for the window's end to be sent.
    room: Condvar,
}

#[derive(Default)]
pub(super) struct ShardState {
    /// Series (or pieces of one) in the order they are to be sent.
    pub(super) queue: VecDeque<TimeSeries>,
    /// Samples in `queue`.
    pub(super) queued: usize,
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
    pub(super) fn take(&mut self, max: usize, batch: &mut Vec<TimeSeries>) -> usize {
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
    pub(super) fn push(
        &self,
        ts: TimeSeries,
        capacity: usize,
        max: usize,
        stop: &AtomicBool,
    ) -> bool {
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
    pub(super) fn flush(&self) {
        self.state.lock().flush = true;
        self.work.notify_one();
    }

    /// Waits until the worker has sent (or dropped) everything queued; `false` when `stop`
    /// is set meanwhile.
    pub(super) fn wait_flushed(&self, stop: &AtomicBool) -> bool {
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
    pub(super) fn quit(&self) {
        self.state.lock().quit = true;
        self.work.notify_one();
    }
}

/// The shard worker threads of one [`Sender::run`].
pub(super) struct Pool<'scope, 'env> {
    pub(super) scope: &'scope Scope<'scope, 'env>,
    pub(super) sender: &'env Sender,
    pub(super) stop: &'env AtomicBool,
    pub(super) shards: Vec<Arc<Shard>>,
}

impl Pool<'_, '_> {
    /// Starts workers until there are `n`; returns how many there are (fewer only if a thread
    /// could not be started).
    pub(super) fn grow(&mut self, n: usize) -> usize {
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
    pub(super) fn retire(&mut self, keep: usize) {
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
    pub(super) fn finish(&self, n: usize, stop: &AtomicBool) -> bool {
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

impl Sender {
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
