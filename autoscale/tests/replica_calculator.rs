//! §5A: the replica calculator vectors (`replica_calculator_test.go`), tolerance 0.1,
//! cpu initialization 2m, readiness delay 10s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use autoscale::replicas::{self, UtilizationProposal, ValueProposal};
use autoscale::{Metrics, Phase, Pod, PodUsage};
use common::*;

/// The cpu utilization calculation for `pods` and `usage` at `target` %.
fn cpu_calc(
    current: i32,
    pods: &[Pod],
    usage: BTreeMap<String, PodUsage>,
    target: i32,
) -> Result<UtilizationProposal, String> {
    let metrics = resource_metrics(usage);
    let opts = options();
    replicas::resource_utilization(&ctx(current, pods, &metrics, &opts), "cpu", None, target)
}

/// Asserts replicas, utilization and (when given) the raw average.
fn check(p: UtilizationProposal, replicas: i32, utilization: i32, raw: Option<i64>) {
    assert_eq!(p.replicas, replicas, "replicas");
    assert_eq!(p.utilization, utilization, "utilization");
    if let Some(raw) = raw {
        assert_eq!(p.raw_average, raw, "raw average");
    }
}

/// A Pods metric `qps` with the given per-pod values.
fn pods_calc(current: i32, pods: &[Pod], values: &[i64], target: i64) -> ValueProposal {
    let metrics = Metrics {
        pods: BTreeMap::from([("qps".to_string(), pod_values(values))]),
        ..Metrics::default()
    };
    let opts = options();
    replicas::pods_average(&ctx(current, pods, &metrics, &opts), "qps", target).unwrap()
}

#[test]
fn v01_scale_up() {
    let p = cpu_calc(3, &pods(&[2000; 3]), cpu_all(&[600, 1000, 1400]), 30).unwrap();
    check(p, 5, 50, Some(1000));
}

#[test]
fn v02_scale_up_unready_less_scale() {
    let mut ps = pods(&[2000; 3]);
    ps[0] = unready(ps[0].clone());
    let p = cpu_calc(3, &ps, cpu_all(&[600, 1000, 1400]), 30).unwrap();
    check(p, 4, 60, Some(1200));
}

#[test]
fn v03_scale_up_hot_cpu_less_scale() {
    let mut ps = pods(&[2000; 3]);
    ps[0] = hot(ps[0].clone());
    let p = cpu_calc(3, &ps, cpu_all(&[600, 1000, 1400]), 30).unwrap();
    check(p, 4, 60, Some(1200));
}

#[test]
fn v04_scale_up_unready_no_scale() {
    let mut ps = pods(&[2000; 3]);
    ps[1] = unready(ps[1].clone());
    ps[2] = unready(ps[2].clone());
    let p = cpu_calc(3, &ps, cpu_all(&[800, 1000, 1400]), 30).unwrap();
    check(p, 3, 40, Some(800));
}

#[test]
fn v05_scale_up_ignores_failed_pods() {
    let mut ps = pods(&[2000; 4]);
    ps[2] = phase(unready(ps[2].clone()), Phase::Failed);
    ps[3] = phase(unready(ps[3].clone()), Phase::Failed);
    let p = cpu_calc(2, &ps, cpu_usage(&[Some(1000), Some(1400)]), 30).unwrap();
    check(p, 4, 60, Some(1200));
}

#[test]
fn v05_failed_pods_metrics_are_dropped_too() {
    let mut ps = pods(&[2000; 4]);
    ps[2] = phase(ps[2].clone(), Phase::Failed);
    ps[3] = phase(ps[3].clone(), Phase::Failed);
    let p = cpu_calc(2, &ps, cpu_all(&[1000, 1400, 9000, 9000]), 30).unwrap();
    check(p, 4, 60, Some(1200));
}

#[test]
fn v06_scale_up_ignores_deletion_pods() {
    let mut ps = pods(&[2000; 4]);
    ps[2] = deleting(ps[2].clone());
    ps[3] = deleting(ps[3].clone());
    let p = cpu_calc(2, &ps, cpu_all(&[1000, 1400, 5000, 5000]), 30).unwrap();
    check(p, 4, 60, Some(1200));
}

#[test]
fn v07_scale_down() {
    let p = cpu_calc(
        5,
        &pods(&[2000; 5]),
        cpu_all(&[200, 600, 1000, 500, 500]),
        50,
    )
    .unwrap();
    check(p, 3, 28, Some(560));
}

#[test]
fn v07_scale_down_ignores_metrics_of_unknown_pods() {
    let mut usage = cpu_all(&[200, 600, 1000, 500, 500]);
    usage.insert("gone-1".to_string(), usage_of("cpu", 9000));
    usage.insert("gone-2".to_string(), usage_of("cpu", 9000));
    let p = cpu_calc(5, &pods(&[2000; 5]), usage, 50).unwrap();
    check(p, 3, 28, Some(560));
}

#[test]
fn v08_scale_down_exclude_unready_pods() {
    let mut ps = pods(&[2000; 5]);
    ps[3] = unready(ps[3].clone());
    ps[4] = unready(ps[4].clone());
    let p = cpu_calc(5, &ps, cpu_all(&[200, 600, 1000, 500, 500]), 50).unwrap();
    check(p, 2, 30, Some(600));
}

#[test]
fn v09_scale_down_exclude_unscheduled_pods() {
    let mut ps = pods(&[2000; 5]);
    for p in ps.iter_mut().skip(1) {
        *p = phase(unready(p.clone()), Phase::Pending);
    }
    let p = cpu_calc(5, &ps, cpu_usage(&[Some(200)]), 50).unwrap();
    check(p, 1, 10, Some(200));
}

#[test]
fn v10_scale_down_ignore_hot_cpu_pods() {
    let mut ps = pods(&[2000; 5]);
    ps[3] = hot(ps[3].clone());
    ps[4] = hot(ps[4].clone());
    let p = cpu_calc(5, &ps, cpu_all(&[200, 600, 1000, 500, 500]), 50).unwrap();
    check(p, 2, 30, Some(600));
}

#[test]
fn v11_tolerance() {
    let p = cpu_calc(
        3,
        &pods(&[1800, 2000, 2200]),
        cpu_all(&[2020, 2060, 2040]),
        100,
    )
    .unwrap();
    check(p, 3, 102, Some(2040));
}

#[test]
fn v12_superfluous_metrics() {
    let mut usage = cpu_all(&[8000, 19000, 6000, 14000]);
    usage.insert("test-pod-4".to_string(), usage_of("cpu", 8600));
    usage.insert("test-pod-5".to_string(), usage_of("cpu", 8600));
    let p = cpu_calc(4, &pods(&[2000; 4]), usage, 100).unwrap();
    check(p, 24, 587, Some(11750));
}

#[test]
fn v13_missing_metrics() {
    let p = cpu_calc(
        4,
        &pods(&[2000; 4]),
        cpu_usage(&[Some(800), Some(190)]),
        100,
    )
    .unwrap();
    check(p, 3, 24, Some(495));
}

#[test]
fn v15_missing_metrics_unready_scale_down() {
    let mut ps = pods(&[2000; 4]);
    ps[0] = unready(ps[0].clone());
    let p = cpu_calc(4, &ps, cpu_usage(&[Some(200), Some(200), Some(200)]), 50).unwrap();
    check(p, 3, 10, Some(200));
}

#[test]
fn v18_during_rolling_update_with_max_surge() {
    let p = cpu_calc(2, &pods(&[2000; 3]), cpu_usage(&[Some(200), Some(200)]), 50).unwrap();
    check(p, 2, 10, Some(200));
}

#[test]
fn v19_missing_metrics_no_change_eq_gt_lt() {
    for (usage, utilization) in [(2000, 100), (3800, 190), (1200, 60)] {
        let p = cpu_calc(2, &pods(&[2000; 2]), cpu_usage(&[Some(usage)]), 100).unwrap();
        check(p, 2, utilization, Some(usage));
    }
}

#[test]
fn missing_pods_use_target_when_above_100_percent() {
    // ratio 50/150 < 1: the missing pod counts at 150% of its request, not 100%.
    // (1000 + 3000) × 100 / 4000 = 100% → 100/150 = 0.67 → ceil(0.67 × 2) = 2 (< current 3).
    let p = cpu_calc(3, &pods(&[2000; 2]), cpu_usage(&[Some(1000)]), 150).unwrap();
    check(p, 2, 50, Some(1000));
}

#[test]
fn v20_scale_up_cm() {
    let p = pods_calc(3, &pods(&[2000; 3]), &[20000, 10000, 30000], 15000);
    assert_eq!(
        p,
        ValueProposal {
            replicas: 4,
            value: 20000
        }
    );
}

#[test]
fn v21_scale_up_cm_unready_hot_cpu_no_less_scale() {
    let mut ps = pods(&[2000; 3]);
    ps[2] = unready(hot(ps[2].clone()));
    let p = pods_calc(3, &ps, &[50000, 10000, 30000], 15000);
    assert_eq!(
        p,
        ValueProposal {
            replicas: 6,
            value: 30000
        }
    );
}

#[test]
fn v22_scale_down_cm() {
    let p = pods_calc(5, &pods(&[2000; 5]), &[12000; 5], 20000);
    assert_eq!(
        p,
        ValueProposal {
            replicas: 3,
            value: 12000
        }
    );
}

#[test]
fn v23_tolerance_cm() {
    let p = pods_calc(3, &pods(&[2000; 3]), &[20000, 21000, 21000], 20000);
    assert_eq!(
        p,
        ValueProposal {
            replicas: 3,
            value: 20666
        }
    );
}

#[test]
fn v24_scale_up_cm_object() {
    let opts = options();
    let (ps, metrics) = (pods(&[2000; 3]), Metrics::default());
    let p = replicas::object_value(&ctx(3, &ps, &metrics, &opts), 20000, 15000).unwrap();
    assert_eq!(
        p,
        ValueProposal {
            replicas: 4,
            value: 20000
        }
    );
}

#[test]
fn v26_scale_up_cm_per_pod_object() {
    let opts = options();
    let (ps, metrics) = (pods(&[2000; 3]), Metrics::default());
    let p = replicas::per_pod_value(&ctx(3, &ps, &metrics, &opts), 20000, 5000);
    assert_eq!(
        p,
        ValueProposal {
            replicas: 4,
            value: 6667
        }
    );
}

#[test]
fn v27_scale_up_cm_external_ignores_unready_pods() {
    let opts = options();
    let mut ps = pods(&[2000; 3]);
    ps[0] = unready(ps[0].clone());
    ps[2] = phase(ps[2].clone(), Phase::Pending);
    let metrics = Metrics::default();
    let p = replicas::external_value(&ctx(3, &ps, &metrics, &opts), &[8600], 4400).unwrap();
    assert_eq!(
        p,
        ValueProposal {
            replicas: 2,
            value: 8600
        }
    );
}

#[test]
fn v28_scale_up_per_pod_cm_external() {
    let opts = options();
    let (ps, metrics) = (pods(&[2000; 3]), Metrics::default());
    let total = replicas::sum_series(&[8600]);
    let p = replicas::per_pod_value(&ctx(3, &ps, &metrics, &opts), total, 2150);
    assert_eq!(
        p,
        ValueProposal {
            replicas: 4,
            value: 2867
        }
    );
}

#[test]
fn v30_tolerance_per_pod_cm_object() {
    let opts = options();
    let (ps, metrics) = (pods(&[2000; 4]), Metrics::default());
    let p = replicas::per_pod_value(&ctx(4, &ps, &metrics, &opts), 20166, 5000);
    assert_eq!(
        p,
        ValueProposal {
            replicas: 4,
            value: 5042
        }
    );
}

#[test]
fn object_value_scales_from_zero_without_tolerance() {
    let opts = options();
    let metrics = Metrics::default();
    let p = replicas::object_value(&ctx(0, &[], &metrics, &opts), 1050, 1000).unwrap();
    assert_eq!(p.replicas, 2);
}

#[test]
fn e1_empty_metrics() {
    let err = cpu_calc(4, &pods(&[2000; 3]), BTreeMap::new(), 100).unwrap_err();
    assert_eq!(
        err,
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
}

#[test]
fn e2_empty_cpu_request() {
    let err = cpu_calc(1, &[pod(0, None)], cpu_all(&[400]), 100).unwrap_err();
    assert_eq!(
        err,
        "missing request for cpu in container c of Pod test-pod-0"
    );
}

#[test]
fn e3_disjoint_resources_metrics() {
    let usage = BTreeMap::from([("an-older-pod-name".to_string(), usage_of("cpu", 100))]);
    let err = cpu_calc(1, &pods(&[2000]), usage, 100).unwrap_err();
    assert_eq!(err, "no metrics returned matched known pods");
}

#[test]
fn all_pods_unready_is_an_error() {
    let ps: Vec<Pod> = pods(&[2000; 2]).into_iter().map(hot).collect();
    let err = cpu_calc(2, &ps, cpu_all(&[100, 100]), 50).unwrap_err();
    assert_eq!(
        err,
        "did not receive metrics for targeted pods (pods might be unready)"
    );
}

#[test]
fn container_resource_uses_only_that_container() {
    let mut p = pod(0, Some(1000));
    p.container_requests.push((
        "side".to_string(),
        BTreeMap::from([("cpu".to_string(), 3000)]),
    ));
    let mut u = usage_of("cpu", 500);
    u.containers.insert(
        "side".to_string(),
        BTreeMap::from([("cpu".to_string(), 100)]),
    );
    let metrics = resource_metrics(BTreeMap::from([(name(0), u)]));
    let opts = options();
    let ps = [p];
    let c = ctx(1, &ps, &metrics, &opts);
    let only_c = replicas::resource_utilization(&c, "cpu", Some("c"), 50).unwrap();
    check(only_c, 1, 50, Some(500));
    let whole = replicas::resource_utilization(&c, "cpu", None, 50).unwrap();
    check(whole, 1, 15, Some(600));
}

#[test]
fn pod_level_requests_win_without_a_container() {
    let mut p = pod(0, Some(1000));
    p.pod_requests = Some(BTreeMap::from([("cpu".to_string(), 4000)]));
    let metrics = resource_metrics(cpu_all(&[1000]));
    let opts = options();
    let ps = [p];
    let got =
        replicas::resource_utilization(&ctx(1, &ps, &metrics, &opts), "cpu", None, 25).unwrap();
    check(got, 1, 25, Some(1000));
}
