//! Sending stored samples to a remote-write receiver. The queue is the storage itself: a
//! watermark (the newest sample time sent, persisted in a state file after every window)
//! marks how far the receiver has everything, and each round reads the next window of
//! samples from storage, relabels them, splits them into shards by series, and sends each
//! shard's requests in order, retrying with exponential backoff until the receiver takes
//! them. A receiver outage therefore loses nothing while the data is retained; memory holds
//! one window (at most [`MAX_WINDOW_MS`] of samples) whatever the outage's length.
//!
//! Samples are sent once they are [`Sender::delay_ms`] old (scrapes commit samples with
//! their start time, up to a scrape timeout later). A sample stored after the sender read
//! past its time (a new series with old timestamps, a remote-write client catching up) is
//! kept for the sender by the storage ([`model::LateSamples`], see [`Sender::with_late`]) and
//! sent after the window, in commit order, without the ones the window already sent. Late
//! samples on their way are written to `<name>.late` first and sent again from there after
//! a stop or a crash; what a crash loses is only what the storage kept in memory and the
//! sender had not taken yet (less than one round), and samples beyond the storage's limit of
//! kept samples are counted as dropped. Backfills into a stopped server are not sent
//! (Prometheus does not send backfilled blocks either). 4xx answers (except 429 with
//! `retry_on_http_429`) drop the request, as Prometheus does.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use model::{Labels, LateSamples, MatchOp, Matcher, Queryable, SelectHints};

use super::config::{Queue, RemoteWriteConfig};
use super::proto::{TimeSeries, encode_write_request};
use crate::scrape::http::{HttpAuth, authorization_header, tls};
use crate::scrape::relabel::{LabelMap, Rule, process};

/// The longest stretch of samples read in one round, ms.
pub const MAX_WINDOW_MS: i64 = 10_000;

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
}

/// The result of sending one request.
enum Outcome {
    Sent,
    Dropped(String),
    Retry(String),
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
        let timeout = cfg.remote_timeout.map_or(Duration::from_secs(30), |d| d.0);
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("promlet/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls(cfg.tls_config.as_ref())?)
            .build()
            .new_agent();
        let state_file = state_dir.join(format!("{}.watermark", cfg.display_name()));
        Ok(Sender {
            queue: cfg.queue_config.effective(),
            cfg,
            rules,
            external,
            storage,
            late: None,
            state_file,
            agent,
            delay_ms,
            stats: Arc::new(Stats::default()),
        })
    }

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
    fn reader_name(&self) -> String {
        format!("remote_write/{}", self.cfg.display_name())
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
        let mut wm = self.load_watermark(clock());
        self.stats
            .watermark_ms
            .store(wm.max(0) as u64, Ordering::Relaxed);
        while let Err(e) = self.resume_pending(stop) {
            tracing::warn!(remote = %self.cfg.display_name(), error = %e, "remote write: late samples left by the last run");
            if stop.load(Ordering::Relaxed) {
                return;
            }
            sleep_unless(stop, self.queue.max_backoff_ms);
        }
        while !stop.load(Ordering::Relaxed) {
            let hi = (clock() - self.delay_ms).min(wm + MAX_WINDOW_MS);
            if hi <= wm {
                sleep_unless(stop, self.queue.batch_send_deadline_ms);
                continue;
            }
            if let Some(late) = &self.late {
                late.set_horizon(&self.reader_name(), hi);
            }
            let sent = self
                .send_window(wm, hi, stop)
                .and_then(|newest| self.send_late(&newest, stop));
            match sent {
                Ok(()) => {
                    wm = hi;
                    self.stats
                        .watermark_ms
                        .store(wm.max(0) as u64, Ordering::Relaxed);
                    if let Err(e) = self.save_watermark(wm) {
                        tracing::error!(remote = %self.cfg.display_name(), error = %e, "saving the remote write watermark");
                    }
                }
                Err(e) => {
                    tracing::warn!(remote = %self.cfg.display_name(), error = %e, "remote write round");
                    sleep_unless(stop, self.queue.max_backoff_ms);
                }
            }
            if clock() - self.delay_ms <= wm {
                sleep_unless(stop, self.queue.batch_send_deadline_ms);
            }
        }
    }

    /// Reads samples in `(lo, hi]`, and sends them all (or stops). Returns the newest
    /// timestamp sent per series (by [`series_key`]).
    fn send_window(
        &self,
        lo: i64,
        hi: i64,
        stop: &AtomicBool,
    ) -> Result<HashMap<u64, i64>, String> {
        let series = self.read(lo, hi)?;
        let newest = series
            .iter()
            .filter_map(|s| Some((series_key(&s.labels), s.samples.last()?.0)))
            .collect();
        self.send_all(series, stop)?;
        Ok(newest)
    }

    /// Sends the samples kept for this sender since the last time, after a window whose
    /// newest sample per series is `newest` (late samples the window sent are left out).
    fn send_late(&self, newest: &HashMap<u64, i64>, stop: &AtomicBool) -> Result<(), String> {
        let Some(late) = &self.late else {
            return Ok(());
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
            let sent_up_to = newest.get(&series_key(&labels)).copied();
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
            return Ok(());
        }
        self.save_pending(&series)?;
        self.send_pending(series, stop)
    }

    /// The file holding late samples on their way.
    fn pending_file(&self) -> PathBuf {
        self.state_file.with_extension("late")
    }

    /// Writes `series` (a remote-write request body) to the pending file.
    fn save_pending(&self, series: &[TimeSeries]) -> Result<(), String> {
        let file = self.pending_file();
        let tmp = file.with_extension("late.tmp");
        std::fs::write(&tmp, encode_write_request(series))
            .and_then(|()| std::fs::rename(&tmp, &file))
            .map_err(|e| format!("{}: {e}", file.display()))
    }

    /// Sends `series` and then removes the pending file.
    fn send_pending(&self, series: Vec<TimeSeries>, stop: &AtomicBool) -> Result<(), String> {
        self.send_all(series, stop)?;
        let file = self.pending_file();
        std::fs::remove_file(&file).map_err(|e| format!("{}: {e}", file.display()))
    }

    /// Sends the late samples a stop or crash left in the pending file, if any. A file that
    /// does not decode is renamed `.late.bad` and reported.
    fn resume_pending(&self, stop: &AtomicBool) -> Result<(), String> {
        let file = self.pending_file();
        let Ok(body) = std::fs::read(&file) else {
            return Ok(());
        };
        match super::proto::decode_write_request(&body) {
            Ok(series) => self.send_pending(series, stop),
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

    /// Sends `series`, sharded by series, each shard's requests in order (or stops).
    fn send_all(&self, series: Vec<TimeSeries>, stop: &AtomicBool) -> Result<(), String> {
        let total: usize = series.iter().map(|s| s.samples.len()).sum();
        if total == 0 {
            return Ok(());
        }
        let shards = total
            .div_ceil(self.queue.capacity)
            .clamp(self.queue.min_shards, self.queue.max_shards);
        let mut parts: Vec<Vec<TimeSeries>> = vec![Vec::new(); shards];
        for ts in series {
            let key: String = ts
                .labels
                .iter()
                .map(|(n, v)| format!("{n}\u{ff}{v}\u{ff}"))
                .collect();
            let shard = crate::scrape::relabel::hash_mod(&key, shards as u64) as usize;
            parts[shard.min(shards - 1)].push(ts);
        }
        std::thread::scope(|scope| {
            for part in &parts {
                scope.spawn(move || self.send_shard(part, stop));
            }
        });
        if stop.load(Ordering::Relaxed) {
            return Err("stopping".into());
        }
        Ok(())
    }

    /// Every series with samples in `(lo, hi]`, relabeled, with external labels.
    fn read(&self, lo: i64, hi: i64) -> Result<Vec<TimeSeries>, String> {
        let err = |e: model::Error| e.to_string();
        let q = self.storage.querier(lo + 1, hi).map_err(err)?;
        let all = [Matcher::new(MatchOp::Regex, model::METRIC_NAME, ".+").map_err(err)?];
        let hints = SelectHints {
            start: lo + 1,
            end: hi,
            unordered: true,
            ..SelectHints::default()
        };
        let mut out = Vec::new();
        for s in q.select(&hints, &all).map_err(err)? {
            let s = s.map_err(err)?;
            let samples: Vec<(i64, f64)> = s
                .samples
                .iter()
                .filter(|p| p.t > lo && p.t <= hi)
                .map(|p| (p.t, p.v))
                .collect();
            if samples.is_empty() {
                continue;
            }
            let Some(labels) = self.relabel(&s.labels) else {
                continue;
            };
            out.push(TimeSeries {
                labels: labels.into_iter().collect(),
                samples,
                histograms: 0,
            });
        }
        Ok(out)
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

    /// Sends `part` in requests of at most `max_samples_per_send` samples, each until sent,
    /// dropped, or `stop`.
    fn send_shard(&self, part: &[TimeSeries], stop: &AtomicBool) {
        for batch in batches(part, self.queue.max_samples_per_send) {
            let n: usize = batch.iter().map(|s| s.samples.len()).sum();
            let body = match snap::raw::Encoder::new().compress_vec(&encode_write_request(&batch)) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "snappy compression");
                    continue;
                }
            };
            let mut backoff = self.queue.min_backoff_ms;
            loop {
                match self.post(&body) {
                    Outcome::Sent => {
                        self.stats
                            .samples_sent
                            .fetch_add(n as u64, Ordering::Relaxed);
                        break;
                    }
                    Outcome::Dropped(why) => {
                        tracing::error!(remote = %self.cfg.display_name(), samples = n, %why, "remote write dropped a request");
                        self.stats
                            .samples_dropped
                            .fetch_add(n as u64, Ordering::Relaxed);
                        break;
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

/// A hash of a series' labels (as sent), to recognise the series again.
fn series_key(labels: &[(String, String)]) -> u64 {
    let mut h = DefaultHasher::new();
    labels.hash(&mut h);
    h.finish()
}

/// `part` cut into requests of at most `max` samples (a series' samples may span two).
fn batches(part: &[TimeSeries], max: usize) -> Vec<Vec<TimeSeries>> {
    let mut out = Vec::new();
    let mut current: Vec<TimeSeries> = Vec::new();
    let mut count = 0;
    for ts in part {
        for chunk in ts.samples.chunks(max) {
            if count + chunk.len() > max && !current.is_empty() {
                out.push(std::mem::take(&mut current));
                count = 0;
            }
            current.push(TimeSeries {
                labels: ts.labels.clone(),
                samples: chunk.to_vec(),
                histograms: 0,
            });
            count += chunk.len();
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
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
mod tests {
    use super::*;

    fn ts(name: &str, n: usize) -> TimeSeries {
        TimeSeries {
            labels: vec![("__name__".into(), name.into())],
            samples: (0..n).map(|i| (i as i64, 1.0)).collect(),
            histograms: 0,
        }
    }

    #[test]
    fn batches_hold_at_most_max_samples_and_keep_everything() {
        let part = [ts("a", 7), ts("b", 3), ts("c", 12)];
        let out = batches(&part, 5);
        for b in &out {
            let n: usize = b.iter().map(|s| s.samples.len()).sum();
            assert!(n <= 5, "{n}");
        }
        let total: usize = out.iter().flatten().map(|s| s.samples.len()).sum();
        assert_eq!(total, 22);
    }

    /// A receiver that answers one request with 204 and hands over its decoded body.
    fn one_request_receiver() -> (String, std::sync::mpsc::Receiver<Vec<TimeSeries>>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
            tx.send(super::super::proto::decode_write_request(&raw).unwrap())
                .unwrap();
            let mut stream = stream;
            stream
                .write_all(
                    b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
        });
        (url, rx)
    }

    fn sender(url: &str, dir: &std::path::Path) -> Sender {
        let cfg: RemoteWriteConfig = serde_yaml::from_str(&format!("url: {url}\nname: t")).unwrap();
        let storage: Arc<dyn Queryable> = Arc::new(model::MemStorage::new());
        Sender::new(cfg, LabelMap::new(), storage, dir, 0).unwrap()
    }

    #[test]
    fn late_samples_left_by_a_stop_are_sent_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let (url, rx) = one_request_receiver();
        let pending = [ts("a", 3), ts("b", 2)];
        // A run wrote them and stopped before they were sent.
        sender(&url, dir.path()).save_pending(&pending).unwrap();
        assert!(dir.path().join("t.late").exists());
        let next = sender(&url, dir.path());
        next.resume_pending(&AtomicBool::new(false)).unwrap();
        let mut got = rx.recv().unwrap();
        got.sort_by(|a, b| a.labels.cmp(&b.labels));
        assert_eq!(got, pending);
        assert!(!dir.path().join("t.late").exists(), "removed once sent");
        // Nothing left: the next start sends nothing.
        next.resume_pending(&AtomicBool::new(false)).unwrap();
    }

    #[test]
    fn a_pending_file_that_does_not_decode_is_set_aside_and_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.late"), b"\xff\xff\xff").unwrap();
        let s = sender("http://127.0.0.1:9/api/v1/write", dir.path());
        let err = s.resume_pending(&AtomicBool::new(false)).unwrap_err();
        assert!(err.contains("t.late"), "{err}");
        assert!(dir.path().join("t.late.bad").exists());
        s.resume_pending(&AtomicBool::new(false)).unwrap();
    }
}
