//! The replica calculator (§3.1–3.4): one metric's replica proposal from its current value.
//!
//! Every function returns the proposal and the value the status shows, or the calculator's
//! error message. Quantities are milli-units; `current` is `scale.spec.replicas`.

use std::collections::BTreeMap;

use crate::pods::{self, Samples};
use crate::types::{Metrics, Options, Pod};

/// The usage-ratio band inside which the replicas do not change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// How far below 1 the ratio may fall (0.1: down to 0.9).
    pub down: f64,
    /// How far above 1 the ratio may rise (0.1: up to 1.1).
    pub up: f64,
}

impl Tolerances {
    /// The same tolerance both ways.
    pub fn both(tolerance: f64) -> Tolerances {
        Tolerances {
            down: tolerance,
            up: tolerance,
        }
    }

    /// `(1 - down) <= ratio <= (1 + up)`.
    pub fn within(&self, ratio: f64) -> bool {
        (1.0 - self.down) <= ratio && ratio <= (1.0 + self.up)
    }
}

/// What every calculation reads.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Now, ms.
    pub now_ms: i64,
    /// `scale.spec.replicas`.
    pub current_replicas: i32,
    /// `scale.status.replicas`.
    pub status_replicas: i32,
    /// The selected pods.
    pub pods: &'a [Pod],
    /// The metric values.
    pub metrics: &'a Metrics,
    /// The tolerances.
    pub tolerances: Tolerances,
    /// The controller's flags.
    pub options: &'a Options,
}

/// A utilization proposal: replicas, `averageUtilization` (%), `averageValue` (milli).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtilizationProposal {
    /// Proposed replicas.
    pub replicas: i32,
    /// Current utilization, percent of the request.
    pub utilization: i32,
    /// Average value per measured pod, milli-units.
    pub raw_average: i64,
}

/// A proposal with one value: replicas and the value the status shows (milli-units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueProposal {
    /// Proposed replicas.
    pub replicas: i32,
    /// The metric's current value (average or total, by source), milli-units.
    pub value: i64,
}

/// `ceil(x)` as replicas, saturating at the `i32` range (NaN → 0).
fn ceil_replicas(x: f64) -> i32 {
    x.ceil() as i32
}

/// Saturates an `i128` into `i64`.
fn clamp_i64(x: i128) -> i64 {
    x.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Resource (or one container's resource) against an `averageUtilization` of `target` %
/// (§3.1, `GetResourceReplicas`).
pub fn resource_utilization(
    ctx: &Context<'_>,
    resource: &str,
    container: Option<&str>,
    target: i32,
) -> Result<UtilizationProposal, String> {
    let samples = pods::resource_samples(&ctx.metrics.resource, resource, container)
        .map_err(|e| format!("unable to get metrics for resource {resource}: {e}"))?;
    let grouped = group(ctx, samples, resource)?;
    let requests = pods::pod_requests(ctx.pods, resource, container)?;
    let (ratio, utilization, raw_average) = utilization_ratio(&grouped.values, &requests, target)?;
    let done = |replicas| UtilizationProposal {
        replicas,
        utilization,
        raw_average,
    };
    let scale_up_with_unready = !grouped.groups.unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && grouped.groups.missing.is_empty() {
        return Ok(done(direct(ctx, ratio, grouped.groups.ready_count)));
    }
    let mut values = grouped.values;
    if ratio < 1.0 {
        let fallback = i128::from(target.max(100));
        for pod in &grouped.groups.missing {
            let request = i128::from(requests.get(pod).copied().unwrap_or(0));
            values.insert(pod.clone(), clamp_i64(request * fallback / 100));
        }
    } else if ratio > 1.0 {
        fill(&mut values, &grouped.groups.missing, 0);
    }
    if scale_up_with_unready {
        fill(&mut values, &grouped.groups.unready, 0);
    }
    let (new_ratio, _, _) = utilization_ratio(&values, &requests, target)?;
    Ok(done(rebalanced(ctx, ratio, new_ratio, values.len())))
}

/// Resource against an `averageValue` (§3.2 via `GetRawResourceReplicas`).
pub fn resource_average(
    ctx: &Context<'_>,
    resource: &str,
    container: Option<&str>,
    target: i64,
) -> Result<ValueProposal, String> {
    let samples = pods::resource_samples(&ctx.metrics.resource, resource, container)
        .map_err(|e| format!("unable to get metrics for resource {resource}: {e}"))?;
    plain(ctx, samples, resource, target)
}

/// A Pods metric against an `averageValue` (§3.2, `GetMetricReplicas`).
pub fn pods_average(ctx: &Context<'_>, metric: &str, target: i64) -> Result<ValueProposal, String> {
    let samples = match ctx.metrics.pods.get(metric) {
        Some(values) if !values.is_empty() => values
            .iter()
            .map(|(pod, value)| {
                let sample = pods::Sample {
                    value: *value,
                    timestamp_ms: ctx.now_ms,
                    window_ms: 60_000,
                };
                (pod.clone(), sample)
            })
            .collect(),
        _ => {
            return Err(format!(
                "unable to get metric {metric}: no metrics returned from custom metrics API"
            ));
        }
    };
    plain(ctx, samples, "", target)
}

/// `calcPlainMetricReplicas`: the average over the samples against `target` per pod;
/// missing pods count as exactly the target on a scale-down, 0 on a scale-up.
fn plain(
    ctx: &Context<'_>,
    samples: Samples,
    resource: &str,
    target: i64,
) -> Result<ValueProposal, String> {
    let grouped = group(ctx, samples, resource)?;
    let (ratio, usage) = usage_ratio(&grouped.values, target);
    let done = |replicas| ValueProposal {
        replicas,
        value: usage,
    };
    let scale_up_with_unready = !grouped.groups.unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && grouped.groups.missing.is_empty() {
        return Ok(done(direct(ctx, ratio, grouped.groups.ready_count)));
    }
    let mut values = grouped.values;
    if ratio < 1.0 {
        fill(&mut values, &grouped.groups.missing, target);
    } else if ratio > 1.0 {
        fill(&mut values, &grouped.groups.missing, 0);
    }
    if scale_up_with_unready {
        fill(&mut values, &grouped.groups.unready, 0);
    }
    let (new_ratio, _) = usage_ratio(&values, target);
    Ok(done(rebalanced(ctx, ratio, new_ratio, values.len())))
}

/// The samples left after `groupPods`, as values, with the groups.
struct Grouped {
    values: BTreeMap<String, i64>,
    groups: pods::PodGroups,
}

/// Groups the pods, drops the samples of ignored and unready pods; errors when no pod is
/// selected or no sample remains.
fn group(ctx: &Context<'_>, mut samples: Samples, resource: &str) -> Result<Grouped, String> {
    if ctx.pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".to_string());
    }
    let groups = pods::group_pods(ctx.pods, &samples, resource, ctx.now_ms, ctx.options);
    pods::remove_samples(&mut samples, &groups.ignored);
    pods::remove_samples(&mut samples, &groups.unready);
    if samples.is_empty() {
        return Err(
            "did not receive metrics for targeted pods (pods might be unready)".to_string(),
        );
    }
    let values = samples.into_iter().map(|(pod, s)| (pod, s.value)).collect();
    Ok(Grouped { values, groups })
}

/// Sets every named pod's value.
fn fill(values: &mut BTreeMap<String, i64>, pods: &std::collections::BTreeSet<String>, value: i64) {
    for pod in pods {
        values.insert(pod.clone(), value);
    }
}

/// No unready pods to rebalance and none missing: current within tolerance, else
/// `ceil(ratio × ready pods)`.
fn direct(ctx: &Context<'_>, ratio: f64, ready: usize) -> i32 {
    if ctx.tolerances.within(ratio) {
        ctx.current_replicas
    } else {
        ceil_replicas(ratio * ready as f64)
    }
}

/// After filling in missing and unready pods: keep current when within tolerance or when
/// the direction flipped (in ratio or in replicas), else `ceil(new_ratio × samples)`.
fn rebalanced(ctx: &Context<'_>, ratio: f64, new_ratio: f64, samples: usize) -> i32 {
    let current = ctx.current_replicas;
    let flipped = (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0);
    if ctx.tolerances.within(new_ratio) || flipped {
        return current;
    }
    let replicas = ceil_replicas(new_ratio * samples as f64);
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return current;
    }
    replicas
}

/// `GetResourceUtilizationRatio`: over samples of pods with a request, utilization
/// `Σ value × 100 / Σ request` (truncated), ratio `utilization / target`, and the raw
/// average `Σ value / n`.
pub fn utilization_ratio(
    values: &BTreeMap<String, i64>,
    requests: &BTreeMap<String, i64>,
    target: i32,
) -> Result<(f64, i32, i64), String> {
    let (mut total, mut requested, mut n) = (0i128, 0i128, 0i128);
    for (pod, value) in values {
        let Some(request) = requests.get(pod) else {
            continue;
        };
        total += i128::from(*value);
        requested += i128::from(*request);
        n += 1;
    }
    if requested == 0 || n == 0 {
        return Err("no metrics returned matched known pods".to_string());
    }
    let utilization = (total * 100 / requested).clamp(i32::MIN as i128, i32::MAX as i128) as i32;
    let ratio = f64::from(utilization) / f64::from(target);
    Ok((ratio, utilization, clamp_i64(total / n)))
}

/// `GetMetricUsageRatio`: usage `Σ value / n` (integer), ratio `usage / target`.
fn usage_ratio(values: &BTreeMap<String, i64>, target: i64) -> (f64, i64) {
    let total: i128 = values.values().map(|v| i128::from(*v)).sum();
    let n = (values.len() as i128).max(1);
    let usage = clamp_i64(total / n);
    (usage as f64 / target as f64, usage)
}

/// An Object metric's `value` against a `value` target (§3.3).
pub fn object_value(ctx: &Context<'_>, value: i64, target: i64) -> Result<ValueProposal, String> {
    let replicas = usage_ratio_replicas(ctx, value as f64 / target as f64)?;
    Ok(ValueProposal { replicas, value })
}

/// External series, summed (saturating), against a `value` target (§3.3).
pub fn external_value(
    ctx: &Context<'_>,
    series: &[i64],
    target: i64,
) -> Result<ValueProposal, String> {
    let value = sum_series(series);
    let replicas = usage_ratio_replicas(ctx, value as f64 / target as f64)?;
    Ok(ValueProposal { replicas, value })
}

/// `getUsageRatioReplicaCount`: with replicas, current within tolerance else
/// `ceil(ratio × ready pods)`; from zero, `ceil(ratio)`.
fn usage_ratio_replicas(ctx: &Context<'_>, ratio: f64) -> Result<i32, String> {
    if ctx.current_replicas == 0 {
        return Ok(ceil_replicas(ratio));
    }
    if ctx.tolerances.within(ratio) {
        return Ok(ctx.current_replicas);
    }
    let ready = pods::ready_pod_count(ctx.pods)?;
    Ok(ceil_replicas(ratio * ready as f64))
}

/// A total `value` against a per-pod `target` (Object and External `averageValue`, §3.4):
/// status replicas within tolerance, else `ceil(value / target)`; the status shows
/// `ceil(value / statusReplicas)`.
pub fn per_pod_value(ctx: &Context<'_>, value: i64, target: i64) -> ValueProposal {
    let status = ctx.status_replicas;
    let ratio = value as f64 / (target as f64 * f64::from(status));
    let replicas = if ctx.tolerances.within(ratio) {
        status
    } else {
        ceil_replicas(value as f64 / target as f64)
    };
    let average = if status == 0 {
        value
    } else {
        (value as f64 / f64::from(status)).ceil() as i64
    };
    ValueProposal {
        replicas,
        value: average,
    }
}

/// The sum of an External metric's series, saturating at the `i64` range.
pub fn sum_series(series: &[i64]) -> i64 {
    clamp_i64(series.iter().map(|v| i128::from(*v)).sum())
}
