//! A request's authorization attributes, read from its path as kube-apiserver's
//! `RequestInfoFactory` reads them, and the `Forbidden` message it writes for a denial.

use collector::k8s::review::Attributes;

/// The attributes of a `GET` of `path` (no query string).
///
/// `/api/<version>/...` is the core group, `/apis/<group>/<version>/...` any other;
/// `namespaces/<ns>/` before a resource scopes it; then `<resource>[/<name>[/<subresource>]]`.
/// A name makes the verb `get`, its absence `list`. Paths that stop before a resource
/// (discovery) and every other path are non-resource requests.
pub fn of_get(path: &str) -> Attributes {
    let non_resource = || Attributes::NonResource {
        verb: "get".into(),
        path: path.to_string(),
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return non_resource(),
    };
    if rest.is_empty() {
        return non_resource();
    }
    let (namespace, rest) = match rest {
        ["namespaces", ns] => (*ns, &["namespaces", *ns][..]),
        ["namespaces", ns, rest @ ..] => (*ns, rest),
        _ => ("", rest),
    };
    let at = |i: usize| rest.get(i).copied().unwrap_or("").to_string();
    let name = at(1);
    Attributes::Resource {
        verb: if name.is_empty() { "list" } else { "get" }.into(),
        group: group.to_string(),
        version: version.to_string(),
        resource: at(0),
        subresource: at(2),
        namespace: namespace.to_string(),
        name,
    }
}

/// kube-apiserver's message for a denied request, e.g. `pods.metrics.k8s.io is forbidden:
/// User "alice" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace
/// "default"`, with the authorizer's `reason` appended when there is one.
pub fn forbidden_message(user: &str, attributes: &Attributes, reason: &str) -> String {
    let mut msg = match attributes {
        Attributes::NonResource { verb, path } => {
            format!("forbidden: User {user:?} cannot {verb} path {path:?}")
        }
        Attributes::Resource {
            verb,
            group,
            resource,
            subresource,
            namespace,
            name,
            ..
        } => {
            let qualified = if group.is_empty() {
                resource.clone()
            } else {
                format!("{resource}.{group}")
            };
            let object = if name.is_empty() {
                qualified
            } else {
                format!("{qualified} {name:?}")
            };
            let shown = if subresource.is_empty() {
                resource.clone()
            } else {
                format!("{resource}/{subresource}")
            };
            let scope = if namespace.is_empty() {
                "at the cluster scope".to_string()
            } else {
                format!("in the namespace {namespace:?}")
            };
            format!(
                "{object} is forbidden: User {user:?} cannot {verb} resource {shown:?} in API group {group:?} {scope}"
            )
        }
    };
    if !reason.is_empty() {
        msg.push_str(": ");
        msg.push_str(reason);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(
        verb: &str,
        group: &str,
        resource: &str,
        sub: &str,
        ns: &str,
        name: &str,
    ) -> Attributes {
        Attributes::Resource {
            verb: verb.into(),
            group: group.into(),
            version: if group.is_empty() { "v1" } else { "v1beta1" }.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn metrics_api_paths() {
        let g = "metrics.k8s.io";
        assert_eq!(
            of_get("/apis/metrics.k8s.io/v1beta1/nodes"),
            resource("list", g, "nodes", "", "", "")
        );
        assert_eq!(
            of_get("/apis/metrics.k8s.io/v1beta1/nodes/n1"),
            resource("get", g, "nodes", "", "", "n1")
        );
        assert_eq!(
            of_get("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods"),
            resource("list", g, "pods", "", "kube-system", "")
        );
        assert_eq!(
            of_get("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods/dns-1"),
            resource("get", g, "pods", "", "kube-system", "dns-1")
        );
    }

    #[test]
    fn custom_metrics_name_the_metric_as_subresource() {
        let mut want = resource(
            "get",
            "custom.metrics.k8s.io",
            "pods",
            "requests",
            "web",
            "*",
        );
        if let Attributes::Resource { version, .. } = &mut want {
            *version = "v1beta2".into();
        }
        assert_eq!(
            of_get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/web/pods/*/requests"),
            want
        );
    }

    #[test]
    fn the_core_group_and_namespaces() {
        assert_eq!(
            of_get("/api/v1/nodes"),
            resource("list", "", "nodes", "", "", "")
        );
        assert_eq!(
            of_get("/api/v1/namespaces/web"),
            resource("get", "", "namespaces", "", "web", "web")
        );
    }

    #[test]
    fn discovery_is_non_resource() {
        for path in [
            "/api",
            "/apis",
            "/api/v1",
            "/apis/metrics.k8s.io",
            "/apis/metrics.k8s.io/v1beta1",
        ] {
            assert_eq!(
                of_get(path),
                Attributes::NonResource {
                    verb: "get".into(),
                    path: path.into()
                },
                "{path}"
            );
        }
    }

    #[test]
    fn messages_read_as_kube_apiserver_writes_them() {
        let list = of_get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods");
        assert_eq!(
            forbidden_message("alice", &list, ""),
            "pods.metrics.k8s.io is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"metrics.k8s.io\" in the namespace \"default\""
        );
        let get = of_get("/apis/metrics.k8s.io/v1beta1/nodes/n1");
        assert_eq!(
            forbidden_message("bob", &get, "no RBAC policy matched"),
            "nodes.metrics.k8s.io \"n1\" is forbidden: User \"bob\" cannot get resource \"nodes\" in API group \"metrics.k8s.io\" at the cluster scope: no RBAC policy matched"
        );
        assert_eq!(
            forbidden_message("carol", &of_get("/apis"), ""),
            "forbidden: User \"carol\" cannot get path \"/apis\""
        );
    }
}
