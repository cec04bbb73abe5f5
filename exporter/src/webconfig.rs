//! `--web.config.file`: TLS and authentication for the whole listener, in the format of
//! Prometheus's web configuration file (exporter-toolkit):
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt
//!   key_file: server.key
//!   client_auth_type: RequireAndVerifyClientCert   # or VerifyClientCertIfGiven, NoClientCert
//!   client_ca_file: clients-ca.crt
//! basic_auth_users:
//!   alice: $2y$10$...        # bcrypt hashes, as htpasswd -B writes them
//! bearer_token_file: tokens  # promlet's addition: bearer tokens, one per line
//! ```
//!
//! With users or tokens, every request needs `Authorization: Basic ...` of a listed user or
//! `Authorization: Bearer` with a listed token, else 401 with `WWW-Authenticate: Basic`.
//! bcrypt is slow on purpose; a successful check is remembered in memory (user, password and
//! hash) so that a client's every request does not pay it again.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::tls::{ClientCa, ServingCert};

/// The file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<TlsServerConfig>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
    bearer_token_file: Option<PathBuf>,
    /// Accepted for compatibility and ignored (HTTP/2 and headers are not configurable).
    #[allow(dead_code)]
    http_server_config: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsServerConfig {
    cert_file: PathBuf,
    key_file: PathBuf,
    #[serde(default)]
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    /// The rest are accepted for compatibility and ignored: rustls offers TLS 1.2 and 1.3
    /// with its safe defaults.
    #[allow(dead_code)]
    min_version: Option<String>,
    #[allow(dead_code)]
    max_version: Option<String>,
    #[allow(dead_code)]
    cipher_suites: Option<Vec<String>>,
    #[allow(dead_code)]
    prefer_server_cipher_suites: Option<bool>,
    #[allow(dead_code)]
    curve_preferences: Option<Vec<String>>,
}

/// A loaded web configuration.
#[derive(Debug)]
pub struct WebConfig {
    /// HTTPS settings, if any: the certificate and the client CA.
    pub tls: Option<(ServingCert, Option<ClientCa>)>,
    /// Who may send requests (`None`: anyone).
    pub auth: Option<Arc<WebAuth>>,
}

/// The accepted credentials.
#[derive(Debug)]
pub struct WebAuth {
    users: BTreeMap<String, String>,
    tokens: BTreeSet<String>,
    verified: Mutex<HashSet<String>>,
}

impl WebConfig {
    /// Reads and checks `path`; relative file names are relative to its directory.
    ///
    /// # Errors
    /// YAML errors, unknown keys, an unknown `client_auth_type`, a hash that is not bcrypt,
    /// an unreadable token file, naming the file and key.
    pub fn load(path: &Path) -> Result<WebConfig, String> {
        let at = |e: String| format!("{}: {e}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
        let file: File = serde_yaml::from_str(&text).map_err(|e| at(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &Path| base.join(p);
        let tls = file
            .tls_server_config
            .map(|t| tls_of(t, &rel))
            .transpose()
            .map_err(at)?;
        for (user, hash) in &file.basic_auth_users {
            if !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) {
                return Err(at(format!("basic_auth_users.{user}: not a bcrypt hash")));
            }
        }
        let tokens = match &file.bearer_token_file {
            Some(f) => crate::auth::Auth::tokens_from_file(&rel(f)).map_err(at)?,
            None => BTreeSet::new(),
        };
        let auth = (!file.basic_auth_users.is_empty() || !tokens.is_empty()).then(|| {
            Arc::new(WebAuth {
                users: file.basic_auth_users,
                tokens,
                verified: Mutex::new(HashSet::new()),
            })
        });
        Ok(WebConfig { tls, auth })
    }
}

fn tls_of(
    t: TlsServerConfig,
    rel: &dyn Fn(&Path) -> PathBuf,
) -> Result<(ServingCert, Option<ClientCa>), String> {
    let cert = ServingCert::Files {
        cert: rel(&t.cert_file),
        key: rel(&t.key_file),
    };
    let kind = t.client_auth_type.as_deref().unwrap_or("NoClientCert");
    let required = match kind {
        "NoClientCert" => return Ok((cert, None)),
        "RequireAndVerifyClientCert" => true,
        "VerifyClientCertIfGiven" => false,
        other => {
            return Err(format!(
                "tls_server_config.client_auth_type: {other:?} is not NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"
            ));
        }
    };
    let ca_file = t.client_ca_file.as_ref().ok_or_else(|| {
        format!("tls_server_config.client_ca_file: needed for client_auth_type {kind}")
    })?;
    let mut ca = ClientCa::from_file(&rel(ca_file)).map_err(|e| e.to_string())?;
    ca.required = required;
    Ok((cert, Some(ca)))
}

impl WebAuth {
    /// Whether the `Authorization` header value names a listed user with the right password
    /// or a listed token.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        if let Some(token) = value.strip_prefix("Bearer ") {
            return self.tokens.contains(token.trim());
        }
        let Some(encoded) = value.strip_prefix("Basic ") else {
            return false;
        };
        let Some(decoded) = decode_base64(encoded.trim()) else {
            return false;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return false;
        };
        let Some((user, password)) = text.split_once(':') else {
            return false;
        };
        let Some(hash) = self.users.get(user) else {
            return false;
        };
        let key = format!("{user}\u{0}{password}\u{0}{hash}");
        if self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key)
        {
            return true;
        }
        let ok = bcrypt::verify(password, hash).unwrap_or(false);
        if ok {
            let mut v = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if v.len() > 1024 {
                v.clear();
            }
            v.insert(key);
        }
        ok
    }
}

/// Standard base64 (with or without padding); `None` when malformed.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n: u32 = 0;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let [_, a, b, c] = n.to_be_bytes();
        match chunk.len() {
            4 => out.extend([a, b, c]),
            3 => out.extend([a, b]),
            2 => out.push(a),
            _ => return None,
        }
    }
    Some(out)
}

/// The middleware: 401 unless the request carries accepted credentials.
pub async fn require(State(auth): State<Arc<WebAuth>>, req: Request, next: Next) -> Response {
    let header_value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let auth2 = auth.clone();
    let ok = tokio::task::spawn_blocking(move || auth2.allows(header_value.as_deref()))
        .await
        .unwrap_or(false);
    if ok {
        return next.run(req).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic")],
        "Unauthorized\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> WebAuth {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        WebAuth {
            users: BTreeMap::from([("alice".to_string(), hash)]),
            tokens: BTreeSet::from(["tok".to_string()]),
            verified: Mutex::new(HashSet::new()),
        }
    }

    #[test]
    fn basic_and_bearer_credentials() {
        let a = auth();
        // "alice:s3cret"
        assert!(a.allows(Some("Basic YWxpY2U6czNjcmV0")));
        assert!(a.allows(Some("Basic YWxpY2U6czNjcmV0")), "remembered");
        // "alice:wrong"
        assert!(!a.allows(Some("Basic YWxpY2U6d3Jvbmc=")));
        // "bob:s3cret"
        assert!(!a.allows(Some("Basic Ym9iOnMzY3JldA==")));
        assert!(a.allows(Some("Bearer tok")));
        assert!(!a.allows(Some("Bearer nope")));
        assert!(!a.allows(Some("Basic !!!")));
        assert!(!a.allows(None));
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_base64("YWxpY2U6czNjcmV0").unwrap(), b"alice:s3cret");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert_eq!(decode_base64("YWI").unwrap(), b"ab");
        assert!(decode_base64("Y").is_none());
    }
}
