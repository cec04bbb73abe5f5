//! [`KubePodLabels`]: the labels of every pod in the cluster, listed and watched through the
//! API server, so that the server can evaluate `labelSelector`s against pod objects (as
//! metrics-server and prometheus-adapter do) for the metrics APIs.
//!
//! Only namespace, name and labels are kept per pod; the rest of each object is dropped as
//! it arrives.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::{WatchStreamExt, watcher};
use parking_lot::RwLock;
use tokio::task::JoinHandle;

/// A pod's labels.
pub type Labels = Arc<BTreeMap<String, String>>;

/// (namespace, name) → labels.
type Index = HashMap<(String, String), Labels>;

/// The labels of every pod, kept current by a watch.
pub struct KubePodLabels {
    index: Arc<RwLock<Index>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for KubePodLabels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubePodLabels")
            .field("pods", &self.index.read().len())
            .finish()
    }
}

fn key_of(pod: &Pod) -> Option<(String, String)> {
    let md = &pod.metadata;
    Some((md.namespace.clone().unwrap_or_default(), md.name.clone()?))
}

fn labels_of(pod: &Pod) -> Labels {
    Arc::new(pod.metadata.labels.clone().unwrap_or_default())
}

impl KubePodLabels {
    /// Starts listing and watching every pod on the current tokio runtime; API errors are
    /// logged and retried with backoff, the last known labels staying in place meanwhile.
    pub fn start(client: kube::Client) -> Self {
        let index = Arc::new(RwLock::new(Index::new()));
        let api: kube::Api<Pod> = kube::Api::all(client);
        let task = tokio::spawn(run(api, index.clone()));
        KubePodLabels { index, task }
    }

    /// The labels of pod `namespace/name`, if it is known.
    pub fn labels(&self, namespace: &str, name: &str) -> Option<Labels> {
        let key = (namespace.to_string(), name.to_string());
        self.index.read().get(&key).cloned()
    }

    /// The pods of `namespace` with their labels, sorted by name.
    pub fn pods_in(&self, namespace: &str) -> Vec<(String, Labels)> {
        let ix = self.index.read();
        let mut out: Vec<(String, Labels)> = ix
            .iter()
            .filter(|((ns, _), _)| ns == namespace)
            .map(|((_, name), l)| (name.clone(), l.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl Drop for KubePodLabels {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(api: kube::Api<Pod>, index: Arc<RwLock<Index>>) {
    let mut stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut relist: Option<Index> = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => relist = Some(Index::new()),
            Ok(watcher::Event::InitApply(pod)) => {
                if let (Some(map), Some(key)) = (relist.as_mut(), key_of(&pod)) {
                    map.insert(key, labels_of(&pod));
                }
            }
            Ok(watcher::Event::InitDone) => *index.write() = relist.take().unwrap_or_default(),
            Ok(watcher::Event::Apply(pod)) => {
                if let Some(key) = key_of(&pod) {
                    index.write().insert(key, labels_of(&pod));
                }
            }
            Ok(watcher::Event::Delete(pod)) => {
                if let Some(key) = key_of(&pod) {
                    index.write().remove(&key);
                }
            }
            Err(e) => tracing::warn!(error = %e, "pod labels: watching pods failed"),
        }
    }
}
