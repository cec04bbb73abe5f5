//! One reconcile of one autoscaler (§4, `reconcileAutoscaler`): the pre-checks, the
//! metrics, normalization, the conditions and the history for the next decision.

use std::borrow::Cow;

use crate::defaults;
use crate::metrics::{self, Combined};
use crate::normalize::{self, Normalized};
use crate::replicas::{Context, Tolerances};
use crate::types::{Condition, Decision, History, Input, MetricSpec, Timestamped};

/// `AbleToScale`.
const ABLE_TO_SCALE: &str = "AbleToScale";
/// `ScalingActive`.
const SCALING_ACTIVE: &str = "ScalingActive";
/// `ScalingLimited`.
const SCALING_LIMITED: &str = "ScalingLimited";

/// A condition.
fn condition(
    kind: &'static str,
    status: bool,
    reason: &'static str,
    message: impl Into<String>,
) -> Condition {
    Condition {
        kind,
        status,
        reason,
        message: message.into(),
    }
}

/// `AbleToScale=True SucceededGetScale`, set before anything else.
fn got_scale() -> Condition {
    condition(
        ABLE_TO_SCALE,
        true,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    )
}

/// See [`crate::decide`].
pub(crate) fn decide(input: &Input) -> Decision {
    let current = input.current_replicas;
    if let Err(e) = defaults::validate_spec(&input.spec) {
        let active = condition(
            SCALING_ACTIVE,
            false,
            "InvalidSpec",
            format!("the HPA spec is invalid: {e}"),
        );
        return finish(
            current,
            vec![got_scale(), active],
            Vec::new(),
            vec![e],
            input.history.clone(),
        );
    }
    let mut history = input.history.clone();
    if history.recommendations.is_empty() {
        history.recommendations.push(Timestamped {
            replicas: current,
            time_ms: input.now_ms,
        });
    }
    let spec = &input.spec;
    if current == 0 && spec.min_replicas != 0 {
        let message = "scaling is disabled since the replica count of the target is zero";
        let active = condition(SCALING_ACTIVE, false, "ScalingDisabled", message);
        return finish(
            0,
            vec![got_scale(), active],
            Vec::new(),
            Vec::new(),
            history,
        );
    }
    if current > spec.max_replicas {
        let message = "the desired replica count is more than the maximum replica count";
        return out_of_range(
            input,
            history,
            spec.max_replicas,
            "TooManyReplicas",
            message,
        );
    }
    if current < spec.min_replicas {
        let message = "the desired replica count is less than the minimum replica count";
        return out_of_range(input, history, spec.min_replicas, "TooFewReplicas", message);
    }
    from_metrics(input, history)
}

/// The current replicas are outside `[min, max]`: set the bound without reading metrics.
fn out_of_range(
    input: &Input,
    mut history: History,
    desired: i32,
    reason: &'static str,
    message: &'static str,
) -> Decision {
    let behavior = input.spec.behavior.as_ref();
    normalize::store_scale_event(
        &mut history,
        behavior,
        input.current_replicas,
        desired,
        input.now_ms,
    );
    let limited = condition(SCALING_LIMITED, true, reason, message);
    finish(
        desired,
        vec![got_scale(), limited],
        Vec::new(),
        Vec::new(),
        history,
    )
}

/// The tolerances: each direction's behavior tolerance, else the flag.
fn tolerances(input: &Input) -> Tolerances {
    let flag = input.options.tolerance;
    match &input.spec.behavior {
        None => Tolerances::both(flag),
        Some(b) => Tolerances {
            down: b.scale_down.tolerance.unwrap_or(flag),
            up: b.scale_up.tolerance.unwrap_or(flag),
        },
    }
}

/// Computes the metrics, then normalizes their proposal.
fn from_metrics(input: &Input, mut history: History) -> Decision {
    let ctx = Context {
        now_ms: input.now_ms,
        current_replicas: input.current_replicas,
        status_replicas: input.status_replicas,
        pods: &input.pods,
        metrics: &input.metrics,
        tolerances: tolerances(input),
        options: &input.options,
    };
    let specs: Cow<'_, [MetricSpec]> = if input.spec.metrics.is_empty() {
        Cow::Owned(defaults::default_metrics())
    } else {
        Cow::Borrowed(&input.spec.metrics)
    };
    let Combined {
        proposal,
        statuses,
        failures,
    } = metrics::compute_all(&ctx, &specs);
    let errors: Vec<String> = failures.iter().map(|f| f.error.clone()).collect();
    let Some((proposal, description)) = proposal else {
        let active = match failures.first() {
            Some(f) => condition(SCALING_ACTIVE, false, f.reason, f.message.clone()),
            None => condition(
                SCALING_ACTIVE,
                false,
                "FailedComputeMetricsReplicas",
                "the HPA was unable to compute the replica count: no metric produced a proposal",
            ),
        };
        let current = input.current_replicas;
        return finish(
            current,
            vec![got_scale(), active],
            statuses,
            errors,
            history,
        );
    };
    let proposal = proposal.max(0);
    let normalized = normalize(input, &mut history, proposal);
    let desired = normalized.limited.replicas;
    let behavior = input.spec.behavior.as_ref();
    normalize::store_scale_event(
        &mut history,
        behavior,
        input.current_replicas,
        desired,
        input.now_ms,
    );
    let message =
        format!("the HPA was able to successfully calculate a replica count from {description}");
    let s = normalized.stabilized;
    let l = normalized.limited;
    let conditions = vec![
        condition(ABLE_TO_SCALE, true, s.reason, s.message),
        condition(SCALING_ACTIVE, true, "ValidMetricFound", message),
        condition(
            SCALING_LIMITED,
            l.replicas != s.replicas,
            l.reason,
            l.message,
        ),
    ];
    finish(desired, conditions, statuses, errors, history)
}

/// The legacy path without a behavior, else the behavior path.
fn normalize(input: &Input, history: &mut History, proposal: i32) -> Normalized {
    let spec = &input.spec;
    let (current, now) = (input.current_replicas, input.now_ms);
    let window = input.options.downscale_stabilization_ms;
    let (min, max) = (spec.min_replicas, spec.max_replicas);
    match &spec.behavior {
        None => normalize::normalize_legacy(history, current, proposal, min, max, window, now),
        Some(b) => {
            normalize::normalize_with_behavior(history, b, current, proposal, min, max, window, now)
        }
    }
}

/// Assembles the decision; its reason is the `ScalingActive` reason when scaling is not
/// active, else the `AbleToScale` reason when stabilization changed the recommendation,
/// else the `ScalingLimited` reason.
fn finish(
    desired_replicas: i32,
    conditions: Vec<Condition>,
    metrics: Vec<crate::types::MetricStatus>,
    errors: Vec<String>,
    history: History,
) -> Decision {
    let find = |kind: &str| conditions.iter().find(|c| c.kind == kind);
    let stabilized =
        |c: &&Condition| c.reason == "ScaleUpStabilized" || c.reason == "ScaleDownStabilized";
    let reason = match find(SCALING_ACTIVE).filter(|c| !c.status) {
        Some(active) => active.reason,
        None => match find(ABLE_TO_SCALE).filter(stabilized) {
            Some(able) => able.reason,
            None => find(SCALING_LIMITED).map_or("DesiredWithinRange", |c| c.reason),
        },
    };
    Decision {
        desired_replicas,
        reason,
        conditions,
        metrics,
        errors,
        history,
    }
}
