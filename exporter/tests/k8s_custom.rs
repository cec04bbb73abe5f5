//! custom.metrics.k8s.io and external.metrics.k8s.io with prometheus-adapter rules, over an
//! in-memory storage through the router: discovery, the URL shapes the HPA controller calls
//! (pods `*` with a label selector, one pod, the namespace object, an external metric), both
//! custom versions' JSON, and errors.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::collections::BTreeMap;

use exporter::k8s::PodObjects;
use exporter::k8s::adapter::Adapter;
use exporter::{AppState, router};
use http_body_util::BodyExt;
use model::{Labels, MemStorage, Sample};
use prometheus_client::registry::Registry;
use query::{Engine, EngineOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

/// 2023-11-14T22:13:20Z.
const NOW: i64 = 1_700_000_000_000;

const RULES: &str = r#"
rules:
- seriesQuery: 'http_inflight{kubernetes_namespace!="",kubernetes_pod_name!=""}'
  resources:
    overrides:
      kubernetes_namespace: {resource: "namespace"}
      kubernetes_pod_name: {resource: "pod"}
  name: {matches: "^http_(.*)$", as: "${1}_requests"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: '{__name__="queue_consumer_lag",name!=""}'
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (name)
  resources: {overrides: {namespace: {resource: "namespace"}}}
resourceRules:
  cpu: {containerQuery: 'ignored'}
"#;

fn app() -> Router {
    app_with(None)
}

fn app_with(pods: Option<Arc<dyn PodObjects>>) -> Router {
    let db = MemStorage::new();
    let add = |pairs: &[(&str, &str)], v: f64| {
        let samples: Vec<Sample> = (0..5)
            .rev()
            .map(|i| Sample::new(NOW - i * 15_000, v))
            .collect();
        db.add_series(&Labels::from_pairs(pairs).unwrap(), &samples)
            .unwrap();
    };
    for (ns, pod, app, v) in [
        ("default", "web-1", "web", 1.0),
        ("default", "web-2", "api", 0.5),
        ("other", "x", "web", 9.0),
    ] {
        add(
            &[
                ("__name__", "http_inflight"),
                ("app", app),
                ("kubernetes_namespace", ns),
                ("kubernetes_pod_name", pod),
            ],
            v,
        );
    }
    add(
        &[
            ("__name__", "queue_consumer_lag"),
            ("name", "orders"),
            ("namespace", "default"),
        ],
        1200.0,
    );
    add(
        &[
            ("__name__", "queue_consumer_lag"),
            ("name", "billing"),
            ("namespace", "default"),
        ],
        7.0,
    );
    let engine = Engine::new(EngineOptions::default());
    let mut state = AppState::new(Arc::new(Registry::default()), Arc::new(db), engine);
    state.clock = Arc::new(|| NOW);
    state.adapter = Some(Arc::new(Adapter::load(RULES).unwrap()));
    state.pods = pods;
    router(state)
}

async fn get(uri: &str) -> (StatusCode, Value) {
    get_from(app(), uri).await
}

async fn get_from(app: Router, uri: &str) -> (StatusCode, Value) {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{uri}: {e}")),
    )
}

async fn ok(uri: &str) -> Value {
    let (status, json) = get(uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {json}");
    json
}

fn values(list: &Value) -> Vec<(String, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["describedObject"]["name"].as_str().unwrap().to_string(),
                i["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const BASE: &str = "/apis/custom.metrics.k8s.io/v1beta2";

#[tokio::test]
async fn discovery_lists_the_groups_and_metrics() {
    let apis = ok("/apis").await;
    let names: Vec<&str> = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "metrics.k8s.io",
            "custom.metrics.k8s.io",
            "external.metrics.k8s.io"
        ]
    );
    assert_eq!(
        ok("/apis/custom.metrics.k8s.io").await["preferredVersion"]["version"],
        "v1beta2"
    );
    let res = ok(BASE).await;
    let names: Vec<&str> = res["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["namespaces/inflight_requests", "pods/inflight_requests"]
    );
    let ext = ok("/apis/external.metrics.k8s.io/v1beta1").await;
    assert_eq!(ext["resources"][0]["name"], "queue_consumer_lag");
    assert_eq!(ext["resources"][0]["kind"], "ExternalMetricValueList");
}

#[tokio::test]
async fn pods_metrics_as_the_hpa_reads_them() {
    let all = ok(&format!(
        "{BASE}/namespaces/default/pods/*/inflight_requests"
    ))
    .await;
    assert_eq!(all["kind"], "MetricValueList");
    assert_eq!(all["apiVersion"], "custom.metrics.k8s.io/v1beta2");
    assert_eq!(
        values(&all),
        [
            ("web-1".to_string(), "1".to_string()),
            ("web-2".to_string(), "500m".to_string())
        ]
    );
    let item = &all["items"][0];
    assert_eq!(
        item["describedObject"],
        json!({"kind": "Pod", "namespace": "default", "name": "web-1", "apiVersion": "/v1"})
    );
    assert_eq!(
        item["metric"],
        json!({"name": "inflight_requests", "selector": null})
    );
    assert_eq!(item["timestamp"], "2023-11-14T22:13:20Z");

    let selected = ok(&format!(
        "{BASE}/namespaces/default/pods/*/inflight_requests?labelSelector=app%3Dweb"
    ))
    .await;
    assert_eq!(values(&selected), [("web-1".to_string(), "1".to_string())]);
    let one = ok(&format!(
        "{BASE}/namespaces/default/pods/web-2/inflight_requests"
    ))
    .await;
    assert_eq!(values(&one), [("web-2".to_string(), "500m".to_string())]);
    let ns = ok(&format!(
        "{BASE}/namespaces/default/metrics/inflight_requests"
    ))
    .await;
    assert_eq!(values(&ns), [("default".to_string(), "1500m".to_string())]);
    assert_eq!(ns["items"][0]["describedObject"]["kind"], "Namespace");

    let beta1 =
        ok("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/web-1/inflight_requests")
            .await;
    assert_eq!(beta1["items"][0]["metricName"], "inflight_requests");
    assert!(beta1["items"][0].get("metric").is_none());
}

#[tokio::test]
async fn external_metrics_by_selector() {
    let base = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_consumer_lag";
    let all = ok(base).await;
    assert_eq!(all["kind"], "ExternalMetricValueList");
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let orders = ok(&format!("{base}?labelSelector=name%3Dorders")).await;
    assert_eq!(
        orders["items"],
        json!([{"metricName": "queue_consumer_lag", "metricLabels": {"name": "orders"},
            "timestamp": "2023-11-14T22:13:20Z", "value": "1200"}])
    );
    let other_ns =
        ok("/apis/external.metrics.k8s.io/v1beta1/namespaces/other/queue_consumer_lag").await;
    assert_eq!(other_ns["items"], json!([]));
}

#[tokio::test]
async fn unknown_metrics_and_bad_selectors_are_status_errors() {
    for (uri, code) in [
        (format!("{BASE}/namespaces/default/pods/*/nope"), 404),
        (
            format!("{BASE}/namespaces/default/pods/ghost/inflight_requests"),
            404,
        ),
        (
            format!("{BASE}/namespaces/default/pods/*/inflight_requests?labelSelector=app+in+%28"),
            400,
        ),
        (
            "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/nope".to_string(),
            404,
        ),
        (
            "/apis/custom.metrics.k8s.io/v9/namespaces/default/pods/*/inflight_requests"
                .to_string(),
            404,
        ),
    ] {
        let (status, json) = get(&uri).await;
        assert_eq!(status.as_u16(), code, "{uri}: {json}");
        assert_eq!(json["kind"], "Status", "{uri}");
    }
}

/// Pod objects of namespace `default`: both pods labelled `tier=frontend`; the series' own
/// `app` labels differ.
struct StaticPods;

impl PodObjects for StaticPods {
    fn labels(&self, ns: &str, name: &str) -> Option<Arc<BTreeMap<String, String>>> {
        self.pods_in(ns)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| l)
    }

    fn pods_in(&self, ns: &str) -> Vec<(String, Arc<BTreeMap<String, String>>)> {
        if ns != "default" {
            return Vec::new();
        }
        let labels = Arc::new(BTreeMap::from([(
            "tier".to_string(),
            "frontend".to_string(),
        )]));
        vec![
            ("web-1".to_string(), labels.clone()),
            ("web-2".to_string(), labels),
        ]
    }
}

#[tokio::test]
async fn with_pod_objects_the_selector_picks_pods_not_series() {
    let app = || app_with(Some(Arc::new(StaticPods)));
    let uri =
        format!("{BASE}/namespaces/default/pods/*/inflight_requests?labelSelector=tier%3Dfrontend");
    let (status, both) = get_from(app(), &uri).await;
    assert_eq!(status, StatusCode::OK, "{both}");
    assert_eq!(
        values(&both),
        [
            ("web-1".to_string(), "1".to_string()),
            ("web-2".to_string(), "500m".to_string())
        ]
    );
    let uri = format!("{BASE}/namespaces/default/pods/*/inflight_requests?labelSelector=app%3Dweb");
    let (_, none) = get_from(app(), &uri).await;
    assert_eq!(none["items"], json!([]), "series labels are not pod labels");
}
