//! `--web.config.file` in Prometheus's web configuration format: HTTPS with client
//! certificates required, and basic (bcrypt) or bearer authentication for every endpoint.
//! Checked with curl and with a real Prometheus scraping promlet's `/metrics` through it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::{Guard, curl, free_port, make_ca, query, serve_command, signed_cert, wait_for};

#[test]
fn tls_client_certificates_and_basic_or_bearer_auth() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_ca(d, "ca");
    signed_cert(d, "ca", "server", "subjectAltName=IP:127.0.0.1");
    signed_cert(d, "ca", "client", "extendedKeyUsage=clientAuth");
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    std::fs::write(d.join("tokens"), "tok\n").unwrap();
    std::fs::write(
        d.join("web.yml"),
        format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\nbasic_auth_users:\n  alice: '{hash}'\nbearer_token_file: tokens\n"
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = Guard(
        serve_command(&listen, &d.join("data"))
            .arg("--web.config.file")
            .arg(d.join("web.yml"))
            .spawn()
            .unwrap(),
    );
    let base = format!("https://{listen}");
    let client = [
        "--cacert",
        "ca.crt",
        "--cert",
        "client.crt",
        "--key",
        "client.key",
    ];
    fn with<'a>(client: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        [client, extra].concat()
    }
    let with = |extra: &[&'static str]| with(&client, extra);
    let url = format!("{base}/api/v1/query?query=1");
    wait_for("HTTPS", Duration::from_secs(30), || {
        (curl(d, &url, &with(&["-u", "alice:s3cret"])).0 == 200).then_some(())
    });
    let (code, _) = curl(d, &url, &with(&[]));
    assert_eq!(code, 401, "no credentials");
    assert_eq!(curl(d, &url, &with(&["-u", "alice:wrong"])).0, 401);
    assert_eq!(curl(d, &url, &with(&["-u", "bob:s3cret"])).0, 401);
    assert_eq!(
        curl(d, &url, &with(&["-H", "Authorization: Bearer tok"])).0,
        200
    );
    assert_eq!(
        curl(d, &url, &with(&["-H", "Authorization: Bearer nope"])).0,
        401
    );
    assert_eq!(
        curl(d, &url, &["--cacert", "ca.crt", "-u", "alice:s3cret"]).0,
        0,
        "no client certificate: the handshake fails"
    );
    assert_eq!(
        curl(d, &format!("http://{listen}/-/healthy"), &[]).0,
        0,
        "plain HTTP is not served"
    );

    // A real Prometheus scrapes /metrics through TLS, a client certificate and basic auth.
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: promlet\n    scheme: https\n    tls_config: {{ca_file: {ca}, cert_file: {crt}, key_file: {key}}}\n    basic_auth: {{username: alice, password: s3cret}}\n    static_configs:\n      - targets: ['{listen}']\n",
        ca = d.join("ca.crt").display(),
        crt = d.join("client.crt").display(),
        key = d.join("client.key").display(),
    );
    let _prometheus = support::start_prometheus(d, &prom_addr, &config, &[]);
    let up = wait_for(
        "Prometheus to scrape promlet",
        Duration::from_secs(60),
        || query(&format!("http://{prom_addr}"), "up{job=\"promlet\"}").filter(|s| !s.is_empty()),
    );
    assert_eq!(up.values().copied().collect::<Vec<_>>(), [1.0]);
}

#[test]
fn a_bad_web_config_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (text, want) in [
        (
            "basic_auth_users:\n  alice: plain\n",
            "basic_auth_users.alice: not a bcrypt hash",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n",
            "client_auth_type",
        ),
        ("surprise: 1\n", "unknown field `surprise`"),
    ] {
        std::fs::write(d.join("web.yml"), text).unwrap();
        let out = serve_command(&format!("127.0.0.1:{}", free_port()), &d.join("data"))
            .arg("--web.config.file")
            .arg(d.join("web.yml"))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("web.yml") && err.contains(want), "{err}");
    }
}
