//! The configuration of `promlet autoscale run` and `backtest`: autoscalers written as
//! Kubernetes writes them (an `autoscaling/v2` HorizontalPodAutoscaler spec), plus where
//! their pods' data is in promlet's series and PromQL expressions for the Pods, Object and
//! External metrics they name.
//!
//! ```yaml
//! interval: 15s                      # how often decisions are made (the HPA's sync period)
//! autoscalers:
//!   - name: web                      # the HPA's name
//!     namespace: default
//!     podSelector: app=web           # label selector of the pods (Kubernetes API, --apply)
//!     podNamePattern: 'web-.*'       # pod names in the series, without a Kubernetes API
//!     podRequests: {cpu: 500m}       # per-pod requests, without a Kubernetes API
//!     initialReplicas: 2             # replicas at the start, without a Kubernetes API
//!     spec:                          # an autoscaling/v2 HorizontalPodAutoscalerSpec
//!       scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
//!       minReplicas: 1
//!       maxReplicas: 10
//!       metrics:
//!         - type: Resource
//!           resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
//!         - type: External
//!           external: {metric: {name: queue_depth}, target: {type: AverageValue, averageValue: "30"}}
//!     queries:                       # metric name -> PromQL (Pods: one series per `pod`)
//!       queue_depth: 'sum(jobs_queued)'
//! ```

use std::collections::BTreeMap;

use autoscale::Spec;
use k8s_openapi::api::autoscaling::v2 as hpa;
use serde::Deserialize;

/// The default decision interval, ms (kube-controller-manager's 15 s sync period).
pub(crate) const DEFAULT_INTERVAL_MS: i64 = 15_000;

/// The file, as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileJson {
    #[serde(default)]
    interval: Option<String>,
    autoscalers: Vec<AutoscalerJson>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AutoscalerJson {
    name: String,
    #[serde(default = "default_namespace")]
    namespace: String,
    #[serde(default)]
    pod_selector: Option<String>,
    #[serde(default)]
    pod_name_pattern: Option<String>,
    #[serde(default)]
    pod_requests: BTreeMap<String, String>,
    #[serde(default)]
    initial_replicas: Option<i32>,
    spec: hpa::HorizontalPodAutoscalerSpec,
    #[serde(default)]
    queries: BTreeMap<String, String>,
}

fn default_namespace() -> String {
    "default".into()
}

/// A loaded configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// How often to decide, ms.
    pub(crate) interval_ms: i64,
    /// The autoscalers, in file order.
    pub(crate) autoscalers: Vec<Autoscaler>,
}

/// One autoscaler.
#[derive(Debug, Clone)]
pub(crate) struct Autoscaler {
    /// Its name.
    pub(crate) name: String,
    /// Its namespace.
    pub(crate) namespace: String,
    /// The pods' label selector, for the Kubernetes API.
    pub(crate) pod_selector: Option<String>,
    /// A regular expression matching the pods' names in the series.
    pub(crate) pod_name_pattern: String,
    /// Per-pod requests (resource → milli-units) when pods are not read from Kubernetes.
    pub(crate) pod_requests: BTreeMap<String, i64>,
    /// Replicas at the start when the scale is not read from Kubernetes.
    pub(crate) initial_replicas: i32,
    /// The target: (apiVersion, kind, name).
    pub(crate) target: (String, String, String),
    /// The algorithm's spec (defaults applied).
    pub(crate) spec: Spec,
    /// Metric name → PromQL.
    pub(crate) queries: BTreeMap<String, String>,
}

/// Parses a configuration (YAML or JSON).
///
/// # Errors
/// Malformed YAML, an unknown field, or a value Kubernetes would refuse, naming the
/// autoscaler and field.
pub(crate) fn load(text: &str) -> Result<Config, String> {
    let de = serde_yaml::Deserializer::from_str(text);
    let file: FileJson = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        format!("{path}: {}", e.into_inner())
    })?;
    let interval_ms = match &file.interval {
        Some(t) => super::state::duration_ms(t, "interval")
            .or_else(|_| model::parse_duration_ms(t).ok_or_else(|| format!("interval: {t:?}")))?,
        None => DEFAULT_INTERVAL_MS,
    };
    if interval_ms <= 0 {
        return Err("interval: must be positive".into());
    }
    let autoscalers = file
        .autoscalers
        .into_iter()
        .enumerate()
        .map(|(i, a)| autoscaler(a).map_err(|e| format!("autoscalers[{i}]: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(Config {
        interval_ms,
        autoscalers,
    })
}

fn autoscaler(a: AutoscalerJson) -> Result<Autoscaler, String> {
    let spec = super::spec::spec_of(&a.spec).map_err(|e| e.replacen("hpa.", "", 1))?;
    for m in &spec.metrics {
        use autoscale::MetricSpec as M;
        if let M::Pods { metric, .. } | M::Object { metric, .. } | M::External { metric, .. } = m
            && !a.queries.contains_key(metric)
        {
            return Err(format!(
                "queries: no PromQL expression for metric {metric:?}"
            ));
        }
    }
    for (name, expr) in &a.queries {
        query::parse(expr).map_err(|e| format!("queries.{name}: {e}"))?;
    }
    let pattern = a
        .pod_name_pattern
        .unwrap_or_else(|| format!("{}-.*", regex_escape(&a.spec.scale_target_ref.name)));
    regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("podNamePattern: {e}"))?;
    let pod_requests = a
        .pod_requests
        .iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                super::state::milli(v, &format!("podRequests.{k}"))?,
            ))
        })
        .collect::<Result<_, String>>()?;
    let r = &a.spec.scale_target_ref;
    Ok(Autoscaler {
        name: a.name,
        namespace: a.namespace,
        pod_selector: a.pod_selector,
        pod_name_pattern: pattern,
        pod_requests,
        initial_replicas: a.initial_replicas.unwrap_or(spec.min_replicas.max(1)),
        target: (
            r.api_version.clone().unwrap_or_else(|| "apps/v1".into()),
            r.kind.clone(),
            r.name.clone(),
        ),
        spec,
        queries: a.queries,
    })
}

/// `s` with the regular-expression metacharacters escaped.
fn regex_escape(s: &str) -> String {
    exporter::k8s::selector::regex_escape(s)
}
