//! The JSON objects of the resource metrics API and the discovery documents, in the shapes
//! metrics-server and kube-apiserver send (`../shared/reference/k8s/01-metrics-api-and-kubectl-top.md`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::format::{cpu_quantity, go_duration, memory_quantity, rfc3339_seconds};
use super::usage::{NodeUsage, PodUsage, Usage};

/// The group this API serves.
pub const GROUP: &str = "metrics.k8s.io";
/// Served versions, preferred first (kubectl ≥ 1.37 prefers `v1`; 1.32 asks for `v1beta1`).
pub const VERSIONS: [&str; 2] = ["v1", "v1beta1"];

/// `{"cpu": ..., "memory": ...}` as quantities.
#[derive(Debug, Serialize)]
pub struct ResourceUsage {
    cpu: String,
    memory: String,
}

impl From<&Usage> for ResourceUsage {
    fn from(u: &Usage) -> Self {
        ResourceUsage {
            cpu: cpu_quantity(u.cpu_nanocores),
            memory: memory_quantity(u.memory_bytes),
        }
    }
}

/// `metadata` of a metrics object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    creation_timestamp: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
}

/// The labels a node is presented with: its host name and OS, as the kubelet sets them.
pub fn node_labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), name.to_string()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
    ])
}

/// A `NodeMetrics`; `kind` and `apiVersion` only on a single object, not on list items.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeMetrics<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<&'a str>,
    metadata: Meta<'a>,
    timestamp: String,
    window: String,
    usage: ResourceUsage,
}

/// One container of a `PodMetrics`.
#[derive(Debug, Serialize)]
struct ContainerMetrics<'a> {
    name: &'a str,
    usage: ResourceUsage,
}

/// A `PodMetrics`; `kind` and `apiVersion` only on a single object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetrics<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<&'a str>,
    metadata: Meta<'a>,
    timestamp: String,
    window: String,
    containers: Vec<ContainerMetrics<'a>>,
}

/// `n` as a `NodeMetrics`, created at `created` (RFC 3339); `api_version` makes it a single
/// object (with `kind`), `None` a list item.
pub fn node_metrics<'a>(
    n: &'a NodeUsage,
    created: &'a str,
    api_version: Option<&'a str>,
) -> NodeMetrics<'a> {
    NodeMetrics {
        kind: api_version.map(|_| "NodeMetrics"),
        api_version,
        metadata: Meta {
            name: &n.name,
            namespace: None,
            creation_timestamp: created,
            labels: node_labels(&n.name),
        },
        timestamp: rfc3339_seconds(n.usage.timestamp_ms),
        window: go_duration(n.usage.window_ms),
        usage: (&n.usage).into(),
    }
}

/// `p` as a `PodMetrics` with its pod object's `labels` (see [`node_metrics`]).
pub fn pod_metrics<'a>(
    p: &'a PodUsage,
    created: &'a str,
    api_version: Option<&'a str>,
    labels: BTreeMap<String, String>,
) -> PodMetrics<'a> {
    let (ts, window) = p.timestamp_window();
    PodMetrics {
        kind: api_version.map(|_| "PodMetrics"),
        api_version,
        metadata: Meta {
            name: &p.name,
            namespace: Some(&p.namespace),
            creation_timestamp: created,
            labels,
        },
        timestamp: rfc3339_seconds(ts),
        window: go_duration(window),
        containers: p
            .containers
            .iter()
            .map(|(name, u)| ContainerMetrics {
                name,
                usage: u.into(),
            })
            .collect(),
    }
}

/// A list object of `kind` holding `items`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct List<'a, T> {
    kind: &'a str,
    api_version: &'a str,
    metadata: BTreeMap<String, String>,
    items: Vec<T>,
}

/// A list of `kind`.
pub fn typed_list<'a, T: Serialize>(
    kind: &'a str,
    api_version: &'a str,
    items: Vec<T>,
) -> List<'a, T> {
    List {
        kind,
        api_version,
        metadata: BTreeMap::new(),
        items,
    }
}

/// `kind` and `apiVersion` put first on `item`.
pub fn with_kind(kind: &str, api_version: &str, item: Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("kind".into(), json!(kind));
    out.insert("apiVersion".into(), json!(api_version));
    if let Value::Object(fields) = item {
        out.extend(fields);
    }
    Value::Object(out)
}

/// A list object of `kind` holding `items`.
pub fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": api_version, "metadata": {}, "items": items})
}

/// A core `Node` with `status.capacity` and `status.allocatable` (the same: nothing is
/// reserved on a host outside Kubernetes).
pub fn node_object(n: &NodeUsage) -> Value {
    let resources = json!({
        "cpu": cpu_quantity(n.cpu_capacity_milli.saturating_mul(1_000_000)),
        "memory": memory_quantity(n.memory_capacity_bytes),
    });
    json!({
        "metadata": {"name": n.name, "labels": node_labels(&n.name)},
        "status": {"capacity": resources, "allocatable": resources},
    })
}

/// A Kubernetes `Status` failure with `code`, `reason` and `message`.
pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut s = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

/// `GET /api`: the core group's versions.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// An `APIGroup` body (without kind) for `group` serving `versions`, the first preferred.
pub fn group_of(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "preferredVersion": preferred, "versions": versions})
}

/// `GET /apis`: metrics.k8s.io and `extra` groups (legacy `APIGroupList`).
pub fn api_group_list(extra: &[(&str, Vec<&str>)]) -> Value {
    let mut groups = vec![group_of(GROUP, &VERSIONS)];
    groups.extend(extra.iter().map(|(g, v)| group_of(g, v)));
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/metrics.k8s.io`.
pub fn api_group() -> Value {
    with_kind("APIGroup", "v1", group_of(GROUP, &VERSIONS))
}

/// `GET /apis/metrics.k8s.io/<version>`.
pub fn api_resource_list(version: &str) -> Value {
    json!({
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{GROUP}/{version}"),
        "resources": [
            {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ],
    })
}

/// `GET /api/v1`: the core resources served for `kubectl top` (nodes and pods, read-only).
pub fn core_resource_list() -> Value {
    json!({
        "kind": "APIResourceList", "groupVersion": "v1",
        "resources": [
            {"name": "nodes", "singularName": "node", "namespaced": false, "kind": "Node", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": ["get", "list"]},
        ],
    })
}

/// One resource in an aggregated discovery document: (resource, kind, namespaced).
type DiscoveryResource = (&'static str, &'static str, bool);

fn discovery_version(group: &str, version: &str, resources: &[DiscoveryResource]) -> Value {
    let resources: Vec<Value> = resources
        .iter()
        .map(|(resource, kind, namespaced)| {
            json!({
                "resource": resource,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "scope": if *namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": "",
                "verbs": ["get", "list"],
            })
        })
        .collect();
    json!({"version": version, "freshness": "Current", "resources": resources})
}

/// The aggregated discovery document (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`) of
/// `/apis` (`core == false`: metrics.k8s.io and `extra` groups, whose metrics are listed by
/// their own resource lists) or of `/api` (`core == true`: the core `nodes` and `pods`).
pub fn aggregated_discovery(core: bool, extra: &[(&str, Vec<&str>)]) -> Value {
    let mut items = Vec::new();
    if core {
        let v1 = discovery_version("", "v1", &[("nodes", "Node", false), ("pods", "Pod", true)]);
        items.push(json!({"metadata": {"name": ""}, "versions": [v1]}));
    } else {
        let metrics = [
            ("nodes", "NodeMetrics", false),
            ("pods", "PodMetrics", true),
        ];
        let versions: Vec<Value> = VERSIONS
            .iter()
            .map(|v| discovery_version(GROUP, v, &metrics))
            .collect();
        items.push(json!({"metadata": {"name": GROUP}, "versions": versions}));
        for (group, versions) in extra {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| discovery_version(group, v, &[]))
                .collect();
            items.push(json!({"metadata": {"name": group}, "versions": versions}));
        }
    }
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}
