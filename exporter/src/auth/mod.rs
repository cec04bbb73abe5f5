//! Who may read the Kubernetes APIs (`/api`, `/apis`) when authentication is configured, as
//! an aggregated API server decides it (metrics-server, prometheus-adapter):
//!
//! - **Authentication.** A bearer token from the token file (trusted as is); else a bearer
//!   token the API server vouches for (`TokenReview`, with a [`Delegate`]); else
//!   kube-apiserver's front proxy: a client certificate the front-proxy CA signed (verified
//!   during the TLS handshake), whose common name is in the allowed names when a list is
//!   given, with the user in a username header and groups in the group headers. Anything
//!   else gets a 401 `Status`.
//! - **Authorization.** With a [`Delegate`], every user but a token-file one is checked with
//!   a `SubjectAccessReview` for the request's attributes ([`attributes`]); a denial gets a
//!   403 `Status` worded as kube-apiserver words it. Without one, an authenticated user may
//!   read everything (kube-apiserver has authorized the request before proxying it).
//!
//! Review answers are cached for [`REVIEW_TTL`], as the generic API server caches them.
//! Prometheus's API, `/metrics` and the health endpoints are not affected.

pub mod attributes;

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use collector::k8s::review::{Access, Attributes, User};

use crate::tls::Peer;

/// How long a token or access review answer is reused.
pub const REVIEW_TTL: Duration = Duration::from_secs(10);
/// Cached review answers at most; the cache starts over when full.
const CACHE_ENTRIES: usize = 4096;

/// A boxed future, for the object-safe [`Delegate`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The reviews a delegating server asks the API server for.
pub trait Delegate: Send + Sync {
    /// Who `token` belongs to; `Ok(None)`: not a valid token.
    fn review_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<User>, String>>;
    /// Whether `user` may do `attributes`.
    fn review_access<'a>(
        &'a self,
        user: &'a User,
        attributes: &'a Attributes,
    ) -> BoxFuture<'a, Result<Access, String>>;
}

impl Delegate for collector::k8s::review::Reviewer {
    fn review_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<User>, String>> {
        Box::pin(async move { self.token(token).await.map_err(|e| e.to_string()) })
    }

    fn review_access<'a>(
        &'a self,
        user: &'a User,
        attributes: &'a Attributes,
    ) -> BoxFuture<'a, Result<Access, String>> {
        Box::pin(async move {
            self.access(user, attributes)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// How the front proxy's requests are recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontProxy {
    /// Common names its client certificate may have; empty: any the CA signed.
    pub allowed_names: Vec<String>,
    /// Headers naming the user; the first non-empty one wins.
    pub username_headers: Vec<String>,
    /// Headers naming the user's groups; every value of each counts.
    pub group_headers: Vec<String>,
}

impl Default for FrontProxy {
    /// kube-apiserver's usual headers, any common name.
    fn default() -> Self {
        FrontProxy {
            allowed_names: Vec::new(),
            username_headers: vec!["X-Remote-User".into()],
            group_headers: vec!["X-Remote-Group".into()],
        }
    }
}

/// A small map whose entries expire after [`REVIEW_TTL`].
struct TtlCache<K, V>(Mutex<HashMap<K, (Instant, V)>>);

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    fn new() -> Self {
        TtlCache(Mutex::new(HashMap::new()))
    }

    fn get(&self, key: &K) -> Option<V> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (at, v) = map.get(key)?;
        (at.elapsed() < REVIEW_TTL).then(|| v.clone())
    }

    fn put(&self, key: K, v: V) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_ENTRIES {
            map.clear();
        }
        map.insert(key, (Instant::now(), v));
    }
}

/// Who was authenticated, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Authenticated {
    /// A token from the token file: trusted without authorization.
    TokenFile,
    /// A user named by the API server (token review) or the front proxy.
    User(User),
}

/// The accepted credentials, and the delegate that reviews the rest.
pub struct Auth {
    front_proxy: Option<FrontProxy>,
    tokens: BTreeSet<String>,
    delegate: Option<Arc<dyn Delegate>>,
    token_cache: TtlCache<String, Option<User>>,
    access_cache: TtlCache<(User, Attributes), Access>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("front_proxy", &self.front_proxy)
            .field("tokens", &self.tokens.len())
            .field("delegate", &self.delegate.is_some())
            .finish()
    }
}

impl Auth {
    /// Accepts the front proxy (when `front_proxy` is given; the TLS listener must verify
    /// client certificates against its CA), `tokens`, and what `delegate` reviews.
    pub fn new(
        front_proxy: Option<FrontProxy>,
        tokens: BTreeSet<String>,
        delegate: Option<Arc<dyn Delegate>>,
    ) -> Self {
        Auth {
            front_proxy,
            tokens,
            delegate,
            token_cache: TtlCache::new(),
            access_cache: TtlCache::new(),
        }
    }

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

    /// Who sent the request; `None`: nobody we accept.
    async fn authenticate(&self, peer: &Peer, headers: &HeaderMap) -> Option<Authenticated> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if let Some(token) = bearer {
            if self.tokens.contains(token) {
                return Some(Authenticated::TokenFile);
            }
            if let Some(user) = self.review_token(token).await {
                return Some(Authenticated::User(user));
            }
        }
        self.front_proxy_user(peer, headers)
            .map(Authenticated::User)
    }

    /// The API server's answer for `token` (cached); `None` when it is not valid or cannot
    /// be reviewed.
    async fn review_token(&self, token: &str) -> Option<User> {
        let delegate = self.delegate.as_ref()?;
        if let Some(answer) = self.token_cache.get(&token.to_string()) {
            return answer;
        }
        match delegate.review_token(token).await {
            Ok(answer) => {
                self.token_cache.put(token.to_string(), answer.clone());
                answer
            }
            Err(e) => {
                tracing::warn!(error = %e, "token review failed");
                None
            }
        }
    }

    /// The user the front proxy acts for, when the connection is the front proxy's.
    fn front_proxy_user(&self, peer: &Peer, headers: &HeaderMap) -> Option<User> {
        let proxy = self.front_proxy.as_ref()?;
        if !peer.verified_client_cert {
            return None;
        }
        if !proxy.allowed_names.is_empty() {
            let cn = peer.client_cn.as_deref()?;
            if !proxy.allowed_names.iter().any(|n| n == cn) {
                return None;
            }
        }
        let value = |v: &axum::http::HeaderValue| v.to_str().ok().map(str::trim).map(String::from);
        let name = proxy
            .username_headers
            .iter()
            .filter_map(|h| headers.get(h.as_str()).and_then(value))
            .find(|n| !n.is_empty())?;
        let groups = proxy
            .group_headers
            .iter()
            .flat_map(|h| headers.get_all(h.as_str()).iter().filter_map(value))
            .filter(|g| !g.is_empty())
            .collect();
        Some(User { name, groups })
    }

    /// `Ok(())` when `who` may `GET` `path`, else the 403 message; `Err` when the review
    /// could not be made.
    async fn authorize(
        &self,
        who: &Authenticated,
        path: &str,
    ) -> Result<Result<(), String>, String> {
        let (Authenticated::User(user), Some(delegate)) = (who, self.delegate.as_ref()) else {
            return Ok(Ok(()));
        };
        let attributes = attributes::of_get(path);
        let key = (user.clone(), attributes);
        let access = match self.access_cache.get(&key) {
            Some(a) => a,
            None => {
                let a = delegate.review_access(&key.0, &key.1).await?;
                self.access_cache.put(key.clone(), a.clone());
                a
            }
        };
        if access.allowed {
            return Ok(Ok(()));
        }
        Ok(Err(attributes::forbidden_message(
            &user.name,
            &key.1,
            &access.reason,
        )))
    }
}

/// A Kubernetes `Status` failure.
fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The middleware: passes allowed requests on, answers 401, 403 or 500 otherwise.
pub async fn require(State(auth): State<Option<Arc<Auth>>>, req: Request, next: Next) -> Response {
    let Some(auth) = auth else {
        return next.run(req).await;
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|ConnectInfo(p)| p.clone())
        .unwrap_or_default();
    let Some(who) = auth.authenticate(&peer, req.headers()).await else {
        return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    };
    match auth.authorize(&who, req.uri().path()).await {
        Ok(Ok(())) => next.run(req).await,
        Ok(Err(message)) => status(StatusCode::FORBIDDEN, "Forbidden", &message),
        Err(e) => {
            tracing::warn!(error = %e, "access review failed");
            let message = format!("Internal error occurred: authorizing the request: {e}");
            status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &message)
        }
    }
}

#[cfg(test)]
mod tests;
