//! API defaults and validation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autoscale::defaults::{self, PartialRules};
use autoscale::{Policy, PolicyKind, SelectPolicy, Spec};

/// A policy.
fn policy(kind: PolicyKind, value: i32, period_seconds: i32) -> Policy {
    Policy {
        kind,
        value,
        period_seconds,
    }
}

#[test]
fn absent_directions_get_kubernetes_defaults() {
    let b = defaults::behavior(None, None);
    assert_eq!(b.scale_up.stabilization_window_seconds, Some(0));
    assert_eq!(b.scale_up.select_policy, SelectPolicy::Max);
    assert_eq!(
        b.scale_up.policies,
        vec![
            policy(PolicyKind::Pods, 4, 15),
            policy(PolicyKind::Percent, 100, 15)
        ]
    );
    assert_eq!(b.scale_down.stabilization_window_seconds, None);
    assert_eq!(b.scale_down.select_policy, SelectPolicy::Max);
    assert_eq!(
        b.scale_down.policies,
        vec![policy(PolicyKind::Percent, 100, 15)]
    );
    assert_eq!((b.scale_up.tolerance, b.scale_down.tolerance), (None, None));
}

#[test]
fn written_pieces_are_kept_and_policies_replace_the_list() {
    let up = PartialRules {
        select_policy: Some(SelectPolicy::Min),
        policies: Some(vec![policy(PolicyKind::Pods, 1, 30)]),
        ..PartialRules::default()
    };
    let down = PartialRules {
        stabilization_window_seconds: Some(60),
        tolerance: Some(0.05),
        ..PartialRules::default()
    };
    let b = defaults::behavior(Some(up), Some(down));
    assert_eq!(b.scale_up.stabilization_window_seconds, Some(0));
    assert_eq!(b.scale_up.select_policy, SelectPolicy::Min);
    assert_eq!(b.scale_up.policies, vec![policy(PolicyKind::Pods, 1, 30)]);
    assert_eq!(b.scale_down.stabilization_window_seconds, Some(60));
    assert_eq!(b.scale_down.tolerance, Some(0.05));
    assert_eq!(
        b.scale_down.policies,
        vec![policy(PolicyKind::Percent, 100, 15)]
    );
}

/// A spec with a defaulted behavior.
fn spec(min: i32, max: i32) -> Spec {
    Spec {
        min_replicas: min,
        max_replicas: max,
        metrics: defaults::default_metrics(),
        behavior: Some(defaults::behavior(None, None)),
    }
}

#[test]
fn validation_rejects_what_the_api_server_would() {
    assert!(defaults::validate_spec(&spec(1, 10)).is_ok());
    assert!(defaults::validate_spec(&spec(0, 10)).is_ok());
    assert_eq!(
        defaults::validate_spec(&spec(-1, 10)).unwrap_err(),
        "spec.minReplicas: -1 must be >= 0"
    );
    assert_eq!(
        defaults::validate_spec(&spec(0, 0)).unwrap_err(),
        "spec.maxReplicas: 0 must be >= 1"
    );
    let mut s = spec(1, 10);
    if let Some(b) = s.behavior.as_mut() {
        b.scale_down.policies[0].period_seconds = 1801;
    }
    assert_eq!(
        defaults::validate_spec(&s).unwrap_err(),
        "spec.behavior.scaleDown.policies[0].periodSeconds: 1801 must be in (0, 1800]"
    );
    let mut s = spec(1, 10);
    if let Some(b) = s.behavior.as_mut() {
        b.scale_up.stabilization_window_seconds = Some(3601);
    }
    assert!(defaults::validate_spec(&s).is_err());
    let mut s = spec(1, 10);
    if let Some(b) = s.behavior.as_mut() {
        b.scale_up.policies.clear();
    }
    assert_eq!(
        defaults::validate_spec(&s).unwrap_err(),
        "spec.behavior.scaleUp.policies: must specify at least one Policy"
    );
}
