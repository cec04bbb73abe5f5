//! The Kubernetes API, through `kube`: pod metadata for the cgroup collector ([`pods`]) and,
//! for the scrape manager, Kubernetes service discovery.
//!
//! Nothing here connects unless asked: [`cluster_present`] tells from the environment alone
//! whether a cluster configuration exists, so an agent outside a cluster never builds a
//! client. TLS is rustls with the ring provider only; [`client`] installs it as the process
//! default first (kube builds its TLS config from the process default).

pub mod pod_labels;
pub mod pods;
pub mod review;
pub mod sd;

use std::path::Path;

pub use pod_labels::KubePodLabels;
pub use pods::KubePodMetadata;

/// Why a Kubernetes client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No usable configuration: in-cluster, kubeconfig or an explicit API server.
    #[error("kubernetes configuration: {0}")]
    Config(String),
    /// The client could not be built from the configuration.
    #[error("kubernetes client: {0}")]
    Client(#[from] kube::Error),
}

/// Whether this process has a cluster configuration: in-cluster service variables
/// (`KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, with the service account token
/// mounted) or a `KUBECONFIG` naming an existing file. Reads only the environment and the
/// file system.
pub fn cluster_present() -> bool {
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && std::env::var_os("KUBERNETES_SERVICE_PORT").is_some()
        && Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").exists();
    let kubeconfig = std::env::var_os("KUBECONFIG").is_some_and(|v| {
        std::env::split_paths(&v).any(|p| !p.as_os_str().is_empty() && p.exists())
    });
    in_cluster || kubeconfig
}

/// Installs rustls's ring provider as the process default, once; later calls (and a
/// provider installed by someone else) are fine.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client for `api_server` (a URL, used as is: tests and `api_server:` in a config), else
/// for `kubeconfig_file`, else inferred as kube does it (in-cluster, then `KUBECONFIG` or
/// `~/.kube/config`).
///
/// # Errors
/// When no configuration is found or the client cannot be built from it.
pub async fn client(
    api_server: Option<&str>,
    kubeconfig_file: Option<&Path>,
) -> Result<kube::Client, Error> {
    install_crypto_provider();
    let config = if let Some(url) = api_server {
        let uri = url
            .parse()
            .map_err(|e| Error::Config(format!("api_server {url:?}: {e}")))?;
        kube::Config::new(uri)
    } else if let Some(path) = kubeconfig_file {
        let kc = kube::config::Kubeconfig::read_from(path)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?
    } else {
        kube::Config::infer()
            .await
            .map_err(|e| Error::Config(e.to_string()))?
    };
    Ok(kube::Client::try_from(config)?)
}
