//! This host collected: `promlet agent` serves node_exporter's and cAdvisor's families on
//! `/metrics` (text or OpenMetrics), `promtool check metrics` finds nothing in them that it
//! does not also find in the real node_exporter's output, and `promlet serve` stores the host's
//! own series as `job="node"`.
//!
//! promtool and node_exporter are installed by `scripts/test.sh`; without them this fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{Guard, free_port, wait_for};

fn free_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// GET with an optional Accept header: (content type, body).
fn get(url: &str, accept: Option<&str>) -> Option<(String, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    let mut req = agent.get(url);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let mut resp = req.call().ok()?;
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .ok()?;
    Some((ct, body))
}

/// `promtool check metrics` of `text`: the problems it reports, one per line.
fn promtool_problems(text: &str) -> BTreeSet<String> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/test.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let all =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    all.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn start_agent() -> (Guard, String) {
    let addr = free_addr();
    let child = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .args(["agent", "--listen", &addr])
        .env("PROMLET_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("promlet agent starts");
    let guard = Guard(child);
    let url = format!("http://{addr}");
    wait_for("the agent", Duration::from_secs(20), || {
        get(&format!("{url}/-/ready"), None)
    });
    (guard, url)
}

#[test]
fn the_agent_serves_this_node_in_both_formats() {
    let (_agent, url) = start_agent();
    let (ct, text) = get(&format!("{url}/metrics"), None).unwrap();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    for family in [
        "node_cpu_seconds_total{",
        "node_memory_MemTotal_bytes ",
        "node_load1 ",
        "node_boot_time_seconds ",
        "container_memory_working_set_bytes{",
        "container_cpu_usage_seconds_total{",
    ] {
        assert!(text.contains(family), "no {family} in the agent's output");
    }
    let (ct, om) = get(
        &format!("{url}/metrics"),
        Some("application/openmetrics-text"),
    )
    .unwrap();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    assert!(om.ends_with("# EOF\n"));
    assert!(
        om.contains("# TYPE node_cpu_seconds counter"),
        "OpenMetrics names the family without _total"
    );
}

#[test]
fn promtool_finds_nothing_node_exporter_does_not_have_too() {
    let (_agent, url) = start_agent();
    let (_, ours) = get(&format!("{url}/metrics"), None).unwrap();
    let addr = free_addr();
    let ne = Guard(
        Command::new("/usr/bin/prometheus-node-exporter")
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-node-exporter is installed (scripts/test.sh)"),
    );
    let (_, theirs) = wait_for("node_exporter", Duration::from_secs(20), || {
        get(&format!("http://{addr}/metrics"), None)
    });
    drop(ne);
    let known = promtool_problems(&theirs);
    let extra: Vec<String> = promtool_problems(&ours)
        .into_iter()
        .filter(|p| !known.contains(p))
        .collect();
    assert!(
        extra.is_empty(),
        "promtool problems node_exporter does not have: {extra:#?}"
    );
}

#[test]
fn serve_stores_this_host_as_job_node() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1s\n").unwrap();
    let addr = free_addr();
    let _serve = Guard(
        Command::new(env!("CARGO_BIN_EXE_promlet"))
            .args(["serve", "--listen", &addr, "--config.file"])
            .arg(&config)
            .arg("--data")
            .arg(dir.path().join("data"))
            .env("PROMLET_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("promlet serve starts"),
    );
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let q = format!(
        "http://{addr}/api/v1/query?query=node_memory_MemTotal_bytes%7Bjob%3D%22node%22%7D"
    );
    let body = wait_for("the host's own series", Duration::from_secs(30), || {
        get(&q, None)
            .map(|(_, b)| b)
            .filter(|b| b.contains("\"instance\""))
    });
    let want = format!("\"{}\"", total_kib * 1024.0);
    assert!(body.contains(&want), "MemTotal {want} not in {body}");
}
