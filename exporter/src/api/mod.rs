//! Prometheus's HTTP query API (`/api/v1/...`), answering as Prometheus's `web/api/v1`
//! does: the same envelope, JSON, parameters, error classes, texts and status codes, so that
//! Grafana's Prometheus data source, `promtool` and client libraries work against promlet.
//!
//! Endpoints: `query`, `query_range`, `series`, `labels` (GET and POST, form-encoded), and
//! `label/{name}/values`, `metadata`, `status/buildinfo`, `targets` and `render` (a range
//! query as a PNG or SVG image) (GET). Until the server is ready
//! every endpoint answers 503 `Service Unavailable`, as Prometheus's do; `OPTIONS` answers
//! 204 and cross-origin requests get Prometheus's CORS headers.
//!
//! The pieces the command line shares are public: [`instant_query`], [`range_query`],
//! [`check_range`], the time readers in [`time`] and the JSON writer [`json`].

mod error;
pub mod json;
mod labels;
mod params;
pub(crate) mod query;
mod render;
pub mod targets;
pub mod time;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use model::Queryable;

pub use error::{ApiError, ErrorType};
pub(crate) use params::matcher_sets;
pub use query::{
    MAX_POINTS_PER_SERIES, check_range, instant_query, query_response, range_query, step_millis,
};

use crate::AppState;

/// Who built this binary, as `/api/v1/status/buildinfo` reports it. Prometheus clients read
/// `version`; `goVersion` names the Rust compiler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// The release version (`0.1.0`).
    pub version: String,
    /// The source revision (a git commit), or `unknown`.
    pub revision: String,
    /// The source branch, or `unknown`.
    pub branch: String,
    /// Who built it, or `unknown`.
    pub build_user: String,
    /// When it was built, or `unknown`.
    pub build_date: String,
    /// The compiler (`rustc 1.90.0`), or `unknown`.
    pub go_version: String,
}

impl Default for BuildInfo {
    /// This crate's version; everything else `unknown`.
    fn default() -> Self {
        let unknown = || "unknown".to_string();
        Self {
            version: env!("CARGO_PKG_VERSION").into(),
            revision: unknown(),
            branch: unknown(),
            build_user: unknown(),
            build_date: unknown(),
            go_version: unknown(),
        }
    }
}

/// The `/api/v1` routes (to be nested by the caller).
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/query", get(query::instant).post(query::instant))
        .route("/query_range", get(query::range).post(query::range))
        .route("/series", get(labels::series).post(labels::series))
        .route(
            "/labels",
            get(labels::label_names).post(labels::label_names),
        )
        .route("/label/{name}/values", get(labels::label_values))
        .route("/metadata", get(labels::metadata))
        .route("/status/buildinfo", get(labels::buildinfo))
        .route("/targets", get(targets::targets))
        .route("/render", get(render::render))
        .route("/autoscale", get(autoscale))
        .route(
            "/write",
            axum::routing::post(crate::remote::write).layer(axum::extract::DefaultBodyLimit::max(
                crate::remote::MAX_BODY_BYTES,
            )),
        )
        .layer(middleware::from_fn_with_state(state, wrap))
}

/// What Prometheus does around every API endpoint: 503 `Service Unavailable` until the server
/// is ready (`api.ready`), then CORS headers for cross-origin callers with its default
/// `--web.cors.origin=.*` (`httputil.SetCORS`), and 204 for any `OPTIONS` request.
async fn wrap(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.ready.load(Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    let cross_origin = req.headers().contains_key(header::ORIGIN);
    let mut resp = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let headers = resp.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if cross_origin {
        for (name, value) in [
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Accept, Authorization, Content-Type, Origin",
            ),
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"),
            (header::ACCESS_CONTROL_EXPOSE_HEADERS, "Date"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    resp
}

/// A successful answer: raw JSON `data` and its annotations.
#[derive(Debug)]
pub(crate) struct Success {
    data: String,
    warnings: Vec<String>,
    infos: Vec<String>,
}

/// `GET /api/v1/autoscale`: the latest decision of every autoscaler the server runs.
async fn autoscale(State(state): State<AppState>) -> Response {
    let data = (state.autoscale)();
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({"status": "success", "data": data}).to_string(),
    )
        .into_response()
}

/// Turns an endpoint's outcome into Prometheus's envelope and status.
fn respond(outcome: Result<Success, ApiError>) -> Response {
    match outcome {
        Ok(s) => (
            [(header::CONTENT_TYPE, "application/json")],
            json::success(&s.data, &s.warnings, &s.infos),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Runs `work` on a blocking thread with the server's storage, so that a slow query or
/// storage read never stalls the async workers.
///
/// The work is expected to stop by itself within `budget` (the engine enforces its
/// timeout); if it has not finished a second after that, the client gets Prometheus's
/// timeout answer and the thread is left to finish on its own.
async fn run_blocking<T: Send + 'static>(
    state: &AppState,
    budget: std::time::Duration,
    work: impl FnOnce(&dyn Queryable) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let storage: Arc<dyn Queryable> = state.storage.clone();
    let task = tokio::task::spawn_blocking(move || work(&*storage));
    let grace = budget.saturating_add(std::time::Duration::from_secs(1));
    match tokio::time::timeout(grace, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(ApiError::new(
            ErrorType::Internal,
            format!("query task failed: {join}"),
        )),
        Err(_) => Err(ApiError::new(
            ErrorType::Timeout,
            "query timed out in expression evaluation",
        )),
    }
}
