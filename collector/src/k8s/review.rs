//! Delegated authentication and authorization, as an aggregated API server does them
//! (metrics-server, prometheus-adapter): the front-proxy settings from the
//! `kube-system/extension-apiserver-authentication` ConfigMap, bearer tokens checked with a
//! `TokenReview`, and every request checked with a `SubjectAccessReview`.
//!
//! These are single API calls; caching and the decision what to ask are the server's.

use std::collections::BTreeMap;

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::PostParams;

/// The namespace and name of the ConfigMap kube-apiserver publishes its authentication
/// settings in.
pub const AUTHENTICATION_CONFIGMAP: (&str, &str) =
    ("kube-system", "extension-apiserver-authentication");

/// Why a review could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct ReviewError {
    what: String,
    #[source]
    source: kube::Error,
}

/// kube-apiserver's front-proxy settings, as the ConfigMap states them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontProxySettings {
    /// The PEM CA that signs the front proxy's client certificate
    /// (`requestheader-client-ca-file`); `None`: the cluster has no front proxy.
    pub client_ca_pem: Option<String>,
    /// Common names the front proxy's certificate may have (empty: any).
    pub allowed_names: Vec<String>,
    /// Headers naming the user (first non-empty wins).
    pub username_headers: Vec<String>,
    /// Headers naming the user's groups (every value of each).
    pub group_headers: Vec<String>,
}

/// A user as the API server authenticated them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct User {
    /// The user name (`system:serviceaccount:kube-system:horizontal-pod-autoscaler`, ...).
    pub name: String,
    /// The user's groups.
    pub groups: Vec<String>,
}

/// What a request asks to do, in Kubernetes authorization's terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attributes {
    /// A request on an API resource (`/api/v1/...`, `/apis/<group>/<version>/...`).
    Resource {
        /// `get` or `list`.
        verb: String,
        /// The API group (`""` for the core group).
        group: String,
        /// The API version.
        version: String,
        /// The resource (`pods`, `nodes`, ...).
        resource: String,
        /// The subresource (a custom metric's name), or empty.
        subresource: String,
        /// The namespace, or empty for cluster scope.
        namespace: String,
        /// The object's name, or empty for a list.
        name: String,
    },
    /// Any other path (discovery documents).
    NonResource {
        /// `get`.
        verb: String,
        /// The request path.
        path: String,
    },
}

/// The answer of a `SubjectAccessReview`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Whether the user may.
    pub allowed: bool,
    /// The authorizer's reason, when it gave one.
    pub reason: String,
}

/// The reviews of one API server, as an object the server can hold.
#[derive(Clone)]
pub struct Reviewer(kube::Client);

impl std::fmt::Debug for Reviewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reviewer")
    }
}

impl Reviewer {
    /// Reviews through `client`.
    pub fn new(client: kube::Client) -> Self {
        Reviewer(client)
    }

    /// [`review_token`] through this client.
    ///
    /// # Errors
    /// The review could not be made.
    pub async fn token(&self, token: &str) -> Result<Option<User>, ReviewError> {
        review_token(self.0.clone(), token).await
    }

    /// [`review_access`] through this client.
    ///
    /// # Errors
    /// The review could not be made.
    pub async fn access(
        &self,
        user: &User,
        attributes: &Attributes,
    ) -> Result<Access, ReviewError> {
        review_access(self.0.clone(), user, attributes).await
    }
}

/// Reads the front-proxy settings from [`AUTHENTICATION_CONFIGMAP`].
///
/// # Errors
/// The ConfigMap cannot be read (missing, or no permission: the server's service account
/// needs the `extension-apiserver-authentication-reader` Role in `kube-system`), or one of
/// its list values is not a JSON array of strings.
pub async fn front_proxy_settings(client: kube::Client) -> Result<FrontProxySettings, String> {
    let (ns, name) = AUTHENTICATION_CONFIGMAP;
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(client, ns);
    let cm = api
        .get(name)
        .await
        .map_err(|e| format!("reading ConfigMap {ns}/{name}: {e}"))?;
    settings_from(&cm.data.unwrap_or_default()).map_err(|e| format!("ConfigMap {ns}/{name}: {e}"))
}

/// The settings in a ConfigMap's `data`.
fn settings_from(data: &BTreeMap<String, String>) -> Result<FrontProxySettings, String> {
    let list = |key: &str| -> Result<Vec<String>, String> {
        match data.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(Vec::new()),
            Some(v) => serde_json::from_str(v)
                .map_err(|e| format!("{key}: not a JSON list of strings: {e}")),
        }
    };
    Ok(FrontProxySettings {
        client_ca_pem: data
            .get("requestheader-client-ca-file")
            .filter(|v| !v.trim().is_empty())
            .cloned(),
        allowed_names: list("requestheader-allowed-names")?,
        username_headers: list("requestheader-username-headers")?,
        group_headers: list("requestheader-group-headers")?,
    })
}

/// Asks the API server who `token` belongs to; `None` when it is not a valid token.
///
/// # Errors
/// The review could not be made.
pub async fn review_token(client: kube::Client, token: &str) -> Result<Option<User>, ReviewError> {
    let review = TokenReview {
        spec: TokenReviewSpec {
            token: token.to_string(),
            ..TokenReviewSpec::default()
        },
        ..TokenReview::default()
    };
    let api: kube::Api<TokenReview> = kube::Api::all(client);
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|source| ReviewError {
            what: "TokenReview".into(),
            source,
        })?;
    let Some(status) = answer.status.filter(|s| s.authenticated == Some(true)) else {
        return Ok(None);
    };
    let info = status.user.unwrap_or_default();
    Ok(Some(User {
        name: info.username.unwrap_or_default(),
        groups: info.groups.unwrap_or_default(),
    }))
}

/// Asks the API server whether `user` may do `attributes`.
///
/// # Errors
/// The review could not be made.
pub async fn review_access(
    client: kube::Client,
    user: &User,
    attributes: &Attributes,
) -> Result<Access, ReviewError> {
    let mut spec = SubjectAccessReviewSpec {
        user: Some(user.name.clone()),
        groups: Some(user.groups.clone()),
        ..SubjectAccessReviewSpec::default()
    };
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match attributes {
        Attributes::Resource {
            verb,
            group,
            version,
            resource,
            subresource,
            namespace,
            name,
        } => {
            spec.resource_attributes = Some(ResourceAttributes {
                verb: some(verb),
                group: Some(group.clone()),
                version: some(version),
                resource: some(resource),
                subresource: some(subresource),
                namespace: some(namespace),
                name: some(name),
                ..ResourceAttributes::default()
            });
        }
        Attributes::NonResource { verb, path } => {
            spec.non_resource_attributes = Some(NonResourceAttributes {
                verb: some(verb),
                path: some(path),
            });
        }
    }
    let review = SubjectAccessReview {
        spec,
        ..SubjectAccessReview::default()
    };
    let api: kube::Api<SubjectAccessReview> = kube::Api::all(client);
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|source| ReviewError {
            what: "SubjectAccessReview".into(),
            source,
        })?;
    let status = answer.status.unwrap_or_default();
    Ok(Access {
        allowed: status.allowed && status.denied != Some(true),
        reason: status.reason.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_the_settings_kube_apiserver_publishes() {
        let s = settings_from(&data(&[
            ("client-ca-file", "CLUSTER CA"),
            ("requestheader-client-ca-file", "FRONT PROXY CA"),
            ("requestheader-allowed-names", "[\"front-proxy-client\"]"),
            ("requestheader-username-headers", "[\"X-Remote-User\"]"),
            ("requestheader-group-headers", "[\"X-Remote-Group\"]"),
            (
                "requestheader-extra-headers-prefix",
                "[\"X-Remote-Extra-\"]",
            ),
        ]))
        .unwrap();
        assert_eq!(s.client_ca_pem.as_deref(), Some("FRONT PROXY CA"));
        assert_eq!(s.allowed_names, ["front-proxy-client"]);
        assert_eq!(s.username_headers, ["X-Remote-User"]);
        assert_eq!(s.group_headers, ["X-Remote-Group"]);
    }

    #[test]
    fn a_cluster_without_front_proxy_has_no_ca() {
        let s = settings_from(&data(&[("client-ca-file", "CLUSTER CA")])).unwrap();
        assert_eq!(s, FrontProxySettings::default());
    }

    #[test]
    fn a_malformed_list_names_its_key() {
        let e =
            settings_from(&data(&[("requestheader-allowed-names", "front-proxy")])).unwrap_err();
        assert!(e.starts_with("requestheader-allowed-names: "), "{e}");
    }
}
