//! Kubernetes API defaults and validation for the autoscaler's spec
//! (`SetDefaults_HorizontalPodAutoscaler`, autoscaling/v2 validation).
//!
//! When `spec.behavior` is set, each direction's missing pieces are filled:
//! - scale-up: window 0 s, `Max`, policies `[{Pods, 4, 15 s}, {Percent, 100, 15 s}]`;
//! - scale-down: window unset (the controller uses its downscale-stabilization flag),
//!   `Max`, policies `[{Percent, 100, 15 s}]`.
//!
//! A user's policy list replaces the default list wholesale; the window, `selectPolicy`
//! and tolerance are taken one by one. An absent behavior stays absent: the controller then
//! takes the legacy path, not these defaults.

use crate::types::{Behavior, MetricSpec, Policy, PolicyKind, Rules, SelectPolicy, Spec, Target};

/// `minReplicas` when unset.
pub const DEFAULT_MIN_REPLICAS: i32 = 1;
/// The cpu utilization target of the default metric, percent.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;
/// Longest stabilization window, seconds.
pub const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;
/// Longest policy period, seconds.
pub const MAX_PERIOD_SECONDS: i32 = 1800;

/// One direction of a behavior as the user wrote it: any piece may be missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartialRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window_seconds: Option<i32>,
    /// `selectPolicy`.
    pub select_policy: Option<SelectPolicy>,
    /// `policies` (replaces the default list when present).
    pub policies: Option<Vec<Policy>>,
    /// `tolerance`.
    pub tolerance: Option<f64>,
}

/// `{kind, value, period}` as a [`Policy`].
fn policy(kind: PolicyKind, value: i32, period_seconds: i32) -> Policy {
    Policy {
        kind,
        value,
        period_seconds,
    }
}

/// Fills a direction's missing pieces from `defaults`.
fn fill(partial: Option<&PartialRules>, defaults: Rules) -> Rules {
    let Some(p) = partial else {
        return defaults;
    };
    Rules {
        stabilization_window_seconds: p
            .stabilization_window_seconds
            .or(defaults.stabilization_window_seconds),
        select_policy: p.select_policy.unwrap_or(defaults.select_policy),
        policies: p.policies.clone().unwrap_or(defaults.policies),
        tolerance: p.tolerance.or(defaults.tolerance),
    }
}

/// The scale-up rules with API defaults applied.
pub fn scale_up_rules(partial: Option<&PartialRules>) -> Rules {
    let defaults = Rules {
        stabilization_window_seconds: Some(0),
        select_policy: SelectPolicy::Max,
        policies: vec![
            policy(PolicyKind::Pods, 4, 15),
            policy(PolicyKind::Percent, 100, 15),
        ],
        tolerance: None,
    };
    fill(partial, defaults)
}

/// The scale-down rules with API defaults applied (window left unset).
pub fn scale_down_rules(partial: Option<&PartialRules>) -> Rules {
    let defaults = Rules {
        stabilization_window_seconds: None,
        select_policy: SelectPolicy::Max,
        policies: vec![policy(PolicyKind::Percent, 100, 15)],
        tolerance: None,
    };
    fill(partial, defaults)
}

/// A behavior with API defaults applied to both directions.
pub fn default_behavior(
    scale_up: Option<&PartialRules>,
    scale_down: Option<&PartialRules>,
) -> Behavior {
    Behavior {
        scale_up: scale_up_rules(scale_up),
        scale_down: scale_down_rules(scale_down),
    }
}

/// [`default_behavior`] taking the written pieces by value.
pub fn behavior(scale_up: Option<PartialRules>, scale_down: Option<PartialRules>) -> Behavior {
    default_behavior(scale_up.as_ref(), scale_down.as_ref())
}

/// The metrics of a spec that names none: cpu at 80% utilization.
pub fn default_metrics() -> Vec<MetricSpec> {
    vec![MetricSpec::Resource {
        name: "cpu".to_string(),
        target: Target::Utilization(DEFAULT_CPU_UTILIZATION),
    }]
}

/// Checks what the API server would reject: `minReplicas < 0`, `maxReplicas < 1`,
/// `minReplicas > maxReplicas`, and invalid behavior rules.
pub fn validate_spec(spec: &Spec) -> Result<(), String> {
    if spec.min_replicas < 0 {
        return Err(format!(
            "spec.minReplicas: {} must be >= 0",
            spec.min_replicas
        ));
    }
    if spec.max_replicas < 1 {
        return Err(format!(
            "spec.maxReplicas: {} must be >= 1",
            spec.max_replicas
        ));
    }
    if spec.min_replicas > spec.max_replicas {
        return Err(format!(
            "spec.maxReplicas: {} must be >= minReplicas {}",
            spec.max_replicas, spec.min_replicas
        ));
    }
    match &spec.behavior {
        Some(b) => {
            validate_rules("spec.behavior.scaleUp", &b.scale_up)?;
            validate_rules("spec.behavior.scaleDown", &b.scale_down)
        }
        None => Ok(()),
    }
}

/// Checks one direction: window in `[0, 3600]`, at least one policy, each policy's period
/// in `(0, 1800]` and value > 0, tolerance ≥ 0 and finite.
pub fn validate_rules(path: &str, rules: &Rules) -> Result<(), String> {
    if let Some(w) = rules.stabilization_window_seconds
        && !(0..=MAX_STABILIZATION_WINDOW_SECONDS).contains(&w)
    {
        return Err(format!(
            "{path}.stabilizationWindowSeconds: {w} must be in [0, 3600]"
        ));
    }
    if let Some(t) = rules.tolerance
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(format!(
            "{path}.tolerance: {t} must be a non-negative number"
        ));
    }
    if rules.policies.is_empty() {
        return Err(format!("{path}.policies: must specify at least one Policy"));
    }
    for (i, p) in rules.policies.iter().enumerate() {
        if p.period_seconds <= 0 || p.period_seconds > MAX_PERIOD_SECONDS {
            return Err(format!(
                "{path}.policies[{i}].periodSeconds: {} must be in (0, 1800]",
                p.period_seconds
            ));
        }
        if p.value <= 0 {
            return Err(format!(
                "{path}.policies[{i}].value: {} must be greater than 0",
                p.value
            ));
        }
    }
    Ok(())
}
