//! §5B 11–26: legacy rules and stabilization, behavior rate limits and stabilization, and
//! the recorded history (`horizontal_test.go`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use autoscale::normalize::{self, Limited};
use autoscale::{
    Behavior, History, Policy, PolicyKind, Rules, SelectPolicy, Timestamped, default_behavior,
};
use common::*;

/// `generateScalingRules`: Max, optional pods and percent policies, a window.
fn rules(pods: i32, pods_period: i32, percent: i32, percent_period: i32, window: i32) -> Rules {
    let mut policies = Vec::new();
    if pods != 0 {
        policies.push(Policy {
            kind: PolicyKind::Pods,
            value: pods,
            period_seconds: pods_period,
        });
    }
    if percent != 0 {
        policies.push(Policy {
            kind: PolicyKind::Percent,
            value: percent,
            period_seconds: percent_period,
        });
    }
    Rules {
        stabilization_window_seconds: Some(window),
        select_policy: SelectPolicy::Max,
        policies,
        tolerance: None,
    }
}

/// A behavior from optional rules, the rest defaulted.
fn behavior(up: Option<Rules>, down: Option<Rules>) -> Behavior {
    let d = default_behavior(None, None);
    Behavior {
        scale_up: up.unwrap_or(d.scale_up),
        scale_down: down.unwrap_or(d.scale_down),
    }
}

/// `convertDesiredReplicasWithBehaviorRate` at [`NOW`].
fn rate(
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    b: &Behavior,
    up: Vec<Timestamped>,
    down: Vec<Timestamped>,
) -> (i32, &'static str) {
    let history = History {
        recommendations: Vec::new(),
        scale_up_events: up,
        scale_down_events: down,
    };
    let l = normalize::convert_with_behavior_rate(current, desired, min, max, b, &history, NOW);
    (l.replicas, l.reason)
}

#[test]
fn b11_convert_desired_replicas_with_rules() {
    let got = |c, d, min, max| {
        let Limited {
            replicas, reason, ..
        } = normalize::convert_with_rules(c, d, min, max);
        (replicas, reason)
    };
    assert_eq!(got(5, 7, 3, 8), (7, "DesiredWithinRange"));
    assert_eq!(got(3, 1, 2, 8), (2, "TooFewReplicas"));
    assert_eq!(got(1, 0, 0, 10), (0, "DesiredWithinRange"));
    assert_eq!(got(20, 1000, 1, 10), (10, "TooManyReplicas"));
    assert_eq!(got(3, 1000, 1, 2000), (6, "ScaleUpLimit"));
    assert_eq!(got(1, 1000, 1, 2000), (4, "ScaleUpLimit"));
}

#[test]
fn b12_legacy_stabilize_recommendation() {
    let mut recs = vec![rec(4, -2 * MIN), rec(5, -MIN)];
    assert_eq!(normalize::stabilize_legacy(&mut recs, 3, NOW, 5 * MIN), 5);
    assert_eq!(recs.len(), 3);
    let mut recs = vec![
        rec(10, -10 * MIN),
        rec(4, -MIN),
        rec(5, -2 * MIN),
        rec(9, -9 * MIN),
    ];
    assert_eq!(normalize::stabilize_legacy(&mut recs, 3, NOW, 5 * MIN), 5);
    assert_eq!(
        recs,
        vec![
            rec(10, -10 * MIN),
            rec(4, -MIN),
            rec(5, -2 * MIN),
            rec(3, 0)
        ]
    );
    let mut recs = vec![rec(1, -2 * MIN), rec(2, -MIN)];
    assert_eq!(normalize::stabilize_legacy(&mut recs, 3, NOW, 5 * MIN), 3);
    let mut recs = vec![rec(10, -10 * MIN), rec(9, -9 * MIN)];
    assert_eq!(normalize::stabilize_legacy(&mut recs, 3, NOW, 5 * MIN), 3);
    assert_eq!(recs.len(), 2);
}

#[test]
fn b11_behavior_rate_basic_cases() {
    let d = behavior(None, None);
    assert_eq!(
        rate(5, 7, 3, 8, &d, vec![], vec![]),
        (7, "DesiredWithinRange")
    );
    assert_eq!(rate(3, 1, 2, 8, &d, vec![], vec![]), (2, "TooFewReplicas"));
    assert_eq!(
        rate(20, 1000, 1, 10, &d, vec![], vec![]),
        (10, "TooManyReplicas")
    );
    let one_percent = behavior(Some(rules(0, 0, 1, 60, 0)), None);
    assert_eq!(
        rate(3, 1000, 1, 2000, &one_percent, vec![], vec![]),
        (4, "ScaleUpLimit")
    );
    let twenty_pods = behavior(None, Some(rules(20, 60, 0, 0, 0)));
    assert_eq!(
        rate(1000, 3, 3, 2000, &twenty_pods, vec![], vec![]),
        (980, "ScaleDownLimit")
    );
}

#[test]
fn b13_scale_up_with_default_behavior() {
    assert_eq!(
        rate(10, 50, 1, 1000, &behavior(None, None), vec![], vec![]),
        (20, "ScaleUpLimit")
    );
}

#[test]
fn b15_b16_scale_up_pod_and_percent_policies() {
    let pods30 = behavior(Some(rules(30, 60, 0, 0, 0)), None);
    assert_eq!(
        rate(10, 50, 1, 1000, &pods30, vec![], vec![]),
        (40, "ScaleUpLimit")
    );
    let pct200 = behavior(Some(rules(0, 0, 200, 60, 0)), None);
    assert_eq!(
        rate(10, 50, 1, 1000, &pct200, vec![], vec![]),
        (30, "ScaleUpLimit")
    );
    let pods100 = behavior(Some(rules(100, 60, 100, 60, 0)), None);
    assert_eq!(
        rate(10, 500, 1, 1000, &pods100, vec![], vec![]),
        (110, "ScaleUpLimit")
    );
    let large = behavior(Some(rules(100, 60, 0, 0, 0)), None);
    assert_eq!(
        rate(10, 50, 1, 1000, &large, vec![], vec![]),
        (50, "DesiredWithinRange")
    );
}

#[test]
fn b18_b19_scale_down_policies() {
    let b = behavior(None, Some(rules(2, 60, 1, 60, 300)));
    assert_eq!(
        rate(100, 2, 1, 1000, &b, vec![], vec![]),
        (98, "ScaleDownLimit")
    );
    let b = behavior(None, Some(rules(20, 60, 1, 60, 300)));
    assert_eq!(
        rate(100, 2, 1, 1000, &b, vec![], vec![]),
        (80, "ScaleDownLimit")
    );
    let b = behavior(None, Some(rules(0, 0, 100, 60, 300)));
    assert_eq!(
        rate(10, 2, 5, 1000, &b, vec![], vec![]),
        (5, "TooFewReplicas")
    );
    let b = behavior(None, Some(rules(5, 60, 0, 0, 300)));
    assert_eq!(
        rate(10, 2, 1, 1000, &b, vec![], vec![]),
        (5, "ScaleDownLimit")
    );
    let b = behavior(None, Some(rules(100, 60, 0, 0, 300)));
    assert_eq!(
        rate(10, 0, 1, 1000, &b, vec![], vec![]),
        (1, "TooFewReplicas")
    );
}

#[test]
fn b21_scale_up_with_previous_events() {
    let ev = || events_uniform(&[1, 5, 9], 120);
    let b = behavior(Some(rules(0, 0, 200, 120, 0)), None);
    assert_eq!(
        rate(100, 500, 1, 1000, &b, ev(), vec![]),
        (255, "ScaleUpLimit")
    );
    let b = behavior(Some(rules(150, 120, 0, 0, 0)), None);
    assert_eq!(
        rate(100, 500, 1, 1000, &b, ev(), vec![]),
        (235, "ScaleUpLimit")
    );
    let b = behavior(Some(rules(5, 120, 0, 0, 0)), None);
    assert_eq!(
        rate(100, 500, 1, 1000, &b, ev(), vec![]),
        (100, "ScaleUpLimit")
    );
    let b = behavior(Some(rules(300, 60, 0, 0, 0)), None);
    assert_eq!(
        rate(100, 500, 1, 200, &b, ev(), vec![]),
        (200, "TooManyReplicas")
    );
    let b = behavior(Some(rules(0, 0, 300, 300, 0)), None);
    let (up, down) = (events_uniform(&[4], 120), events_uniform(&[2], 120));
    assert_eq!(rate(6, 24, 1, 1000, &b, up, down), (16, "ScaleUpLimit"));
}

#[test]
fn b24_scale_down_with_previous_events() {
    let b = behavior(None, Some(rules(0, 0, 10, 120, 300)));
    let ev = events_uniform(&[10, 10, 10], 120);
    assert_eq!(
        rate(100, 0, 1, 1000, &b, vec![], ev),
        (100, "ScaleDownLimit")
    );
    let b = behavior(None, Some(rules(0, 0, 1000, 120, 300)));
    let ev = events_uniform(&[10, 10, 10], 120);
    assert_eq!(
        rate(10, 5, 1, 1000, &b, vec![], ev),
        (5, "DesiredWithinRange")
    );
    let b = behavior(None, Some(rules(0, 0, 50, 120, 300)));
    let ev = events_uniform(&[2, 4, 6], 120);
    assert_eq!(
        rate(100, 0, 1, 1000, &b, vec![], ev),
        (56, "ScaleDownLimit")
    );
    let b = behavior(None, Some(rules(0, 0, 50, 180, 0)));
    let (up, down) = (events_uniform(&[2], 120), events_uniform(&[4], 120));
    assert_eq!(rate(10, 1, 1, 1000, &b, up, down), (6, "ScaleDownLimit"));
}

#[test]
fn b25_min_select_policy_limits() {
    let mut r = rules(2, 60, 50, 60, 300);
    r.select_policy = SelectPolicy::Min;
    let none = History::default();
    assert_eq!(normalize::scale_up_limit(1, &none, &r, NOW), 2);
    assert_eq!(normalize::scale_down_limit(5, &none, &r, NOW), 3);
    r.select_policy = SelectPolicy::Disabled;
    assert_eq!(normalize::scale_up_limit(1, &none, &r, NOW), 1);
    assert_eq!(normalize::scale_down_limit(5, &none, &r, NOW), 5);
}

#[test]
fn disabled_direction_holds_the_replicas() {
    let mut down = rules(0, 0, 100, 60, 0);
    down.select_policy = SelectPolicy::Disabled;
    let b = behavior(None, Some(down));
    assert_eq!(
        rate(10, 2, 1, 1000, &b, vec![], vec![]),
        (10, "ScaleDownLimit")
    );
}

/// `stabilizeRecommendationWithBehaviors` at [`NOW`] with windows in seconds.
fn stabilize(recs: &mut Vec<Timestamped>, current: i32, desired: i32, up: i64, down: i64) -> i32 {
    normalize::stabilize_with_behavior(recs, desired, current, up * SEC, down * SEC, NOW).replicas
}

#[test]
fn b26_stabilize_with_behaviors() {
    let mut recs = vec![rec(4, -2 * MIN), rec(5, -MIN)];
    assert_eq!(stabilize(&mut recs, 100, 3, 0, 180), 5);
    assert_eq!(
        recs.iter().map(|r| r.replicas).collect::<Vec<_>>(),
        vec![4, 5, 3]
    );
    let mut recs = vec![rec(4, -2 * MIN), rec(5, -MIN)];
    assert_eq!(stabilize(&mut recs, 1, 7, 300, 0), 4);
    let mut recs = vec![rec(2, -100 * MIN), rec(3, -3 * MIN)];
    assert_eq!(stabilize(&mut recs, 2, 1, 300, 300), 2);
    let mut recs = vec![rec(2, -100 * MIN), rec(1, -3 * MIN)];
    assert_eq!(stabilize(&mut recs, 2, 3, 300, 300), 2);
}

#[test]
fn b26_stabilize_reuses_slots_older_than_both_windows() {
    let mut recs = vec![rec(10, -10 * MIN), rec(9, -9 * MIN)];
    assert_eq!(stabilize(&mut recs, 100, 3, 0, 0), 3);
    assert_eq!(
        recs.iter().map(|r| r.replicas).collect::<Vec<_>>(),
        vec![10, 3]
    );
    let mut recs = vec![
        rec(10, -100 * MIN),
        rec(6, -MIN),
        rec(5, -2 * MIN),
        rec(9, -3 * MIN),
    ];
    assert_eq!(stabilize(&mut recs, 1, 100, 300, 0), 5);
    assert_eq!(
        recs.iter().map(|r| r.replicas).collect::<Vec<_>>(),
        vec![100, 6, 5, 9]
    );
    let mut recs = vec![
        rec(10, -10 * MIN),
        rec(4, -MIN),
        rec(5, -2 * MIN),
        rec(9, -9 * MIN),
    ];
    assert_eq!(stabilize(&mut recs, 100, 3, 0, 180), 5);
    assert_eq!(
        recs.iter().map(|r| r.replicas).collect::<Vec<_>>(),
        vec![10, 4, 5, 3]
    );
}

#[test]
fn store_scale_events() {
    let b = behavior(Some(rules(10, 60, 100, 30, 0)), None);
    let mut h = History {
        scale_up_events: vec![
            rec(8, -29 * SEC),
            rec(6, -59 * SEC),
            rec(7, -61 * SEC),
            rec(9, -61 * SEC),
        ],
        ..History::default()
    };
    assert_eq!(normalize::change_in_period(&h.scale_up_events, 60, NOW), 14);
    normalize::store_scale_event(&mut h, Some(&b), 10, 15, NOW);
    let changes: Vec<i32> = h.scale_up_events.iter().map(|e| e.replicas).collect();
    assert_eq!(changes, vec![8, 6, 7, 5]);
    normalize::store_scale_event(&mut h, None, 10, 15, NOW);
    normalize::store_scale_event(&mut h, Some(&b), 10, 10, NOW);
    assert_eq!(h.scale_up_events.len(), 4);
    let mut h = History::default();
    normalize::store_scale_event(&mut h, Some(&b), 10, 7, NOW);
    assert_eq!(h.scale_down_events, vec![rec(3, 0)]);
}
