//! `kubernetes_sd_configs`: the targets of Prometheus's Kubernetes discovery
//! (`discovery/kubernetes/{pod,node,endpoints}.go`, 2.42/3.x), as label sets with its
//! `__meta_kubernetes_*` names. [`discover`] runs the watch of one config's role; role
//! `node` lives in [`node`], role `endpoints`
//! in [`endpoints`].
//!
//! Role `pod`: one target group per pod (source `pod/<namespace>/<name>`): one target per container
//! port with `__address__` = `<podIP>:<port>`, or one per container without ports with
//! `__address__` = `<podIP>`; init containers too, marked by
//! `__meta_kubernetes_pod_container_init`. A pod without an IP has no targets. Label and
//! annotation names are sanitized as Prometheus's `strutil.SanitizeLabelName` does.

use std::collections::{BTreeMap, HashSet};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod};
use kube::runtime::{WatchStreamExt, watcher};

use crate::scrape::config::KubernetesSdConfig;
use crate::scrape::relabel::LabelMap;

pub mod endpoints;
pub mod node;

/// A change of discovered targets: the group `source` now has these label sets (empty:
/// the group is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupUpdate {
    /// `pod/<namespace>/<name>`, `node/<name>` or `endpoints/<namespace>/<name>`.
    pub source: String,
    /// The targets' label sets, group labels merged in.
    pub targets: Vec<LabelMap>,
}

/// Prometheus's `strutil.SanitizeLabelName`: every byte outside `[a-zA-Z0-9_]` becomes `_`.
pub fn sanitize_label_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The group source of a pod.
pub fn pod_source(pod: &Pod) -> String {
    let md = &pod.metadata;
    format!(
        "pod/{}/{}",
        md.namespace.as_deref().unwrap_or(""),
        md.name.as_deref().unwrap_or("")
    )
}

/// The targets of one pod, as Prometheus's `buildPod`.
pub fn pod_targets(pod: &Pod) -> Vec<LabelMap> {
    let status = pod.status.as_ref();
    let ip = status.and_then(|s| s.pod_ip.clone()).unwrap_or_default();
    if ip.is_empty() {
        return Vec::new();
    }
    let group = pod_labels(pod);
    let mut out = Vec::new();
    let Some(spec) = pod.spec.as_ref() else {
        return out;
    };
    let containers = spec.containers.iter().map(|c| (c, false));
    let init = spec.init_containers.iter().flatten().map(|c| (c, true));
    for (c, is_init) in containers.chain(init) {
        let mut base = group.clone();
        container_labels(&mut base, c);
        base.insert(
            "__meta_kubernetes_pod_container_init".into(),
            is_init.to_string(),
        );
        let ports = c.ports.as_deref().unwrap_or_default();
        if ports.is_empty() {
            base.insert("__address__".into(), ip.clone());
            out.push(base);
            continue;
        }
        for p in ports {
            let mut t = base.clone();
            let number = p.container_port.to_string();
            t.insert("__address__".into(), join_host_port(&ip, &number));
            container_port_labels(&mut t, p);
            out.push(t);
        }
    }
    out
}

/// The labels a pod gives all its targets (Prometheus's `podLabels` plus the namespace):
/// name, IP, readiness, phase, node, host IP, UID, controller, labels and annotations.
pub fn pod_labels(pod: &Pod) -> LabelMap {
    let md = &pod.metadata;
    let status = pod.status.as_ref();
    let ip = status.and_then(|s| s.pod_ip.clone()).unwrap_or_default();
    let mut group = LabelMap::new();
    let mut set = |n: &str, v: &str| {
        group.insert(format!("__meta_kubernetes_{n}"), v.to_string());
    };
    set("namespace", md.namespace.as_deref().unwrap_or(""));
    set("pod_name", md.name.as_deref().unwrap_or(""));
    set("pod_ip", &ip);
    set("pod_ready", &pod_ready(pod));
    set(
        "pod_phase",
        status.and_then(|s| s.phase.as_deref()).unwrap_or(""),
    );
    let spec = pod.spec.as_ref();
    set(
        "pod_node_name",
        spec.and_then(|s| s.node_name.as_deref()).unwrap_or(""),
    );
    set(
        "pod_host_ip",
        status.and_then(|s| s.host_ip.as_deref()).unwrap_or(""),
    );
    set("pod_uid", md.uid.as_deref().unwrap_or(""));
    if let Some(owner) = md
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    {
        if !owner.kind.is_empty() {
            set("pod_controller_kind", &owner.kind);
        }
        if !owner.name.is_empty() {
            set("pod_controller_name", &owner.name);
        }
    }
    prefixed(&mut group, "pod_label", md.labels.as_ref());
    prefixed(&mut group, "pod_annotation", md.annotations.as_ref());
    group
}

/// `<prefix>_<name>` and `<prefix>present_<name>` = `true` for each entry.
pub(crate) fn prefixed(out: &mut LabelMap, prefix: &str, map: Option<&BTreeMap<String, String>>) {
    for (k, v) in map.into_iter().flatten() {
        let n = sanitize_label_name(k);
        out.insert(format!("__meta_kubernetes_{prefix}_{n}"), v.clone());
        out.insert(
            format!("__meta_kubernetes_{prefix}present_{n}"),
            "true".into(),
        );
    }
}

/// The Ready condition's status, lower-cased; `unknown` without one.
fn pod_ready(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map_or_else(|| "unknown".to_string(), |c| c.status.to_lowercase())
}

/// Go's `net.JoinHostPort`: IPv6 hosts in brackets.
pub(crate) fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Watches the objects of `config`'s role (pods, nodes, or endpoints with their services
/// and pods) and calls `update` for every group that changes, until the stream ends
/// (never, unless the task is aborted). A client that cannot be built is logged and
/// discovery ends; API errors are logged and retried with backoff. An unknown role (the
/// config loader refuses them) is logged and discovers nothing.
pub async fn discover(
    job: String,
    config: KubernetesSdConfig,
    update: impl FnMut(GroupUpdate) + Send,
) {
    match config.role.as_str() {
        "pod" => discover_pod_role(job, config, update).await,
        "node" => node::discover(job, config, update).await,
        "endpoints" => endpoints::discover(job, config, update).await,
        role => {
            tracing::error!(job = %job, role, "kubernetes_sd_configs: unknown role; no targets")
        }
    }
}

/// The client for `config`, or `None` (logged) when none can be built.
pub(crate) async fn client_for(job: &str, config: &KubernetesSdConfig) -> Option<kube::Client> {
    match super::client(
        config.api_server.as_deref(),
        config.kubeconfig_file.as_deref().map(std::path::Path::new),
    )
    .await
    {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(job = %job, error = %e, "kubernetes_sd_configs: no client; no targets");
            None
        }
    }
}

/// The watch configuration with the label and field selectors of `config` for `role`.
pub(crate) fn watcher_config(config: &KubernetesSdConfig, role: &str) -> watcher::Config {
    let mut wc = watcher::Config::default();
    for sel in config.selectors.iter().filter(|s| s.role == role) {
        if let Some(l) = &sel.label {
            wc = wc.labels(l);
        }
        if let Some(f) = &sel.field {
            wc = wc.fields(f);
        }
    }
    wc
}

/// The namespaces `config` restricts discovery to (empty: all).
pub(crate) fn namespaces(config: &KubernetesSdConfig) -> Vec<String> {
    config
        .namespaces
        .as_ref()
        .map(|n| n.names.clone())
        .unwrap_or_default()
}

/// Role `pod`: one group per pod.
async fn discover_pod_role(
    job: String,
    config: KubernetesSdConfig,
    mut update: impl FnMut(GroupUpdate) + Send,
) {
    let Some(client) = client_for(&job, &config).await else {
        return;
    };
    let wc = watcher_config(&config, "pod");
    let namespaces = namespaces(&config);
    let apis: Vec<kube::Api<Pod>> = if namespaces.is_empty() {
        vec![kube::Api::all(client)]
    } else {
        namespaces
            .iter()
            .map(|ns| kube::Api::namespaced(client.clone(), ns))
            .collect()
    };
    let streams = apis
        .into_iter()
        .map(|api| watcher(api, wc.clone()).default_backoff().boxed());
    let mut stream = futures_util::stream::select_all(streams);
    let mut known: HashSet<String> = HashSet::new();
    let mut relisted: HashSet<String> = HashSet::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => relisted.clear(),
            Ok(watcher::Event::InitApply(pod)) | Ok(watcher::Event::Apply(pod)) => {
                let source = pod_source(&pod);
                relisted.insert(source.clone());
                known.insert(source.clone());
                update(GroupUpdate {
                    source,
                    targets: pod_targets(&pod),
                });
            }
            Ok(watcher::Event::InitDone) => {
                // Groups missing from a relist are gone. With several namespaces each
                // relist only covers its own; keep the others.
                if namespaces.len() <= 1 {
                    for source in known.difference(&relisted).cloned().collect::<Vec<_>>() {
                        known.remove(&source);
                        update(GroupUpdate {
                            source,
                            targets: Vec::new(),
                        });
                    }
                }
            }
            Ok(watcher::Event::Delete(pod)) => {
                let source = pod_source(&pod);
                known.remove(&source);
                update(GroupUpdate {
                    source,
                    targets: Vec::new(),
                });
            }
            Err(e) => {
                tracing::warn!(job = %job, error = %e, "kubernetes_sd_configs: watching pods failed")
            }
        }
    }
}

/// The keys a watch reported since its last (re)list, to tell which ones a relist dropped.
#[derive(Debug, Default)]
pub(crate) struct Relist {
    known: HashSet<String>,
    relisted: HashSet<String>,
}

impl Relist {
    /// A (re)list starts (`Event::Init`).
    pub(crate) fn init(&mut self) {
        self.relisted.clear();
    }

    /// `key` was listed or changed.
    pub(crate) fn seen(&mut self, key: &str) {
        self.relisted.insert(key.to_string());
        self.known.insert(key.to_string());
    }

    /// `key` was deleted.
    pub(crate) fn deleted(&mut self, key: &str) {
        self.known.remove(key);
    }

    /// The (re)list ended (`Event::InitDone`): the keys known before that it did not list,
    /// now forgotten.
    pub(crate) fn done(&mut self) -> Vec<String> {
        let gone: Vec<String> = self.known.difference(&self.relisted).cloned().collect();
        for k in &gone {
            self.known.remove(k);
        }
        gone
    }
}

/// Sets `__meta_kubernetes_pod_container_name` and `_image` from container `c`.
pub(crate) fn container_labels(t: &mut LabelMap, c: &Container) {
    t.insert(
        "__meta_kubernetes_pod_container_name".into(),
        c.name.clone(),
    );
    t.insert(
        "__meta_kubernetes_pod_container_image".into(),
        c.image.clone().unwrap_or_default(),
    );
}

/// Sets `__meta_kubernetes_pod_container_port_name`, `_number` and `_protocol` from `p`.
pub(crate) fn container_port_labels(t: &mut LabelMap, p: &ContainerPort) {
    t.insert(
        "__meta_kubernetes_pod_container_port_name".into(),
        p.name.clone().unwrap_or_default(),
    );
    t.insert(
        "__meta_kubernetes_pod_container_port_number".into(),
        p.container_port.to_string(),
    );
    t.insert(
        "__meta_kubernetes_pod_container_port_protocol".into(),
        p.protocol.clone().unwrap_or_default(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_sanitized() {
        assert_eq!(
            sanitize_label_name("app.kubernetes.io/name"),
            "app_kubernetes_io_name"
        );
        assert_eq!(
            sanitize_label_name("prometheus.io/scrape"),
            "prometheus_io_scrape"
        );
    }

    #[test]
    fn ipv6_address_in_brackets() {
        assert_eq!(join_host_port("fd00::1", "80"), "[fd00::1]:80");
        assert_eq!(join_host_port("10.0.0.1", "80"), "10.0.0.1:80");
    }
}
