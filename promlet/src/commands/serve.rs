//! `promlet serve`: open the data directory, scrape the configured targets (and the local
//! collectors), and serve until SIGTERM or Ctrl-C.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

use collector::scrape::{self, Manager};
use exporter::api::targets::{self as api_targets, TargetHealth, TargetsSource};

use crate::args::ServeArgs;
use crate::telemetry;

/// How often retention runs.
const RETENTION_INTERVAL: Duration = Duration::from_secs(60);

pub(crate) fn run(args: ServeArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<()> {
    let config = load_config(args.config_file.as_deref())?;
    let storage = args.storage.clone();
    let db = tokio::task::spawn_blocking(move || super::open_db(&storage)).await??;
    let db = Arc::new(db);
    let manager = Manager::start(
        &config,
        db.clone(),
        scrape::system_clock(),
        local_sources(args.collect_host),
        local_labels(),
    );
    let targets = Arc::new(ManagedTargets(Mutex::new(Some(manager))));
    let senders = start_remote_writes(&config, db.clone(), &args.storage.data)?;
    let mut state = exporter::AppState::new(
        Arc::new(telemetry::registry(
            db.clone(),
            senders.iter().map(|(_, _, s)| s.clone()).collect(),
        )),
        db.clone(),
        query::Engine::new(args.engine.options()),
    );
    state.build_info = Arc::new(build_info());
    state.ready = Arc::new(AtomicBool::new(true));
    state.targets = targets.clone();
    state.appendable = Some(db.clone());
    let secure = super::serve_secure::setup(&args.tls).await?;
    state.adapter = adapter(args.adapter_config.as_deref())?;
    if let Some(path) = &args.autoscale_config {
        let engine = query::Engine::new(args.engine.options());
        state.autoscale = super::autoscale::start_in_server(path, db.clone(), engine)?;
    }
    state.pods = pod_objects().await;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%addr, data = %args.storage.data.display(), "promlet serve: listening");
    let retention = tokio::spawn(retention_loop(db.clone()));
    // With a separate secure port, the plain one keeps the Kubernetes APIs open as
    // Prometheus's API is; otherwise the one listener applies the authentication.
    let mut plain_state = state.clone();
    if secure.secure_listen.is_none() {
        plain_state.auth = secure.auth.clone();
    }
    state.auth = secure.auth.clone();
    let plain_app = exporter::router(plain_state);
    let secure_app = exporter::router(state);
    super::serve_secure::serve(listener, secure, plain_app, secure_app, shutdown_signal()).await?;
    retention.abort();
    for (stop, handle, _) in senders {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = tokio::task::spawn_blocking(move || handle.join()).await;
    }
    let manager = targets.0.lock().ok().and_then(|mut m| m.take());
    if let Some(m) = manager {
        m.shutdown().await;
    }
    tracing::info!("promlet serve: shutting down");
    tokio::task::spawn_blocking(move || db.sync()).await??;
    Ok(())
}

/// Pod labels from the Kubernetes API when this process has a cluster configuration
/// (in-cluster or `KUBECONFIG`), for `labelSelector`s on pods; none otherwise.
async fn pod_objects() -> Option<Arc<dyn exporter::k8s::PodObjects>> {
    if !collector::k8s::cluster_present() {
        return None;
    }
    match collector::k8s::client(None, None).await {
        Ok(client) => {
            tracing::info!("watching pod labels for label selectors");
            Some(Arc::new(collector::k8s::KubePodLabels::start(client)))
        }
        Err(e) => {
            tracing::warn!(error = %e, "no Kubernetes client: label selectors see no pod labels");
            None
        }
    }
}

/// The custom/external metrics rules of `--adapter.config`.
fn adapter(path: Option<&std::path::Path>) -> Result<Option<Arc<exporter::k8s::adapter::Adapter>>> {
    let Some(path) = path else { return Ok(None) };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let adapter = exporter::k8s::adapter::Adapter::load(&text)
        .with_context(|| format!("loading adapter rules {}", path.display()))?;
    Ok(Some(Arc::new(adapter)))
}

/// A running remote-write sender: its stop flag and thread.
type RunningSender = (
    Arc<AtomicBool>,
    std::thread::JoinHandle<()>,
    (String, Arc<collector::remote_write::sender::Stats>),
);

/// Starts a sender thread per `remote_write` entry, its watermark kept under
/// `<data>/remote_write/`. Samples are sent once older than the longest scrape timeout plus
/// a second, when scrapes have committed them.
fn start_remote_writes(
    config: &scrape::Loaded,
    db: Arc<tsdb::Db>,
    data: &std::path::Path,
) -> Result<Vec<RunningSender>> {
    if config.remote_write.is_empty() {
        return Ok(Vec::new());
    }
    let state_dir = data.join("remote_write");
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("creating {}", state_dir.display()))?;
    let longest_timeout = config
        .jobs
        .iter()
        .map(|j| j.timeout.as_millis())
        .chain(config.global.scrape_timeout.map(|t| t.as_millis()))
        .max()
        .unwrap_or(10_000);
    let external: collector::scrape::relabel::LabelMap = config
        .global
        .external_labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut running = Vec::new();
    for (i, rw) in config.remote_write.iter().enumerate() {
        let sender = collector::remote_write::Sender::new(
            rw.clone(),
            external.clone(),
            db.clone(),
            &state_dir,
            longest_timeout + 1000,
        )
        .map_err(|e| anyhow::anyhow!("remote_write[{i}]: {e}"))?
        .with_late(db.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let name = rw.display_name();
        let stats = (name.clone(), sender.stats.clone());
        let handle = std::thread::Builder::new()
            .name(format!("remote-write-{i}"))
            .spawn(move || sender.run(&flag, &model::now_ms))
            .context("starting a remote write thread")?;
        tracing::info!(remote = %name, "remote write: sending stored samples");
        running.push((stop, handle, stats));
    }
    Ok(running)
}

/// Reads and validates `--config.file`; without one, nothing is scraped.
fn load_config(path: Option<&std::path::Path>) -> Result<scrape::Loaded> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading config file {}", p.display()))?,
        None => String::new(),
    };
    let shown = path.map_or_else(String::new, |p| p.display().to_string());
    scrape::Config::load(&text).with_context(|| format!("loading config file {shown}"))
}

/// The readers of this host, stored at the global `scrape_interval` (none when
/// `--collect-host=false`).
fn local_sources(collect_host: bool) -> Vec<Arc<dyn collector::Collect>> {
    if !collect_host {
        return Vec::new();
    }
    super::local::host_sources(
        std::path::Path::new("/proc"),
        std::path::Path::new("/sys"),
        std::path::Path::new("/"),
        Arc::new(collector::cgroup::NoMetadata),
        None,
    )
}

/// The target labels of this host's own series: as node_exporter scraped with `job="node"`.
fn local_labels() -> collector::scrape::relabel::LabelMap {
    let mut l = collector::scrape::relabel::LabelMap::new();
    l.insert("job".to_string(), "node".to_string());
    l.insert("instance".to_string(), super::local::host_name());
    l
}

/// The scrape manager as `/api/v1/targets` sees it; `None` once shut down.
struct ManagedTargets(Mutex<Option<Manager>>);

impl TargetsSource for ManagedTargets {
    fn active(&self) -> Vec<api_targets::ActiveTarget> {
        let Ok(guard) = self.0.lock() else {
            return Vec::new();
        };
        let Some(m) = guard.as_ref() else {
            return Vec::new();
        };
        m.active().into_iter().map(api_target).collect()
    }

    fn dropped(&self) -> Vec<api_targets::DroppedTarget> {
        let Ok(guard) = self.0.lock() else {
            return Vec::new();
        };
        let Some(m) = guard.as_ref() else {
            return Vec::new();
        };
        m.dropped()
            .into_iter()
            .map(|d| api_targets::DroppedTarget {
                discovered_labels: d.discovered.into_iter().collect(),
            })
            .collect()
    }
}

fn api_target(t: scrape::ActiveTarget) -> api_targets::ActiveTarget {
    let health = match t.health.up {
        Some(true) => TargetHealth::Up,
        Some(false) => TargetHealth::Down,
        None => TargetHealth::Unknown,
    };
    api_targets::ActiveTarget {
        discovered_labels: t.discovered.into_iter().collect(),
        labels: t.labels.into_iter().collect(),
        scrape_pool: t.job,
        global_url: t.url.clone(),
        scrape_url: t.url,
        last_error: t.health.last_error,
        last_scrape_ms: t.health.last_scrape_ms,
        last_scrape_duration_seconds: t.health.last_duration_seconds,
        health,
        scrape_interval: t.interval.to_string(),
        scrape_timeout: t.timeout.to_string(),
    }
}

/// What this binary reports at `/api/v1/status/buildinfo` (from `build.rs`).
fn build_info() -> exporter::BuildInfo {
    exporter::BuildInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        revision: env!("PROMLET_REVISION").into(),
        branch: env!("PROMLET_BRANCH").into(),
        go_version: env!("PROMLET_RUSTC").into(),
        ..exporter::BuildInfo::default()
    }
}

async fn retention_loop(db: Arc<tsdb::Db>) {
    let mut tick = tokio::time::interval(RETENTION_INTERVAL);
    loop {
        tick.tick().await;
        let db = db.clone();
        match tokio::task::spawn_blocking(move || db.apply_retention()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(partitions = n, "retention dropped partitions"),
            Ok(Err(e)) => tracing::error!(error = %e, "retention failed"),
            Err(e) => tracing::error!(error = %e, "retention task failed"),
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub(super) async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
