//! `promlet autoscale run`: with `--apply` it reads the target's scale and pods from the
//! Kubernetes API (a fake API server serving real object JSON) and PATCHes the scale
//! subresource; without it, it keeps deciding and publishes the decisions at
//! `/api/v1/autoscale` and `/metrics`.
//!
//! The data: two `web` pods using 1.5 cores each (3 cores), requests 1 core, target 50%:
//! 6 replicas wanted, 4 allowed at once from 2 (the legacy limit max(2·2, 4)).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../collector/tests/fixtures/k8s/fake_api.rs"]
mod fake_api;
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Guard, free_port, get, get_json, wait_for};

const CONFIG: &str = r#"
interval: 1s
autoscalers:
  - name: web
    namespace: default
    podSelector: app=web
    podRequests: {cpu: "1"}
    initialReplicas: 2
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      minReplicas: 1
      maxReplicas: 10
      metrics:
        - type: Resource
          resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
"#;

/// Imports ten minutes of 1.5 cores per pod up to now; returns the data directory.
fn data(dir: &Path) -> std::path::PathBuf {
    let now = model::now_ms() / 1000;
    let mut om = String::from("# TYPE container_cpu_usage_seconds_total gauge\n");
    for pod in ["web-0", "web-1"] {
        for i in 0..=40 {
            let t = now - 600 + i * 15;
            let _ = writeln!(
                om,
                "container_cpu_usage_seconds_total{{namespace=\"default\",pod=\"{pod}\",container=\"app\"}} {} {t}",
                1.5 * 15.0 * i as f64
            );
        }
    }
    om.push_str("# EOF\n");
    support::import(dir, &om)
}

fn pod(name: &str) -> Value {
    let started = exporter::k8s::format::rfc3339_seconds(model::now_ms() - 3_600_000);
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx",
            "resources": {"requests": {"cpu": "1"}}}]},
        "status": {"phase": "Running", "startTime": started,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": started}]}
    })
}

fn scale(replicas: i64) -> Value {
    json!({
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas},
        "status": {"replicas": replicas, "selector": "app=web"}
    })
}

const SCALE: &str = "/apis/apps/v1/namespaces/default/deployments/web/scale";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_patches_the_scale_subresource() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = data(d);
    let api = fake_api::FakeApi::start_with_posts(
        vec![
            (SCALE, scale(2)),
            (
                "/api/v1/namespaces/default/pods",
                fake_api::list("PodList", vec![pod("web-0"), pod("web-1")]),
            ),
        ],
        vec![(
            SCALE,
            Arc::new(|patch: Value| scale(patch["spec"]["replicas"].as_i64().unwrap_or(0)))
                as fake_api::PostHandler,
        )],
    )
    .await;
    let cfg = d.join("autoscale.yml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .args(["autoscale", "run", "--once", "--apply", "--config"])
        .arg(&cfg)
        .arg("--data")
        .arg(&data)
        .env("KUBECONFIG", support::kubeconfig(d, &api.url()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decisions: Value = serde_json::from_slice(&out.stdout).unwrap();
    let web = &decisions[0];
    assert_eq!(web["currentReplicas"], 2, "{web}");
    assert_eq!(web["desiredReplicas"], 4, "{web}");
    assert_eq!(web["reason"], "ScaleUpLimit");
    assert_eq!(
        web["metrics"][0]["resource"]["current"]["averageUtilization"],
        150
    );
    assert_eq!(
        api.posted(),
        vec![(SCALE.to_string(), json!({"spec": {"replicas": 4}}))]
    );
    assert!(
        api.requests()
            .iter()
            .any(|r| r.starts_with("/api/v1/namespaces/default/pods?")
                && r.contains("labelSelector=app%3Dweb")),
        "{:?}",
        api.requests()
    );
}

#[test]
fn run_publishes_its_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = data(d);
    let cfg = d.join("autoscale.yml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .args(["autoscale", "run", "--listen", &listen, "--config"])
        .arg(&cfg)
        .arg("--data")
        .arg(&data)
        .env("PROMLET_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _run = Guard(child);
    let decision = wait_for("a published decision", Duration::from_secs(30), || {
        let v = get_json(&format!("http://{listen}/api/v1/autoscale"))?;
        v["data"].as_array().and_then(|l| l.first()).cloned()
    });
    assert_eq!(decision["autoscaler"], "web");
    assert_eq!(decision["namespace"], "default");
    // 3 cores want 6 pods: 4 first, then 6, which holds.
    let desired = decision["desiredReplicas"].as_i64().unwrap();
    assert!([4, 6].contains(&desired), "{decision}");
    assert_eq!(decision["applied"], false);
    let metrics = get(&format!("http://{listen}/metrics")).unwrap();
    assert!(
        metrics.contains(
            "promlet_autoscale_desired_replicas{namespace=\"default\",autoscaler=\"web\"}"
        ),
        "{metrics}"
    );
}

#[test]
fn serve_runs_autoscalers_and_serves_their_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = data(d);
    let cfg = d.join("autoscale.yml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let child = support::serve_command(&listen, &data)
        .arg("--autoscale.config")
        .arg(&cfg)
        .spawn()
        .unwrap();
    let _serve = Guard(child);
    let decision = wait_for("a decision on the server", Duration::from_secs(30), || {
        let v = get_json(&format!("http://{listen}/api/v1/autoscale"))?;
        v["data"].as_array().and_then(|l| l.first()).cloned()
    });
    assert_eq!(decision["autoscaler"], "web");
    let desired = decision["desiredReplicas"].as_i64().unwrap();
    assert!([4, 6].contains(&desired), "{decision}");
}
