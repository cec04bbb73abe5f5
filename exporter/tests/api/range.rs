//! `/api/v1/query_range`: results, steps, limits and errors.

use serde_json::json;

use crate::{app, assert_healthy, enc, get, post};

#[tokio::test]
async fn range_matrix_exact_bytes() {
    let q = enc(r#"up{instance="b"}"#);
    let a = get(
        &app(),
        &format!("/api/v1/query_range?query={q}&start=1700000000&end=1700000030&step=15s"),
    )
    .await;
    assert_eq!(
        a.body,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","instance":"b","job":"api"},"values":[[1700000000,"0"],[1700000015,"0"],[1700000030,"0"]]}]}}"#
    );
}

#[tokio::test]
async fn steps_as_floats_and_durations_and_times_as_rfc3339() {
    let app = app();
    let q = enc(r#"up{instance="a"}"#);
    let float = get(
        &app,
        &format!("/api/v1/query_range?query={q}&start=1700000000&end=1700000001&step=0.5"),
    )
    .await;
    let dur = get(
        &app,
        &format!(
            "/api/v1/query_range?query={q}&start=2023-11-14T22:13:20Z&end=2023-11-14T22:13:21Z&step=500ms"
        ),
    )
    .await;
    assert_eq!(float.body, dur.body);
    assert_eq!(
        float.data()["result"][0]["values"],
        json!([[1700000000, "1"], [1700000000.5, "1"], [1700000001, "1"]])
    );
    assert!(
        float.body.contains("[1700000000.500,\"1\"]"),
        "{}",
        float.body
    );
    let p = post(
        &app,
        "/api/v1/query_range",
        &format!("query={q}&start=1700000000&end=1700000001&step=0.5"),
    )
    .await;
    assert_eq!(p.body, float.body);
}

#[tokio::test]
async fn scalar_range_and_limit() {
    let app = app();
    let a = get(&app, "/api/v1/query_range?query=2&start=0&end=1&step=1").await;
    assert_eq!(
        a.data(),
        json!({"resultType": "matrix", "result": [{"metric": {}, "values": [[0, "2"], [1, "2"]]}]})
    );
    let a = get(
        &app,
        "/api/v1/query_range?query=up&start=1700000000&end=1700000030&step=15&limit=1",
    )
    .await;
    let j = a.json();
    assert_eq!(j["data"]["result"].as_array().unwrap().len(), 1);
    assert_eq!(j["warnings"], json!(["results truncated due to limit"]));
}

#[tokio::test]
async fn range_errors_use_prometheus_texts() {
    let app = app();
    let parse_err = query::parse("up{").unwrap_err().to_string();
    for (params, want) in [
        (
            "query=up&end=10&step=1".to_string(),
            r#"invalid parameter "start": cannot parse "" to a valid timestamp"#.to_string(),
        ),
        (
            "query=up&start=x&end=10&step=1".to_string(),
            r#"invalid parameter "start": cannot parse "x" to a valid timestamp"#.to_string(),
        ),
        (
            "query=up&start=10&end=1e&step=1".to_string(),
            r#"invalid parameter "end": cannot parse "1e" to a valid timestamp"#.to_string(),
        ),
        (
            "query=up&start=10&end=9.999&step=1".to_string(),
            r#"invalid parameter "end": end timestamp must not be before start time"#.to_string(),
        ),
        (
            "query=up&start=10&end=20&step=x".to_string(),
            r#"invalid parameter "step": cannot parse "x" to a valid duration"#.to_string(),
        ),
        (
            "query=up&start=10&end=20".to_string(),
            r#"invalid parameter "step": cannot parse "" to a valid duration"#.to_string(),
        ),
        (
            "query=up&start=10&end=20&step=0".to_string(),
            r#"invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer"#.to_string(),
        ),
        (
            "query=up&start=10&end=20&step=-5s".to_string(),
            r#"invalid parameter "step": cannot parse "-5s" to a valid duration"#.to_string(),
        ),
        (
            "query=up&start=10&end=20&step=-5".to_string(),
            r#"invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer"#.to_string(),
        ),
        (
            "query=up&start=0&end=11001&step=1".to_string(),
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".to_string(),
        ),
        (
            "query=up&start=0&end=1d&step=1".to_string(),
            r#"invalid parameter "end": cannot parse "1d" to a valid timestamp"#.to_string(),
        ),
        (
            format!("query={}&start=0&end=10&step=1", enc("up[5m]")),
            r#"invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector"#.to_string(),
        ),
        (
            format!("query={}&start=0&end=10&step=1", enc("\"s\"")),
            r#"invalid parameter "query": invalid expression type "string" for range query, must be Scalar or instant Vector"#.to_string(),
        ),
        (
            format!("query={}&start=0&end=10&step=1", enc("up{")),
            format!("invalid parameter \"query\": {parse_err}"),
        ),
        (
            "query=up&start=0&end=10&step=1&timeout=x".to_string(),
            r#"invalid parameter "timeout": cannot parse "x" to a valid duration"#.to_string(),
        ),
    ] {
        let a = get(&app, &format!("/api/v1/query_range?{params}")).await;
        assert_eq!(a.error(400, "bad_data"), want, "{params}");
        let p = post(&app, "/api/v1/query_range", &params).await;
        assert_eq!(p.body, a.body, "POST {params}");
    }
    // Exactly 11,000 steps is allowed.
    let a = get(&app, "/api/v1/query_range?query=1&start=0&end=11000&step=1").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_healthy(&app).await;
}
