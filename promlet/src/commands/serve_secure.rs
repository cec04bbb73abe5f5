//! `promlet serve` as an aggregated API server: the serving certificate, who may read the
//! Kubernetes APIs (front proxy, tokens, delegation to the API server) and the listeners.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use collector::k8s::review::{self, Reviewer};
use exporter::auth::{Auth, Delegate, FrontProxy};
use exporter::tls::{ClientCa, Peer, ServingCert, TlsListener};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::args::TlsArgs;

/// What the TLS flags (and the cluster, when delegating) make of the server.
pub(super) struct Secure {
    /// `--web.config.file`'s authentication, for every endpoint of every listener.
    pub(super) web_auth: Option<Arc<exporter::webconfig::WebAuth>>,
    /// HTTPS, or `None` for plain HTTP.
    pub(super) tls: Option<rustls::ServerConfig>,
    /// Who may read the Kubernetes APIs; `None`: anyone.
    pub(super) auth: Option<Arc<Auth>>,
    /// Where HTTPS is served besides the plain `--listen`.
    pub(super) secure_listen: Option<SocketAddr>,
}

/// Builds the TLS configuration and authentication the flags ask for.
///
/// # Errors
/// A flag combination that cannot work, an unreadable file, or a cluster whose
/// authentication ConfigMap cannot be read while delegating.
pub(super) async fn setup(args: &TlsArgs) -> Result<Secure> {
    let web = match &args.web_config {
        Some(path) => Some(exporter::webconfig::WebConfig::load(path).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let web_auth = web.as_ref().and_then(|w| w.auth.clone());
    if let Some((cert, ca)) = web.and_then(|w| w.tls) {
        if serving_cert(args)?.is_some() {
            anyhow::bail!("--web.config.file's tls_server_config and --tls-* flags: give one");
        }
        let tls = exporter::tls::server_config(&cert, ca.as_ref())?;
        return Ok(Secure {
            web_auth,
            tls: Some(tls),
            auth: None,
            secure_listen: args.secure_listen,
        });
    }
    let mut secure = setup_k8s(args).await?;
    secure.web_auth = web_auth;
    Ok(secure)
}

/// HTTPS and authentication for the Kubernetes APIs from the TLS flags.
async fn setup_k8s(args: &TlsArgs) -> Result<Secure> {
    let Some(cert) = serving_cert(args)? else {
        return plain(args);
    };
    let client = delegation_client(args).await;
    let (client_ca, front_proxy) = front_proxy(args, client.as_ref()).await?;
    let tls = exporter::tls::server_config(&cert, client_ca.as_ref())?;
    let delegate = client.map(|c| Arc::new(Reviewer::new(c)) as Arc<dyn Delegate>);
    let tokens = tokens(args)?;
    let auth = (front_proxy.is_some() || !tokens.is_empty() || delegate.is_some())
        .then(|| Arc::new(Auth::new(front_proxy, tokens, delegate)));
    Ok(Secure {
        web_auth: None,
        tls: Some(tls),
        auth,
        secure_listen: args.secure_listen,
    })
}

/// Plain HTTP: only token-file authentication is possible.
fn plain(args: &TlsArgs) -> Result<Secure> {
    if args.front_proxy_ca.is_some() {
        anyhow::bail!(
            "--requestheader-client-ca-file needs HTTPS (--tls-cert-file or --tls-self-signed)"
        );
    }
    if args.secure_listen.is_some() {
        anyhow::bail!("--secure-listen needs a certificate (--tls-cert-file or --tls-self-signed)");
    }
    let tokens = tokens(args)?;
    let auth = (!tokens.is_empty()).then(|| Arc::new(Auth::new(None, tokens, None)));
    Ok(Secure {
        web_auth: None,
        tls: None,
        auth,
        secure_listen: None,
    })
}

/// The serving certificate, if HTTPS is asked for.
fn serving_cert(args: &TlsArgs) -> Result<Option<ServingCert>> {
    Ok(match (&args.tls_cert, &args.tls_key, args.self_signed) {
        (Some(cert), Some(key), _) => Some(ServingCert::Files {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (_, _, true) => Some(ServingCert::SelfSigned(vec![
            super::local::host_name(),
            "promlet".into(),
            "promlet.promlet.svc".into(),
            "promlet.promlet.svc.cluster.local".into(),
        ])),
        _ => None,
    })
}

fn tokens(args: &TlsArgs) -> Result<std::collections::BTreeSet<String>> {
    match &args.token_file {
        Some(f) => Auth::tokens_from_file(f).map_err(anyhow::Error::msg),
        None => Ok(Default::default()),
    }
}

/// A client of the cluster to delegate to, when there is a cluster and delegation is on.
async fn delegation_client(args: &TlsArgs) -> Option<kube::Client> {
    if args.no_delegation || !collector::k8s::cluster_present() {
        return None;
    }
    match collector::k8s::client(None, None).await {
        Ok(c) => {
            tracing::info!("delegating authentication and authorization to the API server");
            Some(c)
        }
        Err(e) => {
            tracing::warn!(error = %e, "no Kubernetes client: not delegating authentication");
            None
        }
    }
}

/// The front-proxy CA and settings: from the flags, else from the cluster's
/// authentication ConfigMap when delegating.
async fn front_proxy(
    args: &TlsArgs,
    client: Option<&kube::Client>,
) -> Result<(Option<ClientCa>, Option<FrontProxy>)> {
    let from_flags = |defaults: FrontProxy| FrontProxy {
        allowed_names: pick(&args.allowed_names, defaults.allowed_names),
        username_headers: pick(&args.username_headers, defaults.username_headers),
        group_headers: pick(&args.group_headers, defaults.group_headers),
    };
    if let Some(path) = &args.front_proxy_ca {
        let ca = ClientCa::from_file(path)?;
        return Ok((Some(ca), Some(from_flags(FrontProxy::default()))));
    }
    let Some(client) = client else {
        return Ok((None, None));
    };
    let settings = review::front_proxy_settings(client.clone())
        .await
        .map_err(anyhow::Error::msg)
        .context(
            "the server's service account needs the Role extension-apiserver-authentication-reader \
             in kube-system (or give --requestheader-client-ca-file, or --no-delegation)",
        )?;
    let (ns, name) = review::AUTHENTICATION_CONFIGMAP;
    let Some(pem) = settings.client_ca_pem else {
        tracing::warn!(
            "ConfigMap {ns}/{name} names no front-proxy CA: only bearer tokens accepted"
        );
        return Ok((None, None));
    };
    let ca = ClientCa {
        pem: pem.into_bytes(),
        source: format!("ConfigMap {ns}/{name} requestheader-client-ca-file"),
        required: false,
    };
    let defaults = FrontProxy {
        allowed_names: settings.allowed_names,
        username_headers: pick(
            &settings.username_headers,
            FrontProxy::default().username_headers,
        ),
        group_headers: pick(&settings.group_headers, FrontProxy::default().group_headers),
    };
    Ok((Some(ca), Some(from_flags(defaults))))
}

/// `given` unless it is empty, else `default`.
fn pick(given: &[String], default: Vec<String>) -> Vec<String> {
    if given.is_empty() {
        default
    } else {
        given.to_vec()
    }
}

/// Serves `plain_app` and, when `secure` says so, `secure_app` over HTTPS, until
/// `shutdown` resolves: HTTPS on `listener` when there is no separate secure address.
pub(super) async fn serve(
    listener: TcpListener,
    secure: Secure,
    plain_app: axum::Router,
    secure_app: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let stop = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let (plain_app, secure_app) = match &secure.web_auth {
        Some(auth) => {
            let layer =
                || axum::middleware::from_fn_with_state(auth.clone(), exporter::webconfig::require);
            (plain_app.layer(layer()), secure_app.layer(layer()))
        }
        None => (plain_app, secure_app),
    };
    let Some(tls) = secure.tls else {
        return serve_plain(listener, plain_app, stop(rx)).await;
    };
    let Some(addr) = secure.secure_listen else {
        return serve_tls(listener, tls, secure_app, stop(rx)).await;
    };
    let secure_listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr} (--secure-listen)"))?;
    tracing::info!(%addr, "promlet serve: HTTPS for the Kubernetes APIs");
    tokio::try_join!(
        serve_plain(listener, plain_app, stop(rx.clone())),
        serve_tls(secure_listener, tls, secure_app, stop(rx)),
    )?;
    Ok(())
}

async fn serve_plain(
    listener: TcpListener,
    app: axum::Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = app.into_make_service_with_connect_info::<Peer>();
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .context("serving HTTP")
}

async fn serve_tls(
    listener: TcpListener,
    tls: rustls::ServerConfig,
    app: axum::Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = TlsListener::new(listener, tls).context("serving HTTPS")?;
    let app = app.into_make_service_with_connect_info::<Peer>();
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .context("serving HTTPS")
}
