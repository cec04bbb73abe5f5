//! HTTPS for the server, as an aggregated API server needs it behind kube-apiserver: a serving
//! certificate from files or self-signed, and, when a front-proxy CA is given, client
//! certificates verified against it (optional: clients without one still connect, and the
//! Kubernetes API paths then ask for a bearer token instead, see [`crate::auth`]).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A failure to set up TLS, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

/// Where the serving certificate comes from.
#[derive(Debug, Clone)]
pub enum ServingCert {
    /// PEM certificate chain and private key files.
    Files {
        /// The certificate chain.
        cert: std::path::PathBuf,
        /// The private key.
        key: std::path::PathBuf,
    },
    /// A certificate made at start for these DNS names (and `localhost`, 127.0.0.1).
    SelfSigned(Vec<String>),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError(format!("reading {}: {e}", path.display())))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    pem_certificates(&read(path)?, &path.display().to_string())
}

/// The certificates of a PEM text; `source` names it in errors.
fn pem_certificates(pem: &[u8], source: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError(format!("{source}: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError(format!("{source}: no PEM certificate")));
    }
    Ok(certs)
}

/// The CA client certificates are verified against (the front-proxy CA).
#[derive(Debug, Clone)]
pub struct ClientCa {
    /// PEM certificates.
    pub pem: Vec<u8>,
    /// Where they came from (a file, a ConfigMap key), for errors.
    pub source: String,
    /// Whether every client must present a certificate this CA signed (else it is optional
    /// and checked when given).
    pub required: bool,
}

impl ClientCa {
    /// The CA in PEM file `path`.
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn from_file(path: &Path) -> Result<Self, TlsError> {
        Ok(ClientCa {
            pem: read(path)?,
            source: path.display().to_string(),
            required: false,
        })
    }
}

fn serving(
    cert: &ServingCert,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    match cert {
        ServingCert::Files { cert, key } => {
            let pem = read(key)?;
            let key = PrivateKeyDer::from_pem_slice(&pem)
                .map_err(|e| TlsError(format!("{}: {e}", key.display())))?;
            Ok((certificates(cert)?, key))
        }
        ServingCert::SelfSigned(names) => {
            let mut all = vec!["localhost".to_string(), "127.0.0.1".to_string()];
            all.extend(names.iter().cloned());
            let made = rcgen::generate_simple_self_signed(all)
                .map_err(|e| TlsError(format!("making a self-signed certificate: {e}")))?;
            let key = PrivateKeyDer::try_from(made.key_pair.serialize_der())
                .map_err(|e| TlsError(format!("self-signed key: {e}")))?;
            Ok((vec![made.cert.der().clone()], key))
        }
    }
}

/// The rustls server configuration: `cert`, and client certificates checked against
/// `client_ca` when given (optional for the client).
///
/// # Errors
/// An unreadable or invalid file, naming it.
pub fn server_config(
    cert: &ServingCert,
    client_ca: Option<&ClientCa>,
) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in pem_certificates(&ca.pem, &ca.source)? {
                roots
                    .add(c)
                    .map_err(|e| TlsError(format!("{}: {e}", ca.source)))?;
            }
            let mut verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            if !ca.required {
                verifier = verifier.allow_unauthenticated();
            }
            let verifier = verifier
                .build()
                .map_err(|e| TlsError(format!("{}: {e}", ca.source)))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let (chain, key) = serving(cert)?;
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError(format!("serving certificate: {e}")))?;
    // axum serves HTTP/1.1 here (its http2 feature is off), so only that is offered.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A TCP listener that completes TLS handshakes before handing connections to axum. Each
/// handshake runs in its own task, so a slow or silent client delays nobody else; a failed or
/// timed-out handshake drops that connection only.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor_task: tokio::task::JoinHandle<()>,
}

/// How many handshaken connections may wait for axum to take them.
const READY_QUEUE: usize = 64;

impl TlsListener {
    /// Serves TLS with `config` on `tcp`.
    ///
    /// # Errors
    /// The bound address cannot be read.
    pub fn new(tcp: TcpListener, config: rustls::ServerConfig) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let acceptor_task = tokio::spawn(accept_loop(tcp, acceptor, tx));
        Ok(TlsListener {
            ready,
            local,
            acceptor_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

/// Accepts TCP connections and starts a handshake task for each, until `tx` is closed.
async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    while !tx.is_closed() {
        let (stream, addr) = match tcp.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, addr)).await;
                }
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
            }
        });
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accept task ended (it only does when the runtime shuts down): no more
            // connections will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// What a connection proved about its client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer {
    /// The client presented a certificate that the front-proxy CA signed (rustls verified it
    /// during the handshake).
    pub verified_client_cert: bool,
    /// That certificate's subject common name.
    pub client_cn: Option<Arc<str>>,
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        let certs = stream.io().get_ref().1.peer_certificates();
        let leaf = certs.and_then(|c| c.first());
        Peer {
            verified_client_cert: leaf.is_some(),
            client_cn: leaf
                .and_then(|c| crate::x509::subject_common_name(c))
                .map(Arc::from),
        }
    }
}

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(_: IncomingStream<'_, TcpListener>) -> Self {
        Peer::default()
    }
}
