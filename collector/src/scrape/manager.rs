//! [`Manager`]: one tokio task per target, scraping at the job's interval from a
//! deterministic offset, plus one task for the local [`Collect`] sources.
//!
//! Each tick fetches the target on a blocking thread, parses the body with
//! [`crate::exposition`], and stores it through [`model::Appendable`] in one commit (see
//! [`scraper`](super::scraper)). The first scrape of a target happens at the next instant
//! `t` with `t mod interval == offset`, where the offset is a hash of the job and the URL
//! modulo the interval, so that restarts keep a target's phase and targets spread out.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use model::{Appendable, Labels, Timestamp};
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::config::{Job, Loaded, PromDuration};
use super::http;
use super::relabel::LabelMap;
use super::scraper::{self, LoopState, SeriesLabeling};
use super::target::{self, Outcome};
use crate::{Collect, Family};

/// The wall clock in ms since the epoch, injected so tests can fix it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(model::now_ms)
}

/// A target's health as `/api/v1/targets` shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    /// `None` before the first scrape, then whether it succeeded.
    pub up: Option<bool>,
    /// The last scrape's error, empty after a success.
    pub last_error: String,
    /// When the last scrape started, ms since the epoch.
    pub last_scrape_ms: Option<Timestamp>,
    /// How long the last scrape took.
    pub last_duration_seconds: f64,
}

/// An active target and its state.
#[derive(Debug, Clone)]
pub struct ActiveTarget {
    /// The job (scrape pool).
    pub job: String,
    /// The labels before relabeling.
    pub discovered: LabelMap,
    /// The labels its series carry.
    pub labels: LabelMap,
    /// The URL scraped.
    pub url: String,
    /// The scrape interval.
    pub interval: PromDuration,
    /// The scrape timeout.
    pub timeout: PromDuration,
    /// The last scrape's outcome.
    pub health: Health,
}

/// A target relabeling dropped.
#[derive(Debug, Clone)]
pub struct DroppedTarget {
    /// The job.
    pub job: String,
    /// The labels before relabeling.
    pub discovered: LabelMap,
}

struct Running {
    info: ActiveTarget,
    /// The discovery group the target came from (`None`: `static_configs`).
    source: Option<String>,
    health: Arc<RwLock<Health>>,
    stop: watch::Sender<Option<bool>>,
    task: JoinHandle<()>,
}

/// The targets, shared with the discovery tasks that change them.
#[derive(Default)]
struct Targets {
    running: Vec<Running>,
    /// Dropped targets with their discovery group.
    dropped: Vec<(Option<String>, DroppedTarget)>,
}

/// The scrape loops of a configuration.
pub struct Manager {
    env: Env,
    targets: Arc<Mutex<Targets>>,
    local: Option<(watch::Sender<Option<bool>>, JoinHandle<()>)>,
    discovery: Vec<JoinHandle<()>>,
}

/// Everything a loop needs besides its target.
#[derive(Clone)]
struct Env {
    storage: Arc<dyn Appendable>,
    clock: Clock,
}

impl Manager {
    /// Builds the targets of `config` and starts their loops on the current tokio runtime;
    /// `local` sources are collected every global `scrape_interval` with `local_labels`.
    /// A target whose labels are invalid after relabeling is logged and skipped, as
    /// Prometheus does. `kubernetes_sd_configs` start one discovery task each; their
    /// targets come and go as the API server reports pods (a target that goes away gets
    /// staleness markers).
    pub fn start(
        config: &Loaded,
        storage: Arc<dyn Appendable>,
        clock: Clock,
        local: Vec<Arc<dyn Collect>>,
        local_labels: LabelMap,
    ) -> Self {
        let env = Env { storage, clock };
        let mut manager = Self {
            env: env.clone(),
            targets: Arc::new(Mutex::new(Targets::default())),
            local: None,
            discovery: Vec::new(),
        };
        for job in &config.jobs {
            let lsets = target::static_targets(job);
            manager.targets.lock().sync(&env, job, None, &lsets);
            for (k, sd) in job.config.kubernetes_sd_configs.iter().enumerate() {
                let (env, job, targets) = (env.clone(), job.clone(), manager.targets.clone());
                let name = job.config.job_name.clone();
                let task = tokio::spawn(crate::k8s::sd::discover(
                    name,
                    sd.clone(),
                    move |u: crate::k8s::sd::GroupUpdate| {
                        let source = format!("{k}/{}", u.source);
                        targets.lock().sync(&env, &job, Some(&source), &u.targets);
                    },
                ));
                manager.discovery.push(task);
            }
        }
        if !local.is_empty() {
            let interval = config
                .global
                .scrape_interval
                .unwrap_or(super::config::DEFAULT_SCRAPE_INTERVAL);
            let (tx, rx) = watch::channel(None);
            let task = tokio::spawn(local_loop(env, local, local_labels, interval.0, rx));
            manager.local = Some((tx, task));
        }
        manager
    }

    /// The active targets with their current health, in the order they started.
    pub fn active(&self) -> Vec<ActiveTarget> {
        self.targets
            .lock()
            .running
            .iter()
            .map(|r| ActiveTarget {
                health: r.health.read().clone(),
                ..r.info.clone()
            })
            .collect()
    }

    /// The targets relabeling dropped.
    pub fn dropped(&self) -> Vec<DroppedTarget> {
        let t = self.targets.lock();
        t.dropped.iter().map(|(_, d)| d.clone()).collect()
    }

    /// Stops the loop of the target scraped at `url` and marks all its series stale, as
    /// Prometheus does for a target that disappears. Returns whether such a target ran.
    pub async fn remove_target(&mut self, url: &str) -> bool {
        let r = {
            let mut t = self.targets.lock();
            let Some(i) = t.running.iter().position(|r| r.info.url == url) else {
                return false;
            };
            t.running.remove(i)
        };
        let _ = r.stop.send(Some(true));
        let _ = r.task.await;
        true
    }

    /// Stops discovery and every loop without staleness markers (a shutdown, as
    /// Prometheus's).
    pub async fn shutdown(self) {
        for d in &self.discovery {
            d.abort();
        }
        let running = std::mem::take(&mut self.targets.lock().running);
        for r in running {
            let _ = r.stop.send(Some(false));
            let _ = r.task.await;
        }
        if let Some((tx, task)) = self.local {
            let _ = tx.send(Some(false));
            let _ = task.await;
        }
        drop(self.env);
    }
}

impl Targets {
    /// Makes the targets of `job` from group `source` those of `lsets`: new ones start,
    /// unchanged ones keep running, vanished ones stop with staleness markers.
    fn sync(&mut self, env: &Env, job: &Job, source: Option<&str>, lsets: &[LabelMap]) {
        let name = &job.config.job_name;
        let mine = |s: &Option<String>, j: &str| s.as_deref() == source && j == name;
        self.dropped.retain(|(s, d)| !mine(s, &d.job));
        let mut wanted: Vec<target::Target> = Vec::new();
        for lset in lsets {
            match target::populate(lset, job) {
                Ok(Outcome::Active(t)) => wanted.push(t),
                Ok(Outcome::Dropped(discovered)) => self.dropped.push((
                    source.map(str::to_string),
                    DroppedTarget {
                        job: name.clone(),
                        discovered,
                    },
                )),
                Err(e) => tracing::warn!(job = %name, error = %e, "creating target failed"),
            }
        }
        let mut keep = Vec::with_capacity(self.running.len());
        for r in std::mem::take(&mut self.running) {
            if !mine(&r.source, &r.info.job) {
                keep.push(r);
                continue;
            }
            let same = wanted.iter().position(|t| {
                t.url(&job.config.params) == r.info.url && t.labels() == r.info.labels
            });
            match same {
                Some(i) => {
                    wanted.remove(i);
                    keep.push(r);
                }
                None => {
                    tracing::info!(job = %name, url = %r.info.url, "target gone");
                    let _ = r.stop.send(Some(true));
                }
            }
        }
        self.running = keep;
        for t in wanted {
            self.spawn(env, job, source, t);
        }
    }

    fn spawn(&mut self, env: &Env, job: &Job, source: Option<&str>, t: target::Target) {
        let url = t.url(&job.config.params);
        let info = ActiveTarget {
            job: job.config.job_name.clone(),
            discovered: t.discovered.clone(),
            labels: t.labels(),
            url: url.clone(),
            interval: job.interval,
            timeout: job.timeout,
            health: Health::default(),
        };
        let health = Arc::new(RwLock::new(Health::default()));
        let (tx, rx) = watch::channel(None);
        let spec = LoopSpec {
            url,
            client: http::Client::new(job.timeout.0, &job.config),
            config: job.config.clone(),
            labeling: SeriesLabeling {
                target: info.labels.clone(),
                honor_labels: job.config.honor_labels,
                honor_timestamps: job.honor_timestamps,
                metric_relabel: job.metric_relabel.clone(),
            },
            interval: job.interval.0,
            offset: offset(&info.job, &info.url, job.interval.0),
            health: health.clone(),
        };
        let task = tokio::spawn(target_loop(env.clone(), spec, rx));
        self.running.push(Running {
            info,
            source: source.map(str::to_string),
            health,
            stop: tx,
            task,
        });
    }
}

/// A deterministic phase for a target within its interval.
fn offset(job: &str, url: &str, interval: Duration) -> Duration {
    let mut h = DefaultHasher::new();
    (job, url).hash(&mut h);
    let ms = u64::try_from(interval.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    Duration::from_millis(h.finish() % ms)
}

/// How long until the next instant whose phase within `interval` is `offset`.
fn first_delay(now_ms: Timestamp, interval: Duration, offset: Duration) -> Duration {
    let iv = i64::try_from(interval.as_millis())
        .unwrap_or(i64::MAX)
        .max(1);
    let off = i64::try_from(offset.as_millis()).unwrap_or(0);
    let wait = (off - now_ms).rem_euclid(iv);
    Duration::from_millis(u64::try_from(wait).unwrap_or(0))
}

struct LoopSpec {
    url: String,
    config: super::config::ScrapeConfig,
    /// The loop's HTTP client, or why it could not be made (every scrape fails with it).
    client: Result<http::Client, String>,
    labeling: SeriesLabeling,
    interval: Duration,
    offset: Duration,
    health: Arc<RwLock<Health>>,
}

/// Waits for the next tick; `Some(stale)` when told to stop.
async fn next_tick(
    tick: &mut tokio::time::Interval,
    stop: &mut watch::Receiver<Option<bool>>,
) -> Option<bool> {
    tokio::select! {
        _ = tick.tick() => None,
        _ = stop.changed() => Some((*stop.borrow()).unwrap_or(false)),
    }
}

async fn target_loop(env: Env, spec: LoopSpec, mut stop: watch::Receiver<Option<bool>>) {
    let delay = first_delay((env.clock)(), spec.interval, spec.offset);
    let start = tokio::time::Instant::now() + delay;
    let mut tick = tokio::time::interval_at(start, spec.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let spec = Arc::new(spec);
    let mut state = LoopState::default();
    loop {
        if let Some(stale) = next_tick(&mut tick, &mut stop).await {
            if stale {
                let (env, spec) = (env.clone(), spec.clone());
                let _ = tokio::task::spawn_blocking(move || {
                    let t = (env.clock)();
                    let target = &spec.labeling.target;
                    if let Err(e) = scraper::store_end_of_run(&*env.storage, &mut state, target, t) {
                        tracing::error!(url = %spec.url, error = %e, "storing staleness markers failed");
                    }
                })
                .await;
            }
            return;
        }
        let (env2, spec2) = (env.clone(), spec.clone());
        match tokio::task::spawn_blocking(move || scrape_once(&env2, &spec2, state)).await {
            Ok(s) => state = s,
            Err(e) => {
                tracing::error!(url = %spec.url, error = %e, "scrape task failed");
                state = LoopState::default();
            }
        }
    }
}

/// Fetches, parses and stores one scrape; updates the target's health.
fn scrape_once(env: &Env, spec: &LoopSpec, mut state: LoopState) -> LoopState {
    let start = (env.clock)();
    let began = Instant::now();
    let body = spec
        .client
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|c| c.fetch(&spec.url, &spec.config))
        .and_then(|b| scraper::parse_body(&b.text, b.format, &spec.labeling));
    let duration = began.elapsed().as_secs_f64();
    let target = &spec.labeling.target;
    let error =
        match scraper::store_scrape(&*env.storage, &mut state, target, body, start, duration) {
            Ok(outcome) => outcome.error,
            Err(e) => format!("storing the scrape: {e}"),
        };
    if !error.is_empty() {
        tracing::debug!(url = %spec.url, error = %error, "scrape failed");
    }
    *spec.health.write() = Health {
        up: Some(error.is_empty()),
        last_error: error,
        last_scrape_ms: Some(start),
        last_duration_seconds: duration,
    };
    state
}

/// Collects the local sources every `interval` and stores their families.
async fn local_loop(
    env: Env,
    sources: Vec<Arc<dyn Collect>>,
    labels: LabelMap,
    interval: Duration,
    mut stop: watch::Receiver<Option<bool>>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let shared = Arc::new((sources, labels));
    let mut state = LoopState::default();
    while next_tick(&mut tick, &mut stop).await.is_none() {
        let (env2, shared2) = (env.clone(), shared.clone());
        let result = tokio::task::spawn_blocking(move || {
            collect_once(&env2, &shared2.0, &shared2.1, &mut state);
            state
        })
        .await;
        state = result.unwrap_or_default();
    }
}

/// One collection of the local sources, stored with staleness like a scrape.
fn collect_once(env: &Env, sources: &[Arc<dyn Collect>], labels: &LabelMap, state: &mut LoopState) {
    let t = (env.clock)();
    let mut families = Vec::new();
    for source in sources {
        if let Err(e) = source.collect(&mut families) {
            tracing::warn!(reader = source.name(), error = %e, "collecting failed");
        }
    }
    let points = family_points(&families, labels);
    let mut app = env.storage.appender();
    match scraper::store_points(&mut *app, state, &points, t) {
        Ok(_) => {
            if let Err(e) = app.commit() {
                tracing::error!(error = %e, "storing local metrics failed");
            }
        }
        Err(e) => {
            app.rollback();
            tracing::error!(error = %e, "storing local metrics failed");
        }
    }
}

/// Families as labeled points; `labels` are added where a sample lacks them.
fn family_points(families: &[Family], labels: &LabelMap) -> Vec<scraper::Point> {
    let mut out = Vec::new();
    for f in families {
        for s in &f.samples {
            let mut lb: LabelMap = s.labels.to_vec().into_iter().collect();
            for (n, v) in labels {
                lb.entry(n.clone()).or_insert_with(|| v.clone());
            }
            lb.insert(model::METRIC_NAME.into(), f.name.clone());
            let pairs: Vec<(String, String)> = lb.into_iter().collect();
            match Labels::from_pairs(&pairs) {
                Ok(l) => out.push((l, s.value, None)),
                Err(e) => tracing::warn!(family = %f.name, error = %e, "invalid labels"),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_scrape_lands_on_the_offset() {
        let iv = Duration::from_secs(10);
        let off = Duration::from_millis(2500);
        assert_eq!(first_delay(100_000, iv, off), Duration::from_millis(2500));
        assert_eq!(first_delay(103_000, iv, off), Duration::from_millis(9500));
        assert_eq!(first_delay(102_500, iv, off), Duration::ZERO);
    }
}
