//! Sending stored samples to a remote-write receiver. The queue is the storage itself: a
//! watermark (the newest sample time sent, persisted in a state file after every window)
//! marks how far the receiver has everything, and each round reads the next window of
//! samples from storage, relabels them, splits them into shards by series, and sends each
//! shard's requests in order, retrying with exponential backoff until the receiver takes
//! them. A receiver outage therefore loses nothing while the data is retained; memory holds
//! one window (at most [`MAX_WINDOW_MS`] of samples) whatever the outage's length.
//!
//! Limits: samples are sent once they are [`Sender::delay_ms`] old (scrapes commit samples
//! with their start time, up to a scrape timeout later); a sample stored later than that
//! with a timestamp at or below the watermark (a late backfill) is not sent. 4xx answers
//! (except 429 with `retry_on_http_429`) drop the request, as Prometheus does.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use model::{Labels, MatchOp, Matcher, Queryable, SelectHints};

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
            state_file,
            agent,
            delay_ms,
            stats: Arc::new(Stats::default()),
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
        let mut wm = self.load_watermark(clock());
        self.stats
            .watermark_ms
            .store(wm.max(0) as u64, Ordering::Relaxed);
        while !stop.load(Ordering::Relaxed) {
            let hi = (clock() - self.delay_ms).min(wm + MAX_WINDOW_MS);
            if hi <= wm {
                sleep_unless(stop, self.queue.batch_send_deadline_ms);
                continue;
            }
            match self.send_window(wm, hi, stop) {
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

    /// Reads samples in `(lo, hi]`, and sends them all (or stops).
    fn send_window(&self, lo: i64, hi: i64, stop: &AtomicBool) -> Result<(), String> {
        let series = self.read(lo, hi)?;
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
}
