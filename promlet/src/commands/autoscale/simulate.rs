//! Replaying observations through the algorithm as if its decisions had been applied: the
//! replicas follow the desired replicas, and the load observed at each step is spread
//! evenly over the simulated replicas (the total CPU, memory and Pods-metric values stay
//! what was observed; Object and External values are taken as observed). Simulated pods are
//! Running, Ready and past their CPU initialization period.

use std::collections::BTreeMap;

use autoscale::{Decision, History, Input, Metrics, Options, Phase, Pod, PodUsage, ReadyCondition};

use super::config::Autoscaler;
use super::observe::Observation;

/// How long before each step the simulated pods started, ms.
const SIMULATED_AGE_MS: i64 = 3_600_000;

/// One step of a simulation.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// When, ms.
    pub(crate) t_ms: i64,
    /// Replicas before the decision.
    pub(crate) current: i32,
    /// The decision.
    pub(crate) decision: Decision,
}

/// Replays `observations` for `a`, starting at `a.initial_replicas` with no history.
pub(crate) fn replay(a: &Autoscaler, observations: &[Observation], options: Options) -> Vec<Step> {
    let mut replicas = a.initial_replicas;
    let mut history = History::default();
    let mut steps = Vec::with_capacity(observations.len());
    for obs in observations {
        let input = simulated_input(a, obs, replicas, history, options);
        let decision = autoscale::decide(&input);
        history = decision.history.clone();
        steps.push(Step {
            t_ms: obs.t_ms,
            current: replicas,
            decision: decision.clone(),
        });
        replicas = decision.desired_replicas;
    }
    steps
}

/// The algorithm's input at `obs` with `replicas` simulated pods sharing the load.
pub(crate) fn simulated_input(
    a: &Autoscaler,
    obs: &Observation,
    replicas: i32,
    history: History,
    options: Options,
) -> Input {
    let n = usize::try_from(replicas.max(0)).unwrap_or(0);
    let names: Vec<String> = (0..n).map(|i| format!("{}-sim-{i}", a.name)).collect();
    let pods = names
        .iter()
        .map(|name| Pod {
            name: name.clone(),
            phase: Phase::Running,
            deleting: false,
            ready: Some(ReadyCondition {
                ready: true,
                last_transition_ms: obs.t_ms - SIMULATED_AGE_MS,
            }),
            start_time_ms: Some(obs.t_ms - SIMULATED_AGE_MS),
            container_requests: Vec::new(),
            pod_requests: Some(a.pod_requests.clone()),
        })
        .collect();
    Input {
        now_ms: obs.t_ms,
        spec: a.spec.clone(),
        current_replicas: replicas,
        status_replicas: replicas,
        pods,
        metrics: spread(&obs.metrics, &names, obs.t_ms),
        history,
        options,
    }
}

/// `m` with per-pod values summed and spread evenly over `pods`.
fn spread(m: &Metrics, pods: &[String], t_ms: i64) -> Metrics {
    let mut out = Metrics {
        objects: m.objects.clone(),
        external: m.external.clone(),
        ..Metrics::default()
    };
    if pods.is_empty() {
        return out;
    }
    // (container, resource) → total milli-units over the observed pods.
    let mut totals: BTreeMap<(String, String), i64> = BTreeMap::new();
    for usage in m.resource.values() {
        for (container, resources) in &usage.containers {
            for (resource, v) in resources {
                *totals
                    .entry((container.clone(), resource.clone()))
                    .or_default() += v;
            }
        }
    }
    if !totals.is_empty() {
        let window = m.resource.values().map(|u| u.window_ms).max().unwrap_or(0);
        for (i, pod) in pods.iter().enumerate() {
            let mut containers: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
            for ((container, resource), total) in &totals {
                containers
                    .entry(container.clone())
                    .or_default()
                    .insert(resource.clone(), share(*total, i, pods.len()));
            }
            out.resource.insert(
                pod.clone(),
                PodUsage {
                    timestamp_ms: t_ms,
                    window_ms: window,
                    containers,
                },
            );
        }
    }
    for (metric, per_pod) in &m.pods {
        let total: i64 = per_pod.values().sum();
        let spread_values = pods
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), share(total, i, pods.len())))
            .collect();
        out.pods.insert(metric.clone(), spread_values);
    }
    out
}

/// The `i`-th of `n` shares of `total`: equal, the remainder going one each to the first.
fn share(total: i64, i: usize, n: usize) -> i64 {
    let n = i64::try_from(n).unwrap_or(i64::MAX).max(1);
    let i = i64::try_from(i).unwrap_or(i64::MAX);
    total / n + i64::from(i < total.rem_euclid(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_total() {
        for (total, n) in [(10, 3), (0, 4), (7, 7), (1, 5), (1000, 1)] {
            let sum: i64 = (0..n).map(|i| share(total, i, n)).sum();
            assert_eq!(sum, total, "{total} over {n}");
            let max = (0..n).map(|i| share(total, i, n)).max().unwrap_or(0);
            let min = (0..n).map(|i| share(total, i, n)).min().unwrap_or(0);
            assert!(max - min <= 1);
        }
    }
}
