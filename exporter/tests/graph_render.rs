//! `/api/v1/render` over a fixed data set, and golden images: each chart is drawn from the
//! same series at the same fixed time and compared with the checked-in PNG pixel by pixel
//! (a pixel differs when a channel differs by more than 24; at most 0.5% may differ), so a
//! change to the drawing is seen. `UPDATE_GOLDEN=1 cargo test -p exporter --test
//! graph_render` rewrites the images after a deliberate change; look at them before
//! committing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use exporter::{AppState, router};
use http_body_util::BodyExt;
use model::{Labels, MemStorage, Sample};
use prometheus_client::registry::Registry;
use query::{Engine, EngineOptions};
use serde_json::Value;
use tower::ServiceExt;

/// 2026-09-21T13:20:00Z: the end of every range here.
const END_S: i64 = 1_790_000_000;
const END: i64 = END_S * 1000;

/// An hour of data at 15 s: two memory series (one with a 10-minute hole), a CPU-like
/// counter per mode, and 14 `temperature` series.
fn app() -> Router {
    let db = MemStorage::new();
    let add = |pairs: &[(&str, &str)], f: &dyn Fn(i64) -> Option<f64>| {
        let samples: Vec<Sample> = (0..=240)
            .filter_map(|i| {
                let t = END - 3_600_000 + i * 15_000;
                f(i).map(|v| Sample::new(t, v))
            })
            .collect();
        db.add_series(&Labels::from_pairs(pairs).unwrap(), &samples)
            .unwrap();
    };
    for (inst, base) in [("a:9100", 2.0), ("b:9100", 3.0)] {
        add(
            &[
                ("__name__", "node_memory_Active_bytes"),
                ("job", "node"),
                ("instance", inst),
            ],
            &|i| {
                let hole = inst == "b:9100" && (100..140).contains(&i);
                (!hole).then(|| (base + (i as f64 / 30.0).sin()) * 1024.0 * 1024.0 * 1024.0)
            },
        );
    }
    for s in 0..14 {
        let sensor = format!("s{s:02}");
        add(&[("__name__", "temperature"), ("sensor", &sensor)], &|i| {
            Some(20.0 + f64::from(s) + (i as f64 / 20.0).cos())
        });
    }
    let engine = Engine::new(EngineOptions::default());
    let mut state = AppState::new(Arc::new(Registry::default()), Arc::new(db), engine);
    state.clock = Arc::new(|| END);
    router(state)
}

async fn get(uri: &str) -> (StatusCode, String, Vec<u8>) {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let resp = app().oneshot(req).await.unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, ctype, body)
}

fn render_uri(query: &str, extra: &str) -> String {
    let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    format!(
        "/api/v1/render?query={q}&start={}&end={END_S}&step=15s{extra}",
        END_S - 3600
    )
}

/// Compares `png` with `golden/graph/<name>.png` (or writes it with `UPDATE_GOLDEN=1`).
fn assert_golden(name: &str, png: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/graph")
        .join(format!("{name}.png"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, png).unwrap();
        return;
    }
    let want = image::load_from_memory(
        &std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display())),
    )
    .unwrap()
    .to_rgb8();
    let got = image::load_from_memory(png).unwrap().to_rgb8();
    assert_eq!(got.dimensions(), want.dimensions(), "{name}: size");
    let differing = got
        .pixels()
        .zip(want.pixels())
        .filter(|(a, b)| a.0.iter().zip(b.0).any(|(x, y)| x.abs_diff(y) > 24))
        .count();
    let total = (got.width() * got.height()) as usize;
    assert!(
        differing * 200 <= total,
        "{name}: {differing} of {total} pixels differ from {} (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

#[tokio::test]
async fn bytes_with_a_gap_match_the_golden_image() {
    let (status, ctype, png) = get(&render_uri("node_memory_Active_bytes", "")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&png));
    assert_eq!(ctype, "image/png");
    assert_golden("memory_bytes_gap", &png);
}

#[tokio::test]
async fn too_many_series_are_cut_to_the_top_ten_with_a_note() {
    let (status, _, svg) = get(&render_uri("temperature", "&format=svg")).await;
    assert_eq!(status, StatusCode::OK);
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("top 10 of 14 series by average"), "{svg}");
    // The hottest sensors are kept, the coolest dropped; legends show only `sensor`.
    assert!(
        svg.contains("{sensor=&quot;s13&quot;}") || svg.contains("{sensor=\"s13\"}"),
        "{svg}"
    );
    assert!(!svg.contains("s00"), "{svg}");
    let (_, _, png) = get(&render_uri("temperature", "&width=600&height=300")).await;
    assert_golden("temperature_top10", &png);
}

#[tokio::test]
async fn an_empty_result_draws_no_data() {
    let (status, ctype, png) = get(&render_uri("absent_metric", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "image/png");
    assert_golden("no_data", &png);
}

#[tokio::test]
async fn bad_requests_get_prometheus_json_errors() {
    for (uri, param) in [
        (render_uri("sum(", ""), ""),
        (render_uri("up", "&format=gif"), "format"),
        (render_uri("up", "&width=5"), "width"),
        ("/api/v1/render".to_string(), "query"),
    ] {
        let (status, ctype, body) = get(&uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(ctype, "application/json", "{uri}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], "error");
        assert_eq!(v["errorType"], "bad_data");
        assert!(v["error"].as_str().unwrap().contains(param), "{uri}: {v}");
    }
}
