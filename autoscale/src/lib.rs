//! The Kubernetes HorizontalPodAutoscaler algorithm as a pure function.
//!
//! [`decide`] takes everything one reconcile of the HPA controller reads — the spec, the
//! target's replicas, the selected pods, the metric values, the flags, and what earlier
//! decisions left ([`History`]) — and returns what the controller would do: the replicas to
//! set, the status conditions, the metrics' current values, and the history to pass to the
//! next decision. Nothing is read from or written to a cluster.
//!
//! The parts, in the order a decision runs them:
//! - [`pods`]: `groupPods` (ready / unready / missing / ignored, with the CPU readiness
//!   rules), requests, per-pod resource samples;
//! - [`replicas`]: the replica calculator, one proposal per metric source and target type;
//! - [`metrics`]: every `spec.metrics` entry, the controller's error wording, and the
//!   combination of several metrics;
//! - [`normalize`]: stabilization, rate limits, min/max, the recorded history;
//! - [`defaults`]: API defaults for a partially written behavior, and spec validation.
//!
//! Quantities are milli-units (`i64`), times ms since the epoch. No input makes these
//! functions panic: bad input yields an error string in the decision.

pub mod defaults;
pub mod metrics;
pub mod normalize;
pub mod pods;
mod reconcile;
pub mod replicas;
pub mod types;

pub use defaults::{PartialRules, default_behavior};
pub use types::{
    Behavior, Condition, Decision, History, Input, MetricSpec, MetricStatus, Metrics, Options,
    Phase, Pod, PodUsage, Policy, PolicyKind, ReadyCondition, Rules, SelectPolicy, Spec, Target,
    Timestamped,
};

/// Decides the replicas for `input` as one reconcile of the HPA controller would, without
/// side effects: the scale to set, the conditions, the metric statuses, the per-metric
/// errors, and the history to pass to the next decision.
///
/// An empty `history.recommendations` is a first sight: it is seeded with the current
/// replicas at now (`recordInitialRecommendation`), so a first decision never scales down
/// (nor, with a behavior, within the scale-down window). A spec the API would reject
/// leaves the replicas unchanged with `ScalingActive=False InvalidSpec`.
///
/// Conditions: `AbleToScale` carries the stabilization outcome (`ReadyForNewScale`,
/// `ScaleUpStabilized`, `ScaleDownStabilized`) rather than the `SucceededRescale` the
/// controller writes after updating the scale; when the current replicas are outside
/// `[min, max]` a `ScalingLimited=True TooManyReplicas/TooFewReplicas` condition names
/// why (the controller sets none there).
pub fn decide(input: &Input) -> Decision {
    reconcile::decide(input)
}
