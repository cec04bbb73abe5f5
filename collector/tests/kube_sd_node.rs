//! `kubernetes_sd_configs` with role node against a fake API server serving a real
//! `kubectl get nodes -o json` object: the node becomes one target, the kubelet at its
//! first InternalIP with `instance` = the node name and Prometheus's
//! `__meta_kubernetes_node_*` labels; a DELETED node's target stops.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_targets_follow_the_watch() {
    let port = metrics_server("m 1\n");
    let node1 = fake_api::object("node-1.json", port);
    // A second node, reachable only by its hostname: not scraped (relabeling keeps
    // InternalIP nodes), but discovered.
    let mut node2 = fake_api::object("node-1.json", 10250);
    node2["metadata"]["name"] = "node-2".into();
    node2["metadata"]["labels"] = serde_json::json!({"kubernetes.io/hostname": "node-2"});
    node2["metadata"]["annotations"] = serde_json::json!({});
    node2["spec"] = serde_json::json!({});
    node2["status"]["addresses"] = serde_json::json!([
        {"address": "node-2.example", "type": "ExternalDNS"},
        {"address": "node-2", "type": "Hostname"}
    ]);
    let api = FakeApi::start(vec![(
        "/api/v1/nodes",
        fake_api::list("NodeList", vec![node1.clone(), node2]),
    )])
    .await;

    let config = format!(
        r#"
scrape_configs:
  - job_name: kubernetes-nodes
    scrape_interval: 200ms
    scrape_timeout: 200ms
    kubernetes_sd_configs:
      - role: node
        api_server: {}
    relabel_configs:
      - source_labels: [__meta_kubernetes_node_address_InternalIP]
        action: keep
        regex: .+
      - action: labelmap
        regex: __meta_kubernetes_node_label_(.+)
"#,
        api.url()
    );
    let loaded = Config::load(&config).unwrap();
    let db = Arc::new(MemStorage::new());
    let manager = Manager::start(
        &loaded,
        db.clone(),
        system_clock(),
        Vec::new(),
        LabelMap::new(),
    );

    wait_for("node-1 scraped", || {
        manager
            .active()
            .first()
            .is_some_and(|t| t.health.up == Some(true))
    })
    .await;
    assert!(api.requests()[0].starts_with("/api/v1/nodes?"));
    let active = manager.active();
    assert_eq!(active.len(), 1, "{active:?}");
    let t = &active[0];
    assert_eq!(t.url, format!("http://127.0.0.1:{port}/metrics"));
    let address = format!("127.0.0.1:{port}");
    assert_eq!(
        t.discovered,
        labels(&[
            ("__address__", &address),
            ("instance", "node-1"),
            ("job", "kubernetes-nodes"),
            ("__metrics_path__", "/metrics"),
            ("__scheme__", "http"),
            ("__scrape_interval__", "200ms"),
            ("__scrape_timeout__", "200ms"),
            ("__meta_kubernetes_node_name", "node-1"),
            (
                "__meta_kubernetes_node_provider_id",
                "aws:///eu-west-1a/i-0a1b2c3d4e5f60718"
            ),
            ("__meta_kubernetes_node_address_InternalIP", "127.0.0.1"),
            (
                "__meta_kubernetes_node_address_InternalDNS",
                "ip-10-0-0-11.eu-west-1.compute.internal"
            ),
            ("__meta_kubernetes_node_address_Hostname", "node-1"),
            (
                "__meta_kubernetes_node_label_beta_kubernetes_io_arch",
                "amd64"
            ),
            (
                "__meta_kubernetes_node_labelpresent_beta_kubernetes_io_arch",
                "true"
            ),
            (
                "__meta_kubernetes_node_label_beta_kubernetes_io_os",
                "linux"
            ),
            (
                "__meta_kubernetes_node_labelpresent_beta_kubernetes_io_os",
                "true"
            ),
            ("__meta_kubernetes_node_label_kubernetes_io_arch", "amd64"),
            (
                "__meta_kubernetes_node_labelpresent_kubernetes_io_arch",
                "true"
            ),
            (
                "__meta_kubernetes_node_label_kubernetes_io_hostname",
                "node-1"
            ),
            (
                "__meta_kubernetes_node_labelpresent_kubernetes_io_hostname",
                "true"
            ),
            ("__meta_kubernetes_node_label_kubernetes_io_os", "linux"),
            (
                "__meta_kubernetes_node_labelpresent_kubernetes_io_os",
                "true"
            ),
            (
                "__meta_kubernetes_node_label_node_role_kubernetes_io_worker",
                ""
            ),
            (
                "__meta_kubernetes_node_labelpresent_node_role_kubernetes_io_worker",
                "true"
            ),
            (
                "__meta_kubernetes_node_label_topology_kubernetes_io_zone",
                "eu-west-1a"
            ),
            (
                "__meta_kubernetes_node_labelpresent_topology_kubernetes_io_zone",
                "true"
            ),
            (
                "__meta_kubernetes_node_annotation_kubeadm_alpha_kubernetes_io_cri_socket",
                "unix:///run/containerd/containerd.sock"
            ),
            (
                "__meta_kubernetes_node_annotationpresent_kubeadm_alpha_kubernetes_io_cri_socket",
                "true"
            ),
            (
                "__meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl",
                "0"
            ),
            (
                "__meta_kubernetes_node_annotationpresent_node_alpha_kubernetes_io_ttl",
                "true"
            ),
            (
                "__meta_kubernetes_node_annotation_volumes_kubernetes_io_controller_managed_attach_detach",
                "true"
            ),
            (
                "__meta_kubernetes_node_annotationpresent_volumes_kubernetes_io_controller_managed_attach_detach",
                "true"
            ),
        ])
    );
    assert_eq!(
        t.labels,
        labels(&[
            ("instance", "node-1"),
            ("job", "kubernetes-nodes"),
            ("beta_kubernetes_io_arch", "amd64"),
            ("beta_kubernetes_io_os", "linux"),
            ("kubernetes_io_arch", "amd64"),
            ("kubernetes_io_hostname", "node-1"),
            ("kubernetes_io_os", "linux"),
            // node_role_kubernetes_io_worker is empty: no label.
            ("topology_kubernetes_io_zone", "eu-west-1a"),
        ])
    );

    // node-2: ExternalDNS before Hostname; dropped by relabeling.
    let dropped = manager.dropped();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    let d = &dropped[0].discovered;
    assert_eq!(d["__address__"], "node-2.example:10250");
    assert_eq!(d["instance"], "node-2");
    assert_eq!(d["__meta_kubernetes_node_provider_id"], "");
    assert_eq!(d["__meta_kubernetes_node_address_Hostname"], "node-2");

    // DELETED: node-1's target stops.
    api.event("/api/v1/nodes", "DELETED", node1);
    wait_for("node-1 gone", || manager.active().is_empty()).await;
    assert_eq!(manager.dropped().len(), 1);
    manager.shutdown().await;
}
