//! [`KubePodMetadata`]: the pods of one node, listed and watched through the API server
//! (`fieldSelector=spec.nodeName=<node>`), as a [`PodMetadata`] for the cgroup collector.
//!
//! The index maps a pod UID to its namespace and name and to its containers by runtime ID
//! (`status.{containerStatuses,initContainerStatuses,ephemeralContainerStatuses}[].containerID`
//! without the `containerd://`, `cri-o://` or `docker://` prefix). A static pod's cgroup is
//! named after the kubelet's config hash, not the mirror pod's UID, so a mirror pod is also
//! indexed under its `kubernetes.io/config.mirror` annotation.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::{WatchStreamExt, watcher};
use parking_lot::RwLock;
use tokio::task::JoinHandle;

use crate::cgroup::{ContainerMeta, PodMeta, PodMetadata};

/// The annotation a mirror pod carries: the static pod's config hash, which names its cgroup.
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// One pod's names and its containers by runtime ID.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PodEntry {
    meta: PodMeta,
    containers: HashMap<String, ContainerMeta>,
}

/// Pod UID (and mirror config hash) → entry.
#[derive(Debug, Default)]
struct Index {
    pods: HashMap<String, Arc<PodEntry>>,
    /// Whether the first list has completed.
    synced: bool,
}

impl Index {
    fn apply(map: &mut HashMap<String, Arc<PodEntry>>, pod: &Pod) {
        let Some((keys, entry)) = entry_of(pod) else {
            return;
        };
        let entry = Arc::new(entry);
        for k in keys {
            map.insert(k, entry.clone());
        }
    }

    fn delete(map: &mut HashMap<String, Arc<PodEntry>>, pod: &Pod) {
        for k in keys_of(pod) {
            map.remove(&k);
        }
    }
}

/// The keys a pod is found under: its UID and, for a mirror pod, the config hash.
fn keys_of(pod: &Pod) -> Vec<String> {
    let md = &pod.metadata;
    let mut keys: Vec<String> = md.uid.iter().cloned().collect();
    if let Some(hash) = md
        .annotations
        .as_ref()
        .and_then(|a| a.get(MIRROR_ANNOTATION))
    {
        keys.push(hash.clone());
    }
    keys
}

fn entry_of(pod: &Pod) -> Option<(Vec<String>, PodEntry)> {
    let md = &pod.metadata;
    let keys = keys_of(pod);
    if keys.is_empty() {
        return None;
    }
    let meta = PodMeta {
        namespace: md.namespace.clone().unwrap_or_default(),
        name: md.name.clone()?,
    };
    let mut containers = HashMap::new();
    if let Some(st) = &pod.status {
        let lists = [
            &st.container_statuses,
            &st.init_container_statuses,
            &st.ephemeral_container_statuses,
        ];
        for cs in lists.into_iter().flatten().flatten() {
            let Some(id) = cs.container_id.as_deref().and_then(runtime_id) else {
                continue;
            };
            containers.insert(
                id.to_string(),
                ContainerMeta {
                    name: cs.name.clone(),
                    image: cs.image.clone(),
                },
            );
        }
    }
    Some((keys, PodEntry { meta, containers }))
}

/// `containerd://<id>` → `<id>` (any `<runtime>://` prefix); `None` when empty.
fn runtime_id(s: &str) -> Option<&str> {
    let id = s.split_once("://").map_or(s, |(_, id)| id);
    (!id.is_empty()).then_some(id)
}

/// The pods of one node from the API server, kept current by a watch. Cheap to query: a
/// read lock and a hash lookup. Dropping it stops the watch.
pub struct KubePodMetadata {
    index: Arc<RwLock<Index>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for KubePodMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ix = self.index.read();
        f.debug_struct("KubePodMetadata")
            .field("pods", &ix.pods.len())
            .field("synced", &ix.synced)
            .finish()
    }
}

impl KubePodMetadata {
    /// Starts listing and watching the pods whose `spec.nodeName` is `node`, on the current
    /// tokio runtime. Until the first list completes nothing is known; API errors are logged
    /// and retried with backoff, and the last known pods stay in place meanwhile.
    pub fn start(client: kube::Client, node: &str) -> Self {
        let index = Arc::new(RwLock::new(Index::default()));
        let api: kube::Api<Pod> = kube::Api::all(client);
        let config = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
        let task = tokio::spawn(run(api, config, node.to_string(), index.clone()));
        KubePodMetadata { index, task }
    }

    /// Whether the first list has completed.
    pub fn synced(&self) -> bool {
        self.index.read().synced
    }

    /// How many pods are known.
    pub fn pod_count(&self) -> usize {
        let ix = self.index.read();
        let mut uids: Vec<*const PodEntry> = ix.pods.values().map(Arc::as_ptr).collect();
        uids.sort_unstable();
        uids.dedup();
        uids.len()
    }
}

impl Drop for KubePodMetadata {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PodMetadata for KubePodMetadata {
    fn pod(&self, uid: &str) -> Option<PodMeta> {
        self.index.read().pods.get(uid).map(|e| e.meta.clone())
    }

    fn container(&self, pod_uid: &str, container_id: &str) -> Option<ContainerMeta> {
        let ix = self.index.read();
        ix.pods.get(pod_uid)?.containers.get(container_id).cloned()
    }
}

async fn run(
    api: kube::Api<Pod>,
    config: watcher::Config,
    node: String,
    index: Arc<RwLock<Index>>,
) {
    let mut stream = watcher(api, config).default_backoff().boxed();
    // Objects of a (re)list, swapped in whole when it completes.
    let mut relist: Option<HashMap<String, Arc<PodEntry>>> = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => relist = Some(HashMap::new()),
            Ok(watcher::Event::InitApply(pod)) => {
                if let Some(map) = relist.as_mut() {
                    Index::apply(map, &pod);
                }
            }
            Ok(watcher::Event::InitDone) => {
                let pods = relist.take().unwrap_or_default();
                tracing::debug!(node = %node, pods = pods.len(), "pod metadata: listed");
                let mut ix = index.write();
                ix.pods = pods;
                ix.synced = true;
            }
            Ok(watcher::Event::Apply(pod)) => Index::apply(&mut index.write().pods, &pod),
            Ok(watcher::Event::Delete(pod)) => Index::delete(&mut index.write().pods, &pod),
            Err(e) => {
                tracing::warn!(node = %node, error = %e, "pod metadata: watching pods failed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_prefixes_are_stripped() {
        assert_eq!(runtime_id("containerd://abc"), Some("abc"));
        assert_eq!(runtime_id("cri-o://abc"), Some("abc"));
        assert_eq!(runtime_id("docker://abc"), Some("abc"));
        assert_eq!(runtime_id("abc"), Some("abc"));
        assert_eq!(runtime_id("containerd://"), None);
    }

    #[test]
    fn mirror_pod_is_indexed_by_config_hash() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "etcd-node1", "namespace": "kube-system", "uid": "b2c3",
                "annotations": {"kubernetes.io/config.mirror": "0123abcd"}
            },
            "status": {"containerStatuses": [{
                "name": "etcd", "image": "registry.k8s.io/etcd:3.5.21-0",
                "imageID": "", "ready": true, "restartCount": 0,
                "containerID": "containerd://ffff"
            }]}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let mut map = HashMap::new();
        Index::apply(&mut map, &pod);
        let e = map
            .get("0123abcd")
            .unwrap_or_else(|| panic!("no mirror key"));
        assert_eq!(e.meta.name, "etcd-node1");
        assert_eq!(e.containers["ffff"].image, "registry.k8s.io/etcd:3.5.21-0");
        assert!(map.contains_key("b2c3"));
        Index::delete(&mut map, &pod);
        assert!(map.is_empty());
    }
}
