//! One HTTP(S) GET of a target, as Prometheus's `targetScraper.scrape` sends it: the same
//! `Accept` header, the timeout header, authentication, `tls_config`, and a non-200 status as
//! an error.

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsProvider, parse_pem};

use crate::exposition::Format;

use super::config::{ScrapeConfig, TlsConfig};

/// Prometheus 2.42's `Accept` header: OpenMetrics preferred, text 0.0.4 accepted.
pub const ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The most a body may hold (Prometheus has no default limit; this only bounds memory).
const BODY_LIMIT: u64 = 256 << 20;

/// A fetched body and the format its `Content-Type` names.
#[derive(Debug)]
pub(crate) struct Body {
    /// The body text.
    pub(crate) text: String,
    /// OpenMetrics when the content type says so, else Prometheus text.
    pub(crate) format: Format,
}

/// An HTTP(S) client for one scrape loop: the timeout and TLS settings of its job, with
/// connections kept alive between scrapes.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    agent: ureq::Agent,
    timeout: Duration,
}

impl Client {
    /// A client scraping within `timeout`, with `sc.tls_config` for `https` targets (the
    /// system's roots when it names no CA).
    ///
    /// # Errors
    /// A `tls_config` file that cannot be read or holds no usable PEM, naming the file.
    pub(crate) fn new(timeout: Duration, sc: &ScrapeConfig) -> Result<Client, String> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("promlet/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls(sc.tls_config.as_ref())?)
            .build()
            .new_agent();
        Ok(Client { agent, timeout })
    }

    /// Fetches `url`.
    ///
    /// # Errors
    /// A message as Prometheus's `lastError` would read: connection failures (certificate
    /// errors included), timeouts, `server returned HTTP status 500 Internal Server Error`,
    /// an unreadable body.
    pub(crate) fn fetch(&self, url: &str, sc: &ScrapeConfig) -> Result<Body, String> {
        let mut req = self.agent.get(url).header("Accept", ACCEPT_HEADER).header(
            "X-Prometheus-Scrape-Timeout-Seconds",
            &format!("{}", self.timeout.as_secs_f64()),
        );
        if let Some(auth) = authorization(sc)? {
            req = req.header("Authorization", &auth);
        }
        let mut resp = req.call().map_err(|e| format!("Get {url:?}: {e}"))?;
        let status = resp.status();
        if status != 200 {
            return Err(format!(
                "server returned HTTP status {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            ));
        }
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = if content_type.starts_with("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        };
        let text = resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(|e| format!("reading the body of {url}: {e}"))?;
        Ok(Body { text, format })
    }
}

/// rustls with the ring provider (the one the Kubernetes client uses too), roots from
/// `ca_file` or the system, an optional client certificate.
pub(crate) fn tls(cfg: Option<&TlsConfig>) -> Result<ureq::tls::TlsConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut b = ureq::tls::TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider)
        .root_certs(RootCerts::PlatformVerifier);
    let Some(cfg) = cfg else { return Ok(b.build()) };
    b = b.disable_verification(cfg.insecure_skip_verify);
    if let Some(ca) = &cfg.ca_file {
        b = b.root_certs(RootCerts::new_with_certs(&certificates(ca)?));
    }
    if let (Some(cert), Some(key)) = (&cfg.cert_file, &cfg.key_file) {
        let chain = certificates(cert)?;
        let pem = read_file(key, "key_file")?;
        let key =
            PrivateKey::from_pem(&pem).map_err(|e| format!("tls_config.key_file {key}: {e}"))?;
        b = b.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    Ok(b.build())
}

/// Every certificate in the PEM file at `path`; at least one.
fn certificates(path: &str) -> Result<Vec<Certificate<'static>>, String> {
    let pem = read_file(path, "certificate")?;
    let certs: Vec<Certificate<'static>> = parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(format!("tls_config: {path} holds no PEM certificate"));
    }
    Ok(certs)
}

fn read_file(path: &str, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("tls_config: reading {what} {path}: {e}"))
}

/// The `Authorization` header value the config asks for, reading files each time.
fn authorization(sc: &ScrapeConfig) -> Result<Option<String>, String> {
    authorization_header(&HttpAuth {
        basic_auth: sc.basic_auth.as_ref(),
        authorization: sc.authorization.as_ref(),
        bearer_token: sc.bearer_token.as_deref(),
        bearer_token_file: sc.bearer_token_file.as_deref(),
    })
}

/// The credentials of a scrape config or a remote write config.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HttpAuth<'a> {
    /// `basic_auth`.
    pub(crate) basic_auth: Option<&'a super::config::BasicAuth>,
    /// `authorization`.
    pub(crate) authorization: Option<&'a super::config::Authorization>,
    /// `bearer_token`.
    pub(crate) bearer_token: Option<&'a str>,
    /// `bearer_token_file`.
    pub(crate) bearer_token_file: Option<&'a str>,
}

/// The `Authorization` header `auth` asks for (files are read now).
///
/// # Errors
/// A credentials file cannot be read.
pub(crate) fn authorization_header(auth: &HttpAuth<'_>) -> Result<Option<String>, String> {
    let sc = auth;
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("reading {path}: {e}"))
    };
    if let Some(b) = sc.basic_auth {
        let password = match (&b.password, &b.password_file) {
            (_, Some(f)) => read(f)?,
            (Some(p), None) => p.clone(),
            (None, None) => String::new(),
        };
        let creds = base64(format!("{}:{password}", b.username).as_bytes());
        return Ok(Some(format!("Basic {creds}")));
    }
    if let Some(a) = sc.authorization {
        let kind = a.kind.clone().unwrap_or_else(|| "Bearer".into());
        let creds = match (&a.credentials, &a.credentials_file) {
            (_, Some(f)) => read(f)?,
            (Some(c), None) => c.clone(),
            (None, None) => return Ok(None),
        };
        return Ok(Some(format!("{kind} {creds}")));
    }
    if let Some(f) = sc.bearer_token_file {
        return Ok(Some(format!("Bearer {}", read(f)?)));
    }
    Ok(sc.bearer_token.map(|t| format!("Bearer {t}")))
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }
}
