//! `promlet serve`: open the data directory and serve until SIGTERM or Ctrl-C.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

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
    let storage = args.storage.clone();
    let db = tokio::task::spawn_blocking(move || super::open_db(&storage)).await??;
    let db = Arc::new(db);
    let mut state = exporter::AppState::new(
        Arc::new(telemetry::registry(db.clone())),
        db.clone(),
        query::Engine::new(args.engine.options()),
    );
    state.build_info = Arc::new(build_info());
    state.ready = Arc::new(AtomicBool::new(true));
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%addr, data = %args.storage.data.display(), "promlet serve: listening");
    let retention = tokio::spawn(retention_loop(db.clone()));
    axum::serve(listener, exporter::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    retention.abort();
    tracing::info!("promlet serve: shutting down");
    tokio::task::spawn_blocking(move || db.sync()).await??;
    Ok(())
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
