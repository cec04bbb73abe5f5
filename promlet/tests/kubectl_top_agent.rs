//! The whole path of `kubectl top` in a cluster, with a fake API server standing in for
//! Kubernetes: `promlet agent` reads a fixture kubelet cgroup tree (systemd driver, containerd,
//! one pod of two containers, the second the unnamed sandbox) and a fixture procfs, names the
//! pod's container from the pod object the fake API serves for its node, and is scraped by
//! `promlet serve` (with a `node` target label, as deploy/prometheus.yml sets it); the real
//! kubectl then prints the node and the pod from promlet's metrics API.
//!
//! The server also watches pod objects from the fake API, so `labelSelector`s see pod labels.
//!
//! The fixture files do not change, so CPU is 0; memory and capacity are checked against the
//! working sets the agent itself exposes and the fixture's `MemTotal` and two CPUs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../collector/tests/fixtures/k8s/fake_api.rs"]
mod fake_api;
#[path = "../../collector/tests/fixtures/cgroup/gen.rs"]
mod fixture_gen;
mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use collector::exposition::{Entry, Format, Parser};
use support::{Guard, free_port, get, query, serve_command, table_words as words, wait_for};

const FIXTURE_PROC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../collector/tests/fixtures/node/proc"
);
/// The fixture's `MemTotal` (24102788 kB).
const MEM_TOTAL: f64 = 24_102_788.0 * 1024.0;

/// The working set the agent exposes for the cgroup whose `id` is `id`.
fn working_set(body: &str, id: &str) -> f64 {
    for entry in Parser::new(body, Format::PrometheusText) {
        if let Entry::Sample(s) = entry.unwrap()
            && s.name == "container_memory_working_set_bytes"
            && s.labels.iter().any(|(n, v)| *n == "id" && v == id)
        {
            return s.value;
        }
    }
    panic!("no working set for {id}")
}

fn mib(bytes: f64) -> String {
    format!("{}Mi", bytes as i64 / (1024 * 1024))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_top_through_agent_and_server() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("sys");
    fixture_gen::v2_kubepods(&sys.join("fs/cgroup"), 1, 2);
    let web = fake_api::object("pod-web-0.json", 9113);
    let api =
        fake_api::FakeApi::start(vec![("/api/v1/pods", fake_api::list("PodList", vec![web]))])
            .await;
    let kubeconfig = support::kubeconfig(dir.path(), &api.url());

    let agent_addr = format!("127.0.0.1:{}", free_port());
    let agent = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .args([
            "agent",
            "--listen",
            &agent_addr,
            "--node-name",
            "node-1",
            "--path.procfs",
            FIXTURE_PROC,
        ])
        .arg("--path.sysfs")
        .arg(&sys)
        .arg("--path.rootfs")
        .arg(dir.path())
        .env("KUBECONFIG", &kubeconfig)
        .env("PROMLET_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("promlet agent starts");
    let _agent = Guard(agent);
    let metrics_url = format!("http://{agent_addr}/metrics");
    let body = wait_for("the agent to name the pod", Duration::from_secs(30), || {
        get(&metrics_url).filter(|b| b.contains("pod=\"web-0\""))
    });
    let container_id = fixture_gen::container_id(0);
    let uid = fixture_gen::pod_uid(0).replace('-', "_");
    let pod_cgroup =
        format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid}.slice");
    let nginx = working_set(
        &body,
        &format!("{pod_cgroup}/cri-containerd-{container_id}.scope"),
    );
    let node = working_set(&body, "/");

    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: agent\n    static_configs:\n      - targets: ['{agent_addr}']\n        labels: {{node: node-1}}\n"),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let serve = serve_command(&listen, &dir.path().join("data"))
        .arg("--config.file")
        .arg(&config)
        .env("KUBECONFIG", &kubeconfig)
        .spawn()
        .expect("promlet serve starts");
    let _serve = Guard(serve);
    let server = format!("http://{listen}");
    wait_for("two scrapes of the agent", Duration::from_secs(60), || {
        let n = query(&server, "count_over_time(up{job=\"agent\"}[1m])")?;
        n.values().next().is_some_and(|v| *v >= 2.0).then_some(())
    });

    let empty = dir.path().join("empty-kubeconfig");
    std::fs::write(&empty, "").unwrap();
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .arg(format!("--server={server}"))
            .args(args)
            .env("KUBECONFIG", &empty)
            .output()
            .expect("kubectl runs")
    };
    let pct = (node / MEM_TOTAL * 100.0).trunc() as i64;
    assert_eq!(
        words(&kubectl(&["top", "node"])),
        [
            vec!["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"],
            vec!["node-1", "0m", "0%", &mib(node), &format!("{pct}%")],
        ]
    );
    assert_eq!(
        words(&kubectl(&["top", "pod", "-A", "--containers"])),
        [
            vec!["NAMESPACE", "POD", "NAME", "CPU(cores)", "MEMORY(bytes)"],
            vec!["default", "web-0", "nginx", "0m", &mib(nginx)],
        ],
        "the sandbox container and the system services are not shown"
    );
    // The server watches pod objects: label selectors see their labels, and the pod's
    // metrics carry them, as metrics-server's do.
    let pods_url = format!("{server}/apis/metrics.k8s.io/v1beta1/pods");
    let selected = wait_for("pod labels from the API", Duration::from_secs(30), || {
        let body = get(&format!(
            "{pods_url}?labelSelector=app.kubernetes.io%2Fname%3Dweb"
        ))?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        (json["items"].as_array()?.len() == 1).then_some(json)
    });
    assert_eq!(
        selected["items"][0]["metadata"]["labels"]["app.kubernetes.io/name"],
        "web"
    );
    let none: serde_json::Value = serde_json::from_str(
        &get(&format!(
            "{pods_url}?labelSelector=app.kubernetes.io%2Fname%3Ddb"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(none["items"], serde_json::json!([]));
    assert_eq!(
        words(&kubectl(&[
            "top",
            "pod",
            "-A",
            "-l",
            "app.kubernetes.io/name=web"
        ]))[1][1],
        "web-0"
    );
    drop(api);
}
