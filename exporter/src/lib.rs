//! Everything promlet serves over HTTP. [`router`] builds the axum `Router`; the binary owns the
//! listener. Storage is reached only through `model`'s traits and what the caller registers in
//! the metrics registry, never through the tsdb crate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::registry::Registry;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Metrics served at `/metrics`: the caller registers its collectors here.
    pub registry: Arc<Registry>,
    /// Whether the server is ready to serve queries (storage open and recovered).
    pub ready: Arc<AtomicBool>,
}

/// The router with `/-/healthy`, `/-/ready` and `/metrics`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/-/healthy", get(healthy))
        .route("/-/ready", get(ready))
        .route("/metrics", get(metrics))
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

/// The registry in Prometheus text format 0.0.4 (what every Prometheus scrapes).
async fn metrics(State(state): State<AppState>) -> Response {
    let mut body = String::new();
    match prometheus_client::encoding::prometheus_text::encode(&mut body, &state.registry) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            body,
        )
            .into_response(),
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
        router(AppState {
            registry: Arc::new(registry),
            ready: Arc::new(AtomicBool::new(ready)),
        })
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
    }
}
