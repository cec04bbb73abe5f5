//! Everything promlet serves over HTTP. [`router`] builds the axum `Router`; the binary owns the
//! listener. Storage is reached only through `model`'s traits and what the caller registers in
//! the metrics registry, never through the tsdb crate. Prometheus's query API is in [`api`].

pub mod api;
pub mod auth;
mod families;
pub mod federate;
pub mod graph;
pub mod k8s;
pub mod remote;
pub mod tls;
pub mod web;
pub mod webconfig;
pub mod x509;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use model::{Queryable, Timestamp};
use prometheus_client::registry::Registry;
use query::Engine;

pub use api::BuildInfo;
pub use families::FamiliesCollector;

/// The wall clock, in ms since the epoch; injected so that tests fix "now".
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(model::now_ms)
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Metrics served at `/metrics`: the caller registers its collectors here.
    pub registry: Arc<Registry>,
    /// Whether the server is ready to serve queries (storage open and recovered).
    pub ready: Arc<AtomicBool>,
    /// The storage queries read.
    pub storage: Arc<dyn Queryable>,
    /// Where remote-written samples go (`None`: `/api/v1/write` answers 404).
    pub appendable: Option<Arc<dyn model::Appendable>>,
    /// Series the remote write receiver has seen, to skip decoding and looking them up.
    pub series_cache: Arc<remote::SeriesCache>,
    /// The PromQL engine, with the server's timeout, sample limit and lookback.
    pub engine: Engine,
    /// What `/api/v1/status/buildinfo` reports.
    pub build_info: Arc<BuildInfo>,
    /// "Now" for queries without a time.
    pub clock: Clock,
    /// The scrape targets `/api/v1/targets` shows.
    pub targets: Arc<dyn api::targets::TargetsSource>,
    /// The autoscaling decisions `/api/v1/autoscale` shows (a JSON list; empty when the
    /// server runs no autoscalers).
    pub autoscale: Arc<dyn Fn() -> serde_json::Value + Send + Sync>,
    /// Who may read the Kubernetes APIs; `None`: anyone (the default, for local use).
    pub auth: Option<Arc<auth::Auth>>,
    /// prometheus-adapter rules for the custom and external metrics APIs (`None`: not served).
    pub adapter: Option<Arc<k8s::adapter::Adapter>>,
    /// Pod objects, for `labelSelector`s on pods (`None` without a Kubernetes API: selectors
    /// then see no pod labels, and custom metrics match them against series labels).
    pub pods: Option<Arc<dyn k8s::PodObjects>>,
}

impl AppState {
    /// State over `storage` and `engine`: ready, the system clock, this crate's build info.
    pub fn new(registry: Arc<Registry>, storage: Arc<dyn Queryable>, engine: Engine) -> Self {
        Self {
            registry,
            ready: Arc::new(AtomicBool::new(true)),
            storage,
            appendable: None,
            series_cache: Arc::default(),
            engine,
            build_info: Arc::new(BuildInfo::default()),
            clock: system_clock(),
            targets: Arc::new(api::targets::NoTargets),
            autoscale: Arc::new(|| serde_json::Value::Array(Vec::new())),
            auth: None,
            adapter: None,
            pods: None,
        }
    }
}

/// The router with `/-/healthy`, `/-/ready`, `/metrics` and Prometheus's `/api/v1` query API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/-/healthy", get(healthy))
        .route("/-/ready", get(ready))
        .route("/readyz", get(ready_k8s))
        .route("/livez", get(|| async { "ok" }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .merge(web::routes())
        .route("/federate", get(federate::federate))
        .nest("/api/v1", api::routes(state.clone()))
        .merge(
            k8s::routes().route_layer(axum::middleware::from_fn_with_state(
                state.auth.clone(),
                auth::require,
            )),
        )
        .with_state(state)
}

async fn healthy() -> &'static str {
    "promlet is Healthy.\n"
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "promlet is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

/// Kubernetes's `/readyz`: `ok` once storage is open and the stored series give at least
/// one node's usage ([`k8s::metric_storage_ready`]); else a 500 listing the checks, as a
/// Kubernetes API server answers. `?verbose` lists the checks on success too.
async fn ready_k8s(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let storage = state.ready.load(Ordering::Acquire);
    let metrics = storage && k8s::metric_storage_ready(&state).await;
    let line = |ok: bool, name: &str| {
        if ok {
            format!("[+]{name} ok\n")
        } else {
            format!("[-]{name} failed: reason withheld\n")
        }
    };
    let checks = format!(
        "[+]ping ok\n{}{}",
        line(storage, "storage-ready"),
        line(metrics, "metric-storage-ready")
    );
    let verbose = query.is_some_and(|q| {
        q.split('&')
            .any(|kv| kv == "verbose" || kv.starts_with("verbose="))
    });
    match (metrics, verbose) {
        (true, false) => (StatusCode::OK, "ok".to_string()).into_response(),
        (true, true) => (StatusCode::OK, format!("{checks}readyz check passed\n")).into_response(),
        (false, _) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{checks}readyz check failed\n"),
        )
            .into_response(),
    }
}

/// The node agent's router: `/-/healthy`, `/-/ready` and `/metrics` from `registry`.
pub fn agent_router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/-/healthy", get(healthy))
        .route("/-/ready", get(|| async { "promlet agent is Ready.\n" }))
        .route(
            "/metrics",
            get(
                |State(r): State<Arc<Registry>>, headers: HeaderMap| async move {
                    encode_registry(&r, &headers)
                },
            ),
        )
        .with_state(registry)
}

/// `/metrics` of the server.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    encode_registry(&state.registry, &headers)
}

/// The registry as OpenMetrics 1.0 when the scraper's `Accept` header asks for it, otherwise
/// as Prometheus text format 0.0.4.
fn encode_registry(registry: &Registry, headers: &HeaderMap) -> Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let mut body = String::new();
    let (encoded, content_type) = if openmetrics {
        (
            prometheus_client::encoding::text::encode(&mut body, registry),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        (
            prometheus_client::encoding::prometheus_text::encode(&mut body, registry),
            "text/plain; version=0.0.4; charset=utf-8",
        )
    };
    match encoded {
        Ok(()) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}\n"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use prometheus_client::metrics::counter::Counter;
    use tower::ServiceExt;

    fn app(ready: bool) -> Router {
        let mut registry = Registry::default();
        let c: Counter = Counter::default();
        c.inc_by(7);
        registry.register("promlet_test_things", "Things.", c);
        let mut state = AppState::new(
            Arc::new(registry),
            Arc::new(model::MemStorage::new()),
            Engine::default(),
        );
        state.ready = Arc::new(AtomicBool::new(ready));
        router(state)
    }

    async fn get_path(app: Router, path: &str) -> (StatusCode, String) {
        let resp = app
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn readiness_follows_the_flag() {
        assert_eq!(
            get_path(app(false), "/-/ready").await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(get_path(app(true), "/-/ready").await.0, StatusCode::OK);
        assert_eq!(get_path(app(false), "/-/healthy").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn metrics_serves_the_registry() {
        let (status, body) = get_path(app(true), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("promlet_test_things_total 7"), "{body}");
        assert!(!body.contains("# EOF"), "{body}");
    }

    #[tokio::test]
    async fn metrics_speak_openmetrics_when_asked() {
        let req = Request::get("/metrics")
            .header(
                header::ACCEPT,
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
            )
            .body(Body::empty())
            .unwrap();
        let resp = app(true).oneshot(req).await.unwrap();
        let ct = resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            ct.starts_with("application/openmetrics-text; version=1.0.0"),
            "{ct}"
        );
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.ends_with("# EOF\n"), "{body}");
        assert!(
            body.contains("# TYPE promlet_test_things counter"),
            "{body}"
        );
    }
}
