//! §5B: controller-level vectors (`horizontal_test.go`) through [`autoscale::decide`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use autoscale::{Decision, History, Metrics, Pod, decide};
use common::*;

/// The condition of `kind`: `(status, reason)`.
fn cond(d: &Decision, kind: &str) -> Option<(bool, &'static str)> {
    d.conditions
        .iter()
        .find(|c| c.kind == kind)
        .map(|c| (c.status, c.reason))
}

/// A legacy decision on cpu at `target` % over pods with `requests` and `usage`.
fn cpu_decision(
    min: i32,
    max: i32,
    current: i32,
    requests: &[i64],
    usage: &[i64],
    target: i32,
    history: History,
) -> Decision {
    let metrics = resource_metrics(cpu_all(usage));
    decide(&input(
        spec(min, max, vec![cpu(target)]),
        current,
        pods(requests),
        metrics,
        history,
    ))
}

#[test]
fn b01_scale_up() {
    let d = cpu_decision(
        2,
        6,
        3,
        &[1000; 3],
        &[300, 500, 700],
        30,
        History::default(),
    );
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(d.metrics[0].average_utilization, Some(50));
    assert_eq!(d.metrics[0].average_value, Some(500));
    assert_eq!(cond(&d, "AbleToScale"), Some((true, "ReadyForNewScale")));
    assert_eq!(cond(&d, "ScalingActive"), Some((true, "ValidMetricFound")));
    assert_eq!(
        cond(&d, "ScalingLimited"),
        Some((false, "DesiredWithinRange"))
    );
    assert_eq!(d.reason, "DesiredWithinRange");
    let active = d
        .conditions
        .iter()
        .find(|c| c.kind == "ScalingActive")
        .unwrap();
    assert_eq!(
        active.message,
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"
    );
}

#[test]
fn b02_min_replicas() {
    let d = cpu_decision(
        2,
        5,
        3,
        &[900, 1000, 1100],
        &[10, 95, 10],
        90,
        stale_history(),
    );
    assert_eq!(d.desired_replicas, 2);
    assert_eq!(cond(&d, "ScalingLimited"), Some((true, "TooFewReplicas")));
    assert_eq!(d.reason, "TooFewReplicas");
    assert_eq!(d.metrics[0].average_utilization, Some(3));
}

#[test]
fn b03_zero_min_replicas_desired_zero() {
    let d = cpu_decision(0, 5, 3, &[1000; 3], &[0, 0, 0], 90, stale_history());
    assert_eq!(d.desired_replicas, 0);
    assert_eq!(
        cond(&d, "ScalingLimited"),
        Some((false, "DesiredWithinRange"))
    );
}

#[test]
fn b04_zero_replicas() {
    let d = cpu_decision(3, 5, 0, &[], &[], 90, History::default());
    assert_eq!(d.desired_replicas, 0);
    assert_eq!(cond(&d, "ScalingActive"), Some((false, "ScalingDisabled")));
    assert_eq!(d.reason, "ScalingDisabled");
}

#[test]
fn b05_too_few_replicas() {
    let d = cpu_decision(3, 5, 2, &[], &[], 90, History::default());
    assert_eq!(d.desired_replicas, 3);
    assert_eq!(d.reason, "TooFewReplicas");
}

#[test]
fn b05_too_many_replicas() {
    let d = cpu_decision(3, 5, 10, &[], &[], 90, History::default());
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(d.reason, "TooManyReplicas");
}

#[test]
fn b06_max_replicas() {
    let d = cpu_decision(
        2,
        5,
        3,
        &[900, 1000, 1100],
        &[8000, 9500, 1000],
        90,
        History::default(),
    );
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(cond(&d, "ScalingLimited"), Some((true, "TooManyReplicas")));
    assert_eq!(d.reason, "TooManyReplicas");
}

#[test]
fn b07_superfluous_metrics() {
    let mut usage = cpu_all(&[4000, 9500, 3000, 7000]);
    usage.insert(name(4), usage_of("cpu", 3200));
    usage.insert(name(5), usage_of("cpu", 2000));
    let i = input(
        spec(2, 6, vec![cpu(100)]),
        4,
        pods(&[1000; 4]),
        resource_metrics(usage),
        History::default(),
    );
    let d = decide(&i);
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(d.metrics[0].average_utilization, Some(587));
    assert_eq!(d.reason, "TooManyReplicas");
}

#[test]
fn b09_scale_up_one_metric_empty() {
    let metrics = resource_metrics(cpu_all(&[300, 400, 500]));
    let s = spec(2, 6, vec![cpu(30), external("qps", 100)]);
    let d = decide(&input(s, 3, pods(&[1000; 3]), metrics, History::default()));
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(cond(&d, "ScalingActive"), Some((true, "ValidMetricFound")));
    assert_eq!(d.metrics.len(), 1);
    assert_eq!(
        d.errors,
        vec![
            "failed to get qps external metric value: failed to get external metric qps: unable to get external metric qps: no metrics returned from external metrics API"
                .to_string()
        ]
    );
}

/// Five pods scaling down on cpu 50% (to 3) next to a broken External metric.
fn no_scale_down(series: Option<Vec<i64>>) -> Decision {
    let mut metrics = resource_metrics(cpu_all(&[100, 300, 500, 250, 250]));
    if let Some(s) = series {
        metrics.external.insert("qps".to_string(), s);
    }
    let s = spec(2, 6, vec![cpu(50), external("qps", 1000)]);
    decide(&input(s, 5, pods(&[1000; 5]), metrics, stale_history()))
}

#[test]
fn b10_no_scale_down_one_metric_invalid_or_empty() {
    for series in [None, Some(Vec::new())] {
        let d = no_scale_down(series);
        assert_eq!(d.desired_replicas, 5);
        assert_eq!(
            cond(&d, "ScalingActive"),
            Some((false, "FailedGetExternalMetric"))
        );
        assert_eq!(d.reason, "FailedGetExternalMetric");
        assert_eq!(d.errors.len(), 1);
    }
}

#[test]
fn b10_valid_metrics_alone_do_scale_down() {
    let d = no_scale_down(Some(vec![100]));
    assert_eq!(d.desired_replicas, 3);
    assert!(d.errors.is_empty());
}

#[test]
fn all_metrics_failing_reports_the_first_failure() {
    let s = spec(1, 6, vec![cpu(50), external("qps", 1000)]);
    let d = decide(&input(
        s,
        3,
        pods(&[1000; 3]),
        Metrics::default(),
        History::default(),
    ));
    assert_eq!(d.desired_replicas, 3);
    assert_eq!(d.reason, "FailedGetResourceMetric");
    let active = d
        .conditions
        .iter()
        .find(|c| c.kind == "ScalingActive")
        .unwrap();
    assert_eq!(
        active.message,
        "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
    assert_eq!(
        d.errors[0],
        "failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
    assert_eq!(d.errors.len(), 2);
}

#[test]
fn failure_reasons_per_source() {
    use autoscale::{MetricSpec, Target};
    let cases = [
        (
            MetricSpec::ContainerResource {
                name: "cpu".into(),
                container: "c".into(),
                target: Target::Utilization(50),
            },
            "FailedGetContainerResourceMetric",
        ),
        (
            MetricSpec::Pods {
                metric: "qps".into(),
                target: Target::AverageValue(10),
            },
            "FailedGetPodsMetric",
        ),
        (
            MetricSpec::Object {
                metric: "hits".into(),
                described_object: "Service/web".into(),
                target: Target::Value(10),
            },
            "FailedGetObjectMetric",
        ),
        (
            MetricSpec::External {
                metric: "q".into(),
                target: Target::AverageValue(10),
            },
            "FailedGetExternalMetric",
        ),
    ];
    for (metric, reason) in cases {
        let d = decide(&input(
            spec(1, 6, vec![metric]),
            3,
            pods(&[1000; 3]),
            Metrics::default(),
            History::default(),
        ));
        assert_eq!((d.desired_replicas, d.reason), (3, reason));
    }
}

#[test]
fn empty_metrics_default_to_cpu_80() {
    let d = cpu_decision_default();
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(d.metrics[0].average_utilization, Some(100));
}

/// Three pods at 100% of their request with no metric in the spec (cpu 80% by default):
/// 100/80 = 1.25 → ceil(3.75) = 4.
fn cpu_decision_default() -> Decision {
    let metrics = resource_metrics(cpu_all(&[1000, 1000, 1000]));
    decide(&input(
        spec(1, 10, Vec::new()),
        3,
        pods(&[1000; 3]),
        metrics,
        History::default(),
    ))
}

#[test]
fn invalid_spec_is_an_error_not_a_panic() {
    let d = cpu_decision(5, 2, 3, &[1000; 3], &[100; 3], 50, History::default());
    assert_eq!(d.desired_replicas, 3);
    assert_eq!(d.reason, "InvalidSpec");
    assert_eq!(
        d.errors,
        vec!["spec.maxReplicas: 2 must be >= minReplicas 5".to_string()]
    );
}

#[test]
fn first_sight_seeds_the_recommendations_and_holds_a_scale_down() {
    let d = cpu_decision(1, 10, 5, &[1000; 5], &[100; 5], 50, History::default());
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(d.reason, "ScaleDownStabilized");
    assert_eq!(d.history.recommendations, vec![rec(5, 0), rec(1, 0)]);
}

#[test]
fn object_and_external_statuses() {
    use autoscale::{MetricSpec, Target};
    let mut metrics = Metrics::default();
    metrics.objects.insert("hits".to_string(), 20000);
    metrics
        .external
        .insert("queue".to_string(), vec![5000, 3600]);
    let object = MetricSpec::Object {
        metric: "hits".into(),
        described_object: "Ingress/web".into(),
        target: Target::Value(15000),
    };
    let ext = MetricSpec::External {
        metric: "queue".into(),
        target: Target::AverageValue(2150),
    };
    let d = decide(&input(
        spec(1, 10, vec![object, ext]),
        3,
        pods(&[1000; 3]),
        metrics,
        History::default(),
    ));
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(
        (d.metrics[0].value, d.metrics[0].average_value),
        (Some(20000), None)
    );
    assert_eq!(
        (d.metrics[1].value, d.metrics[1].average_value),
        (None, Some(2867))
    );
    let active = d
        .conditions
        .iter()
        .find(|c| c.kind == "ScalingActive")
        .unwrap();
    assert_eq!(
        active.message,
        "the HPA was able to successfully calculate a replica count from Ingress metric hits"
    );
}

#[test]
fn pods_metric_status() {
    use autoscale::{MetricSpec, Target};
    let metrics = Metrics {
        pods: BTreeMap::from([("qps".to_string(), pod_values(&[20000, 10000, 30000]))]),
        ..Metrics::default()
    };
    let m = MetricSpec::Pods {
        metric: "qps".into(),
        target: Target::AverageValue(15000),
    };
    let ps: Vec<Pod> = pods(&[1000; 3]);
    let d = decide(&input(
        spec(1, 10, vec![m]),
        3,
        ps,
        metrics,
        History::default(),
    ));
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(d.metrics[0].average_value, Some(20000));
}
