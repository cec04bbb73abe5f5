//! Pods: which count, which wait, which have no metric (`groupPods`), their requests, and
//! the per-pod samples of a resource metric.
//!
//! Quantities are milli-units, times ms since the epoch.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::{Options, Phase, Pod, PodUsage};

/// One pod's value of a metric, with when and over what window it was measured (the
/// controller's `PodMetric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Milli-units.
    pub value: i64,
    /// When it was measured, ms.
    pub timestamp_ms: i64,
    /// Over what window, ms.
    pub window_ms: i64,
}

/// Pod name → sample. It may name pods the selector does not select (superfluous metrics).
pub type Samples = BTreeMap<String, Sample>;

/// How `groupPods` sorted the selected pods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodGroups {
    /// Pods counted as ready (their metric is used as is).
    pub ready_count: usize,
    /// Pending pods, and for `cpu` pods not ready or not yet measured since becoming ready.
    pub unready: BTreeSet<String>,
    /// Pods without a metric.
    pub missing: BTreeSet<String>,
    /// Deleted or failed pods, dropped entirely.
    pub ignored: BTreeSet<String>,
}

/// Sorts `pods` into ready / unready / missing / ignored for a metric of `resource` (`""`
/// for custom metrics). The CPU readiness rules (initialization period, initial readiness
/// delay from `options`) apply only when `resource == "cpu"`.
pub fn group_pods(
    pods: &[Pod],
    samples: &Samples,
    resource: &str,
    now_ms: i64,
    options: &Options,
) -> PodGroups {
    let mut groups = PodGroups::default();
    for pod in pods {
        if pod.deleting || pod.phase == Phase::Failed {
            groups.ignored.insert(pod.name.clone());
            continue;
        }
        if pod.phase == Phase::Pending {
            groups.unready.insert(pod.name.clone());
            continue;
        }
        let Some(sample) = samples.get(&pod.name) else {
            groups.missing.insert(pod.name.clone());
            continue;
        };
        if resource == "cpu" && cpu_unready(pod, sample, now_ms, options) {
            groups.unready.insert(pod.name.clone());
            continue;
        }
        groups.ready_count += 1;
    }
    groups
}

/// Whether a running pod's CPU sample must be set aside: no `Ready` condition or start time;
/// within the initialization period, not ready or measured over a window that began before
/// it became ready; after it, not ready and never ready since its start (the transition
/// came within the initial readiness delay).
fn cpu_unready(pod: &Pod, sample: &Sample, now_ms: i64, options: &Options) -> bool {
    let (Some(cond), Some(start)) = (pod.ready, pod.start_time_ms) else {
        return true;
    };
    if start.saturating_add(options.cpu_initialization_period_ms) > now_ms {
        let fresh_from = cond.last_transition_ms.saturating_add(sample.window_ms);
        !cond.ready || sample.timestamp_ms < fresh_from
    } else {
        !cond.ready
            && start.saturating_add(options.initial_readiness_delay_ms) > cond.last_transition_ms
    }
}

/// Removes the samples of the named pods.
pub fn remove_samples(samples: &mut Samples, pods: &BTreeSet<String>) {
    for name in pods {
        samples.remove(name);
    }
}

/// Per-pod samples of `resource` from the resource metrics API: the sum over all
/// containers (a pod with no containers, or a container without the resource, has no
/// sample), or the named `container`'s value (error if a pod has no such container).
/// Errors as the controller's metrics client words them (without the namespace).
pub fn resource_samples(
    usage: &BTreeMap<String, PodUsage>,
    resource: &str,
    container: Option<&str>,
) -> Result<Samples, String> {
    if usage.is_empty() {
        return Err("no metrics returned from resource metrics API".to_string());
    }
    let mut samples = Samples::new();
    for (pod, pod_usage) in usage {
        let value = match container {
            Some(name) => container_value(pod, pod_usage, resource, name)?,
            None => pod_value(pod_usage, resource),
        };
        if let Some(value) = value {
            let sample = Sample {
                value,
                timestamp_ms: pod_usage.timestamp_ms,
                window_ms: pod_usage.window_ms,
            };
            samples.insert(pod.clone(), sample);
        }
    }
    Ok(samples)
}

/// The sum over every container, `None` if any lacks the resource or there are none.
fn pod_value(usage: &PodUsage, resource: &str) -> Option<i64> {
    if usage.containers.is_empty() {
        return None;
    }
    let mut sum: i64 = 0;
    for resources in usage.containers.values() {
        sum = sum.saturating_add(*resources.get(resource)?);
    }
    Some(sum)
}

/// The named container's value (`None` if it lacks the resource).
fn container_value(
    pod: &str,
    usage: &PodUsage,
    resource: &str,
    container: &str,
) -> Result<Option<i64>, String> {
    match usage.containers.get(container) {
        Some(resources) => Ok(resources.get(resource).copied()),
        None => Err(format!(
            "failed to get container metrics: container {container} not present in metrics for pod {pod}"
        )),
    }
}

/// Each pod's request of `resource`, milli-units: the named container's, else the pod-level
/// request when the pod sets one for this resource, else the sum over its containers
/// (`Pod::container_requests` already holds restartable init containers). A container
/// lacking the request is an error.
pub fn pod_requests(
    pods: &[Pod],
    resource: &str,
    container: Option<&str>,
) -> Result<BTreeMap<String, i64>, String> {
    let mut requests = BTreeMap::new();
    for pod in pods {
        let request = match container {
            Some(name) => container_request(pod, resource, name)?,
            None => match pod.pod_requests.as_ref().and_then(|r| r.get(resource)) {
                Some(value) => *value,
                None => containers_request(pod, resource)?,
            },
        };
        requests.insert(pod.name.clone(), request);
    }
    Ok(requests)
}

/// The sum of every container's request.
fn containers_request(pod: &Pod, resource: &str) -> Result<i64, String> {
    let mut sum: i64 = 0;
    for (name, requests) in &pod.container_requests {
        let value = requests
            .get(resource)
            .ok_or_else(|| missing_request(resource, name, &pod.name))?;
        sum = sum.saturating_add(*value);
    }
    Ok(sum)
}

/// The named container's request.
fn container_request(pod: &Pod, resource: &str, container: &str) -> Result<i64, String> {
    let (_, requests) = pod
        .container_requests
        .iter()
        .find(|(name, _)| name == container)
        .ok_or_else(|| format!("container {container} not found in Pod {}", pod.name))?;
    requests
        .get(resource)
        .copied()
        .ok_or_else(|| missing_request(resource, container, &pod.name))
}

/// `missing request for <res> in container <c> of Pod <p>`.
fn missing_request(resource: &str, container: &str, pod: &str) -> String {
    format!("missing request for {resource} in container {container} of Pod {pod}")
}

/// How many pods are Running with `Ready=True` (Object and External `Value` targets).
/// Errors when the selector selects no pod.
pub fn ready_pod_count(pods: &[Pod]) -> Result<usize, String> {
    if pods.is_empty() {
        return Err(
            "unable to calculate ready pods: no pods returned by selector while calculating replica count"
                .to_string(),
        );
    }
    let ready = pods
        .iter()
        .filter(|p| p.phase == Phase::Running && p.ready.is_some_and(|c| c.ready))
        .count();
    Ok(ready)
}
