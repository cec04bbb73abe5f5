//! Role `endpoints` (Prometheus's `discovery/kubernetes/endpoints.go`): one group per
//! Endpoints object (source `endpoints/<namespace>/<name>`), one target per address ×
//! port at `<ip>:<port>`, ready addresses then not-ready ones
//! (`__meta_kubernetes_endpoint_ready`).
//!
//! Services and pods are watched too, as Prometheus does: the service of the same name
//! adds `__meta_kubernetes_service_*`, a pod an address refers to adds
//! `__meta_kubernetes_pod_*` and the container whose port matches, and each container port
//! of such a pod that no endpoint port covers becomes a target of its own. A change of a
//! service or pod rebuilds the groups that use it. Nothing is reported before the three
//! initial lists are complete (Prometheus waits for its caches to sync).

use std::collections::{BTreeMap, HashMap};

use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, Endpoints, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::{WatchStreamExt, watcher};

use super::{
    GroupUpdate, Relist, client_for, container_labels, container_port_labels, join_host_port,
    namespaces, pod_labels, prefixed, watcher_config,
};
use crate::scrape::config::KubernetesSdConfig;
use crate::scrape::relabel::LabelMap;

/// The store key of an object: `<namespace>/<name>`.
fn key(md: &ObjectMeta) -> String {
    format!(
        "{}/{}",
        md.namespace.as_deref().unwrap_or(""),
        md.name.as_deref().unwrap_or("")
    )
}

/// The key of the pod an address refers to, when it refers to a pod.
fn pod_ref(addr: &EndpointAddress) -> Option<String> {
    let r = addr.target_ref.as_ref()?;
    (r.kind.as_deref() == Some("Pod")).then(|| {
        format!(
            "{}/{}",
            r.namespace.as_deref().unwrap_or(""),
            r.name.as_deref().unwrap_or("")
        )
    })
}

/// Prometheus's `addObjectMetaLabels`: `<role>_name`, then labels and annotations with
/// their `present` twins.
fn object_meta_labels(out: &mut LabelMap, role: &str, md: &ObjectMeta) {
    out.insert(
        format!("__meta_kubernetes_{role}_name"),
        md.name.clone().unwrap_or_default(),
    );
    prefixed(out, &format!("{role}_label"), md.labels.as_ref());
    prefixed(out, &format!("{role}_annotation"), md.annotations.as_ref());
}

/// A pod's labels without the namespace (the group's namespace stays).
fn pod_meta(pod: &Pod) -> LabelMap {
    let mut l = pod_labels(pod);
    l.remove("__meta_kubernetes_namespace");
    l
}

/// The group source of an Endpoints object.
pub fn endpoints_source(eps: &Endpoints) -> String {
    format!("endpoints/{}", key(&eps.metadata))
}

/// The targets of one Endpoints object, as Prometheus's `buildEndpoints`, with the
/// service of the same name (if any) and the pods its addresses refer to, found in
/// `pods` by `<namespace>/<name>`.
pub fn endpoints_targets(
    eps: &Endpoints,
    service: Option<&Service>,
    pods: &HashMap<String, Pod>,
) -> Vec<LabelMap> {
    let mut group = LabelMap::new();
    group.insert(
        "__meta_kubernetes_namespace".into(),
        eps.metadata.namespace.clone().unwrap_or_default(),
    );
    if let Some(svc) = service {
        object_meta_labels(&mut group, "service", &svc.metadata);
    }
    object_meta_labels(&mut group, "endpoints", &eps.metadata);

    // Pods seen through an address, with the endpoint ports they were seen on.
    let mut seen: BTreeMap<String, (&Pod, Vec<i32>)> = BTreeMap::new();
    let mut out = Vec::new();
    for ss in eps.subsets.iter().flatten() {
        for port in ss.ports.iter().flatten() {
            let ready = ss.addresses.iter().flatten().map(|a| (a, "true"));
            let not_ready = ss
                .not_ready_addresses
                .iter()
                .flatten()
                .map(|a| (a, "false"));
            for (addr, ready) in ready.chain(not_ready) {
                let mut t = group.clone();
                t.extend(address_labels(addr, port, ready));
                if let Some((k, pod)) = pod_ref(addr).and_then(|k| pods.get(&k).map(|p| (k, p))) {
                    seen.entry(k).or_insert((pod, Vec::new())).1.push(port.port);
                    t.extend(pod_meta(pod));
                    t.extend(matching_container(pod, port));
                }
                out.push(t);
            }
        }
    }
    for (pod, ports) in seen.values() {
        let ip = pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.as_deref())
            .unwrap_or("");
        if ip.is_empty() {
            continue;
        }
        let containers = pod
            .spec
            .as_ref()
            .map(|s| &s.containers[..])
            .unwrap_or_default();
        for c in containers {
            for cp in c.ports.iter().flatten() {
                if ports.contains(&cp.container_port) {
                    continue;
                }
                let number = cp.container_port.to_string();
                let mut t = group.clone();
                t.insert("__address__".into(), join_host_port(ip, &number));
                container_labels(&mut t, c);
                container_port_labels(&mut t, cp);
                t.extend(pod_meta(pod));
                out.push(t);
            }
        }
    }
    out
}

/// The labels of one address × port: `__address__`, port name and protocol, readiness,
/// target reference, node name and hostname.
fn address_labels(addr: &EndpointAddress, port: &EndpointPort, ready: &str) -> LabelMap {
    let mut t = LabelMap::new();
    t.insert(
        "__address__".into(),
        join_host_port(&addr.ip, &port.port.to_string()),
    );
    t.insert(
        "__meta_kubernetes_endpoint_port_name".into(),
        port.name.clone().unwrap_or_default(),
    );
    t.insert(
        "__meta_kubernetes_endpoint_port_protocol".into(),
        port.protocol.clone().unwrap_or_default(),
    );
    t.insert("__meta_kubernetes_endpoint_ready".into(), ready.into());
    if let Some(r) = &addr.target_ref {
        t.insert(
            "__meta_kubernetes_endpoint_address_target_kind".into(),
            r.kind.clone().unwrap_or_default(),
        );
        t.insert(
            "__meta_kubernetes_endpoint_address_target_name".into(),
            r.name.clone().unwrap_or_default(),
        );
    }
    if let Some(n) = &addr.node_name {
        t.insert("__meta_kubernetes_endpoint_node_name".into(), n.clone());
    }
    if let Some(h) = addr.hostname.as_deref().filter(|h| !h.is_empty()) {
        t.insert("__meta_kubernetes_endpoint_hostname".into(), h.to_string());
    }
    t
}

/// The container labels of the pod's container port equal to the endpoint port (the last
/// container with such a port wins, as in Prometheus); the protocol is the endpoint's.
fn matching_container(pod: &Pod, port: &EndpointPort) -> LabelMap {
    let mut t = LabelMap::new();
    let containers = pod
        .spec
        .as_ref()
        .map(|s| &s.containers[..])
        .unwrap_or_default();
    for c in containers {
        if let Some(cp) = c
            .ports
            .iter()
            .flatten()
            .find(|cp| cp.container_port == port.port)
        {
            container_labels(&mut t, c);
            t.insert(
                "__meta_kubernetes_pod_container_port_name".into(),
                cp.name.clone().unwrap_or_default(),
            );
            t.insert(
                "__meta_kubernetes_pod_container_port_number".into(),
                port.port.to_string(),
            );
            t.insert(
                "__meta_kubernetes_pod_container_port_protocol".into(),
                port.protocol.clone().unwrap_or_default(),
            );
        }
    }
    t
}

type WatchResult<K> = Box<Result<watcher::Event<K>, watcher::Error>>;

/// One event of the three watches.
enum Change {
    Endpoints(WatchResult<Endpoints>),
    Service(WatchResult<Service>),
    Pod(WatchResult<Pod>),
}

impl Change {
    /// The kind watched and the error, for a failed watch.
    fn error(&self) -> Option<(&'static str, &watcher::Error)> {
        match self {
            Change::Endpoints(r) => r.as_ref().as_ref().err().map(|e| ("endpoints", e)),
            Change::Service(r) => r.as_ref().as_ref().err().map(|e| ("services", e)),
            Change::Pod(r) => r.as_ref().as_ref().err().map(|e| ("pods", e)),
        }
    }
}

/// One kind's store: the objects by `<namespace>/<name>` and its relist bookkeeping.
struct Store<K> {
    objects: HashMap<String, K>,
    relist: Relist,
    /// Initial lists completed (one per namespace watched).
    lists_done: usize,
}

impl<K: kube::Resource> Store<K> {
    fn new() -> Self {
        Self {
            objects: HashMap::new(),
            relist: Relist::default(),
            lists_done: 0,
        }
    }

    /// Applies `event`; returns the keys that changed. With several namespace watches a
    /// relist covers only its own namespace, so nothing is dropped at its end.
    fn apply(&mut self, event: watcher::Event<K>, streams: usize) -> Vec<String> {
        match event {
            watcher::Event::Init => {
                self.relist.init();
                Vec::new()
            }
            watcher::Event::InitApply(o) | watcher::Event::Apply(o) => {
                let k = key(o.meta());
                self.relist.seen(&k);
                self.objects.insert(k.clone(), o);
                vec![k]
            }
            watcher::Event::Delete(o) => {
                let k = key(o.meta());
                self.relist.deleted(&k);
                self.objects.remove(&k);
                vec![k]
            }
            watcher::Event::InitDone => {
                self.lists_done += 1;
                if streams > 1 {
                    return Vec::new();
                }
                let gone = self.relist.done();
                for k in &gone {
                    self.objects.remove(k);
                }
                gone
            }
        }
    }
}

/// One watch per namespace (or one over all), merged.
fn watch<K>(
    client: &kube::Client,
    namespaces: &[String],
    wc: &watcher::Config,
) -> BoxStream<'static, Result<watcher::Event<K>, watcher::Error>>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
    K::DynamicType: Default,
{
    let apis: Vec<kube::Api<K>> = if namespaces.is_empty() {
        vec![kube::Api::all(client.clone())]
    } else {
        namespaces
            .iter()
            .map(|ns| kube::Api::namespaced(client.clone(), ns))
            .collect()
    };
    let streams = apis
        .into_iter()
        .map(|api| watcher(api, wc.clone()).default_backoff().boxed());
    futures_util::stream::select_all(streams).boxed()
}

fn tagged<T: 'static>(
    s: impl Stream<Item = T> + Send + 'static,
    f: fn(T) -> Change,
) -> BoxStream<'static, Change> {
    s.map(f).boxed()
}

/// The keys of the Endpoints objects with an address referring to one of `pods`.
fn referring(endpoints: &HashMap<String, Endpoints>, pods: &[String]) -> Vec<String> {
    if pods.is_empty() {
        return Vec::new();
    }
    endpoints
        .iter()
        .filter(|(_, eps)| {
            eps.subsets.iter().flatten().any(|ss| {
                let addrs = ss.addresses.iter().flatten();
                let not_ready = ss.not_ready_addresses.iter().flatten();
                addrs
                    .chain(not_ready)
                    .filter_map(pod_ref)
                    .any(|p| pods.contains(&p))
            })
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Watches the endpoints, services and pods `config` selects; see [`super::discover`].
pub(super) async fn discover(
    job: String,
    config: KubernetesSdConfig,
    mut update: impl FnMut(GroupUpdate) + Send,
) {
    let Some(client) = client_for(&job, &config).await else {
        return;
    };
    let ns = namespaces(&config);
    let streams = ns.len().max(1);
    let mut changes = futures_util::stream::select_all([
        tagged(
            watch::<Endpoints>(&client, &ns, &watcher_config(&config, "endpoints")),
            |r| Change::Endpoints(Box::new(r)),
        ),
        tagged(
            watch::<Service>(&client, &ns, &watcher_config(&config, "service")),
            |r| Change::Service(Box::new(r)),
        ),
        tagged(
            watch::<Pod>(&client, &ns, &watcher_config(&config, "pod")),
            |e| Change::Pod(Box::new(e)),
        ),
    ]);
    let mut endpoints: Store<Endpoints> = Store::new();
    let mut services: Store<Service> = Store::new();
    let mut pods: Store<Pod> = Store::new();
    let mut synced = false;
    while let Some(change) = changes.next().await {
        if let Some((kind, e)) = change.error() {
            tracing::warn!(job = %job, kind, error = %e, "kubernetes_sd_configs: watch failed");
            continue;
        }
        // The Endpoints keys whose groups must be rebuilt.
        let dirty: Vec<String> = match change {
            Change::Endpoints(r) => r.map_or_else(|_| Vec::new(), |e| endpoints.apply(e, streams)),
            Change::Service(r) => r.map_or_else(|_| Vec::new(), |e| services.apply(e, streams)),
            Change::Pod(r) => {
                let changed = r.map_or_else(|_| Vec::new(), |e| pods.apply(e, streams));
                referring(&endpoints.objects, &changed)
            }
        };
        let dirty = if synced {
            dirty
        } else if [endpoints.lists_done, services.lists_done, pods.lists_done]
            .iter()
            .all(|&n| n >= streams)
        {
            synced = true;
            endpoints.objects.keys().cloned().collect()
        } else {
            continue;
        };
        for k in dirty {
            let source = format!("endpoints/{k}");
            let targets = endpoints.objects.get(&k).map_or_else(Vec::new, |eps| {
                endpoints_targets(eps, services.objects.get(&k), &pods.objects)
            });
            update(GroupUpdate { source, targets });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_without_pod_or_service() {
        let eps: Endpoints = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kubernetes", "namespace": "default"},
            "subsets": [{
                "addresses": [{"ip": "fd00::1"}],
                "ports": [{"name": "https", "port": 6443}]
            }]
        }))
        .unwrap_or_default();
        let got = endpoints_targets(&eps, None, &HashMap::new());
        let want: LabelMap = [
            ("__address__", "[fd00::1]:6443"),
            ("__meta_kubernetes_namespace", "default"),
            ("__meta_kubernetes_endpoints_name", "kubernetes"),
            ("__meta_kubernetes_endpoint_port_name", "https"),
            ("__meta_kubernetes_endpoint_port_protocol", ""),
            ("__meta_kubernetes_endpoint_ready", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, vec![want]);
    }
}
