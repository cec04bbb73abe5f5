//! The state file of `promlet autoscale decide`: Kubernetes objects as `kubectl get -o json`
//! prints them (an `autoscaling/v2` HorizontalPodAutoscaler, `v1` Pods, `metrics.k8s.io`
//! PodMetrics) plus metric values and the controller's memory, turned into the algorithm's
//! [`autoscale::Input`]. Absent fields take Kubernetes's defaults; errors name the field.

use std::collections::BTreeMap;

use autoscale::{
    History, Input, Metrics, Options, Phase, Pod, PodUsage, ReadyCondition, Target, Timestamped,
};
use exporter::k8s::format::parse_milli;
use k8s_openapi::api::autoscaling::v2 as hpa;
use k8s_openapi::api::core::v1 as core;
use serde::Deserialize;

/// The file, as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StateFile {
    /// RFC 3339; absent: the system clock.
    #[serde(default)]
    now: Option<String>,
    hpa: hpa::HorizontalPodAutoscaler,
    #[serde(default)]
    scale: Option<ScaleJson>,
    #[serde(default)]
    pods: Vec<core::Pod>,
    #[serde(default)]
    pod_metrics: Vec<PodMetricsJson>,
    #[serde(default)]
    pods_metrics: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    object_metrics: BTreeMap<String, String>,
    #[serde(default)]
    external_metrics: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    recommendations: Vec<TimestampedJson>,
    #[serde(default)]
    scale_up_events: Vec<TimestampedJson>,
    #[serde(default)]
    scale_down_events: Vec<TimestampedJson>,
    #[serde(default)]
    options: OptionsJson,
}

/// The scale subresource's replicas.
#[derive(Debug, Default, Deserialize)]
struct ScaleJson {
    #[serde(default)]
    spec: ReplicasJson,
    #[serde(default)]
    status: ReplicasJson,
}

#[derive(Debug, Default, Deserialize)]
struct ReplicasJson {
    #[serde(default)]
    replicas: Option<i32>,
}

/// A `metrics.k8s.io` PodMetrics (only what the HPA reads).
#[derive(Debug, Deserialize)]
pub(crate) struct PodMetricsJson {
    pub(crate) metadata: NameJson,
    pub(crate) timestamp: String,
    /// A Go duration (`30s`, `1m0s`).
    pub(crate) window: String,
    #[serde(default)]
    pub(crate) containers: Vec<ContainerMetricsJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NameJson {
    pub(crate) name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ContainerMetricsJson {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) usage: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct TimestampedJson {
    replicas: i32,
    timestamp: String,
}

/// kube-controller-manager's flags.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OptionsJson {
    tolerance: Option<f64>,
    cpu_initialization_period: Option<String>,
    initial_readiness_delay: Option<String>,
    downscale_stabilization: Option<String>,
}

/// Reads a state file: JSON errors name the field's path (`hpa.spec.maxReplicas`).
///
/// # Errors
/// Malformed JSON, a field of the wrong type, or an unknown top-level field.
pub(crate) fn parse(text: &str) -> Result<StateFile, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        format!("{path}: {}", e.into_inner())
    })
}

impl StateFile {
    /// The algorithm's input; `system_now_ms` is "now" when the file has none.
    ///
    /// # Errors
    /// A value that is not what Kubernetes would accept, naming the field.
    pub(crate) fn input(self, system_now_ms: i64) -> Result<Input, String> {
        let now_ms = match &self.now {
            Some(t) => time_ms(t, "now")?,
            None => system_now_ms,
        };
        let spec = super::spec::spec_of(&self.hpa.spec)?;
        let status_current = self.hpa.status.as_ref().and_then(|s| s.current_replicas);
        let scale = self.scale.unwrap_or_default();
        let current_replicas = scale
            .spec
            .replicas
            .or(status_current)
            .unwrap_or(i32::try_from(self.pods.len()).unwrap_or(i32::MAX));
        let status_replicas = scale.status.replicas.unwrap_or(current_replicas);
        let pods = self
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| pod_of(p).map_err(|e| format!("pods[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Input {
            now_ms,
            spec,
            current_replicas,
            status_replicas,
            pods,
            metrics: metrics_of(
                &self.pod_metrics,
                &self.pods_metrics,
                &self.object_metrics,
                &self.external_metrics,
            )?,
            history: History {
                recommendations: timestamped(&self.recommendations, "recommendations")?,
                scale_up_events: timestamped(&self.scale_up_events, "scaleUpEvents")?,
                scale_down_events: timestamped(&self.scale_down_events, "scaleDownEvents")?,
            },
            options: options_of(&self.options)?,
        })
    }
}

/// RFC 3339 → ms, naming `field` in the error.
pub(crate) fn time_ms(text: &str, field: &str) -> Result<i64, String> {
    exporter::api::time::parse_time(text)
        .map(|t| t.millis())
        .map_err(|e| format!("{field}: {e}"))
}

/// A Go duration (`5m`, `30s`, `1m30s`, `19.931s`) → ms, naming `field`.
pub(crate) fn duration_ms(text: &str, field: &str) -> Result<i64, String> {
    exporter::k8s::format::parse_go_duration(text).map_err(|e| format!("{field}: {e}"))
}

fn options_of(o: &OptionsJson) -> Result<Options, String> {
    let d = Options::default();
    let ms = |v: &Option<String>, field: &str, default: i64| {
        v.as_deref()
            .map_or(Ok(default), |t| duration_ms(t, &format!("options.{field}")))
    };
    let tolerance = o.tolerance.unwrap_or(d.tolerance);
    if !(tolerance >= 0.0 && tolerance.is_finite()) {
        return Err(format!(
            "options.tolerance: {tolerance} is not a tolerance (>= 0)"
        ));
    }
    Ok(Options {
        tolerance,
        cpu_initialization_period_ms: ms(
            &o.cpu_initialization_period,
            "cpuInitializationPeriod",
            d.cpu_initialization_period_ms,
        )?,
        initial_readiness_delay_ms: ms(
            &o.initial_readiness_delay,
            "initialReadinessDelay",
            d.initial_readiness_delay_ms,
        )?,
        downscale_stabilization_ms: ms(
            &o.downscale_stabilization,
            "downscaleStabilization",
            d.downscale_stabilization_ms,
        )?,
    })
}

fn timestamped(list: &[TimestampedJson], field: &str) -> Result<Vec<Timestamped>, String> {
    list.iter()
        .enumerate()
        .map(|(i, t)| {
            Ok(Timestamped {
                replicas: t.replicas,
                time_ms: time_ms(&t.timestamp, &format!("{field}[{i}].timestamp"))?,
            })
        })
        .collect()
}

/// Quantity text → milli-units, naming `field`.
pub(crate) fn milli(text: &str, field: &str) -> Result<i64, String> {
    parse_milli(text).map_err(|e| format!("{field}: {e}"))
}

pub(crate) fn pod_of(p: &core::Pod) -> Result<Pod, String> {
    let name = p.metadata.name.clone().ok_or("metadata.name: missing")?;
    let status = p.status.clone().unwrap_or_default();
    let phase = match status.phase.as_deref() {
        Some("Pending") => Phase::Pending,
        Some("Running") => Phase::Running,
        Some("Succeeded") => Phase::Succeeded,
        Some("Failed") => Phase::Failed,
        _ => Phase::Unknown,
    };
    let ready = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| ReadyCondition {
            ready: c.status == "True",
            last_transition_ms: c.last_transition_time.map_or(0, |t| t.0.as_millisecond()),
        });
    let spec = p.spec.clone().unwrap_or_default();
    let restartable_init = spec
        .init_containers
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    let mut container_requests = Vec::new();
    for c in spec.containers.into_iter().chain(restartable_init) {
        let field = format!("spec.containers[{}].resources.requests", c.name);
        let requests = requests_of(c.resources.and_then(|r| r.requests), &field)?;
        container_requests.push((c.name, requests));
    }
    let pod_requests = spec
        .resources
        .and_then(|r| r.requests)
        .map(|r| requests_of(Some(r), "spec.resources.requests"))
        .transpose()?;
    Ok(Pod {
        name,
        phase,
        deleting: p.metadata.deletion_timestamp.is_some(),
        ready,
        start_time_ms: status.start_time.map(|t| t.0.as_millisecond()),
        container_requests,
        pod_requests,
    })
}

fn requests_of(
    requests: Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    field: &str,
) -> Result<BTreeMap<String, i64>, String> {
    requests
        .unwrap_or_default()
        .into_iter()
        .map(|(k, q)| Ok((k.clone(), milli(&q.0, &format!("{field}.{k}"))?)))
        .collect()
}

fn metrics_of(
    pod_metrics: &[PodMetricsJson],
    pods: &BTreeMap<String, BTreeMap<String, String>>,
    objects: &BTreeMap<String, String>,
    external: &BTreeMap<String, Vec<String>>,
) -> Result<Metrics, String> {
    let mut m = Metrics::default();
    for (i, pm) in pod_metrics.iter().enumerate() {
        let usage = pod_usage(pm).map_err(|e| format!("podMetrics[{i}].{e}"))?;
        m.resource.insert(pm.metadata.name.clone(), usage);
    }
    for (metric, values) in pods {
        let mut per_pod = BTreeMap::new();
        for (pod, q) in values {
            per_pod.insert(
                pod.clone(),
                milli(q, &format!("podsMetrics.{metric}.{pod}"))?,
            );
        }
        m.pods.insert(metric.clone(), per_pod);
    }
    for (metric, q) in objects {
        m.objects.insert(
            metric.clone(),
            milli(q, &format!("objectMetrics.{metric}"))?,
        );
    }
    for (metric, qs) in external {
        let values = qs
            .iter()
            .enumerate()
            .map(|(i, q)| milli(q, &format!("externalMetrics.{metric}[{i}]")))
            .collect::<Result<_, _>>()?;
        m.external.insert(metric.clone(), values);
    }
    Ok(m)
}

/// A PodMetrics object as the algorithm reads it; errors name the field below the object.
pub(crate) fn pod_usage(pm: &PodMetricsJson) -> Result<PodUsage, String> {
    let mut containers = BTreeMap::new();
    for (j, c) in pm.containers.iter().enumerate() {
        let mut usage = BTreeMap::new();
        for (res, q) in &c.usage {
            usage.insert(
                res.clone(),
                milli(q, &format!("containers[{j}].usage.{res}"))?,
            );
        }
        containers.insert(c.name.clone(), usage);
    }
    Ok(PodUsage {
        timestamp_ms: time_ms(&pm.timestamp, "timestamp")?,
        window_ms: duration_ms(&pm.window, "window")?,
        containers,
    })
}

/// A `MetricTarget` as the algorithm's [`Target`], naming `field`.
pub(crate) fn target_of(t: &hpa::MetricTarget, field: &str) -> Result<Target, String> {
    let quantity = |q: &Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
                    key: &str| {
        let q = q
            .as_ref()
            .ok_or_else(|| format!("{field}.{key}: missing for type {}", t.type_))?;
        milli(&q.0, &format!("{field}.{key}"))
    };
    match t.type_.as_str() {
        "Utilization" => t
            .average_utilization
            .map(Target::Utilization)
            .ok_or_else(|| format!("{field}.averageUtilization: missing for type Utilization")),
        "AverageValue" => quantity(&t.average_value, "averageValue").map(Target::AverageValue),
        "Value" => quantity(&t.value, "value").map(Target::Value),
        other => Err(format!(
            "{field}.type: {other:?} is not Utilization, AverageValue or Value"
        )),
    }
}
