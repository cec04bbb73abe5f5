//! `kubernetes_sd_configs` with role pod against a fake API server: pods annotated
//! `prometheus.io/scrape: "true"` become targets at `<podIP>:<prometheus.io/port>` with the
//! labels relabeling builds from `__meta_kubernetes_*`; a pod ADDED through the watch is
//! scraped, a DELETED one stops and its series go stale.

#![allow(clippy::unwrap_used)]

#[path = "fixtures/k8s/fake_api.rs"]
mod fake_api;
mod support;

use std::sync::Arc;
use support::{metrics_server, samples, wait_for};

use collector::scrape::relabel::LabelMap;
use collector::scrape::{Config, Manager, system_clock};
use fake_api::FakeApi;
use model::{MemStorage, is_stale_nan};

/// The last `up` sample of the target whose `pod` label is `pod`.
fn last_up(db: &MemStorage, pod: &str) -> Option<f64> {
    samples(db, "up")
        .into_iter()
        .find(|(l, _)| l.get("pod").map(String::as_str) == Some(pod))
        .and_then(|(_, s)| s.last().map(|s| s.v))
}

fn config(api: &str) -> String {
    format!(
        r#"
scrape_configs:
  - job_name: kubernetes-pods
    scrape_interval: 200ms
    scrape_timeout: 200ms
    kubernetes_sd_configs:
      - role: pod
        api_server: {api}
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: "true"
      - source_labels: [__meta_kubernetes_pod_container_port_name]
        action: keep
        regex: metrics
      - source_labels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_prometheus_io_port]
        regex: (.+);(.+)
        replacement: $1:$2
        target_label: __address__
      - action: labelmap
        regex: __meta_kubernetes_pod_label_(app_kubernetes_io_name)
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_container_name]
        target_label: container
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_targets_follow_the_watch() {
    let port0 = metrics_server("m 1\n");
    let port1 = metrics_server("m 2\n");
    let web0 = fake_api::object("pod-web-0.json", port0);
    let agent = fake_api::object("pod-agent.json", 0);
    let api = FakeApi::start(vec![(
        "/api/v1/pods",
        fake_api::list("PodList", vec![web0.clone(), agent]),
    )])
    .await;

    let loaded = Config::load(&config(&api.url())).unwrap();
    let db = Arc::new(MemStorage::new());
    let manager = Manager::start(
        &loaded,
        db.clone(),
        system_clock(),
        Vec::new(),
        LabelMap::new(),
    );

    wait_for("web-0 scraped", || last_up(&db, "web-0") == Some(1.0)).await;
    assert!(api.requests()[0].starts_with("/api/v1/pods?"));
    let active = manager.active();
    assert_eq!(active.len(), 1, "{active:?}");
    let t = &active[0];
    assert_eq!(t.url, format!("http://127.0.0.1:{port0}/metrics"));
    let want: LabelMap = [
        ("app_kubernetes_io_name", "web"),
        ("container", "nginx"),
        ("instance", &format!("127.0.0.1:{port0}")),
        ("job", "kubernetes-pods"),
        ("namespace", "default"),
        ("pod", "web-0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(t.labels, want);
    let d = &t.discovered;
    for (k, v) in [
        ("__address__", "127.0.0.1:9113"),
        ("__meta_kubernetes_pod_container_port_number", "9113"),
        ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
        ("__meta_kubernetes_pod_container_init", "false"),
        ("__meta_kubernetes_pod_container_image", "nginx:1.27"),
        ("__meta_kubernetes_pod_ready", "true"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "node-1"),
        ("__meta_kubernetes_pod_host_ip", "10.0.0.11"),
        (
            "__meta_kubernetes_pod_uid",
            "00000000-1111-2222-3333-000000000000",
        ),
        ("__meta_kubernetes_pod_controller_kind", "StatefulSet"),
        ("__meta_kubernetes_pod_controller_name", "web"),
        (
            "__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape",
            "true",
        ),
    ] {
        assert_eq!(d.get(k).map(String::as_str), Some(v), "{k} in {d:?}");
    }
    let stored = samples(&db, "m");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, {
        let mut l = want.clone();
        l.insert("__name__".into(), "m".into());
        l
    });
    // The agent pod (no scrape annotation) and web-0's http port: dropped.
    let dropped = manager.dropped();
    assert_eq!(dropped.len(), 2, "{dropped:?}");
    assert!(dropped.iter().any(|d| {
        d.discovered
            .get("__meta_kubernetes_pod_name")
            .map(String::as_str)
            == Some("promlet-agent-x7k2p")
    }));

    // ADDED: web-1 appears and is scraped.
    let mut web1 = fake_api::object("pod-web-0.json", port1);
    web1["metadata"]["name"] = "web-1".into();
    web1["metadata"]["uid"] = "00000002-1111-2222-3333-000000000002".into();
    api.event("/api/v1/pods", "ADDED", web1);
    wait_for("web-1 scraped", || last_up(&db, "web-1") == Some(1.0)).await;
    assert_eq!(manager.active().len(), 2);

    // DELETED: web-0 goes away, its series stale; web-1 keeps going.
    api.event("/api/v1/pods", "DELETED", web0);
    wait_for("web-0 gone", || manager.active().len() == 1).await;
    wait_for("web-0's up stale", || {
        last_up(&db, "web-0").is_some_and(is_stale_nan)
    })
    .await;
    let m0 = samples(&db, "m")
        .into_iter()
        .find(|(l, _)| l["pod"] == "web-0")
        .unwrap();
    assert!(m0.1.last().is_some_and(|s| is_stale_nan(s.v)));
    assert_eq!(manager.active()[0].labels["pod"], "web-1");
    let n = samples(&db, "m")
        .into_iter()
        .find(|(l, _)| l["pod"] == "web-1")
        .unwrap()
        .1
        .len();
    wait_for("web-1 scraped again", || {
        samples(&db, "m")
            .into_iter()
            .find(|(l, _)| l["pod"] == "web-1")
            .unwrap()
            .1
            .len()
            > n
    })
    .await;
    manager.shutdown().await;
}
