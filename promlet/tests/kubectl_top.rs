//! The real `kubectl` (1.32, on the machine) pointed at `promlet serve` with `--server`:
//! `kubectl top node`, `top pod -A`, `--containers`, `--sort-by`, `-n`, and a missing pod,
//! over series imported with `promlet import` at known times just before "now"; and
//! `promlet top`, which must print the same bytes, and its `--since` history columns.
//!
//! The numbers follow kubectl's own rules: CPU(cores) rounds nanocores up to millicores,
//! MEMORY(bytes) floors to MiB, percentages are truncated against the node's allocatable
//! (here four CPUs and 8 GiB, from `node_cpu_seconds_total` and `node_memory_MemTotal_bytes`).
//! Columns are compared word by word (kubectl pads them with a tabwriter).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use support::{Guard, free_port, get, serve_command, table_words as words, wait_for};

/// The import file: one node (100m of 4 CPUs, 2 GiB of 8 GiB) and two pods, samples 25 s
/// and 10 s (CPU of `dns`: 40 s and 10 s) before `now_s`.
fn openmetrics(now_s: i64) -> String {
    let (t1, t2, t0) = (now_s - 25, now_s - 10, now_s - 40);
    let mut s = String::new();
    let mut family = |name: &str, lines: &[(String, f64, i64)]| {
        s += &format!("# TYPE {name} gauge\n");
        for (labels, v, t) in lines {
            s += &format!("{name}{{{labels}}} {v} {t}\n");
        }
    };
    let node = "node=\"kind-worker\"".to_string();
    family(
        "node_cpu_usage_seconds_total",
        &[(node.clone(), 100.0, t1), (node.clone(), 101.5, t2)],
    );
    family(
        "node_memory_working_set_bytes",
        &[(node.clone(), 2147483648.0, t2)],
    );
    family(
        "node_memory_MemTotal_bytes",
        &[(node.clone(), 8589934592.0, t2)],
    );
    let cpus: Vec<(String, f64, i64)> = (0..4)
        .map(|c| (format!("cpu=\"{c}\",mode=\"idle\",{node}"), 5.0, t2))
        .collect();
    family("node_cpu_seconds_total", &cpus);
    let c = |ns: &str, pod: &str, name: &str| {
        format!("container=\"{name}\",namespace=\"{ns}\",pod=\"{pod}\"")
    };
    family(
        "container_cpu_usage_seconds_total",
        &[
            (c("default", "web-1", "app"), 1.0, t1),
            (c("default", "web-1", "app"), 1.375, t2),
            (c("default", "web-1", "sidecar"), 0.1, t1),
            (c("default", "web-1", "sidecar"), 0.1185184, t2),
            (c("kube-system", "dns", "coredns"), 3.0, t0),
            (c("kube-system", "dns", "coredns"), 4.2, t2),
        ],
    );
    family(
        "container_memory_working_set_bytes",
        &[
            (c("default", "web-1", "app"), 104857600.0, t2),
            (c("default", "web-1", "sidecar"), 1000.0, t2),
            (c("kube-system", "dns", "coredns"), 20971520.0, t2),
        ],
    );
    s + "# EOF\n"
}

fn kubectl(server: &str, kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg(format!("--server={server}"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("kubectl runs")
}

fn promlet_top(server: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promlet"))
        .arg("top")
        .args(args)
        .args(["--server", server])
        .output()
        .expect("promlet top runs")
}

fn rows(table: &[&str]) -> Vec<Vec<String>> {
    table
        .iter()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn kubectl_top_reads_promlet() {
    let dir = tempfile::tempdir().unwrap();
    let now_s = model::now_ms() / 1000;
    let data = support::import(dir.path(), &openmetrics(now_s));

    let listen = format!("127.0.0.1:{}", free_port());
    let child = serve_command(&listen, &data)
        .spawn()
        .expect("promlet serve starts");
    let _serve = Guard(child);
    let server = format!("http://{listen}");
    wait_for("promlet ready", Duration::from_secs(30), || {
        get(&format!("{server}/-/ready"))
    });
    // The stored series give a node's usage: the metrics API is ready.
    assert_eq!(get(&format!("{server}/readyz")).as_deref(), Some("ok"));
    let verbose = get(&format!("{server}/readyz?verbose")).unwrap_or_default();
    assert!(
        verbose.contains("[+]metric-storage-ready ok\n"),
        "{verbose}"
    );
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "").unwrap();
    let top = |args: &[&str]| words(&kubectl(&server, &kubeconfig, args));

    assert_eq!(
        top(&["top", "node"]),
        rows(&[
            "NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%)",
            "kind-worker 100m 2% 2048Mi 25%",
        ])
    );
    // web-1: app 25m + sidecar 1234560n = 26.23456m, rounded up; 100Mi + 1000 bytes.
    assert_eq!(
        top(&["top", "pod", "-A"]),
        rows(&[
            "NAMESPACE NAME CPU(cores) MEMORY(bytes)",
            "default web-1 27m 100Mi",
            "kube-system dns 40m 20Mi",
        ])
    );
    assert_eq!(
        top(&["top", "pod", "-A", "--containers"]),
        rows(&[
            "NAMESPACE POD NAME CPU(cores) MEMORY(bytes)",
            "default web-1 app 25m 100Mi",
            "default web-1 sidecar 2m 0Mi",
            "kube-system dns coredns 40m 20Mi",
        ])
    );
    assert_eq!(
        top(&["top", "pod", "-A", "--sort-by=cpu"]),
        rows(&[
            "NAMESPACE NAME CPU(cores) MEMORY(bytes)",
            "kube-system dns 40m 20Mi",
            "default web-1 27m 100Mi",
        ])
    );
    assert_eq!(
        top(&["top", "pod", "-n", "kube-system"]),
        rows(&["NAME CPU(cores) MEMORY(bytes)", "dns 40m 20Mi"])
    );
    // promlet top prints what kubectl top prints, byte for byte.
    for args in [
        &["node"][..],
        &["pod", "-A"],
        &["pod", "-A", "--containers"],
        &["pod", "-A", "--sort-by=cpu"],
        &["pod", "-n", "kube-system"],
    ] {
        let want = kubectl(&server, &kubeconfig, &[&["top"][..], args].concat());
        let ours = promlet_top(&server, args);
        assert!(
            ours.status.success(),
            "{}",
            String::from_utf8_lossy(&ours.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&want.stdout),
            "promlet top {args:?}"
        );
    }
    // Over the last 30 s only the newest evaluation has two samples per series, so the
    // average, p95 and maximum are today's figures.
    let since = promlet_top(&server, &["pod", "-A", "--since", "30s", "--points", "2"]);
    assert_eq!(
        words(&since),
        rows(&[
            "NAMESPACE NAME CPU(avg) CPU(p95) CPU(max) MEMORY(avg) MEMORY(p95) MEMORY(max)",
            "default web-1 27m 27m 27m 100Mi 100Mi 100Mi",
            "kube-system dns 40m 40m 40m 20Mi 20Mi 20Mi",
        ])
    );
    let missing = kubectl(
        &server,
        &kubeconfig,
        &["top", "pod", "nope", "-n", "default"],
    );
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("not found"), "{stderr}");
}
