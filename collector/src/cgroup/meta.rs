//! The seam through which a pod-metadata source (the Kubernetes API, later) names what the
//! cgroup paths only identify by pod UID and container ID.

use std::collections::HashMap;

/// A pod's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodMeta {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

/// A container's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerMeta {
    /// `spec.containers[].name`.
    pub name: String,
    /// `status.containerStatuses[].image` (empty when unknown).
    pub image: String,
}

/// Names pods and containers found in the cgroup tree. Implementations must be cheap to call:
/// the collector calls them once per pod or container cgroup per collection, from one thread.
pub trait PodMetadata: Send + Sync {
    /// The pod with this UID (dashed form, as in `metadata.uid`), if known.
    fn pod(&self, uid: &str) -> Option<PodMeta>;
    /// The container with this 64-hex runtime ID in that pod, if known. Sandbox (pause)
    /// containers are never known: they have no name in the pod's status.
    fn container(&self, pod_uid: &str, container_id: &str) -> Option<ContainerMeta>;
}

/// No names: only `pod_uid`, `qos` and `container_id` labels appear.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMetadata;

impl PodMetadata for NoMetadata {
    fn pod(&self, _uid: &str) -> Option<PodMeta> {
        None
    }
    fn container(&self, _pod_uid: &str, _container_id: &str) -> Option<ContainerMeta> {
        None
    }
}

/// Names from fixed maps (tests, or a source that snapshots the API into maps).
#[derive(Debug, Clone, Default)]
pub struct StaticMetadata {
    /// Pod UID → names.
    pub pods: HashMap<String, PodMeta>,
    /// Container ID → names (IDs are unique across pods).
    pub containers: HashMap<String, ContainerMeta>,
}

impl PodMetadata for StaticMetadata {
    fn pod(&self, uid: &str) -> Option<PodMeta> {
        self.pods.get(uid).cloned()
    }
    fn container(&self, _pod_uid: &str, container_id: &str) -> Option<ContainerMeta> {
        self.containers.get(container_id).cloned()
    }
}
