//! The Kubernetes resource metrics API (`metrics.k8s.io` `v1` and `v1beta1`), computed from the
//! stored series ([`usage`]), with the discovery documents and the core `nodes` (capacity) that
//! `kubectl top` reads when it is pointed at promlet with `--server`.
//!
//! Lists and single objects of nodes and pods, all namespaces or one, with `labelSelector` and
//! `fieldSelector` (`metadata.name`, and `metadata.namespace` for pods); errors are Kubernetes
//! `Status` objects (400 for a malformed selector, 404 for an unknown object). Everything is
//! JSON; kubectl accepts JSON although it asks for protobuf first.

pub mod adapter;
pub mod custom;
pub mod format;
pub mod objects;
pub mod selector;
pub mod usage;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::AppState;
use objects::{GROUP, VERSIONS};
use selector::{FieldSelector, LabelSelector, parse_field_selector, parse_label_selector};
use usage::Snapshot;

/// The routes of this API, to merge into the server's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api", get(core_versions))
        .route(
            "/api/v1",
            get(|| async { ok(objects::core_resource_list()) }),
        )
        .route("/api/v1/nodes", get(core_nodes))
        .route("/api/v1/nodes/{name}", get(core_node))
        .route("/api/v1/pods", get(core_pods))
        .route("/api/v1/namespaces/{ns}/pods", get(core_pods))
        .route("/apis", get(group_list))
        .route(
            "/apis/custom.metrics.k8s.io",
            get(|s: State<AppState>| group_doc(s, custom::CUSTOM)),
        )
        .route(
            "/apis/external.metrics.k8s.io",
            get(|s: State<AppState>| group_doc(s, custom::EXTERNAL)),
        )
        .route(
            "/apis/custom.metrics.k8s.io/{version}",
            get(custom::custom_resources),
        )
        .route(
            "/apis/custom.metrics.k8s.io/{version}/namespaces/{ns}/metrics/{metric}",
            get(custom::namespace_object),
        )
        .route(
            "/apis/custom.metrics.k8s.io/{version}/namespaces/{ns}/{resource}/{name}/{metric}",
            get(custom::namespaced_object),
        )
        .route(
            "/apis/custom.metrics.k8s.io/{version}/{resource}/{name}/{metric}",
            get(custom::root_object),
        )
        .route(
            "/apis/external.metrics.k8s.io/v1beta1",
            get(custom::external_resources),
        )
        .route(
            "/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}",
            get(custom::external),
        )
        .route(
            "/apis/metrics.k8s.io",
            get(|| async { ok(objects::api_group()) }),
        )
        .route("/apis/metrics.k8s.io/{version}", get(resource_list))
        .route("/apis/metrics.k8s.io/{version}/nodes", get(node_list))
        .route("/apis/metrics.k8s.io/{version}/nodes/{name}", get(node_get))
        .route("/apis/metrics.k8s.io/{version}/pods", get(pod_list_all))
        .route(
            "/apis/metrics.k8s.io/{version}/namespaces/{ns}/pods",
            get(pod_list_ns),
        )
        .route(
            "/apis/metrics.k8s.io/{version}/namespaces/{ns}/pods/{name}",
            get(pod_get),
        )
}

/// The media type of aggregated discovery (client-go asks for it first).
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether the `Accept` header lists aggregated discovery `v2` (parameters in any order).
fn wants_aggregated(h: &HeaderMap) -> bool {
    h.get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let params: Vec<&str> = range.split(';').map(str::trim).collect();
            params.first() == Some(&"application/json")
                && ["g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"]
                    .iter()
                    .all(|p| params.contains(p))
        })
}

fn aggregated(doc: &Value) -> Response {
    let body = serde_json::to_string(doc).unwrap_or_default();
    let headers = [(header::CONTENT_TYPE, AGGREGATED), (header::VARY, "Accept")];
    (StatusCode::OK, headers, body).into_response()
}

/// `GET /api`: the core group, as `APIVersions` or aggregated discovery.
async fn core_versions(h: HeaderMap) -> Response {
    if wants_aggregated(&h) {
        return aggregated(&objects::aggregated_discovery(true, &[]));
    }
    ok(objects::api_versions(&host(&h)))
}

/// `GET /apis`: metrics.k8s.io, and the adapter's groups when rules are configured, as
/// `APIGroupList` or aggregated discovery.
async fn group_list(State(state): State<AppState>, h: HeaderMap) -> Response {
    let extra = custom::groups(&state);
    if wants_aggregated(&h) {
        return aggregated(&objects::aggregated_discovery(false, &extra));
    }
    ok(objects::api_group_list(&extra))
}

/// `GET /apis/<group>` for the adapter's groups.
async fn group_doc(State(state): State<AppState>, group: &'static str) -> Response {
    match custom::groups(&state)
        .into_iter()
        .find(|(g, _)| *g == group)
    {
        Some((g, versions)) => ok(objects::with_kind(
            "APIGroup",
            "v1",
            objects::group_of(g, &versions),
        )),
        None => failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{group} is not served"),
            None,
        )
        .into_response(),
    }
}

fn host(h: &HeaderMap) -> String {
    h.get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string()
}

fn ok(v: impl serde::Serialize) -> Response {
    respond(StatusCode::OK, &v)
}

fn respond(code: StatusCode, v: &impl serde::Serialize) -> Response {
    let body = serde_json::to_string(v).unwrap_or_default();
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A Kubernetes `Status` failure, answered with its code.
#[derive(Debug)]
struct Failure {
    code: StatusCode,
    reason: &'static str,
    message: String,
    details: Option<Value>,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = objects::status(self.code.as_u16(), self.reason, &self.message, self.details);
        respond(self.code, &body)
    }
}

fn failure(
    code: StatusCode,
    reason: &'static str,
    message: String,
    details: Option<Value>,
) -> Failure {
    Failure {
        code,
        reason,
        message,
        details,
    }
}

fn not_found(kind: &str, name: &str) -> Failure {
    let resource = if kind == "nodes" {
        "nodemetrics"
    } else {
        "podmetrics"
    };
    let message = format!("{resource}.{GROUP} \"{name}\" not found");
    let details = json!({"name": name, "group": GROUP, "kind": kind});
    failure(StatusCode::NOT_FOUND, "NotFound", message, Some(details))
}

fn bad_request(message: String) -> Failure {
    failure(StatusCode::BAD_REQUEST, "BadRequest", message, None)
}

fn internal(message: String) -> Failure {
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        message,
        None,
    )
}

/// Whether the stored series give at least one node's usage now (a CPU rate needs two
/// samples): metrics-server's `metric-storage-ready` check, which keeps an APIService
/// unavailable until its answers would be complete.
pub async fn metric_storage_ready(state: &AppState) -> bool {
    read(state, Part::Nodes, None)
        .await
        .is_ok_and(|(s, _)| !s.nodes.is_empty())
}

/// Which objects a request needs.
#[derive(Debug, Clone, Copy)]
enum Part {
    Nodes,
    Pods,
}

/// The usage of `part` at "now" (and "now" as RFC 3339), read off the async runtime.
async fn read(
    state: &AppState,
    part: Part,
    at: Option<i64>,
) -> Result<(Snapshot, String), Failure> {
    let (storage, now) = (state.storage.clone(), at.unwrap_or_else(|| (state.clock)()));
    let result = tokio::task::spawn_blocking(move || match part {
        Part::Nodes => usage::nodes(&*storage, now).map(|nodes| Snapshot {
            nodes,
            pods: Vec::new(),
        }),
        Part::Pods => usage::pods(&*storage, now).map(|pods| Snapshot {
            nodes: Vec::new(),
            pods,
        }),
    })
    .await;
    match result {
        Ok(Ok(s)) => Ok((s, format::rfc3339_seconds(now))),
        Ok(Err(e)) => Err(internal(e.to_string())),
        Err(e) => Err(internal(e.to_string())),
    }
}

/// `labelSelector` and `fieldSelector` of a request; the fields a resource may select on.
/// `time` (RFC 3339 or Unix seconds, promlet's own extension, which Kubernetes clients never
/// send) evaluates the usage at that time instead of now: `promlet top --since` reads history
/// with it.
struct Selectors {
    labels: LabelSelector,
    fields: FieldSelector,
    time: Option<i64>,
}

fn selectors(query: Option<&str>, fields: &[&str]) -> Result<Selectors, Failure> {
    let pairs: BTreeMap<String, String> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| pairs.get(k).map(String::as_str).unwrap_or("");
    let labels =
        parse_label_selector(get("labelSelector")).map_err(|e| bad_request(e.to_string()))?;
    let fields = parse_field_selector(get("fieldSelector"), fields)
        .map_err(|e| bad_request(e.to_string()))?;
    let time = match pairs.get("time") {
        Some(t) => Some(
            crate::api::time::parse_time(t)
                .map_err(|e| bad_request(format!("time: {e}")))?
                .millis(),
        ),
        None => None,
    };
    Ok(Selectors {
        labels,
        fields,
        time,
    })
}

fn version_ok(version: &str) -> Result<(), Failure> {
    if VERSIONS.contains(&version) {
        Ok(())
    } else {
        let message =
            format!("the server could not find the requested resource (version {version:?})");
        Err(failure(StatusCode::NOT_FOUND, "NotFound", message, None))
    }
}

async fn resource_list(Path(version): Path<String>) -> Response {
    match version_ok(&version) {
        Ok(()) => ok(objects::api_resource_list(&version)),
        Err(f) => f.into_response(),
    }
}

const NODE_FIELDS: [&str; 1] = ["metadata.name"];
const POD_FIELDS: [&str; 2] = ["metadata.name", "metadata.namespace"];

fn api_version(version: &str) -> String {
    format!("{GROUP}/{version}")
}

async fn node_list(
    State(state): State<AppState>,
    Path(version): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let run = async {
        version_ok(&version)?;
        let sel = selectors(q.as_deref(), &NODE_FIELDS)?;
        let (snap, now) = read(&state, Part::Nodes, sel.time).await?;
        let items: Vec<_> = snap
            .nodes
            .iter()
            .filter(|n| sel.labels.matches(&objects::node_labels(&n.name)))
            .filter(|n| {
                sel.fields
                    .matches(|f| (f == "metadata.name").then_some(n.name.as_str()))
            })
            .map(|n| objects::node_metrics(n, &now, None))
            .collect();
        let version = api_version(&version);
        Ok(ok(objects::typed_list("NodeMetricsList", &version, items)))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

async fn node_get(
    State(state): State<AppState>,
    Path((version, name)): Path<(String, String)>,
) -> Response {
    let run = async {
        version_ok(&version)?;
        let (snap, now) = read(&state, Part::Nodes, None).await?;
        let node = snap.nodes.iter().find(|n| n.name == name);
        let node = node.ok_or_else(|| not_found("nodes", &name))?;
        let version = api_version(&version);
        Ok(ok(objects::node_metrics(node, &now, Some(&version))))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

async fn pod_list_all(
    State(state): State<AppState>,
    Path(version): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    pod_list(state, version, None, q).await
}

async fn pod_list_ns(
    State(state): State<AppState>,
    Path((version, ns)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    pod_list(state, version, Some(ns), q).await
}

async fn pod_list(
    state: AppState,
    version: String,
    ns: Option<String>,
    q: Option<String>,
) -> Response {
    let run = async {
        version_ok(&version)?;
        let sel = selectors(q.as_deref(), &POD_FIELDS)?;
        let (snap, now) = read(&state, Part::Pods, sel.time).await?;
        let items: Vec<_> = snap
            .pods
            .iter()
            .filter(|p| ns.as_ref().is_none_or(|ns| &p.namespace == ns))
            .filter(|p| {
                sel.fields.matches(|f| match f {
                    "metadata.name" => Some(p.name.as_str()),
                    "metadata.namespace" => Some(p.namespace.as_str()),
                    _ => None,
                })
            })
            .filter_map(|p| {
                let labels = pod_labels(&state, p);
                sel.labels
                    .matches(&labels)
                    .then(|| objects::pod_metrics(p, &now, None, labels))
            })
            .collect();
        let version = api_version(&version);
        Ok(ok(objects::typed_list("PodMetricsList", &version, items)))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

/// The labels of the pod object behind `p` (none without a Kubernetes API).
fn pod_labels(state: &AppState, p: &usage::PodUsage) -> BTreeMap<String, String> {
    state
        .pods
        .as_ref()
        .and_then(|objects| objects.labels(&p.namespace, &p.name))
        .map(|l| (*l).clone())
        .unwrap_or_default()
}

/// Pod objects from the Kubernetes API: their labels, for `labelSelector`s (metrics-server
/// and prometheus-adapter evaluate them against pod objects, not series).
pub trait PodObjects: Send + Sync {
    /// The labels of pod `namespace/name`, if it exists.
    fn labels(&self, namespace: &str, name: &str) -> Option<Arc<BTreeMap<String, String>>>;
    /// The pods of `namespace` with their labels.
    fn pods_in(&self, namespace: &str) -> Vec<(String, Arc<BTreeMap<String, String>>)>;
}

impl PodObjects for collector::k8s::KubePodLabels {
    fn labels(&self, namespace: &str, name: &str) -> Option<Arc<BTreeMap<String, String>>> {
        collector::k8s::KubePodLabels::labels(self, namespace, name)
    }

    fn pods_in(&self, namespace: &str) -> Vec<(String, Arc<BTreeMap<String, String>>)> {
        collector::k8s::KubePodLabels::pods_in(self, namespace)
    }
}

async fn pod_get(
    State(state): State<AppState>,
    Path((version, ns, name)): Path<(String, String, String)>,
) -> Response {
    let run = async {
        version_ok(&version)?;
        let (snap, now) = read(&state, Part::Pods, None).await?;
        let pod = snap
            .pods
            .iter()
            .find(|p| p.namespace == ns && p.name == name);
        let pod = pod.ok_or_else(|| not_found("pods", &format!("{ns}/{name}")))?;
        let version = api_version(&version);
        let labels = pod_labels(&state, pod);
        Ok(ok(objects::pod_metrics(pod, &now, Some(&version), labels)))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

async fn core_nodes(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let run = async {
        let sel = selectors(q.as_deref(), &NODE_FIELDS)?;
        let (snap, _) = read(&state, Part::Nodes, sel.time).await?;
        let items = snap
            .nodes
            .iter()
            .filter(|n| sel.labels.matches(&objects::node_labels(&n.name)))
            .filter(|n| {
                sel.fields
                    .matches(|f| (f == "metadata.name").then_some(n.name.as_str()))
            })
            .map(objects::node_object)
            .collect();
        Ok(ok(objects::list("NodeList", "v1", items)))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

async fn core_node(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let run = async {
        let (snap, _) = read(&state, Part::Nodes, None).await?;
        let node = snap.nodes.iter().find(|n| n.name == name);
        let node = node.ok_or_else(|| {
            let details = json!({"name": name, "kind": "nodes"});
            let message = format!("nodes \"{name}\" not found");
            failure(StatusCode::NOT_FOUND, "NotFound", message, Some(details))
        })?;
        Ok(ok(objects::with_kind(
            "Node",
            "v1",
            objects::node_object(node),
        )))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

/// Pod objects are not served (no Kubernetes API behind this server): an empty list, which
/// `kubectl top pod` reads as "No resources found" when no pod has metrics.
async fn core_pods() -> Response {
    ok(objects::list("PodList", "v1", Vec::new()))
}
