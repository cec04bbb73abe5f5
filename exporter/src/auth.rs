//! Who may read the Kubernetes APIs (`/api`, `/apis`): when authentication is configured,
//! either kube-apiserver's front proxy (a client certificate signed by the front-proxy CA,
//! verified during the TLS handshake, plus the `X-Remote-User` header naming the user it acts
//! for) or a bearer token from the token file. Anything else gets a 401 `Status`. Prometheus's
//! API, `/metrics` and the health endpoints are not affected.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::tls::Peer;

/// The accepted credentials.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    /// Whether a verified front-proxy client certificate with `X-Remote-User` is accepted.
    pub front_proxy: bool,
    /// Accepted bearer tokens.
    pub tokens: BTreeSet<String>,
}

impl Auth {
    /// Tokens from a file, one per line (blank lines and `#` comments skipped); the first
    /// comma-separated field of a line is the token, as in kube-apiserver's token file.
    ///
    /// # Errors
    /// The file cannot be read, or holds no token.
    pub fn tokens_from_file(path: &std::path::Path) -> Result<BTreeSet<String>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let tokens: BTreeSet<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split(',').next())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if tokens.is_empty() {
            return Err(format!("{}: no token", path.display()));
        }
        Ok(tokens)
    }

    fn allows(&self, peer: Peer, req: &Request) -> bool {
        let headers = req.headers();
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if bearer.is_some_and(|t| self.tokens.contains(t)) {
            return true;
        }
        let user = headers
            .get("x-remote-user")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|u| !u.is_empty());
        self.front_proxy && peer.verified_client_cert && user
    }
}

/// The middleware: passes allowed requests on, answers 401 otherwise.
pub async fn require(State(auth): State<Option<Arc<Auth>>>, req: Request, next: Next) -> Response {
    let Some(auth) = auth else {
        return next.run(req).await;
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|ConnectInfo(p)| *p)
        .unwrap_or_default();
    if auth.allows(peer, &req) {
        return next.run(req).await;
    }
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
    });
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
