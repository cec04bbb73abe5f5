//! Builders shared by the tests: pods named `test-pod-<i>`, one container `c` each, so the
//! per-pod values of the spec's tables are the container's values.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use autoscale::replicas::{Context, Tolerances};
use autoscale::{
    History, Input, MetricSpec, Metrics, Options, Phase, Pod, PodUsage, ReadyCondition, Spec,
    Target, Timestamped,
};

/// Now, ms.
pub const NOW: i64 = 1_700_000_000_000;
/// One second, ms.
pub const SEC: i64 = 1000;
/// One minute, ms.
pub const MIN: i64 = 60 * SEC;

/// The Go tests' flags: tolerance 0.1, cpu initialization 2m, readiness delay 10s,
/// downscale stabilization 5m.
pub fn options() -> Options {
    Options {
        tolerance: 0.1,
        cpu_initialization_period_ms: 2 * MIN,
        initial_readiness_delay_ms: 10 * SEC,
        downscale_stabilization_ms: 5 * MIN,
    }
}

/// The name of pod `i`.
pub fn name(i: usize) -> String {
    format!("test-pod-{i}")
}

/// A Running pod started an hour ago, Ready since it started, requesting `cpu_request`
/// milli-cpu in container `c` (no request when `None`).
pub fn pod(i: usize, cpu_request: Option<i64>) -> Pod {
    let start = NOW - 60 * MIN;
    let requests: BTreeMap<String, i64> = cpu_request
        .map(|r| ("cpu".to_string(), r))
        .into_iter()
        .collect();
    Pod {
        name: name(i),
        phase: Phase::Running,
        deleting: false,
        ready: Some(ReadyCondition {
            ready: true,
            last_transition_ms: start,
        }),
        start_time_ms: Some(start),
        container_requests: vec![("c".to_string(), requests)],
        pod_requests: None,
    }
}

/// Pods `0..` with the given cpu requests.
pub fn pods(requests: &[i64]) -> Vec<Pod> {
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| pod(i, Some(*r)))
        .collect()
}

/// Marks a pod not Ready since it started (never ready).
pub fn unready(mut p: Pod) -> Pod {
    if let Some(c) = p.ready.as_mut() {
        c.ready = false;
    }
    p
}

/// Makes a pod "hot": started now, Ready since now (its metric is not fresh).
pub fn hot(mut p: Pod) -> Pod {
    p.start_time_ms = Some(NOW);
    p.ready = Some(ReadyCondition {
        ready: true,
        last_transition_ms: NOW,
    });
    p
}

/// Sets a pod's phase.
pub fn phase(mut p: Pod, phase: Phase) -> Pod {
    p.phase = phase;
    p
}

/// Marks a pod as being deleted.
pub fn deleting(mut p: Pod) -> Pod {
    p.deleting = true;
    p
}

/// One pod's usage: container `c` using `value` of `resource`, measured now over 1m.
pub fn usage_of(resource: &str, value: i64) -> PodUsage {
    let resources = BTreeMap::from([(resource.to_string(), value)]);
    PodUsage {
        timestamp_ms: NOW,
        window_ms: MIN,
        containers: BTreeMap::from([("c".to_string(), resources)]),
    }
}

/// CPU usage of pods `0..` (`None`: no metric for that pod).
pub fn cpu_usage(values: &[Option<i64>]) -> BTreeMap<String, PodUsage> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (name(i), usage_of("cpu", v))))
        .collect()
}

/// CPU usage of every pod `0..`.
pub fn cpu_all(values: &[i64]) -> BTreeMap<String, PodUsage> {
    cpu_usage(&values.iter().map(|v| Some(*v)).collect::<Vec<_>>())
}

/// A Pods metric's values for pods `0..`.
pub fn pod_values(values: &[i64]) -> BTreeMap<String, i64> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (name(i), *v))
        .collect()
}

/// A context for calling the calculator directly.
pub fn ctx<'a>(
    current: i32,
    pods: &'a [Pod],
    metrics: &'a Metrics,
    options: &'a Options,
) -> Context<'a> {
    Context {
        now_ms: NOW,
        current_replicas: current,
        status_replicas: current,
        pods,
        metrics,
        tolerances: Tolerances::both(options.tolerance),
        options,
    }
}

/// `cpu` at `target` % utilization.
pub fn cpu(target: i32) -> MetricSpec {
    MetricSpec::Resource {
        name: "cpu".to_string(),
        target: Target::Utilization(target),
    }
}

/// An External metric `name` against a total `value`.
pub fn external(name: &str, value: i64) -> MetricSpec {
    MetricSpec::External {
        metric: name.to_string(),
        target: Target::Value(value),
    }
}

/// A spec without behavior.
pub fn spec(min: i32, max: i32, metrics: Vec<MetricSpec>) -> Spec {
    Spec {
        min_replicas: min,
        max_replicas: max,
        metrics,
        behavior: None,
    }
}

/// A decision input at [`NOW`] with the test flags, `status == current`.
pub fn input(
    spec: Spec,
    current: i32,
    pods: Vec<Pod>,
    metrics: Metrics,
    history: History,
) -> Input {
    Input {
        now_ms: NOW,
        spec,
        current_replicas: current,
        status_replicas: current,
        pods,
        metrics,
        history,
        options: options(),
    }
}

/// Metrics with only resource usage.
pub fn resource_metrics(resource: BTreeMap<String, PodUsage>) -> Metrics {
    Metrics {
        resource,
        ..Metrics::default()
    }
}

/// A history whose only recommendation is long stale: like the Go tests' empty (non-nil)
/// recommendation list, it skips the first-sight seeding without stabilizing anything.
pub fn stale_history() -> History {
    History {
        recommendations: vec![rec(0, -60 * MIN)],
        ..History::default()
    }
}

/// A recommendation or event of `replicas` at `NOW + offset_ms`.
pub fn rec(replicas: i32, offset_ms: i64) -> Timestamped {
    Timestamped {
        replicas,
        time_ms: NOW + offset_ms,
    }
}

/// Events spread evenly over the last `period_seconds` (each in the middle of its segment),
/// as the Go tests' `generateEventsUniformDistribution`.
pub fn events_uniform(changes: &[i32], period_seconds: i64) -> Vec<Timestamped> {
    let n = changes.len() as i64;
    let segment = period_seconds * SEC / n;
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ago = period_seconds * SEC - segment * (i as i64 + 1) + segment / 2;
            rec(*c, -ago)
        })
        .collect()
}
