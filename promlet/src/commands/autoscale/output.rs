//! A [`Decision`] as JSON: the replicas, the reason, the conditions and the metrics as an
//! `autoscaling/v2` HorizontalPodAutoscaler's status shows them, and the history to give the
//! next decision.

use autoscale::{Decision, History, MetricSpec, MetricStatus, Timestamped};
use exporter::k8s::format::{format_milli, rfc3339_seconds};
use serde_json::{Map, Value, json};

/// The JSON `promlet autoscale decide` prints and `/api/v1/autoscale` serves.
pub(crate) fn decision_json(d: &Decision, current_replicas: i32) -> Value {
    json!({
        "desiredReplicas": d.desired_replicas,
        "currentReplicas": current_replicas,
        "reason": d.reason,
        "conditions": d.conditions.iter().map(|c| json!({
            "type": c.kind,
            "status": if c.status { "True" } else { "False" },
            "reason": c.reason,
            "message": c.message,
        })).collect::<Vec<_>>(),
        "metrics": d.metrics.iter().map(metric_status).collect::<Vec<_>>(),
        "errors": d.errors,
        "history": history_json(&d.history),
    })
}

/// `recommendations`, `scaleUpEvents` and `scaleDownEvents` in the state file's format.
pub(crate) fn history_json(h: &History) -> Value {
    let list = |l: &[Timestamped]| {
        l.iter()
            .map(|t| json!({"replicas": t.replicas, "timestamp": rfc3339_seconds(t.time_ms)}))
            .collect::<Vec<_>>()
    };
    json!({
        "recommendations": list(&h.recommendations),
        "scaleUpEvents": list(&h.scale_up_events),
        "scaleDownEvents": list(&h.scale_down_events),
    })
}

/// `status.currentMetrics[i]` of the HPA.
pub(crate) fn metric_status(m: &MetricStatus) -> Value {
    let mut current = Map::new();
    if let Some(u) = m.average_utilization {
        current.insert("averageUtilization".into(), json!(u));
    }
    if let Some(v) = m.average_value {
        current.insert("averageValue".into(), json!(format_milli(v)));
    }
    if let Some(v) = m.value {
        current.insert("value".into(), json!(format_milli(v)));
    }
    let current = Value::Object(current);
    match &m.spec {
        MetricSpec::Resource { name, .. } => json!({
            "type": "Resource",
            "resource": {"name": name, "current": current},
        }),
        MetricSpec::ContainerResource {
            name, container, ..
        } => json!({
            "type": "ContainerResource",
            "containerResource": {"name": name, "container": container, "current": current},
        }),
        MetricSpec::Pods { metric, .. } => json!({
            "type": "Pods",
            "pods": {"metric": {"name": metric}, "current": current},
        }),
        MetricSpec::Object {
            metric,
            described_object,
            ..
        } => {
            let (kind, name) = described_object
                .split_once('/')
                .unwrap_or(("", described_object));
            json!({
                "type": "Object",
                "object": {
                    "describedObject": {"kind": kind, "name": name},
                    "metric": {"name": metric},
                    "current": current,
                },
            })
        }
        MetricSpec::External { metric, .. } => json!({
            "type": "External",
            "external": {"metric": {"name": metric}, "current": current},
        }),
    }
}
