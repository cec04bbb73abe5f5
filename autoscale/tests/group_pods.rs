//! `TestGroupPods` (cpu initialization 2m, readiness delay 10s) and requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use autoscale::pods::{self, PodGroups, Sample, Samples};
use autoscale::{Phase, Pod, ReadyCondition};
use common::*;

/// A Succeeded pod (as in the Go test) with the given start and Ready condition.
fn bare(name: &str, start: Option<i64>, ready: Option<(bool, i64)>) -> Pod {
    Pod {
        name: name.to_string(),
        phase: Phase::Succeeded,
        deleting: false,
        ready: ready.map(|(ready, at)| ReadyCondition {
            ready,
            last_transition_ms: NOW + at,
        }),
        start_time_ms: start.map(|s| NOW + s),
        container_requests: Vec::new(),
        pod_requests: None,
    }
}

/// A sample of value 1 measured at `NOW + at` over `window`.
fn sample(at: i64, window: i64) -> Sample {
    Sample {
        value: 1,
        timestamp_ms: NOW + at,
        window_ms: window,
    }
}

/// Samples by pod name.
fn samples(entries: &[(&str, Sample)]) -> Samples {
    entries.iter().map(|(n, s)| (n.to_string(), *s)).collect()
}

/// Groups with the test flags.
fn group(pods: &[Pod], samples: &Samples, resource: &str) -> PodGroups {
    pods::group_pods(pods, samples, resource, NOW, &options())
}

/// A set of names.
fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// Asserts the groups.
fn expect(g: PodGroups, ready: usize, unready: &[&str], missing: &[&str], ignored: &[&str]) {
    let want = PodGroups {
        ready_count: ready,
        unready: set(unready),
        missing: set(missing),
        ignored: set(ignored),
    };
    assert_eq!(g, want);
}

#[test]
fn void() {
    expect(group(&[], &Samples::new(), "cpu"), 0, &[], &[], &[]);
}

#[test]
fn count_in_a_ready_pod_memory() {
    let p = bare("bentham", None, None);
    let s = samples(&[("bentham", sample(0, MIN))]);
    expect(group(&[p], &s, "memory"), 1, &[], &[], &[]);
}

#[test]
fn unready_a_pod_without_ready_condition_cpu() {
    let p = bare("lucretius", Some(0), None);
    let s = samples(&[("lucretius", sample(0, 0))]);
    expect(group(&[p], &s, "cpu"), 0, &["lucretius"], &[], &[]);
}

#[test]
fn count_in_a_ready_pod_with_fresh_metrics_during_initialization_period() {
    let p = bare("bentham", Some(-MIN), Some((true, -30 * SEC)));
    let s = samples(&[("bentham", sample(0, 30 * SEC))]);
    expect(group(&[p], &s, "cpu"), 1, &[], &[], &[]);
}

#[test]
fn unready_a_ready_pod_without_fresh_metrics_during_initialization_period() {
    let p = bare("bentham", Some(-MIN), Some((true, -30 * SEC)));
    let s = samples(&[("bentham", sample(0, 60 * SEC))]);
    expect(group(&[p], &s, "cpu"), 0, &["bentham"], &[], &[]);
}

#[test]
fn unready_an_unready_pod_during_initialization_period() {
    let p = bare("lucretius", Some(-MIN), Some((false, -50 * SEC)));
    let s = samples(&[("lucretius", sample(0, 0))]);
    expect(group(&[p], &s, "cpu"), 0, &["lucretius"], &[], &[]);
}

#[test]
fn unready_a_never_ready_pod_after_initialization_period() {
    // Started 10m ago, not Ready since 6s after its start (within the 10s delay).
    let p = bare(
        "lucretius",
        Some(-10 * MIN),
        Some((false, -10 * MIN + 6 * SEC)),
    );
    let s = samples(&[("lucretius", sample(0, 0))]);
    expect(group(&[p], &s, "cpu"), 0, &["lucretius"], &[], &[]);
}

#[test]
fn count_in_a_ready_pod_without_fresh_metrics_after_initialization_period() {
    let p = bare("bentham", Some(-3 * MIN), Some((true, -3 * MIN)));
    let s = samples(&[("bentham", sample(-2 * MIN, MIN))]);
    expect(group(&[p], &s, "cpu"), 1, &[], &[], &[]);
}

#[test]
fn count_in_an_unready_pod_that_was_ready_after_initialization_period() {
    let p = bare("lucretius", Some(-10 * MIN), Some((false, -9 * MIN)));
    let s = samples(&[("lucretius", sample(0, 0))]);
    expect(group(&[p], &s, "cpu"), 1, &[], &[], &[]);
}

#[test]
fn unready_transition_exactly_at_the_readiness_delay_counts_in() {
    // start + delay == transition is not "after": the Go test's -9m50s case is counted in.
    let p = bare(
        "lucretius",
        Some(-10 * MIN),
        Some((false, -10 * MIN + 10 * SEC)),
    );
    let s = samples(&[("lucretius", sample(0, 0))]);
    expect(group(&[p], &s, "cpu"), 1, &[], &[], &[]);
}

#[test]
fn a_missing_pod() {
    let p = bare("epicurus", Some(-3 * MIN), None);
    expect(
        group(&[p], &Samples::new(), "cpu"),
        0,
        &[],
        &["epicurus"],
        &[],
    );
}

#[test]
fn several_pods() {
    let ps = [
        bare("lucretius", Some(0), None),
        bare("niccolo", Some(-3 * MIN), Some((true, -3 * MIN))),
        bare("epicurus", Some(-3 * MIN), None),
    ];
    let s = samples(&[("lucretius", sample(0, 0)), ("niccolo", sample(0, 0))]);
    expect(group(&ps, &s, "cpu"), 1, &["lucretius"], &["epicurus"], &[]);
}

#[test]
fn pending_pods_are_unreadied() {
    let mut p = bare("unscheduled", None, None);
    p.phase = Phase::Pending;
    expect(
        group(&[p], &Samples::new(), "cpu"),
        0,
        &["unscheduled"],
        &[],
        &[],
    );
}

#[test]
fn ignore_pods_with_deletion_timestamps() {
    let mut p = bare("deleted", None, None);
    p.phase = Phase::Pending;
    p.deleting = true;
    let s = samples(&[("deleted", sample(0, 0))]);
    expect(group(&[p], &s, "cpu"), 0, &[], &[], &["deleted"]);
}

#[test]
fn ignore_pods_in_a_failed_state() {
    let mut p = bare("failed", None, None);
    p.phase = Phase::Failed;
    let s = samples(&[("failed", sample(0, 0))]);
    expect(group(&[p], &s, "cpu"), 0, &[], &[], &["failed"]);
}

#[test]
fn memory_skips_readiness() {
    let p = bare("hot", Some(0), Some((false, 0)));
    let s = samples(&[("hot", sample(0, MIN))]);
    expect(
        group(std::slice::from_ref(&p), &s, "memory"),
        1,
        &[],
        &[],
        &[],
    );
    expect(group(&[p], &s, "cpu"), 0, &["hot"], &[], &[]);
}

/// A pod with the given containers' cpu requests (`None`: no cpu request).
fn with_containers(containers: &[(&str, Option<i64>)]) -> Pod {
    let mut p = bare("test-pod", None, None);
    p.container_requests = containers
        .iter()
        .map(|(n, r)| {
            (
                n.to_string(),
                r.map(|r| ("cpu".to_string(), r)).into_iter().collect(),
            )
        })
        .collect();
    p
}

#[test]
fn requests_sum_containers() {
    let p = with_containers(&[("container1", Some(100)), ("container2", Some(50))]);
    let got = pods::pod_requests(&[p], "cpu", None).unwrap();
    assert_eq!(got, BTreeMap::from([("test-pod".to_string(), 150)]));
}

#[test]
fn requests_of_a_named_container() {
    let p = with_containers(&[("container1", Some(100)), ("container2", Some(50))]);
    let got = pods::pod_requests(std::slice::from_ref(&p), "cpu", Some("container1")).unwrap();
    assert_eq!(got, BTreeMap::from([("test-pod".to_string(), 100)]));
    let err = pods::pod_requests(&[p], "cpu", Some("nope")).unwrap_err();
    assert_eq!(err, "container nope not found in Pod test-pod");
}

#[test]
fn requests_missing_in_a_container() {
    let p = with_containers(&[("container1", None)]);
    let err = pods::pod_requests(&[p], "cpu", None).unwrap_err();
    assert_eq!(
        err,
        "missing request for cpu in container container1 of Pod test-pod"
    );
}

#[test]
fn resource_samples_need_every_container() {
    let mut u = usage_of("cpu", 100);
    u.containers.insert(
        "side".to_string(),
        BTreeMap::from([("memory".to_string(), 5)]),
    );
    let usage = BTreeMap::from([("a".to_string(), u), ("b".to_string(), usage_of("cpu", 7))]);
    let got = pods::resource_samples(&usage, "cpu", None).unwrap();
    assert_eq!(got.keys().collect::<Vec<_>>(), vec!["b"]);
    let err = pods::resource_samples(&usage, "cpu", Some("side")).unwrap_err();
    assert_eq!(
        err,
        "failed to get container metrics: container side not present in metrics for pod b"
    );
}
