//! This host's readers: procfs (node_exporter's families) and cgroups (cAdvisor's).

use std::path::Path;
use std::sync::Arc;

use collector::Collect;
use collector::cgroup::{CgroupCollector, Config as CgroupConfig, PodMetadata};
use collector::node::{NodeCollector, NodeConfig};

/// The node and cgroup readers over procfs at `procfs`, sysfs at `sysfs` and the root file
/// system at `rootfs`; `meta` names the pods and containers of kubelet cgroups. A reader that
/// cannot start (no cgroup file system, a bad pattern) is logged and left out; the others
/// still run. `cgroup_open_files` caps the cgroup files kept open (`None`: the default).
pub(crate) fn host_sources(
    procfs: &Path,
    sysfs: &Path,
    rootfs: &Path,
    meta: Arc<dyn PodMetadata>,
    cgroup_open_files: Option<usize>,
) -> Vec<Arc<dyn Collect>> {
    let mut out: Vec<Arc<dyn Collect>> = Vec::new();
    let node = NodeConfig {
        proc_root: procfs.to_path_buf(),
        sys_root: sysfs.to_path_buf(),
        rootfs: rootfs.to_path_buf(),
        ..NodeConfig::default()
    };
    match NodeCollector::new(&node) {
        Ok(c) => out.push(Arc::new(c)),
        Err(e) => tracing::error!(error = %e, "node readers disabled"),
    }
    let cgroup = CgroupConfig {
        root: sysfs.join("fs/cgroup"),
        mountinfo: Some(procfs.join("self/mountinfo")),
        max_open_files: cgroup_open_files,
        ..CgroupConfig::host()
    };
    match CgroupCollector::new(cgroup) {
        Ok(c) => out.push(Arc::new(c.with_metadata(meta))),
        Err(e) => tracing::error!(error = %e, "cgroup readers disabled"),
    }
    out
}

/// The host name, for the `instance` label of this host's own series.
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
