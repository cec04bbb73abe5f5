//! `promlet agent`: read this node (procfs, cgroups) and serve it on `/metrics`.

use std::sync::Arc;

use anyhow::{Context, Result};
use collector::Collect;
use collector::cgroup::{NoMetadata, PodMetadata};
use collector::k8s;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::args::AgentArgs;

/// mimalloc settings that keep the agent small: no eagerly committed arena, free pages
/// returned at once. Read by mimalloc from the environment at process start.
const LEAN_ALLOCATOR: [(&str, &str); 2] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_PURGE_DELAY", "0"),
];

pub(crate) fn run(args: AgentArgs) -> Result<()> {
    lean_allocator()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(agent(args))
}

async fn agent(args: AgentArgs) -> Result<()> {
    let meta = pod_metadata(&node_name(&args)).await;
    let mut registry = Registry::default();
    registry.register_collector(Box::new(exporter::FamiliesCollector::new(local_sources(
        &args, meta,
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

/// Restarts this process with [`LEAN_ALLOCATOR`] in its environment unless it is there
/// already (mimalloc reads its options before `main`): the agent then holds about 2 MiB of
/// heap instead of an eagerly committed arena of about 10 MiB. Returns only when no restart
/// is needed.
fn lean_allocator() -> Result<()> {
    if LEAN_ALLOCATOR
        .iter()
        .all(|(k, _)| std::env::var_os(k).is_some())
    {
        return Ok(());
    }
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().context("finding this executable to restart it")?;
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .envs(LEAN_ALLOCATOR)
        .exec();
    Err(err).context("restarting with the lean allocator settings")
}

/// The readers of this node: procfs (node_exporter's families) and cgroups (cAdvisor's),
/// the cgroups named through `meta`.
fn local_sources(args: &AgentArgs, meta: Arc<dyn PodMetadata>) -> Vec<Arc<dyn Collect>> {
    super::local::host_sources(
        &args.procfs,
        &args.sysfs,
        &args.rootfs,
        meta,
        args.cgroup_open_files,
    )
}

/// `--node-name`, else `NODE_NAME` (the downward API in the DaemonSet), else the host name.
fn node_name(args: &AgentArgs) -> String {
    args.node_name
        .clone()
        .or_else(|| std::env::var("NODE_NAME").ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(super::local::host_name)
}

/// Pod and container names from the API server (the pods of `node`, watched) when this
/// process has a cluster configuration; none otherwise, so outside a cluster no client is
/// built and the agent stays small.
async fn pod_metadata(node: &str) -> Arc<dyn PodMetadata> {
    if !k8s::cluster_present() {
        tracing::warn!(
            "no Kubernetes configuration (in-cluster or KUBECONFIG): cgroup series carry no pod names"
        );
        return Arc::new(NoMetadata);
    }
    match k8s::client(None, None).await {
        Ok(client) => {
            tracing::info!(node = %node, "watching this node's pods for pod names");
            Arc::new(k8s::KubePodMetadata::start(client, node))
        }
        Err(e) => {
            tracing::warn!(error = %e, "no Kubernetes client: cgroup series carry no pod names");
            Arc::new(NoMetadata)
        }
    }
}
