//! `promlet serve` with `kubernetes_sd_configs` (role pod) against a fake API server: the
//! annotated pod's target shows on `/api/v1/targets` with its relabeled labels and `up` is
//! stored as 1; after a DELETED event the target is gone and `up` is stale (no longer
//! returned by an instant query).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../collector/tests/fixtures/k8s/fake_api.rs"]
mod fake_api;

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use support::{Guard, free_port, get_json, serve_command};

/// Polls `probe` for up to a minute.
fn wait_for<T>(what: &str, probe: impl FnMut() -> Option<T>) -> T {
    support::wait_for(what, Duration::from_secs(60), probe)
}

/// A metrics endpoint on 127.0.0.1 answering every request with `body`; returns its port.
fn metrics_server(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                line.clear();
            }
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.flush();
            drop::<TcpStream>(conn);
        }
    });
    port
}

fn config(api: &str) -> String {
    format!(
        r#"global:
  scrape_interval: 1s
scrape_configs:
  - job_name: kubernetes-pods
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
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        regex: ([^:]+)(?::\d+)?;(\d+)
        replacement: $1:$2
        target_label: __address__
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
"#
    )
}

#[test]
fn serve_scrapes_discovered_pods_until_deleted() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = metrics_server("pod_metric 7\n");
    let web0 = fake_api::object("pod-web-0.json", port);
    let api = rt.block_on(fake_api::FakeApi::start(vec![(
        "/api/v1/pods",
        fake_api::list("PodList", vec![web0.clone()]),
    )]));

    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config(&api.url())).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let _promlet = Guard(
        serve_command(&listen, &dir.path().join("data"))
            .arg("--config.file")
            .arg(&config_path)
            .spawn()
            .expect("promlet starts"),
    );
    let base = format!("http://{listen}");
    let instance = format!("127.0.0.1:{port}");

    let target = wait_for("the pod's target up", || {
        let t = get_json(&format!("{base}/api/v1/targets"))?;
        let a = t["data"]["activeTargets"].as_array()?.first()?.clone();
        (a["health"] == "up").then_some(a)
    });
    assert_eq!(target["scrapeUrl"], format!("http://{instance}/metrics"));
    assert_eq!(
        target["labels"],
        serde_json::json!({
            "instance": instance, "job": "kubernetes-pods",
            "namespace": "default", "pod": "web-0",
        })
    );
    assert_eq!(
        target["discoveredLabels"]["__meta_kubernetes_pod_container_port_name"],
        "metrics"
    );
    let up = |base: &str| -> Option<Vec<serde_json::Value>> {
        let q = get_json(&format!("{base}/api/v1/query?query=up"))?;
        q["data"]["result"].as_array().cloned()
    };
    let r = wait_for("up stored", || up(&base).filter(|r| !r.is_empty()));
    assert_eq!(r[0]["metric"]["pod"], "web-0");
    assert_eq!(r[0]["value"][1], "1");
    assert!(
        api.requests()
            .iter()
            .any(|r| r.starts_with("/api/v1/pods?") && r.contains("watch=true")),
        "{:?}",
        api.requests()
    );

    api.event("/api/v1/pods", "DELETED", web0);
    wait_for("the target gone", || {
        let t = get_json(&format!("{base}/api/v1/targets"))?;
        t["data"]["activeTargets"]
            .as_array()?
            .is_empty()
            .then_some(())
    });
    // Stale: an instant query no longer finds `up` although it was scraped seconds ago.
    wait_for("up stale", || up(&base).filter(|r| r.is_empty()));
}
