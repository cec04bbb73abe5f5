//! `promlet agent`: read this node (procfs, cgroups) and serve it on `/metrics`.

use std::sync::Arc;

use anyhow::{Context, Result};
use collector::Collect;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::args::AgentArgs;

pub(crate) fn run(args: AgentArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(agent(args))
}

async fn agent(args: AgentArgs) -> Result<()> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(exporter::FamiliesCollector::new(local_sources(
        &args,
    ))));
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%addr, "promlet agent: listening");
    axum::serve(listener, exporter::agent_router(Arc::new(registry)))
        .with_graceful_shutdown(super::serve::shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!("promlet agent: shutting down");
    Ok(())
}

/// The readers of this node: procfs (node_exporter's families) and cgroups (cAdvisor's).
fn local_sources(args: &AgentArgs) -> Vec<Arc<dyn Collect>> {
    super::local::host_sources(&args.procfs, &args.sysfs, &args.rootfs)
}
