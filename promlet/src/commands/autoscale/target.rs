//! The scale target and its pods in Kubernetes, for `promlet autoscale run --apply`: the
//! scale subresource read and patched, and the pods listed by the autoscaler's selector.

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams};

use super::config::Autoscaler;

/// The target's replicas: (`spec.replicas`, `status.replicas`).
///
/// # Errors
/// The API refuses or cannot be reached.
pub(crate) async fn scale(client: &kube::Client, a: &Autoscaler) -> Result<(i32, i32)> {
    let api = target_api(client, a);
    let name = &a.target.2;
    let s = api
        .get_scale(name)
        .await
        .with_context(|| format!("reading the scale of {}/{}", a.target.1, name))?;
    let spec = s.spec.and_then(|s| s.replicas).unwrap_or(0);
    let status = s.status.map_or(spec, |s| s.replicas);
    Ok((spec, status))
}

/// Sets the target's `spec.replicas` through its scale subresource.
///
/// # Errors
/// The API refuses or cannot be reached.
pub(crate) async fn set_replicas(
    client: &kube::Client,
    a: &Autoscaler,
    replicas: i32,
) -> Result<()> {
    let api = target_api(client, a);
    let name = &a.target.2;
    let patch = serde_json::json!({"spec": {"replicas": replicas}});
    api.patch_scale(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .with_context(|| format!("scaling {}/{} to {replicas}", a.target.1, name))?;
    Ok(())
}

/// The pods `a` selects (`podSelector`, in its namespace).
///
/// # Errors
/// No selector is configured, or the API refuses.
pub(crate) async fn pods(client: &kube::Client, a: &Autoscaler) -> Result<Vec<Pod>> {
    let selector = a.pod_selector.as_deref().with_context(|| {
        format!(
            "autoscaler {}: --apply needs podSelector to list the pods",
            a.name
        )
    })?;
    let api: kube::Api<Pod> = kube::Api::namespaced(client.clone(), &a.namespace);
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .with_context(|| format!("listing pods {selector} in {}", a.namespace))?;
    Ok(list.items)
}

fn target_api(client: &kube::Client, a: &Autoscaler) -> kube::Api<DynamicObject> {
    let (api_version, kind, _) = &a.target;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    kube::Api::namespaced_with(client.clone(), &a.namespace, &ApiResource::from_gvk(&gvk))
}
