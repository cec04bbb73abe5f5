//! One proposal per `spec.metrics` entry (`computeReplicasForMetric`) and their combination
//! (§3.5, `computeReplicasForMetrics`), with the controller's error wording and condition
//! reasons.

use crate::replicas::{self, Context, ValueProposal};
use crate::types::{MetricSpec, MetricStatus, Target};

/// A metric that produced a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Proposed replicas.
    pub replicas: i32,
    /// Its current value, for the status.
    pub status: MetricStatus,
    /// How the controller names it (`cpu resource utilization (percentage of request)`).
    pub description: String,
}

/// A metric that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The `ScalingActive=False` reason (`FailedGetResourceMetric`, ...).
    pub reason: &'static str,
    /// The condition's message (`the HPA was unable to compute the replica count: ...`).
    pub message: String,
    /// The error as the controller returns it (`failed to get cpu resource metric value: ...`).
    pub error: String,
}

/// Every metric's outcome, combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Combined {
    /// The largest proposal and its metric's description; `None` when scaling must not
    /// happen (all failed, or some failed and the largest proposal would scale down).
    pub proposal: Option<(i32, String)>,
    /// The statuses of the metrics that produced a proposal, in spec order.
    pub statuses: Vec<MetricStatus>,
    /// The failures, in spec order.
    pub failures: Vec<Failure>,
}

/// Computes every metric and combines them (§3.5): the maximum proposal; no proposal when
/// every metric failed, or when some failed and the maximum is below the current replicas.
pub fn compute_all(ctx: &Context<'_>, specs: &[MetricSpec]) -> Combined {
    let mut best: Option<(i32, String)> = None;
    let mut statuses = Vec::new();
    let mut failures = Vec::new();
    for spec in specs {
        match compute(ctx, spec) {
            Ok(p) => {
                if best.as_ref().is_none_or(|(r, _)| p.replicas > *r) {
                    best = Some((p.replicas, p.description.clone()));
                }
                statuses.push(p.status);
            }
            Err(f) => failures.push(f),
        }
    }
    let blocked = match &best {
        None => true,
        Some((replicas, _)) => !failures.is_empty() && *replicas < ctx.current_replicas,
    };
    Combined {
        proposal: if blocked { None } else { best },
        statuses,
        failures,
    }
}

/// One metric's proposal, or its failure.
pub fn compute(ctx: &Context<'_>, spec: &MetricSpec) -> Result<Proposal, Failure> {
    match spec {
        MetricSpec::Resource { name, target } => resource(ctx, spec, name, None, *target),
        MetricSpec::ContainerResource {
            name,
            container,
            target,
        } => resource(ctx, spec, name, Some(container), *target),
        MetricSpec::Pods { metric, target } => pods(ctx, spec, metric, *target),
        MetricSpec::Object {
            metric,
            described_object,
            target,
        } => object(ctx, spec, metric, described_object, *target),
        MetricSpec::External { metric, target } => external(ctx, spec, metric, *target),
    }
}

/// A failure whose condition message and returned error wrap `cause`.
fn failure(reason: &'static str, cause: &str, error: String) -> Failure {
    Failure {
        reason,
        message: format!("the HPA was unable to compute the replica count: {cause}"),
        error,
    }
}

/// A status with only the given fields.
fn status(
    spec: &MetricSpec,
    utilization: Option<i32>,
    average: Option<i64>,
    value: Option<i64>,
) -> MetricStatus {
    MetricStatus {
        spec: spec.clone(),
        average_utilization: utilization,
        average_value: average,
        value,
    }
}

/// `invalid metric target: <what> must be greater than 0`, for targets the API would
/// reject.
fn non_positive(what: &str) -> String {
    format!("invalid metric target: {what} must be greater than 0")
}

/// Resource and ContainerResource metrics.
fn resource(
    ctx: &Context<'_>,
    spec: &MetricSpec,
    name: &str,
    container: Option<&str>,
    target: Target,
) -> Result<Proposal, Failure> {
    let (reason, wrap) = match container {
        None => (
            "FailedGetResourceMetric",
            format!("failed to get {name} resource metric value"),
        ),
        Some(c) => (
            "FailedGetContainerResourceMetric",
            format!("failed to get {c} container metric value"),
        ),
    };
    let fail = |cause: String| failure(reason, &cause, format!("{wrap}: {cause}"));
    match target {
        Target::Utilization(t) if t <= 0 => Err(fail(non_positive("averageUtilization"))),
        Target::AverageValue(t) if t <= 0 => Err(fail(non_positive("averageValue"))),
        Target::Utilization(t) => {
            let p = replicas::resource_utilization(ctx, name, container, t)
                .map_err(|e| fail(format!("failed to get {name} utilization: {e}")))?;
            let kind = if container.is_some() { "container resource" } else { "resource" };
            Ok(Proposal {
                replicas: p.replicas,
                status: status(spec, Some(p.utilization), Some(p.raw_average), None),
                description: format!("{name} {kind} utilization (percentage of request)"),
            })
        }
        Target::AverageValue(t) => {
            let p = replicas::resource_average(ctx, name, container, t)
                .map_err(|e| fail(format!("failed to get {name} usage: {e}")))?;
            Ok(Proposal {
                replicas: p.replicas,
                status: status(spec, None, Some(p.value), None),
                description: format!("{name} resource"),
            })
        }
        Target::Value(_) => Err(fail(
            "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set"
                .to_string(),
        )),
    }
}

/// Pods metrics (`averageValue` only).
fn pods(
    ctx: &Context<'_>,
    spec: &MetricSpec,
    metric: &str,
    target: Target,
) -> Result<Proposal, Failure> {
    let fail = |cause: String| {
        failure(
            "FailedGetPodsMetric",
            &cause,
            format!("failed to get pods metric value: {cause}"),
        )
    };
    let t = match target {
        Target::AverageValue(t) if t > 0 => t,
        Target::AverageValue(_) => return Err(fail(non_positive("averageValue"))),
        _ => {
            return Err(fail(
                "invalid pods metric source: an average value target must be set".to_string(),
            ));
        }
    };
    let p = replicas::pods_average(ctx, metric, t).map_err(fail)?;
    Ok(Proposal {
        replicas: p.replicas,
        status: status(spec, None, Some(p.value), None),
        description: format!("pods metric {metric}"),
    })
}

/// Object metrics (`value` or `averageValue`).
fn object(
    ctx: &Context<'_>,
    spec: &MetricSpec,
    metric: &str,
    described: &str,
    target: Target,
) -> Result<Proposal, Failure> {
    let reason = "FailedGetObjectMetric";
    let (kind, name) = described.split_once('/').unwrap_or((described, ""));
    let description = format!("{kind} metric {metric}");
    let value = ctx.metrics.objects.get(metric).copied();
    let missing = format!(
        "unable to get metric {metric}: {kind} on {name}: no metrics returned from custom metrics API"
    );
    match target {
        Target::Value(t) | Target::AverageValue(t) if t <= 0 => {
            let cause = non_positive("target");
            Err(failure(
                reason,
                &cause,
                format!("failed to get object metric value: {cause}"),
            ))
        }
        Target::Value(t) => {
            let fail = |cause: String| {
                failure(
                    reason,
                    &cause,
                    format!("failed to get object metric value: {cause}"),
                )
            };
            let v = value.ok_or_else(|| fail(missing.clone()))?;
            let p = replicas::object_value(ctx, v, t).map_err(fail)?;
            Ok(value_proposal(spec, p, false, description))
        }
        Target::AverageValue(t) => {
            let v = value.ok_or_else(|| {
                let error = format!("failed to get object metric value: failed to get {metric} object metric: {missing}");
                failure(reason, &missing, error)
            })?;
            let p = replicas::per_pod_value(ctx, v, t);
            Ok(value_proposal(spec, p, true, description))
        }
        Target::Utilization(_) => {
            let cause = "invalid object metric source: neither a value target nor an average value target was set";
            Err(failure(
                reason,
                cause,
                format!("failed to get object metric value: {cause}"),
            ))
        }
    }
}

/// External metrics (`value` or `averageValue`).
fn external(
    ctx: &Context<'_>,
    spec: &MetricSpec,
    metric: &str,
    target: Target,
) -> Result<Proposal, Failure> {
    let reason = "FailedGetExternalMetric";
    let wrap = format!("failed to get {metric} external metric value");
    let description = format!("external metric {metric}");
    let series = match ctx.metrics.external.get(metric) {
        Some(series) if !series.is_empty() => Some(series.as_slice()),
        _ => None,
    };
    let missing = format!(
        "unable to get external metric {metric}: no metrics returned from external metrics API"
    );
    match target {
        Target::Value(t) | Target::AverageValue(t) if t <= 0 => {
            let cause = non_positive("target");
            Err(failure(reason, &cause, format!("{wrap}: {cause}")))
        }
        Target::Value(t) => {
            let inner = format!("failed to get external metric {metric}");
            let fail = |cause: String| failure(reason, &cause, format!("{wrap}: {inner}: {cause}"));
            let s = series.ok_or_else(|| fail(missing.clone()))?;
            let p = replicas::external_value(ctx, s, t).map_err(fail)?;
            Ok(value_proposal(spec, p, false, description))
        }
        Target::AverageValue(t) => {
            let s = series.ok_or_else(|| {
                let error = format!("{wrap}: failed to get {metric} external metric: {missing}");
                failure(reason, &missing, error)
            })?;
            let p = replicas::per_pod_value(ctx, replicas::sum_series(s), t);
            Ok(value_proposal(spec, p, true, description))
        }
        Target::Utilization(_) => {
            let cause = "invalid external metric source: neither a value target nor an average value target was set";
            Err(failure(reason, cause, format!("{wrap}: {cause}")))
        }
    }
}

/// A proposal whose status shows `averageValue` (`average`) or `value`.
fn value_proposal(
    spec: &MetricSpec,
    p: ValueProposal,
    average: bool,
    description: String,
) -> Proposal {
    let status = if average {
        status(spec, None, Some(p.value), None)
    } else {
        status(spec, None, None, Some(p.value))
    };
    Proposal {
        replicas: p.replicas,
        status,
        description,
    }
}
