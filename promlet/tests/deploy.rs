//! `deploy/` (and `deploy/custom-metrics/`) render with the real `kubectl kustomize`, and
//! every rendered object is checked
//! offline against Kubernetes's API types (k8s-openapi, generated from Kubernetes's OpenAPI
//! schema): each object must deserialize into its typed struct and serialize back to the same
//! JSON, so a misspelt or unknown field, or a value of the wrong type, fails. Then the
//! properties the manifests promise: read-only host mounts and no privilege for the agent,
//! tolerations for every node, resource requests, a volume claim for the server,
//! get/list/watch-only RBAC, a scrape configuration promlet itself accepts, APIServices that
//! reach the server's HTTPS port, the delegation RBAC an aggregated API server needs, and
//! adapter rules promlet loads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn render() -> Vec<Value> {
    render_dir("")
}

/// `kubectl kustomize deploy/<sub>`, as JSON documents.
fn render_dir(sub: &str) -> Vec<Value> {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(sub);
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(&deploy)
        .output()
        .expect("kubectl runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| {
            let v: serde_yaml::Value = serde::Deserialize::deserialize(doc).unwrap();
            serde_json::to_value(v).unwrap()
        })
        .collect()
}

/// `doc` as `T`, failing unless it round-trips to the same JSON.
fn typed<T: DeserializeOwned + Serialize>(doc: &Value) -> T {
    let name = format!("{} {}", doc["kind"], doc["metadata"]["name"]);
    let t: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut back = serde_json::to_value(&t).unwrap();
    drop_added_type_meta(&mut back, doc);
    assert_eq!(
        &back, doc,
        "{name}: a field is unknown to the Kubernetes API or mistyped"
    );
    t
}

/// k8s-openapi writes `apiVersion` and `kind` on embedded objects (a StatefulSet's
/// `volumeClaimTemplates`) that the manifest may leave out; remove those where `orig` has none.
fn drop_added_type_meta(back: &mut Value, orig: &Value) {
    match (back, orig) {
        (Value::Object(b), Value::Object(o)) => {
            for key in ["apiVersion", "kind"] {
                if !o.contains_key(key) {
                    b.remove(key);
                }
            }
            for (k, v) in b.iter_mut() {
                if let Some(ov) = o.get(k) {
                    drop_added_type_meta(v, ov);
                }
            }
        }
        (Value::Array(b), Value::Array(o)) => {
            for (bv, ov) in b.iter_mut().zip(o) {
                drop_added_type_meta(bv, ov);
            }
        }
        _ => {}
    }
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn manifests_render_and_match_the_kubernetes_schema() {
    for sub in ["", "custom-metrics"] {
        let docs = render_dir(sub);
        for doc in &docs {
            match doc["kind"].as_str().unwrap_or("") {
                "Namespace" => drop(typed::<Namespace>(doc)),
                "ServiceAccount" => drop(typed::<ServiceAccount>(doc)),
                "ClusterRole" => drop(typed::<ClusterRole>(doc)),
                "ClusterRoleBinding" => drop(typed::<ClusterRoleBinding>(doc)),
                "RoleBinding" => drop(typed::<RoleBinding>(doc)),
                "ConfigMap" => drop(typed::<ConfigMap>(doc)),
                "Service" => drop(typed::<Service>(doc)),
                "DaemonSet" => drop(typed::<DaemonSet>(doc)),
                "StatefulSet" => drop(typed::<StatefulSet>(doc)),
                "APIService" => drop(typed::<APIService>(doc)),
                other => panic!("deploy/{sub}: unexpected kind {other}"),
            }
            assert_eq!(
                doc["metadata"]["labels"]["app.kubernetes.io/part-of"], "promlet",
                "deploy/{sub}: {}",
                doc["metadata"]["name"]
            );
        }
    }
}

/// The `--secure-listen` port of the server's container, by the Service port `port`: the
/// Service's target port must name a container port the server listens on with HTTPS.
fn secure_port_behind(docs: &[Value], port: i32) -> i32 {
    let svc: Service = typed(find(docs, "Service", "promlet"));
    let svc_port = svc
        .spec
        .unwrap()
        .ports
        .unwrap()
        .into_iter()
        .find(|p| p.port == port)
        .unwrap_or_else(|| panic!("the Service has no port {port}"));
    let target = match svc_port.target_port.unwrap() {
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(name) => name,
        other => panic!("target port {other:?}: use the container port's name"),
    };
    let sts: StatefulSet = typed(find(docs, "StatefulSet", "promlet-server"));
    let c = sts.spec.template.spec.unwrap().containers[0].clone();
    let container_port = c
        .ports
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.name.as_deref() == Some(target.as_str()))
        .unwrap_or_else(|| panic!("no container port named {target}"))
        .container_port;
    let args = c.args.unwrap_or_default();
    assert!(
        args.contains(&format!("--secure-listen=0.0.0.0:{container_port}")),
        "{args:?}"
    );
    assert!(
        args.iter()
            .any(|a| a == "--tls-self-signed" || a.starts_with("--tls-cert-file"))
    );
    container_port
}

#[test]
fn the_apiservice_reaches_the_servers_https_port_with_delegation_rbac() {
    let docs = render();
    let api: APIService = typed(find(&docs, "APIService", "v1beta1.metrics.k8s.io"));
    let spec = api.spec.unwrap();
    assert_eq!(
        (spec.group.as_deref(), spec.version.as_deref()),
        (Some("metrics.k8s.io"), Some("v1beta1"))
    );
    let svc = spec.service.unwrap();
    assert_eq!(
        (svc.namespace.as_deref(), svc.name.as_deref()),
        (Some("promlet"), Some("promlet"))
    );
    let port = secure_port_behind(&docs, svc.port.unwrap_or(443));

    let sts: StatefulSet = typed(find(&docs, "StatefulSet", "promlet-server"));
    let c = sts.spec.template.spec.unwrap().containers[0].clone();
    let probe = c.readiness_probe.unwrap().http_get.unwrap();
    assert_eq!(probe.path.as_deref(), Some("/readyz"));
    assert_eq!(probe.scheme.as_deref(), Some("HTTPS"));
    assert_eq!(
        probe.port,
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("https".into())
    );
    assert_eq!(port, 4443);

    let server_sa = |subjects: Option<Vec<k8s_openapi::api::rbac::v1::Subject>>| {
        subjects.unwrap_or_default().iter().any(|s| {
            s.kind == "ServiceAccount"
                && s.name == "promlet-server"
                && s.namespace.as_deref() == Some("promlet")
        })
    };
    let reader: RoleBinding = typed(find(&docs, "RoleBinding", "promlet-server-auth-reader"));
    assert_eq!(reader.metadata.namespace.as_deref(), Some("kube-system"));
    assert_eq!(
        reader.role_ref.name,
        "extension-apiserver-authentication-reader"
    );
    assert!(server_sa(reader.subjects));
    let delegator: ClusterRoleBinding = typed(find(
        &docs,
        "ClusterRoleBinding",
        "promlet-server:system:auth-delegator",
    ));
    assert_eq!(delegator.role_ref.name, "system:auth-delegator");
    assert!(server_sa(delegator.subjects));
}

#[test]
fn the_custom_metrics_component_registers_its_apis_and_rules_load() {
    let docs = render_dir("custom-metrics");
    for name in [
        "v1beta1.metrics.k8s.io",
        "v1beta2.custom.metrics.k8s.io",
        "v1beta1.custom.metrics.k8s.io",
        "v1beta1.external.metrics.k8s.io",
    ] {
        let api: APIService = typed(find(&docs, "APIService", name));
        let port = api.spec.unwrap().service.unwrap().port.unwrap_or(443);
        secure_port_behind(&docs, port);
    }
    let rules = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["data"]["adapter-rules.yaml"].is_string())
        .expect("the adapter rules ConfigMap");
    let cm_name = rules["metadata"]["name"].as_str().unwrap();
    let text = rules["data"]["adapter-rules.yaml"].as_str().unwrap();
    exporter::k8s::adapter::Adapter::load(text).unwrap_or_else(|e| panic!("{e}"));

    let sts: StatefulSet = typed(find(&docs, "StatefulSet", "promlet-server"));
    let pod = sts.spec.template.spec.unwrap();
    let volume = pod
        .volumes
        .unwrap_or_default()
        .into_iter()
        .find(|v| v.config_map.as_ref().is_some_and(|c| c.name == cm_name))
        .expect("a volume of the rules ConfigMap");
    let c = &pod.containers[0];
    let mount = c
        .volume_mounts
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|m| m.name == volume.name)
        .expect("the rules volume is mounted");
    let arg = format!("--adapter.config={}/adapter-rules.yaml", mount.mount_path);
    assert!(c.args.clone().unwrap_or_default().contains(&arg), "{arg}");
}

#[test]
fn the_agent_runs_everywhere_read_only_and_unprivileged() {
    let docs = render();
    let ds: DaemonSet = typed(find(&docs, "DaemonSet", "promlet-agent"));
    let pod = ds.spec.template.spec.unwrap();
    let tolerations = pod.tolerations.unwrap_or_default();
    assert!(
        tolerations
            .iter()
            .any(|t| t.operator.as_deref() == Some("Exists") && t.key.is_none())
    );
    let host_volumes: Vec<String> = pod
        .volumes
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.host_path.is_some())
        .map(|v| v.name)
        .collect();
    assert!(host_volumes.len() >= 3, "{host_volumes:?}");
    let c = &pod.containers[0];
    for m in c.volume_mounts.as_deref().unwrap_or_default() {
        if host_volumes.contains(&m.name) {
            assert_eq!(m.read_only, Some(true), "{} is mounted read-write", m.name);
        }
    }
    let sc = c.security_context.clone().unwrap();
    assert_ne!(sc.privileged, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.capabilities.unwrap().drop.unwrap(), ["ALL"]);
    let requests = c.resources.clone().unwrap().requests.unwrap();
    assert!(requests.contains_key("cpu") && requests.contains_key("memory"));
    let node_name = c
        .env
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.name == "NODE_NAME");
    let field = node_name
        .and_then(|e| e.value_from.clone())
        .and_then(|v| v.field_ref);
    assert_eq!(field.unwrap().field_path, "spec.nodeName");
    assert_eq!(c.image.as_deref(), Some("ghcr.io/promlet/promlet:latest"));
}

#[test]
fn the_server_keeps_its_data_and_rbac_only_reads() {
    let docs = render();
    let sts: StatefulSet = typed(find(&docs, "StatefulSet", "promlet-server"));
    let spec = sts.spec;
    assert_eq!(
        spec.volume_claim_templates.unwrap()[0]
            .metadata
            .name
            .as_deref(),
        Some("data")
    );
    let c = &spec.template.spec.unwrap().containers[0];
    let args = c.args.clone().unwrap();
    assert!(args.iter().any(|a| a == "--data=/data"));
    assert!(c.resources.clone().unwrap().requests.is_some());
    for name in ["promlet-agent", "promlet-server"] {
        let role: ClusterRole = typed(find(&docs, "ClusterRole", name));
        for rule in role.rules.unwrap() {
            for verb in &rule.verbs {
                assert!(
                    ["get", "list", "watch"].contains(&verb.as_str()),
                    "{name}: {verb}"
                );
            }
        }
    }
}

#[test]
fn the_shipped_scrape_configuration_loads() {
    let docs = render();
    let cm = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("the generated ConfigMap");
    let text = cm["data"]["prometheus.yml"].as_str().unwrap();
    let loaded = collector::scrape::config::Config::load(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.jobs.len(), 1);
    assert_eq!(loaded.jobs[0].config.kubernetes_sd_configs[0].role, "pod");
}
