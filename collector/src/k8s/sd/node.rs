//! Role `node` (Prometheus's `discovery/kubernetes/node.go`): one group per node (source
//! `node/<name>`) with one target, the kubelet at the node's preferred address.
//!
//! The group carries `__meta_kubernetes_node_name`, `_provider_id` and the node's labels
//! and annotations (`_label_<name>`, `_labelpresent_<name>`, `_annotation_<name>`,
//! `_annotationpresent_<name>`); the target carries `__address__`, `instance` (the node
//! name) and `__meta_kubernetes_node_address_<type>` (the first address of each type). A
//! node without any address yields no group, as in Prometheus: a change that removes all
//! its addresses leaves the previous target in place.

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::{WatchStreamExt, watcher};

use super::{
    GroupUpdate, Relist, client_for, join_host_port, prefixed, sanitize_label_name, watcher_config,
};
use crate::scrape::config::KubernetesSdConfig;
use crate::scrape::relabel::LabelMap;

/// Address types in the order Prometheus prefers them for `__address__`.
const ADDRESS_PREFERENCE: [&str; 6] = [
    "InternalIP",
    "InternalDNS",
    "ExternalIP",
    "ExternalDNS",
    "LegacyHostIP",
    "Hostname",
];

/// The group source of a node.
pub fn node_source(node: &Node) -> String {
    format!("node/{}", node.metadata.name.as_deref().unwrap_or(""))
}

/// The target of one node, as Prometheus's `buildNode`: `None` when the node has no
/// address of a known type.
pub fn node_target(node: &Node) -> Option<LabelMap> {
    let md = &node.metadata;
    let name = md.name.as_deref().unwrap_or("");
    let mut t = LabelMap::new();
    t.insert("__meta_kubernetes_node_name".into(), name.to_string());
    t.insert(
        "__meta_kubernetes_node_provider_id".into(),
        node.spec
            .as_ref()
            .and_then(|s| s.provider_id.clone())
            .unwrap_or_default(),
    );
    prefixed(&mut t, "node_label", md.labels.as_ref());
    prefixed(&mut t, "node_annotation", md.annotations.as_ref());

    let status = node.status.as_ref();
    let addresses = status
        .and_then(|s| s.addresses.as_deref())
        .unwrap_or_default();
    let host = ADDRESS_PREFERENCE
        .iter()
        .find_map(|ty| addresses.iter().find(|a| a.type_ == *ty))?;
    let port = status
        .and_then(|s| s.daemon_endpoints.as_ref())
        .and_then(|d| d.kubelet_endpoint.as_ref())
        .map_or(0, |k| k.port);
    // Each type's first address; later ones of the same type do not override it.
    for a in addresses.iter().rev() {
        let ln = sanitize_label_name(&format!("__meta_kubernetes_node_address_{}", a.type_));
        t.insert(ln, a.address.clone());
    }
    t.insert(
        "__address__".into(),
        join_host_port(&host.address, &port.to_string()),
    );
    t.insert("instance".into(), name.to_string());
    Some(t)
}

/// Watches the nodes `config` selects; see [`super::discover`].
pub(super) async fn discover(
    job: String,
    config: KubernetesSdConfig,
    mut update: impl FnMut(GroupUpdate) + Send,
) {
    let Some(client) = client_for(&job, &config).await else {
        return;
    };
    let api: kube::Api<Node> = kube::Api::all(client);
    let mut stream = watcher(api, watcher_config(&config, "node"))
        .default_backoff()
        .boxed();
    let mut relist = Relist::default();
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => relist.init(),
            Ok(watcher::Event::InitApply(node)) | Ok(watcher::Event::Apply(node)) => {
                let source = node_source(&node);
                relist.seen(&source);
                match node_target(&node) {
                    Some(t) => update(GroupUpdate {
                        source,
                        targets: vec![t],
                    }),
                    None => {
                        tracing::warn!(job = %job, source = %source, "kubernetes_sd_configs: no node address found")
                    }
                }
            }
            Ok(watcher::Event::InitDone) => {
                for source in relist.done() {
                    update(GroupUpdate {
                        source,
                        targets: Vec::new(),
                    });
                }
            }
            Ok(watcher::Event::Delete(node)) => {
                let source = node_source(&node);
                relist.deleted(&source);
                update(GroupUpdate {
                    source,
                    targets: Vec::new(),
                });
            }
            Err(e) => {
                tracing::warn!(job = %job, error = %e, "kubernetes_sd_configs: watching nodes failed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        DaemonEndpoint, NodeAddress, NodeDaemonEndpoints, NodeStatus,
    };

    fn node(addresses: &[(&str, &str)]) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some("n1".into());
        n.status = Some(NodeStatus {
            addresses: Some(
                addresses
                    .iter()
                    .map(|(t, a)| NodeAddress {
                        type_: (*t).into(),
                        address: (*a).into(),
                    })
                    .collect(),
            ),
            daemon_endpoints: Some(NodeDaemonEndpoints {
                kubelet_endpoint: Some(DaemonEndpoint { port: 10250 }),
            }),
            ..NodeStatus::default()
        });
        n
    }

    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        Option<&'static str>,
    );

    #[test]
    fn address_follows_preference_and_first_of_each_type() {
        let cases: [Case; 5] = [
            (
                "internal ip first",
                &[
                    ("Hostname", "h"),
                    ("ExternalIP", "1.2.3.4"),
                    ("InternalIP", "10.0.0.1"),
                    ("InternalIP", "10.0.0.2"),
                ],
                Some("10.0.0.1:10250"),
            ),
            (
                "internal dns before external ip",
                &[("ExternalIP", "1.2.3.4"), ("InternalDNS", "n1.internal")],
                Some("n1.internal:10250"),
            ),
            (
                "external dns before hostname",
                &[("Hostname", "h"), ("ExternalDNS", "n1.example")],
                Some("n1.example:10250"),
            ),
            (
                "ipv6 in brackets",
                &[("InternalIP", "fd00::1")],
                Some("[fd00::1]:10250"),
            ),
            ("no address", &[], None),
        ];
        for (name, addresses, want) in cases {
            let t = node_target(&node(addresses));
            assert_eq!(
                t.as_ref().map(|t| t["__address__"].as_str()),
                want,
                "{name}"
            );
        }
        let t = node_target(&node(&[
            ("InternalIP", "10.0.0.1"),
            ("InternalIP", "10.0.0.2"),
        ]))
        .unwrap();
        assert_eq!(t["__meta_kubernetes_node_address_InternalIP"], "10.0.0.1");
        assert_eq!(t["instance"], "n1");
    }
}
