//! `kubernetes_sd_configs` with role endpoints against a fake API server serving real
//! `kubectl get -o json` Endpoints, Service and Pod objects: each address × port becomes a
//! target at `<ip>:<port>` with Prometheus's `__meta_kubernetes_endpoint*`, `_service_*`
//! and (for addresses referring to a known pod) `_pod_*` labels; the pod's container
//! ports no endpoint port covers become targets too; a MODIFIED service relabels the
//! group and a DELETED Endpoints object removes its targets.

#![allow(clippy::unwrap_used)]

#[path = "fixtures/k8s/fake_api.rs"]
mod fake_api;
mod support;

use std::sync::Arc;
use support::{labels, metrics_server, wait_for};

use collector::scrape::relabel::LabelMap;
use collector::scrape::{Config, Manager, system_clock};
use fake_api::FakeApi;
use model::MemStorage;
use serde_json::json;

fn config(api: &str) -> String {
    format!(
        r#"
scrape_configs:
  - job_name: kubernetes-endpoints
    scrape_interval: 200ms
    scrape_timeout: 200ms
    kubernetes_sd_configs:
      - role: endpoints
        api_server: {api}
        namespaces:
          names: [default]
    relabel_configs:
      - source_labels: [__meta_kubernetes_service_annotation_prometheus_io_scrape, __meta_kubernetes_endpoint_ready]
        action: keep
        regex: true;true
      - source_labels: [__meta_kubernetes_service_name]
        target_label: service
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - action: labelmap
        regex: __meta_kubernetes_service_label_(tier)
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_targets_follow_the_watches() {
    let port = metrics_server("m 1\n");
    let eps = fake_api::object("endpoints-web.json", port);
    let svc = fake_api::object("service-web.json", 0);
    // web-0's metrics container port is the one the endpoint port names.
    let mut web0 = fake_api::object("pod-web-0.json", port);
    web0["spec"]["containers"][0]["ports"][1]["containerPort"] = json!(port);
    let api = FakeApi::start(vec![
        (
            "/api/v1/namespaces/default/endpoints",
            fake_api::list("EndpointsList", vec![eps.clone()]),
        ),
        (
            "/api/v1/namespaces/default/services",
            fake_api::list("ServiceList", vec![svc.clone()]),
        ),
        (
            "/api/v1/namespaces/default/pods",
            fake_api::list("PodList", vec![web0]),
        ),
    ])
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

    wait_for("web-0 scraped", || {
        manager
            .active()
            .first()
            .is_some_and(|t| t.health.up == Some(true))
    })
    .await;
    let active = manager.active();
    assert_eq!(active.len(), 1, "{active:?}");
    let t = &active[0];
    let address = format!("127.0.0.1:{port}");
    let port_s = port.to_string();
    assert_eq!(t.url, format!("http://{address}/metrics"));
    assert_eq!(
        t.labels,
        labels(&[
            ("instance", &address),
            ("job", "kubernetes-endpoints"),
            ("pod", "web-0"),
            ("service", "web"),
        ])
    );
    let group = [
        ("job", "kubernetes-endpoints"),
        ("__metrics_path__", "/metrics"),
        ("__scheme__", "http"),
        ("__scrape_interval__", "200ms"),
        ("__scrape_timeout__", "200ms"),
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_endpoints_name", "web"),
        (
            "__meta_kubernetes_endpoints_label_app_kubernetes_io_name",
            "web",
        ),
        (
            "__meta_kubernetes_endpoints_labelpresent_app_kubernetes_io_name",
            "true",
        ),
        (
            "__meta_kubernetes_endpoints_label_service_kubernetes_io_headless",
            "",
        ),
        (
            "__meta_kubernetes_endpoints_labelpresent_service_kubernetes_io_headless",
            "true",
        ),
        (
            "__meta_kubernetes_endpoints_annotation_endpoints_kubernetes_io_last_change_trigger_time",
            "2026-11-20T09:12:51Z",
        ),
        (
            "__meta_kubernetes_endpoints_annotationpresent_endpoints_kubernetes_io_last_change_trigger_time",
            "true",
        ),
        ("__meta_kubernetes_service_name", "web"),
        (
            "__meta_kubernetes_service_label_app_kubernetes_io_name",
            "web",
        ),
        (
            "__meta_kubernetes_service_labelpresent_app_kubernetes_io_name",
            "true",
        ),
        (
            "__meta_kubernetes_service_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_service_annotationpresent_prometheus_io_scrape",
            "true",
        ),
    ];
    let pod = [
        ("__meta_kubernetes_pod_name", "web-0"),
        ("__meta_kubernetes_pod_ip", "127.0.0.1"),
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
        ("__meta_kubernetes_pod_label_app_kubernetes_io_name", "web"),
        (
            "__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name",
            "true",
        ),
        (
            "__meta_kubernetes_pod_label_apps_kubernetes_io_pod_index",
            "0",
        ),
        (
            "__meta_kubernetes_pod_labelpresent_apps_kubernetes_io_pod_index",
            "true",
        ),
        (
            "__meta_kubernetes_pod_label_controller_revision_hash",
            "web-7c9f6d8b5d",
        ),
        (
            "__meta_kubernetes_pod_labelpresent_controller_revision_hash",
            "true",
        ),
        (
            "__meta_kubernetes_pod_label_statefulset_kubernetes_io_pod_name",
            "web-0",
        ),
        (
            "__meta_kubernetes_pod_labelpresent_statefulset_kubernetes_io_pod_name",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_kubernetes_io_config_seen",
            "2026-11-20T09:12:44.123456789Z",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_kubernetes_io_config_seen",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_kubernetes_io_config_source",
            "api",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_kubernetes_io_config_source",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_port",
            &port_s,
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_prometheus_io_port",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape",
            "true",
        ),
    ];
    let with = |extra: &[(&str, &str)], with_pod: bool| {
        let mut l = labels(&group);
        if with_pod {
            l.extend(labels(&pod));
        }
        l.extend(labels(extra));
        l
    };
    assert_eq!(
        t.discovered,
        with(
            &[
                ("__address__", &address),
                ("__meta_kubernetes_endpoint_port_name", "metrics"),
                ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
                ("__meta_kubernetes_endpoint_ready", "true"),
                ("__meta_kubernetes_endpoint_hostname", "web-0"),
                ("__meta_kubernetes_endpoint_node_name", "node-1"),
                ("__meta_kubernetes_endpoint_address_target_kind", "Pod"),
                ("__meta_kubernetes_endpoint_address_target_name", "web-0"),
                ("__meta_kubernetes_pod_container_name", "nginx"),
                ("__meta_kubernetes_pod_container_image", "nginx:1.27"),
                ("__meta_kubernetes_pod_container_port_name", "metrics"),
                ("__meta_kubernetes_pod_container_port_number", &port_s),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ],
            true
        )
    );

    // Dropped: web-1 (not ready, no pod known) and web-0's http port, which no endpoint
    // port covers.
    let mut dropped: Vec<LabelMap> = manager
        .dropped()
        .into_iter()
        .map(|d| d.discovered)
        .collect();
    dropped.sort_by(|a, b| a["__address__"].cmp(&b["__address__"]));
    assert_eq!(dropped.len(), 2, "{dropped:?}");
    let web1 = format!("10.244.2.17:{port}");
    assert_eq!(
        dropped[0],
        with(
            &[
                ("__address__", &web1),
                ("__meta_kubernetes_endpoint_port_name", "metrics"),
                ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
                ("__meta_kubernetes_endpoint_ready", "false"),
                ("__meta_kubernetes_endpoint_hostname", "web-1"),
                ("__meta_kubernetes_endpoint_node_name", "node-2"),
                ("__meta_kubernetes_endpoint_address_target_kind", "Pod"),
                ("__meta_kubernetes_endpoint_address_target_name", "web-1"),
            ],
            false
        )
    );
    assert_eq!(
        dropped[1],
        with(
            &[
                ("__address__", "127.0.0.1:80"),
                ("__meta_kubernetes_pod_container_name", "nginx"),
                ("__meta_kubernetes_pod_container_image", "nginx:1.27"),
                ("__meta_kubernetes_pod_container_port_name", "http"),
                ("__meta_kubernetes_pod_container_port_number", "80"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ],
            true
        )
    );

    // MODIFIED service: the group's service labels follow (a target whose labels after
    // relabeling stay the same keeps its first discovered labels, so the new label is
    // mapped onto the target).
    let mut svc2 = svc;
    svc2["metadata"]["labels"]["tier"] = json!("frontend");
    api.event("/api/v1/namespaces/default/services", "MODIFIED", svc2);
    wait_for("service label", || {
        manager.active().first().is_some_and(|t| {
            t.labels.get("tier").is_some_and(|v| v == "frontend")
                && t.discovered["__meta_kubernetes_service_labelpresent_tier"] == "true"
        })
    })
    .await;

    // DELETED: the Endpoints object's targets go away.
    api.event("/api/v1/namespaces/default/endpoints", "DELETED", eps);
    wait_for("web gone", || {
        manager.active().is_empty() && manager.dropped().is_empty()
    })
    .await;
    manager.shutdown().await;
}
