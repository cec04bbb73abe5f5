//! `promlet serve` as an aggregated API server: HTTPS with a self-signed certificate, the
//! Kubernetes APIs open only to the front proxy (a client certificate signed by the
//! front-proxy CA plus `X-Remote-User`) or a bearer token from the token file, and the health
//! endpoints open to everyone. Requests are made with `curl`, certificates with `openssl`; the
//! real kubectl then reads the API over HTTPS with the token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{Guard, curl, free_port, make_ca, serve_command, signed_cert, wait_for};

/// A CA named `name` and a client certificate it signs (`<name>-client.crt/.key`).
fn ca_and_client(dir: &Path, name: &str) {
    make_ca(dir, name);
    signed_cert(
        dir,
        name,
        &format!("{name}-client"),
        "extendedKeyUsage=clientAuth",
    );
}

#[test]
fn kubernetes_apis_need_the_front_proxy_or_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ca_and_client(d, "front-proxy");
    ca_and_client(d, "stranger");
    std::fs::write(d.join("tokens"), "# token,user,uid\ns3cret,admin,1\n").unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let child = serve_command(&listen, &d.join("data"))
        .arg("--tls-self-signed")
        .arg("--requestheader-client-ca-file")
        .arg(d.join("front-proxy.crt"))
        .arg("--authentication-token-file")
        .arg(d.join("tokens"))
        .spawn()
        .expect("promlet serve starts");
    let _serve = Guard(child);
    let base = format!("https://{listen}");
    let live = wait_for("HTTPS /livez", Duration::from_secs(30), || {
        let (code, body) = curl(d, &format!("{base}/livez"), &[]);
        (code == 200).then_some(body)
    });
    assert_eq!(live, "ok");
    // A client that connects and never starts its handshake delays nobody: handshakes run
    // beside the accept loop (it would block others for the 10 s handshake timeout).
    let _silent = std::net::TcpStream::connect(&listen).unwrap();
    let (code, _) = curl(d, &format!("{base}/livez"), &["--max-time", "8"]);
    assert_eq!(code, 200, "a silent client blocked the listener");
    // Nothing stored: not ready, as metrics-server is not before its first scrapes.
    let (code, body) = curl(d, &format!("{base}/readyz"), &[]);
    assert_eq!(code, 500, "{body}");
    assert!(
        body.contains("[+]storage-ready ok\n[-]metric-storage-ready failed"),
        "{body}"
    );

    let nodes = format!("{base}/apis/metrics.k8s.io/v1beta1/nodes");
    let (code, body) = curl(d, &nodes, &[]);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("\"reason\":\"Unauthorized\""), "{body}");
    assert_eq!(
        curl(d, &nodes, &["-H", "Authorization: Bearer wrong"]).0,
        401
    );
    let (code, body) = curl(d, &nodes, &["-H", "Authorization: Bearer s3cret"]);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("NodeMetricsList"), "{body}");

    let proxy = [
        "--cert",
        "front-proxy-client.crt",
        "--key",
        "front-proxy-client.key",
    ];
    let as_user = [&proxy[..], &["-H", "X-Remote-User: system:kube-aggregator"]].concat();
    assert_eq!(
        curl(d, &nodes, &as_user).0,
        200,
        "the front proxy acting for a user"
    );
    assert_eq!(
        curl(d, &nodes, &proxy).0,
        401,
        "the front proxy must name the user"
    );
    let stranger = [
        "--cert",
        "stranger-client.crt",
        "--key",
        "stranger-client.key",
        "-H",
        "X-Remote-User: mallory",
    ];
    assert_ne!(
        curl(d, &nodes, &stranger).0,
        200,
        "a certificate of another CA is refused"
    );
    // Prometheus's API is not a Kubernetes API: no credentials needed.
    assert_eq!(curl(d, &format!("{base}/api/v1/labels"), &[]).0, 200);

    let kubeconfig = d.join("kubeconfig");
    std::fs::write(&kubeconfig, "").unwrap();
    let top = Command::new("kubectl")
        .args([
            &format!("--server={base}"),
            "--insecure-skip-tls-verify",
            "--token=s3cret",
        ])
        .args(["get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes"])
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .expect("kubectl runs");
    assert!(
        top.status.success(),
        "{}",
        String::from_utf8_lossy(&top.stderr)
    );
    assert!(String::from_utf8_lossy(&top.stdout).contains("NodeMetricsList"));
}
