//! Prometheus's HTTP API over an in-memory storage, through the router without a socket.
//!
//! Tests whose answers need evaluation depend on the query engine; parameter checks, label
//! endpoints and error classes do not.

#![allow(clippy::unwrap_used)]

mod blocking;
mod instant;
mod labels;
mod range;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use exporter::{AppState, router};
use http_body_util::BodyExt;
use model::{Labels, MemStorage, Sample};
use prometheus_client::registry::Registry;
use query::{Engine, EngineOptions};
use serde_json::Value as Json;
use tower::ServiceExt;

/// 2023-11-14T22:13:20Z, where the fixture's samples start.
pub(crate) const T0: i64 = 1_700_000_000_000;

/// The fixed "now" of the test server: ten seconds after [`T0`].
pub(crate) const NOW: i64 = T0 + 10_000;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs).unwrap()
}

/// The fixture:
/// * `up{job="api",instance="a"}` 1 and `up{job="api",instance="b"}` 0 every 15 s from `T0`
///   for ten minutes (41 samples each);
/// * `up{job="db",instance="c"}` 1 only at `T0 - 1h`;
/// * `weird{kind=...}` at `T0` with values that test float formatting.
pub(crate) fn storage() -> Arc<MemStorage> {
    let db = MemStorage::new();
    for (instance, v) in [("a", 1.0), ("b", 0.0)] {
        let samples: Vec<Sample> = (0..=40).map(|i| Sample::new(T0 + i * 15_000, v)).collect();
        db.add_series(
            &labels(&[("__name__", "up"), ("instance", instance), ("job", "api")]),
            &samples,
        )
        .unwrap();
    }
    db.add_series(
        &labels(&[("__name__", "up"), ("instance", "c"), ("job", "db")]),
        &[Sample::new(T0 - 3_600_000, 1.0)],
    )
    .unwrap();
    for (kind, v) in WEIRD {
        db.add_series(
            &labels(&[("__name__", "weird"), ("kind", kind)]),
            &[Sample::new(T0, v)],
        )
        .unwrap();
    }
    Arc::new(db)
}

/// `weird`'s series, in label order, with their values.
pub(crate) const WEIRD: [(&str, f64); 7] = [
    ("big", 1e21),
    ("inf", f64::INFINITY),
    ("large", 123_456_789_012.0),
    ("nan", f64::NAN),
    ("neg", f64::NEG_INFINITY),
    ("tenth", 0.1),
    ("tiny", 1e-7),
];

/// The router over the fixture with `opts`.
pub(crate) fn app_with(opts: EngineOptions) -> Router {
    let mut state = AppState::new(Arc::new(Registry::default()), storage(), Engine::new(opts));
    state.clock = Arc::new(|| NOW);
    router(state)
}

/// The router over the fixture with the default engine settings.
pub(crate) fn app() -> Router {
    app_with(EngineOptions::default())
}

/// A response's status, content type and body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) content_type: String,
    pub(crate) body: String,
}

impl Answer {
    /// The body as JSON.
    pub(crate) fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts a Prometheus error answer and returns its message.
    pub(crate) fn error(&self, status: u16, error_type: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.content_type, "application/json");
        let j = self.json();
        assert_eq!(j["status"], "error", "{}", self.body);
        assert_eq!(j["errorType"], error_type, "{}", self.body);
        assert!(j.get("data").is_none(), "{}", self.body);
        j["error"].as_str().unwrap().to_string()
    }

    /// Asserts a success answer and returns its `data`.
    pub(crate) fn data(&self) -> Json {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.content_type, "application/json");
        let j = self.json();
        assert_eq!(j["status"], "success", "{}", self.body);
        j["data"].clone()
    }
}

async fn send(app: Router, req: Request<Body>) -> Answer {
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// `GET uri`.
pub(crate) async fn get(app: &Router, uri: &str) -> Answer {
    send(app.clone(), Request::get(uri).body(Body::empty()).unwrap()).await
}

/// `POST path` with a form-encoded body.
pub(crate) async fn post(app: &Router, path: &str, form: &str) -> Answer {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    send(app.clone(), req).await
}

/// Percent-encodes a parameter value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/-/healthy` answers 200: the server survived whatever came before.
pub(crate) async fn assert_healthy(app: &Router) {
    let a = get(app, "/-/healthy").await;
    assert_eq!(a.status, StatusCode::OK);
}
