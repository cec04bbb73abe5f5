//! `/api/v1/series`, `labels`, `label/{name}/values`, `metadata`, `status/buildinfo` and the
//! readiness gate. None of these needs the query engine.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::json;

use crate::{app, assert_healthy, enc, get, post, storage};

fn up(instance: &str, job: &str) -> serde_json::Value {
    json!({"__name__": "up", "instance": instance, "job": job})
}

#[tokio::test]
async fn series_get_and_post_with_several_matchers() {
    let app = app();
    let m1 = enc(r#"up{job="api"}"#);
    let m2 = enc(r#"{__name__="up",instance=~"a|c"}"#);
    let a = get(
        &app,
        &format!("/api/v1/series?match[]={m1}&match%5B%5D={m2}"),
    )
    .await;
    assert_eq!(
        a.data(),
        json!([up("a", "api"), up("b", "api"), up("c", "db")]),
        "union, sorted, without duplicates"
    );
    let p = post(
        &app,
        "/api/v1/series",
        &format!("match[]={m1}&match[]={m2}"),
    )
    .await;
    assert_eq!(p.body, a.body);
    assert_eq!(
        a.body,
        r#"{"status":"success","data":[{"__name__":"up","instance":"a","job":"api"},{"__name__":"up","instance":"b","job":"api"},{"__name__":"up","instance":"c","job":"db"}]}"#
    );
}

#[tokio::test]
async fn series_time_range_and_limit() {
    let app = app();
    let m = enc("up");
    // `up{job="db"}` has its only sample an hour before T0.
    let a = get(
        &app,
        &format!("/api/v1/series?match[]={m}&start=1700000000"),
    )
    .await;
    assert_eq!(a.data(), json!([up("a", "api"), up("b", "api")]));
    let a = get(
        &app,
        &format!("/api/v1/series?match[]={m}&start=2023-11-14T20:00:00Z&end=2023-11-14T21:30:00Z"),
    )
    .await;
    assert_eq!(a.data(), json!([up("c", "db")]));
    let a = get(&app, &format!("/api/v1/series?match[]={m}&limit=2")).await;
    let j = a.json();
    assert_eq!(j["data"], json!([up("a", "api"), up("b", "api")]));
    assert_eq!(j["warnings"], json!(["results truncated due to limit"]));
}

#[tokio::test]
async fn series_errors() {
    let app = app();
    let a = get(&app, "/api/v1/series").await;
    assert_eq!(a.error(400, "bad_data"), "no match[] parameter provided");
    let parse_err = query::parse("up{").unwrap_err().to_string();
    let a = get(&app, &format!("/api/v1/series?match[]={}", enc("up{"))).await;
    assert_eq!(
        a.error(400, "bad_data"),
        format!("invalid parameter \"match[]\": {parse_err}")
    );
    let a = get(
        &app,
        &format!("/api/v1/series?match[]={}", enc("rate(up[5m])")),
    )
    .await;
    assert!(
        a.error(400, "bad_data")
            .starts_with("invalid parameter \"match[]\": 1:1: parse error:")
    );
    let a = get(
        &app,
        &format!("/api/v1/series?match[]={}", enc(r#"{job=~".*"}"#)),
    )
    .await;
    assert_eq!(
        a.error(400, "bad_data"),
        r#"invalid parameter "match[]": match[] must contain at least one non-empty matcher"#
    );
    let a = get(
        &app,
        &format!("/api/v1/labels?match[]={}", enc(r#"{job=""}"#)),
    )
    .await;
    assert_eq!(
        a.error(400, "bad_data"),
        "match[] must contain at least one non-empty matcher"
    );
    let a = get(&app, "/api/v1/series?match[]=up&start=x").await;
    assert_eq!(
        a.error(400, "bad_data"),
        r#"invalid parameter "start": invalid time value for 'start': cannot parse "x" to a valid timestamp"#
    );
    let a = get(&app, "/api/v1/series?match[]=up&end=x").await;
    assert_eq!(
        a.error(400, "bad_data"),
        r#"invalid parameter "end": invalid time value for 'end': cannot parse "x" to a valid timestamp"#
    );
    let a = get(&app, "/api/v1/series?match[]=up&limit=x").await;
    assert_eq!(
        a.error(400, "bad_data"),
        r#"invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax"#
    );
    assert_healthy(&app).await;
}

#[tokio::test]
async fn label_names() {
    let app = app();
    let a = get(&app, "/api/v1/labels").await;
    assert_eq!(a.data(), json!(["__name__", "instance", "job", "kind"]));
    let p = post(&app, "/api/v1/labels", "").await;
    assert_eq!(p.body, a.body);
    let a = get(&app, &format!("/api/v1/labels?match[]={}", enc("weird"))).await;
    assert_eq!(a.data(), json!(["__name__", "kind"]));
    let a = post(
        &app,
        "/api/v1/labels",
        &format!("match[]={}&match[]=weird", enc(r#"up{job="db"}"#)),
    )
    .await;
    assert_eq!(a.data(), json!(["__name__", "instance", "job", "kind"]));
    let a = get(&app, "/api/v1/labels?start=1800000000").await;
    assert_eq!(a.data(), json!([]));
    let a = get(&app, "/api/v1/labels?limit=1").await;
    let j = a.json();
    assert_eq!(j["data"], json!(["__name__"]));
    assert_eq!(j["warnings"], json!(["results truncated due to limit"]));
    // A bad match[] is reported bare here, unlike /series.
    let parse_err = query::parse("up{").unwrap_err().to_string();
    let a = get(&app, &format!("/api/v1/labels?match[]={}", enc("up{"))).await;
    assert_eq!(a.error(400, "bad_data"), parse_err);
}

#[tokio::test]
async fn label_values() {
    let app = app();
    let a = get(&app, "/api/v1/label/job/values").await;
    assert_eq!(a.body, r#"{"status":"success","data":["api","db"]}"#);
    let a = get(&app, "/api/v1/label/instance/values?start=1700000000").await;
    assert_eq!(a.data(), json!(["a", "b"]));
    let a = get(
        &app,
        &format!(
            "/api/v1/label/instance/values?match[]={}",
            enc(r#"up{job="db"}"#)
        ),
    )
    .await;
    assert_eq!(a.data(), json!(["c"]));
    let a = get(&app, "/api/v1/label/__name__/values").await;
    assert_eq!(a.data(), json!(["up", "weird"]));
    let a = get(&app, "/api/v1/label/nope/values").await;
    assert_eq!(a.data(), json!([]));
    let a = get(&app, "/api/v1/label/U__k_69_nd/values?limit=2").await;
    let j = a.json();
    assert_eq!(j["data"], json!(["big", "inf"]));
    assert_eq!(j["warnings"], json!(["results truncated due to limit"]));
    let a = get(&app, "/api/v1/label/job/values?end=x").await;
    assert_eq!(
        a.error(400, "bad_data"),
        r#"invalid parameter "end": invalid time value for 'end': cannot parse "x" to a valid timestamp"#
    );
    let a = post(&app, "/api/v1/label/job/values", "").await;
    assert_eq!(a.status, 405, "Prometheus accepts only GET here");
}

#[tokio::test]
async fn metadata_is_empty_but_checks_its_parameters() {
    let app = app();
    let a = get(
        &app,
        "/api/v1/metadata?limit=5&limit_per_metric=1&metric=up",
    )
    .await;
    assert_eq!(a.body, r#"{"status":"success","data":{}}"#);
    let a = get(&app, "/api/v1/metadata?limit=x").await;
    assert_eq!(a.error(400, "bad_data"), "limit must be a number");
    let a = get(&app, "/api/v1/metadata?limit_per_metric=1.5").await;
    assert_eq!(
        a.error(400, "bad_data"),
        "limit_per_metric must be a number"
    );
}

#[tokio::test]
async fn buildinfo_has_prometheus_fields() {
    let a = get(&app(), "/api/v1/status/buildinfo").await;
    let d = a.data();
    assert_eq!(d["version"], env!("CARGO_PKG_VERSION"));
    for key in ["revision", "branch", "buildUser", "buildDate", "goVersion"] {
        assert!(d[key].is_string(), "{key} in {}", a.body);
    }
}

#[tokio::test]
async fn api_waits_for_readiness() {
    let mut state = exporter::AppState::new(
        Arc::new(prometheus_client::registry::Registry::default()),
        storage(),
        query::Engine::default(),
    );
    state.ready = Arc::new(AtomicBool::new(false));
    let app = exporter::router(state);
    let a = get(&app, "/api/v1/labels").await;
    assert_eq!(a.status, 503);
    assert_eq!(a.body, "Service Unavailable");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn options_and_cors_as_prometheus() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    let app = app();
    for method in ["OPTIONS", "GET"] {
        let req = Request::builder()
            .method(method)
            .uri("/api/v1/labels")
            .header("Origin", "http://grafana.example")
            .body(Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        let want = if method == "OPTIONS" { 204 } else { 200 };
        assert_eq!(resp.status(), want, "{method}");
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], "*", "{method}");
        assert_eq!(h["access-control-allow-methods"], "GET, POST, OPTIONS");
        assert_eq!(h["vary"], "Origin");
    }
    let req = Request::get("/api/v1/labels").body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    assert_eq!(resp.headers()["vary"], "Origin");
}
