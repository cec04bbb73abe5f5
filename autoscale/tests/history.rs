//! Several decisions in a row, each given the history the previous one returned.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use autoscale::{
    Behavior, Decision, History, Input, PartialRules, Policy, PolicyKind, decide, default_behavior,
};
use common::*;

/// Five pods (request 1000m) each using `usage` against cpu 50%, deciding at
/// `NOW + offset_ms` from `current` replicas with `history`.
fn at(
    offset_ms: i64,
    current: i32,
    usage: i64,
    behavior: Option<Behavior>,
    history: History,
) -> Decision {
    let mut s = spec(1, 20, vec![cpu(50)]);
    s.behavior = behavior;
    let metrics = resource_metrics(cpu_all(&[usage; 5]));
    let mut i: Input = input(s, current, pods(&[1000; 5]), metrics, history);
    i.now_ms = NOW + offset_ms;
    decide(&i)
}

#[test]
fn legacy_scale_down_is_held_for_five_minutes_then_released() {
    let d = at(0, 5, 500, None, History::default());
    assert_eq!((d.desired_replicas, d.reason), (5, "DesiredWithinRange"));
    let d = at(MIN, 5, 100, None, d.history);
    assert_eq!((d.desired_replicas, d.reason), (5, "ScaleDownStabilized"));
    let d = at(3 * MIN, 5, 100, None, d.history);
    assert_eq!((d.desired_replicas, d.reason), (5, "ScaleDownStabilized"));
    let d = at(5 * MIN + SEC, 5, 100, None, d.history);
    assert_eq!((d.desired_replicas, d.reason), (1, "DesiredWithinRange"));
    // The two stale recommendations of t=0: the last one was reused.
    let got: Vec<(i32, i64)> = d
        .history
        .recommendations
        .iter()
        .map(|r| (r.replicas, r.time_ms - NOW))
        .collect();
    assert_eq!(
        got,
        vec![(5, 0), (1, 5 * MIN + SEC), (1, MIN), (1, 3 * MIN)]
    );
    assert!(
        d.history.scale_down_events.is_empty(),
        "no events without a behavior"
    );
}

#[test]
fn legacy_scale_up_is_not_stabilized_but_capped_at_double() {
    let d = at(0, 2, 1000, None, History::default());
    assert_eq!((d.desired_replicas, d.reason), (4, "ScaleUpLimit"));
    let d = at(15 * SEC, 4, 1000, None, d.history);
    assert_eq!((d.desired_replicas, d.reason), (8, "ScaleUpLimit"));
}

/// A behavior adding at most 2 pods per minute, scale-down defaulted.
fn two_pods_a_minute() -> Behavior {
    let up = PartialRules {
        policies: Some(vec![Policy {
            kind: PolicyKind::Pods,
            value: 2,
            period_seconds: 60,
        }]),
        ..PartialRules::default()
    };
    default_behavior(Some(&up), None)
}

#[test]
fn behavior_scale_up_rate_counts_recent_events() {
    let b = Some(two_pods_a_minute());
    let d = at(0, 2, 1000, b.clone(), History::default());
    assert_eq!((d.desired_replicas, d.reason), (4, "ScaleUpLimit"));
    assert_eq!(d.history.scale_up_events, vec![rec(2, 0)]);
    let d = at(15 * SEC, 4, 1000, b.clone(), d.history);
    assert_eq!((d.desired_replicas, d.reason), (4, "ScaleUpLimit"));
    assert_eq!(d.history.scale_up_events.len(), 1, "no change, no event");
    let d = at(61 * SEC, 4, 1000, b, d.history);
    assert_eq!((d.desired_replicas, d.reason), (6, "ScaleUpLimit"));
    assert_eq!(
        d.history.scale_up_events,
        vec![rec(2, 61 * SEC)],
        "the outdated slot is reused"
    );
}

#[test]
fn behavior_scale_down_waits_for_the_flag_window_then_follows_policies() {
    let down = PartialRules {
        policies: Some(vec![Policy {
            kind: PolicyKind::Pods,
            value: 1,
            period_seconds: 60,
        }]),
        ..PartialRules::default()
    };
    let b = Some(default_behavior(None, Some(&down)));
    let d = at(0, 5, 500, b.clone(), History::default());
    assert_eq!(d.desired_replicas, 5);
    let d = at(2 * MIN, 5, 100, b.clone(), d.history);
    assert_eq!((d.desired_replicas, d.reason), (5, "ScaleDownStabilized"));
    let d = at(5 * MIN + SEC, 5, 100, b.clone(), d.history);
    assert_eq!((d.desired_replicas, d.reason), (4, "ScaleDownLimit"));
    assert_eq!(d.history.scale_down_events, vec![rec(1, 5 * MIN + SEC)]);
    let d = at(5 * MIN + 30 * SEC, 4, 100, b.clone(), d.history);
    assert_eq!((d.desired_replicas, d.reason), (4, "ScaleDownLimit"));
    let d = at(6 * MIN + 2 * SEC, 4, 100, b, d.history);
    assert_eq!((d.desired_replicas, d.reason), (3, "ScaleDownLimit"));
}

#[test]
fn behavior_scale_up_window_takes_the_lowest_recent_recommendation() {
    let up = PartialRules {
        stabilization_window_seconds: Some(60),
        ..PartialRules::default()
    };
    let b = Some(default_behavior(Some(&up), None));
    let d = at(0, 5, 500, b.clone(), History::default());
    assert_eq!(d.desired_replicas, 5);
    let d = at(30 * SEC, 5, 1000, b.clone(), d.history);
    assert_eq!((d.desired_replicas, d.reason), (5, "ScaleUpStabilized"));
    let d = at(61 * SEC, 5, 1000, b, d.history);
    assert_eq!((d.desired_replicas, d.reason), (10, "DesiredWithinRange"));
}

/// Ten pods (request 1000m) each using `usage` against cpu 50%, with `behavior`.
fn ten(usage: i64, behavior: Behavior) -> Decision {
    let mut s = spec(1, 20, vec![cpu(50)]);
    s.behavior = Some(behavior);
    let metrics = resource_metrics(cpu_all(&[usage; 10]));
    decide(&input(s, 10, pods(&[1000; 10]), metrics, stale_history()))
}

#[test]
fn per_direction_tolerances() {
    let up = PartialRules {
        tolerance: Some(0.5),
        ..PartialRules::default()
    };
    let down = PartialRules {
        tolerance: Some(0.0),
        stabilization_window_seconds: Some(0),
        ..PartialRules::default()
    };
    let custom = default_behavior(Some(&up), Some(&down));
    let flag = default_behavior(
        None,
        Some(&PartialRules {
            stabilization_window_seconds: Some(0),
            ..PartialRules::default()
        }),
    );
    // 70% against 50%: ratio 1.4 is within a 0.5 scale-up tolerance, not within the flag's 0.1.
    assert_eq!(ten(700, custom.clone()).desired_replicas, 10);
    assert_eq!(ten(700, flag.clone()).desired_replicas, 14);
    // 45% against 50%: ratio 0.9 is within the flag's 0.1, not within a zero tolerance.
    assert_eq!(ten(450, custom).desired_replicas, 9);
    assert_eq!(ten(450, flag).desired_replicas, 10);
}
