//! The resource metrics API (`metrics.k8s.io`) over an in-memory storage, through the router:
//! golden JSON for every endpoint (`tests/golden/k8s/`), the numbers checked by hand beside
//! them, and Kubernetes `Status` errors.
//!
//! The fixture, at a fixed "now":
//! - node `node-a` in the kubelet's shape (`node_*{node="node-a"}`): 1.5 CPU-seconds in 15 s
//!   (100m), 2 GiB working set, 4 CPUs, 8 GiB of memory;
//! - node `host-b` as cAdvisor's root cgroup (`container_*{id="/",instance="host-b"}`): 3
//!   CPU-seconds in 60 s (50m), 1536 MiB;
//! - pod `default/web-1` (containers `app`: 25m, 100Mi; `sidecar`: 1234560n, 1000 bytes, which Kubernetes writes `1k`);
//!   `kube-system/dns` (`coredns`), whose sandbox (`container="POD"`) is left out;
//!   `default/broken` with one CPU sample (no rate: left out); `default/gone`, stale;
//! - host-b's cgroup `/system.slice/sshd.service` (a leaf), presented as pod `sshd.service` in
//!   namespace `system.slice`; its parent `/system.slice` is not a pod.
//!
//! `UPDATE_GOLDEN=1 cargo test -p exporter --test k8s_metrics` rewrites the golden files.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use exporter::{AppState, router};
use http_body_util::BodyExt;
use model::{Labels, MemStorage, Sample, stale_nan};
use prometheus_client::registry::Registry;
use query::{Engine, EngineOptions};
use serde_json::Value as Json;
use tower::ServiceExt;

/// 2023-11-14T22:13:20Z.
const NOW: i64 = 1_700_000_000_000;

fn add(db: &MemStorage, pairs: &[(&str, &str)], samples: &[(i64, f64)]) {
    let labels = Labels::from_pairs(pairs).unwrap();
    let samples: Vec<Sample> = samples
        .iter()
        .map(|(t, v)| Sample::new(NOW - t, *v))
        .collect();
    db.add_series(&labels, &samples).unwrap();
}

fn container(db: &MemStorage, ns: &str, pod: &str, c: &str, cpu: &[(i64, f64)], mem: f64) {
    let l = [("namespace", ns), ("pod", pod), ("container", c)];
    let with = |name| [&[("__name__", name)][..], &l[..]].concat();
    add(db, &with("container_cpu_usage_seconds_total"), cpu);
    add(
        db,
        &with("container_memory_working_set_bytes"),
        &[(10_000, mem)],
    );
}

fn storage() -> Arc<MemStorage> {
    let db = MemStorage::new();
    let node = |name| [("__name__", name), ("node", "node-a")];
    add(
        &db,
        &node("node_cpu_usage_seconds_total"),
        &[(25_000, 100.0), (10_000, 101.5)],
    );
    add(
        &db,
        &node("node_memory_working_set_bytes"),
        &[(10_000, 2_147_483_648.0)],
    );
    add(
        &db,
        &node("node_memory_MemTotal_bytes"),
        &[(10_000, 8_589_934_592.0)],
    );
    for cpu in ["0", "1", "2", "3"] {
        let l = [
            ("__name__", "node_cpu_seconds_total"),
            ("cpu", cpu),
            ("mode", "idle"),
            ("node", "node-a"),
        ];
        add(&db, &l, &[(10_000, 5.0)]);
    }
    let cg = |name, id| {
        [
            ("__name__", name),
            ("cpu", "total"),
            ("id", id),
            ("instance", "host-b"),
        ]
    };
    add(
        &db,
        &cg("container_cpu_usage_seconds_total", "/"),
        &[(70_000, 10.0), (10_000, 13.0)],
    );
    let mem = |id| {
        [
            ("__name__", "container_memory_working_set_bytes"),
            ("id", id),
            ("instance", "host-b"),
        ]
    };
    add(&db, &mem("/"), &[(10_000, 1_610_612_736.0)]);
    for (id, cpu) in [("/system.slice", 8.0), ("/system.slice/sshd.service", 2.0)] {
        add(
            &db,
            &cg("container_cpu_usage_seconds_total", id),
            &[(70_000, 0.0), (10_000, cpu)],
        );
        add(&db, &mem(id), &[(10_000, 4_194_304.0)]);
    }
    container(
        &db,
        "default",
        "web-1",
        "app",
        &[(20_000, 1.0), (10_000, 1.25)],
        104_857_600.0,
    );
    container(
        &db,
        "default",
        "web-1",
        "sidecar",
        &[(20_000, 0.1), (10_000, 0.1123456)],
        1000.0,
    );
    container(
        &db,
        "kube-system",
        "dns",
        "coredns",
        &[(40_000, 3.0), (10_000, 3.3)],
        20_971_520.0,
    );
    container(
        &db,
        "kube-system",
        "dns",
        "POD",
        &[(40_000, 0.0), (10_000, 0.01)],
        4096.0,
    );
    container(&db, "default", "broken", "app", &[(10_000, 1.0)], 1.0);
    container(
        &db,
        "default",
        "gone",
        "app",
        &[(30_000, 1.0), (20_000, 2.0), (10_000, stale_nan())],
        1.0,
    );
    Arc::new(db)
}

fn app() -> Router {
    let engine = Engine::new(EngineOptions::default());
    let mut state = AppState::new(Arc::new(Registry::default()), storage(), engine);
    state.clock = Arc::new(|| NOW);
    router(state)
}

async fn get(uri: &str) -> (StatusCode, String, Json) {
    get_accepting(uri, "*/*").await
}

async fn get_accepting(uri: &str, accept: &str) -> (StatusCode, String, Json) {
    let req = Request::builder()
        .uri(uri)
        .header(header::ACCEPT, accept)
        .body(Body::empty())
        .unwrap();
    let resp = app().oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{uri}: {e}"));
    (status, ct.unwrap_or_default(), json)
}

/// Compares `got` with `tests/golden/k8s/<name>.json` (or rewrites it with `UPDATE_GOLDEN=1`).
fn golden(name: &str, got: &Json) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/k8s/{name}.json"));
    let text = serde_json::to_string_pretty(got).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(text, want, "{name} differs from {}", path.display());
}

async fn ok(uri: &str, name: &str) -> Json {
    let (status, ct, json) = get(uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {json}");
    assert_eq!(ct, "application/json");
    golden(name, &json);
    json
}

#[tokio::test]
async fn node_metrics_list_and_get() {
    let nodes = ok("/apis/metrics.k8s.io/v1beta1/nodes", "nodes").await;
    assert_eq!(nodes["kind"], "NodeMetricsList");
    let items = nodes["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["host-b", "node-a"]);
    assert_eq!(
        items[0]["usage"],
        serde_json::json!({"cpu": "50m", "memory": "1536Mi"})
    );
    assert_eq!(items[0]["window"], "1m0s");
    assert_eq!(
        items[1]["usage"],
        serde_json::json!({"cpu": "100m", "memory": "2Gi"})
    );
    assert_eq!(items[1]["window"], "15s");
    assert_eq!(items[1]["timestamp"], "2023-11-14T22:13:10Z");
    assert!(items[0].get("kind").is_none(), "list items carry no kind");

    let one = ok("/apis/metrics.k8s.io/v1/nodes/node-a", "node_a").await;
    assert_eq!(one["kind"], "NodeMetrics");
    assert_eq!(one["apiVersion"], "metrics.k8s.io/v1");
    let sel = ok(
        "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=kubernetes.io%2Fhostname%3Dnode-a",
        "nodes_selected",
    )
    .await;
    assert_eq!(sel["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pod_metrics_lists_and_get() {
    let all = ok("/apis/metrics.k8s.io/v1beta1/pods", "pods_all").await;
    let names: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap(),
                p["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "default/web-1",
            "kube-system/dns",
            "system.slice/sshd.service"
        ]
    );
    let web = ok(
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1",
        "web_1",
    )
    .await;
    assert_eq!(web["kind"], "PodMetrics");
    let containers = &web["containers"];
    assert_eq!(
        containers[0],
        serde_json::json!({"name": "app", "usage": {"cpu": "25m", "memory": "100Mi"}})
    );
    assert_eq!(
        containers[1],
        serde_json::json!({"name": "sidecar", "usage": {"cpu": "1234560n", "memory": "1k"}})
    );
    assert_eq!(web["window"], "10s");
    let dns = &all["items"][1];
    assert_eq!(
        dns["containers"].as_array().unwrap().len(),
        1,
        "the sandbox is left out"
    );
    assert_eq!(dns["containers"][0]["usage"]["cpu"], "10m");
    ok(
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
        "pods_default",
    )
    .await;
    let by_name = ok(
        "/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.name%3Dsshd.service",
        "pods_field",
    )
    .await;
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn discovery_documents() {
    let apis = ok("/apis", "apis").await;
    assert_eq!(apis["groups"][0]["name"], "metrics.k8s.io");
    ok("/api", "api").await;
    ok("/apis/metrics.k8s.io", "group").await;
    ok("/apis/metrics.k8s.io/v1beta1", "resources_v1beta1").await;
    let nodes = ok("/api/v1/nodes", "core_nodes").await;
    assert_eq!(
        nodes["items"][1]["status"]["allocatable"],
        serde_json::json!({"cpu": "4", "memory": "8Gi"})
    );
}

#[tokio::test]
async fn errors_are_kubernetes_status_objects() {
    for (uri, code, name) in [
        (
            "/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app+in+%28web",
            400,
            "error_label_selector",
        ),
        (
            "/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=spec.nodeName%3Dx",
            400,
            "error_field_selector",
        ),
        (
            "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/broken",
            404,
            "error_pod_not_found",
        ),
        (
            "/apis/metrics.k8s.io/v1beta1/nodes/nope",
            404,
            "error_node_not_found",
        ),
        ("/apis/metrics.k8s.io/v2/nodes", 404, "error_version"),
    ] {
        let (status, ct, json) = get(uri).await;
        assert_eq!(status.as_u16(), code, "{uri}: {json}");
        assert_eq!(ct, "application/json");
        assert_eq!(json["kind"], "Status", "{uri}");
        assert_eq!(json["code"], code, "{uri}");
        golden(name, &json);
    }
    let (_, _, field) =
        get("/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=spec.nodeName%3Dx").await;
    assert_eq!(
        field["message"],
        "\"spec.nodeName\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    let (_, _, missing) = get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/broken").await;
    assert_eq!(
        missing["message"],
        "podmetrics.metrics.k8s.io \"default/broken\" not found"
    );
}

/// kubectl 1.32's discovery `Accept` header.
const KUBECTL_DISCOVERY: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

#[tokio::test]
async fn aggregated_discovery_when_asked_for() {
    for (uri, name) in [("/apis", "apis_aggregated"), ("/api", "api_aggregated")] {
        let (status, ct, json) = get_accepting(uri, KUBECTL_DISCOVERY).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            ct,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        assert_eq!(json["kind"], "APIGroupDiscoveryList");
        golden(name, &json);
    }
    let (_, _, apis) = get_accepting("/apis", KUBECTL_DISCOVERY).await;
    let versions = &apis["items"][0]["versions"];
    assert_eq!(
        versions[0]["version"], "v1",
        "v1 is preferred (listed first)"
    );
    assert_eq!(versions[1]["resources"][1]["scope"], "Namespaced");
    // A plain JSON client gets the legacy document.
    let (_, ct, legacy) = get_accepting("/apis", "application/json").await;
    assert_eq!(ct, "application/json");
    assert_eq!(legacy["kind"], "APIGroupList");
}
