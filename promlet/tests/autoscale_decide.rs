//! `promlet autoscale decide --input STATE.json` from state files made of Kubernetes objects
//! as `kubectl get -o json` prints them: the decision, its reason, the metrics as the HPA
//! status shows them, the history for the next decision, and errors that name the field.
//!
//! The base state is horizontal_test.go's TestScaleUp (requests 1 core, usage 300m, 500m,
//! 700m, target 30%: 5 replicas); the other cases change one thing in it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use serde_json::{Value, json};

fn base() -> Value {
    let text = include_str!("fixtures/autoscale/scale-up.json");
    serde_json::from_str(text).unwrap()
}

/// Runs `decide` on `state`: (success, stdout as JSON or Null, stderr).
fn decide(state: &Value) -> (bool, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, serde_json::to_string_pretty(state).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .args(["autoscale", "decide", "--input"])
        .arg(&path)
        .output()
        .expect("promlet runs");
    let stdout = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        stdout,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn scales_up_as_the_hpa_does_and_shows_its_metrics() {
    let (ok, d, err) = decide(&base());
    assert!(ok, "{err}");
    assert_eq!(d["desiredReplicas"], 5);
    assert_eq!(d["currentReplicas"], 3);
    assert_eq!(d["reason"], "DesiredWithinRange");
    assert_eq!(
        d["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": 50, "averageValue": "500m"}}}])
    );
    let conditions: Vec<&str> = d["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        conditions,
        ["AbleToScale", "ScalingActive", "ScalingLimited"]
    );
    // No recommendations in the state: the controller's first sight of this HPA, which
    // seeds the current replicas before recording the new recommendation.
    assert_eq!(
        d["history"]["recommendations"],
        json!([
            {"replicas": 3, "timestamp": "2026-01-01T00:10:00Z"},
            {"replicas": 5, "timestamp": "2026-01-01T00:10:00Z"}
        ])
    );
}

#[test]
fn max_replicas_limit_the_decision() {
    let mut s = base();
    s["hpa"]["spec"]["maxReplicas"] = json!(4);
    let (ok, d, err) = decide(&s);
    assert!(ok, "{err}");
    assert_eq!(d["desiredReplicas"], 4);
    assert_eq!(d["reason"], "TooManyReplicas");
}

#[test]
fn a_higher_recent_recommendation_stabilizes_a_scale_down() {
    let mut s = base();
    // 100m per pod: 10% against 30% would be 1 replica (min 2).
    for pm in s["podMetrics"].as_array_mut().unwrap() {
        pm["containers"][0]["usage"]["cpu"] = json!("100m");
    }
    s["recommendations"] = json!([{"replicas": 3, "timestamp": "2026-01-01T00:08:00Z"}]);
    let (ok, d, err) = decide(&s);
    assert!(ok, "{err}");
    assert_eq!(d["desiredReplicas"], 3);
    assert_eq!(d["reason"], "ScaleDownStabilized");
    // Six minutes later the recommendation has left the 5-minute window.
    s["now"] = json!("2026-01-01T00:14:01Z");
    let (_, d, _) = decide(&s);
    assert_eq!(d["desiredReplicas"], 2);
    assert_eq!(d["reason"], "TooFewReplicas");
}

#[test]
fn behavior_policies_limit_the_rate() {
    let mut s = base();
    s["hpa"]["spec"]["maxReplicas"] = json!(100);
    s["hpa"]["spec"]["behavior"] =
        json!({"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}});
    let (ok, d, err) = decide(&s);
    assert!(ok, "{err}");
    assert_eq!(d["desiredReplicas"], 4);
    assert_eq!(d["reason"], "ScaleUpLimit");
    assert_eq!(
        d["history"]["scaleUpEvents"],
        json!([{"replicas": 1, "timestamp": "2026-01-01T00:10:00Z"}])
    );
}

#[test]
fn a_metric_missing_from_the_state_is_a_failed_metric() {
    let mut s = base();
    s["hpa"]["spec"]["metrics"].as_array_mut().unwrap().push(
        json!({"type": "External", "external": {"metric": {"name": "queue_depth"},
            "target": {"type": "Value", "value": "10"}}}),
    );
    let (ok, d, err) = decide(&s);
    assert!(ok, "{err}");
    // Scales on the valid metric (TestScaleUpOneMetricEmpty), and reports the other.
    assert_eq!(d["desiredReplicas"], 5);
    let errors = d["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].as_str().unwrap().contains("queue_depth"),
        "{errors:?}"
    );
}

#[test]
fn malformed_input_names_the_field() {
    let mut s = base();
    s["hpa"]["spec"]["maxReplicas"] = json!("six");
    let (ok, _, err) = decide(&s);
    assert!(!ok);
    assert!(err.contains("hpa.spec.maxReplicas"), "{err}");

    let mut s = base();
    s["podMetrics"][1]["containers"][0]["usage"]["cpu"] = json!("lots");
    let (ok, _, err) = decide(&s);
    assert!(!ok);
    assert!(
        err.contains("podMetrics[1].containers[0].usage.cpu"),
        "{err}"
    );

    let mut s = base();
    s["hpa"]["spec"]["metrics"][0]["resource"]["target"]["type"] = json!("Average");
    let (ok, _, err) = decide(&s);
    assert!(!ok);
    assert!(
        err.contains("hpa.spec.metrics[0].resource.target.type"),
        "{err}"
    );

    let mut s = base();
    s["surprise"] = json!(1);
    let (ok, _, err) = decide(&s);
    assert!(!ok);
    assert!(err.contains("surprise"), "{err}");
}
