//! `https` targets with `tls_config`: two real `prometheus-node-exporter`s serving TLS through
//! their web config (one also requiring a client certificate), certificates made with the
//! `openssl` command, scraped by `promlet serve`:
//!
//! - the CA in `ca_file`: up, and the exporter's series stored;
//! - no `tls_config` (the system's roots, which do not hold the test CA): down, with a
//!   certificate error as `lastError`;
//! - `insecure_skip_verify`: up;
//! - a client certificate (`cert_file`, `key_file`) where one is required: up; without it: down.
//!
//! A client certificate without its key is a config error naming `tls_config`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{
    Guard, free_port, get, make_ca, query, serve_command, signed_cert, wait_for, wait_listening,
};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";

/// A CA, a server certificate for 127.0.0.1 and a client certificate, in `dir`.
fn make_certificates(dir: &Path) {
    make_ca(dir, "ca");
    signed_cert(dir, "ca", "server", "subjectAltName=IP:127.0.0.1");
    signed_cert(dir, "ca", "client", "extendedKeyUsage=clientAuth");
}

/// A node exporter serving TLS on a free port; `client_ca` makes it require a client
/// certificate signed by that CA.
fn start_exporter(dir: &Path, name: &str, require_client_cert: bool) -> (Guard, String) {
    let mut web = format!(
        "tls_server_config:\n  cert_file: {0}/server.crt\n  key_file: {0}/server.key\n",
        dir.display()
    );
    if require_client_cert {
        web += &format!(
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}/ca.crt\n",
            dir.display()
        );
    }
    let web_file = dir.join(format!("{name}.yml"));
    std::fs::write(&web_file, web).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(NODE_EXPORTER)
        .arg(format!("--web.listen-address={addr}"))
        .arg(format!("--web.config.file={}", web_file.display()))
        .args(["--collector.disable-defaults", "--collector.loadavg"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node exporter starts");
    let guard = Guard(child);
    wait_listening(&addr);
    (guard, addr)
}

fn job(name: &str, target: &str, tls: &str) -> String {
    format!(
        "  - job_name: {name}\n    scheme: https\n{tls}    static_configs:\n      - targets: ['{target}']\n"
    )
}

fn serve(dir: &Path, config: &str, listen: &str) -> Command {
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).unwrap();
    let mut cmd = serve_command(listen, &dir.join("data"));
    cmd.arg("--config.file").arg(&file);
    cmd
}

/// Each job's (health, lastError) once every target has been scraped.
fn health(base: &str, jobs: usize) -> Option<Vec<(String, String, String)>> {
    let body = get(&format!("{base}/api/v1/targets"))?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    let targets = json["data"]["activeTargets"].as_array()?;
    let out: Vec<(String, String, String)> = targets
        .iter()
        .map(|t| {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            (s(&t["labels"]["job"]), s(&t["health"]), s(&t["lastError"]))
        })
        .collect();
    (out.len() == jobs && out.iter().all(|(_, h, _)| h != "unknown")).then_some(out)
}

#[test]
fn https_targets_follow_tls_config() {
    assert!(
        Path::new(NODE_EXPORTER).exists(),
        "{NODE_EXPORTER} is missing: scripts/test.sh installs Debian's prometheus-node-exporter"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_certificates(d);
    let (_plain, server) = start_exporter(d, "server_only", false);
    let (_mtls, mtls) = start_exporter(d, "mutual", true);
    let ca = format!("    tls_config:\n      ca_file: {}/ca.crt\n", d.display());
    let client = format!(
        "    tls_config:\n      ca_file: {0}/ca.crt\n      cert_file: {0}/client.crt\n      key_file: {0}/client.key\n",
        d.display()
    );
    let skip = "    tls_config:\n      insecure_skip_verify: true\n";
    let config = String::from("global:\n  scrape_interval: 1s\nscrape_configs:\n")
        + &job("ca_file", &server, &ca)
        + &job("system_roots", &server, "")
        + &job("skip_verify", &server, skip)
        + &job("client_cert", &mtls, &client)
        + &job("no_client_cert", &mtls, &ca);
    let listen = format!("127.0.0.1:{}", free_port());
    let _promlet = Guard(serve(d, &config, &listen).spawn().expect("promlet starts"));
    let base = format!("http://{listen}");

    let targets = wait_for("every target scraped", Duration::from_secs(60), || {
        health(&base, 5)
    });
    let of = |job: &str| {
        let t = targets.iter().find(|(j, _, _)| j == job);
        t.cloned()
            .unwrap_or_else(|| panic!("no target of {job}: {targets:?}"))
    };
    for up in ["ca_file", "skip_verify", "client_cert"] {
        let (_, health, error) = of(up);
        assert_eq!(health, "up", "{up}: {error}");
    }
    for down in ["system_roots", "no_client_cert"] {
        let (_, health, error) = of(down);
        assert_eq!(health, "down", "{down} must fail");
        assert!(!error.is_empty(), "{down} names its error");
    }
    let (_, _, roots_error) = of("system_roots");
    assert!(
        roots_error.to_lowercase().contains("certificate") || roots_error.contains("UnknownIssuer"),
        "an unknown CA is a certificate error: {roots_error}"
    );
    let loads = wait_for("the exporter's series", Duration::from_secs(30), || {
        query(&base, "node_load1{job=\"ca_file\"}").filter(|s| !s.is_empty())
    });
    assert_eq!(loads.len(), 1, "{loads:?}");
}

#[test]
fn a_client_certificate_without_its_key_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = "scrape_configs:\n  - job_name: x\n    scheme: https\n    tls_config:\n      cert_file: /nonexistent.crt\n    static_configs:\n      - targets: ['127.0.0.1:1']\n";
    let listen = format!("127.0.0.1:{}", free_port());
    let out = serve(dir.path(), config, &listen)
        .stderr(Stdio::piped())
        .output()
        .expect("promlet runs");
    assert!(
        !out.status.success(),
        "promlet serve must refuse the config"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scrape_configs[0]") && stderr.contains("tls_config"),
        "the error names the key: {stderr}"
    );
}
