//! `promlet serve` in a cluster, delegating as metrics-server does: with a cluster
//! configuration (a fake API server here) and `--secure-listen`, it reads the front-proxy CA,
//! allowed names and headers from `kube-system/extension-apiserver-authentication`, checks
//! bearer tokens with `TokenReview` and every request with `SubjectAccessReview`. The plain
//! `--listen` port stays open as Prometheus's API is. Requests are made with `curl`,
//! certificates with `openssl`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../collector/tests/fixtures/k8s/fake_api.rs"]
mod fake_api;
mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Guard, curl, free_port, make_ca, serve_command, signed_cert, wait_for};

const HPA: &str = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";

/// The ConfigMap kube-apiserver publishes, with `ca_pem` as the front-proxy CA.
fn authentication_configmap(ca_pem: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "extension-apiserver-authentication", "namespace": "kube-system"},
        "data": {
            "client-ca-file": "not used",
            "requestheader-client-ca-file": ca_pem,
            "requestheader-allowed-names": "[\"front-proxy-client\"]",
            "requestheader-username-headers": "[\"X-Remote-User\"]",
            "requestheader-group-headers": "[\"X-Remote-Group\"]",
            "requestheader-extra-headers-prefix": "[\"X-Remote-Extra-\"]"
        }
    })
}

/// `hpa-token` is the HPA controller's service account; every other token is invalid.
fn token_review(review: Value) -> Value {
    let token = review["spec"]["token"].as_str().unwrap_or("");
    let status = if token == "hpa-token" {
        json!({"authenticated": true, "user": {"username": HPA, "groups": ["system:serviceaccounts"]}})
    } else {
        json!({"authenticated": false, "error": "invalid token"})
    };
    json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status})
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// RBAC as the test wants it: discovery for everyone; `admin` may do anything; the HPA may
/// list pods; nobody else may do anything.
fn access_review(review: Value) -> Value {
    let spec = &review["spec"];
    let user = spec["user"].as_str().unwrap_or("");
    let attrs = &spec["resourceAttributes"];
    let allowed = spec.get("nonResourceAttributes").is_some()
        || user == "admin"
        || (user == HPA && attrs["resource"] == "pods" && attrs["verb"] == "list");
    let mut status = json!({"allowed": allowed});
    if !allowed {
        status["reason"] = json!("no RBAC policy matched");
    }
    json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "status": status})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegates_authentication_and_authorization_to_the_api_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_ca(d, "front-proxy");
    for who in ["front-proxy-client", "other-client"] {
        signed_cert(d, "front-proxy", who, "extendedKeyUsage=clientAuth");
    }
    let ca_pem = std::fs::read_to_string(d.join("front-proxy.crt")).unwrap();
    let api = fake_api::FakeApi::start_with_posts(
        vec![
            (
                "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
                authentication_configmap(&ca_pem),
            ),
            ("/api/v1/pods", fake_api::list("PodList", vec![])),
        ],
        vec![
            (
                "/apis/authentication.k8s.io/v1/tokenreviews",
                Arc::new(token_review) as fake_api::PostHandler,
            ),
            (
                "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                Arc::new(access_review) as fake_api::PostHandler,
            ),
        ],
    )
    .await;
    let kubeconfig = support::kubeconfig(d, &api.url());
    let (listen, secure) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let child = serve_command(&listen, &d.join("data"))
        .args(["--tls-self-signed", "--secure-listen", &secure])
        .env("KUBECONFIG", &kubeconfig)
        .spawn()
        .expect("promlet serve starts");
    let _serve = Guard(child);
    let base = format!("https://{secure}");
    wait_for("HTTPS /livez", Duration::from_secs(30), || {
        (curl(d, &format!("{base}/livez"), &[]).0 == 200).then_some(())
    });
    assert!(
        api.requests()
            .iter()
            .any(|r| r.contains("configmaps/extension-apiserver-authentication")),
        "the server read the authentication ConfigMap: {:?}",
        api.requests()
    );

    let nodes = "/apis/metrics.k8s.io/v1beta1/nodes";
    let pods = "/apis/metrics.k8s.io/v1beta1/namespaces/web/pods";
    // The plain port is Prometheus's: open, as before.
    let (code, body) = curl(d, &format!("http://{listen}{nodes}"), &[]);
    assert_eq!(code, 200, "{body}");

    let (code, body) = curl(d, &format!("{base}{nodes}"), &[]);
    assert_eq!(code, 401, "no credentials: {body}");

    // The front proxy, acting for admin.
    let proxy = |cn: &'static str, user: &'static str| {
        vec![
            "--cert".to_string(),
            format!("{cn}.crt"),
            "--key".to_string(),
            format!("{cn}.key"),
            "-H".to_string(),
            format!("X-Remote-User: {user}"),
            "-H".to_string(),
            "X-Remote-Group: system:masters".to_string(),
        ]
    };
    let admin = proxy("front-proxy-client", "admin");
    let (code, body) = curl(d, &format!("{base}{nodes}"), &args(&admin));
    assert_eq!(code, 200, "front proxy for admin: {body}");
    let reviews = api.posted();
    let (path, review) = reviews.last().expect("an access review");
    assert_eq!(path, "/apis/authorization.k8s.io/v1/subjectaccessreviews");
    assert_eq!(review["spec"]["user"], "admin");
    assert_eq!(review["spec"]["groups"], json!(["system:masters"]));
    assert_eq!(
        review["spec"]["resourceAttributes"],
        json!({"group": "metrics.k8s.io", "version": "v1beta1", "resource": "nodes", "verb": "list"})
    );

    // Same CA, but a common name the cluster does not allow.
    let other = proxy("other-client", "admin");
    let (code, body) = curl(d, &format!("{base}{nodes}"), &args(&other));
    assert_eq!(code, 401, "CN not in requestheader-allowed-names: {body}");

    // The front proxy for a user RBAC denies.
    let mallory = proxy("front-proxy-client", "mallory");
    let (code, body) = curl(d, &format!("{base}{nodes}"), &args(&mallory));
    assert_eq!(code, 403, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["reason"], "Forbidden");
    assert_eq!(
        status["message"],
        "nodes.metrics.k8s.io is forbidden: User \"mallory\" cannot list resource \"nodes\" in API group \"metrics.k8s.io\" at the cluster scope: no RBAC policy matched"
    );

    // The HPA's service account token: reviewed, then allowed to list pods only.
    let hpa = ["-H", "Authorization: Bearer hpa-token"];
    let (code, body) = curl(d, &format!("{base}{pods}"), &hpa);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("PodMetricsList"), "{body}");
    let token_reviews: Vec<Value> = api
        .posted()
        .into_iter()
        .filter(|(p, _)| p.ends_with("/tokenreviews"))
        .map(|(_, r)| r)
        .collect();
    assert_eq!(token_reviews.len(), 1, "{token_reviews:?}");
    assert_eq!(token_reviews[0]["spec"]["token"], "hpa-token");
    let (_, review) = api.posted().last().cloned().unwrap();
    assert_eq!(review["spec"]["user"], HPA);
    assert_eq!(review["spec"]["resourceAttributes"]["namespace"], "web");
    let (code, body) = curl(d, &format!("{base}{nodes}"), &hpa);
    assert_eq!(code, 403, "{body}");
    assert!(
        body.contains(&format!(
            "User \\\"{HPA}\\\" cannot list resource \\\"nodes\\\""
        )),
        "{body}"
    );

    let (code, body) = curl(
        d,
        &format!("{base}{pods}"),
        &["-H", "Authorization: Bearer stolen"],
    );
    assert_eq!(code, 401, "{body}");
    // Health and Prometheus's API need nothing on the secure port either.
    assert_eq!(curl(d, &format!("{base}/livez"), &[]).0, 200);
    assert_eq!(curl(d, &format!("{base}/api/v1/labels"), &[]).0, 200);
}
