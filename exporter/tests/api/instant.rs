//! `/api/v1/query`: results, times, parameters and errors.

use serde_json::json;

use crate::{NOW, T0, WEIRD, app, app_with, assert_healthy, enc, get, post};

#[tokio::test]
async fn instant_vector_exact_bytes() {
    let a = get(&app(), "/api/v1/query?query=up&time=1700000000").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.content_type, "application/json");
    assert_eq!(
        a.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a","job":"api"},"value":[1700000000,"1"]},{"metric":{"__name__":"up","instance":"b","job":"api"},"value":[1700000000,"0"]}]}}"#
    );
}

#[tokio::test]
async fn floats_format_as_prometheus() {
    let a = get(&app(), "/api/v1/query?query=weird&time=1700000000").await;
    let data = a.data();
    let result = data["result"].as_array().unwrap();
    let got: Vec<(String, String)> = result
        .iter()
        .map(|s| {
            (
                s["metric"]["kind"].as_str().unwrap().to_string(),
                s["value"][1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = WEIRD
        .iter()
        .zip([
            "1e+21",
            "+Inf",
            "123456789012",
            "NaN",
            "-Inf",
            "0.1",
            "1e-07",
        ])
        .map(|((k, _), v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn scalars_use_f_format_and_float_seconds() {
    for (q, t, want) in [
        ("1e-7", "1700000000.5", r#"[1700000000.5,"0.0000001"]"#),
        ("1e21", "1", r#"[1,"1000000000000000000000"]"#),
        ("-Inf", "1", r#"[1,"-Inf"]"#),
        ("NaN", "1", r#"[1,"NaN"]"#),
        ("0.1", "1", r#"[1,"0.1"]"#),
    ] {
        let a = get(&app(), &format!("/api/v1/query?query={}&time={t}", enc(q))).await;
        assert_eq!(
            a.body,
            format!(r#"{{"status":"success","data":{{"resultType":"scalar","result":{want}}}}}"#),
            "{q}"
        );
    }
}

#[tokio::test]
async fn strings_and_range_vectors() {
    let a = get(
        &app(),
        &format!("/api/v1/query?query={}&time=2", enc(r#""a<b""#)),
    )
    .await;
    assert_eq!(
        a.body,
        r#"{"status":"success","data":{"resultType":"string","result":[2,"a\u003cb"]}}"#
    );
    let q = enc(r#"up{instance="a"}[30s]"#);
    let a = get(&app(), &format!("/api/v1/query?query={q}&time=1700000030")).await;
    assert_eq!(
        a.data(),
        json!({"resultType": "matrix", "result": [{
            "metric": {"__name__": "up", "instance": "a", "job": "api"},
            "values": [[1700000015, "1"], [1700000030, "1"]]
        }]})
    );
}

#[tokio::test]
async fn rfc3339_unix_and_default_times_agree() {
    let app = app();
    let unix = get(&app, "/api/v1/query?query=up&time=1700000000").await;
    let rfc = get(&app, "/api/v1/query?query=up&time=2023-11-14T22:13:20Z").await;
    let offset = get(
        &app,
        &format!(
            "/api/v1/query?query=up&time={}",
            enc("2023-11-14T23:13:20+01:00")
        ),
    )
    .await;
    assert_eq!(unix.body, rfc.body);
    assert_eq!(unix.body, offset.body);
    let frac = get(&app, "/api/v1/query?query=up&time=1700000000.5").await;
    assert_eq!(frac.data()["result"][0]["value"][0], json!(1700000000.5));
    assert!(
        frac.body.contains("[1700000000.500,\"1\"]"),
        "{}",
        frac.body
    );
    let now = get(&app, "/api/v1/query?query=up").await;
    let t = now.data()["result"][0]["value"][0].as_f64().unwrap();
    assert_eq!((t * 1000.0).round() as i64, NOW);
}

#[tokio::test]
async fn post_form_equals_get() {
    let app = app();
    let g = get(&app, "/api/v1/query?query=up&time=1700000000").await;
    let p = post(&app, "/api/v1/query", "query=up&time=1700000000").await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body, p.body);
    // The body wins over the query string, as in Go's Form.
    let p = post(
        &app,
        "/api/v1/query?query=nothing_here&time=5",
        "query=up&time=1700000000",
    )
    .await;
    assert_eq!(g.body, p.body);
}

#[tokio::test]
async fn limit_truncates_with_a_warning() {
    let a = get(&app(), "/api/v1/query?query=up&time=1700000000&limit=1").await;
    let j = a.json();
    assert_eq!(j["data"]["result"].as_array().unwrap().len(), 1);
    assert_eq!(j["warnings"], json!(["results truncated due to limit"]));
    let a = get(&app(), "/api/v1/query?query=up&time=1700000000&limit=2").await;
    assert!(a.json().get("warnings").is_none(), "{}", a.body);
}

#[tokio::test]
async fn parameter_errors_are_bad_data_with_prometheus_texts() {
    let app = app();
    let parse_err = |q: &str| query::parse(q).unwrap_err().to_string();
    for (uri, want) in [
        (
            "/api/v1/query?query=up%7B".to_string(),
            format!("invalid parameter \"query\": {}", parse_err("up{")),
        ),
        (
            "/api/v1/query".to_string(),
            format!("invalid parameter \"query\": {}", parse_err("")),
        ),
        (
            "/api/v1/query?query=up&time=abc".to_string(),
            r#"invalid parameter "time": invalid time value for 'time': cannot parse "abc" to a valid timestamp"#.to_string(),
        ),
        (
            "/api/v1/query?query=up&time=2023-13-01T00:00:00Z".to_string(),
            r#"invalid parameter "time": invalid time value for 'time': cannot parse "2023-13-01T00:00:00Z" to a valid timestamp"#.to_string(),
        ),
        (
            "/api/v1/query?query=up&limit=x".to_string(),
            r#"invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax"#.to_string(),
        ),
        (
            "/api/v1/query?query=up&limit=-1".to_string(),
            r#"invalid parameter "limit": limit must be non-negative"#.to_string(),
        ),
        (
            "/api/v1/query?query=up&timeout=soon".to_string(),
            r#"invalid parameter "timeout": cannot parse "soon" to a valid duration"#.to_string(),
        ),
        (
            "/api/v1/query?query=up&lookback_delta=x".to_string(),
            r#"error parsing lookback delta duration: cannot parse "x" to a valid duration"#.to_string(),
        ),
        // The limit is read first, as in Prometheus.
        (
            "/api/v1/query?query=up%7B&time=abc&limit=x".to_string(),
            r#"invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax"#.to_string(),
        ),
    ] {
        let a = get(&app, &uri).await;
        assert_eq!(a.error(400, "bad_data"), want, "{uri}");
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn too_many_samples_is_an_execution_error_and_the_server_survives() {
    let app = app_with(query::EngineOptions {
        max_samples: 10,
        ..query::EngineOptions::default()
    });
    let q = enc("up[10m]");
    let a = get(
        &app,
        &format!("/api/v1/query?query={q}&time={}", (T0 + 600_000) / 1000),
    )
    .await;
    assert_eq!(
        a.error(422, "execution"),
        "query processing would load too many samples into memory in query execution"
    );
    assert_healthy(&app).await;
    let a = get(&app, "/api/v1/query?query=up&time=1700000000").await;
    assert_eq!(a.data()["result"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_zero_timeout_times_out_and_the_server_survives() {
    let app = app();
    let q = enc("count_over_time(up[1h])");
    let a = get(
        &app,
        &format!("/api/v1/query_range?query={q}&start=1699990000&end=1700000600&step=1&timeout=0"),
    )
    .await;
    let msg = a.error(503, "timeout");
    assert!(msg.contains("timed out"), "{msg}");
    let a = get(
        &app,
        &format!("/api/v1/query?query={q}&time=1700000000&timeout=0s"),
    )
    .await;
    a.error(503, "timeout");
    assert_healthy(&app).await;
    let a = get(&app, "/api/v1/query?query=up&time=1700000000").await;
    assert_eq!(a.data()["result"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn server_timeout_flag_applies_without_a_parameter() {
    let app = app_with(query::EngineOptions {
        timeout: std::time::Duration::ZERO,
        ..query::EngineOptions::default()
    });
    let q = enc("count_over_time(up[1h])");
    let a = get(
        &app,
        &format!("/api/v1/query_range?query={q}&start=1699990000&end=1700000600&step=1"),
    )
    .await;
    a.error(503, "timeout");
    // A longer request timeout does not lengthen the server's.
    let a = get(
        &app,
        &format!("/api/v1/query_range?query={q}&start=1699990000&end=1700000600&step=1&timeout=1h"),
    )
    .await;
    a.error(503, "timeout");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn lookback_delta_parameter_reaches_the_engine() {
    // `up{job="db"}` has one sample an hour before T0: invisible with the default 5m
    // lookback, visible with a 2h one.
    let q = enc(r#"up{job="db"}"#);
    let a = get(&app(), &format!("/api/v1/query?query={q}&time=1700000000")).await;
    assert_eq!(a.data()["result"], json!([]));
    let a = get(
        &app(),
        &format!("/api/v1/query?query={q}&time=1700000000&lookback_delta=2h"),
    )
    .await;
    assert_eq!(a.data()["result"].as_array().unwrap().len(), 1);
}
