//! The algorithm's inputs and outputs: plain values, no Kubernetes client types. Quantities
//! are milli-units (`i64`, as the HPA controller's `MilliValue()`), times are ms since the
//! epoch, durations ms.

use std::collections::BTreeMap;

/// kube-controller-manager's HPA flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// `--horizontal-pod-autoscaler-tolerance` (0.1), used for a direction whose behavior
    /// sets no tolerance.
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5m), ms.
    pub cpu_initialization_period_ms: i64,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30s), ms.
    pub initial_readiness_delay_ms: i64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5m), ms: the legacy window and
    /// the default scale-down window of a behavior.
    pub downscale_stabilization_ms: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tolerance: 0.1,
            cpu_initialization_period_ms: 5 * 60_000,
            initial_readiness_delay_ms: 30_000,
            downscale_stabilization_ms: 5 * 60_000,
        }
    }
}

/// What a metric is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `averageUtilization`, percent of the request (Resource, ContainerResource).
    Utilization(i32),
    /// `averageValue`, milli-units per pod.
    AverageValue(i64),
    /// `value`, milli-units (Object, External).
    Value(i64),
}

/// One entry of `spec.metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricSpec {
    /// A resource (`cpu`, `memory`) of whole pods, from the resource metrics API.
    Resource {
        /// The resource name.
        name: String,
        /// The target.
        target: Target,
    },
    /// A resource of one container of each pod.
    ContainerResource {
        /// The resource name.
        name: String,
        /// The container's name.
        container: String,
        /// The target.
        target: Target,
    },
    /// A custom metric per pod (custom.metrics.k8s.io, pods).
    Pods {
        /// The metric's name (the key into [`Metrics::pods`]).
        metric: String,
        /// The target (`AverageValue`).
        target: Target,
    },
    /// A custom metric of one object (custom.metrics.k8s.io).
    Object {
        /// The metric's name (the key into [`Metrics::objects`]).
        metric: String,
        /// The described object, `Kind/name`, for status and messages.
        described_object: String,
        /// The target (`Value` or `AverageValue`).
        target: Target,
    },
    /// A metric from outside the cluster (external.metrics.k8s.io).
    External {
        /// The metric's name (the key into [`Metrics::external`]).
        metric: String,
        /// The target (`Value` or `AverageValue`).
        target: Target,
    },
}

/// `Pods` or `Percent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A number of pods per period.
    Pods,
    /// A percentage of the replicas at the period's start.
    Percent,
}

/// One scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Pods or Percent.
    pub kind: PolicyKind,
    /// How many pods, or what percentage.
    pub value: i32,
    /// The period, seconds.
    pub period_seconds: i32,
}

/// `selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    #[default]
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// `behavior.scaleUp` or `behavior.scaleDown`, defaults already applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// The stabilization window, seconds (`None` for scale-down: the controller's flag).
    pub stabilization_window_seconds: Option<i32>,
    /// How the policies combine.
    pub select_policy: SelectPolicy,
    /// The policies.
    pub policies: Vec<Policy>,
    /// This direction's tolerance (`None`: [`Options::tolerance`]).
    pub tolerance: Option<f64>,
}

/// `spec.behavior`, both directions filled in with Kubernetes's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    /// Scaling up.
    pub scale_up: Rules,
    /// Scaling down.
    pub scale_down: Rules,
}

/// The autoscaler's spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// `minReplicas` (default 1).
    pub min_replicas: i32,
    /// `maxReplicas`.
    pub max_replicas: i32,
    /// `metrics` (default: cpu at 80% utilization).
    pub metrics: Vec<MetricSpec>,
    /// `behavior`; `None` takes the legacy path.
    pub behavior: Option<Behavior>,
}

/// A pod's phase, as far as the algorithm cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Pending (not scheduled or not started).
    Pending,
    /// Running.
    Running,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
    /// Anything else.
    Unknown,
}

/// A pod's `Ready` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyCondition {
    /// `status == "True"`.
    pub ready: bool,
    /// `lastTransitionTime`, ms.
    pub last_transition_ms: i64,
}

/// One pod the scale target selects.
#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    /// Its name.
    pub name: String,
    /// Its phase.
    pub phase: Phase,
    /// Whether it has a `deletionTimestamp`.
    pub deleting: bool,
    /// Its `Ready` condition, if any.
    pub ready: Option<ReadyCondition>,
    /// `status.startTime`, ms.
    pub start_time_ms: Option<i64>,
    /// Requests per container (`spec.containers` and restartable init containers), name →
    /// resource → milli-units.
    pub container_requests: Vec<(String, BTreeMap<String, i64>)>,
    /// Pod-level `spec.resources.requests`, if set.
    pub pod_requests: Option<BTreeMap<String, i64>>,
}

/// One pod's resource usage from the resource metrics API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodUsage {
    /// When it was measured, ms.
    pub timestamp_ms: i64,
    /// Over what window, ms.
    pub window_ms: i64,
    /// Container name → resource → milli-units.
    pub containers: BTreeMap<String, BTreeMap<String, i64>>,
}

/// Every metric value the autoscaler's metrics read; a metric missing here fails as it
/// fails when its API has nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Pod name → usage, from `metrics.k8s.io`.
    pub resource: BTreeMap<String, PodUsage>,
    /// Metric name → pod name → milli-units (Pods metrics).
    pub pods: BTreeMap<String, BTreeMap<String, i64>>,
    /// Metric name → milli-units (Object metrics).
    pub objects: BTreeMap<String, i64>,
    /// Metric name → milli-units of every series (External metrics).
    pub external: BTreeMap<String, Vec<i64>>,
}

/// A number of replicas at a time: a recommendation, or a scale event's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamped {
    /// Replicas (a recommendation) or replicas added or removed (an event).
    pub replicas: i32,
    /// When, ms.
    pub time_ms: i64,
}

/// What the controller remembers of an autoscaler between decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Past recommendations (stabilization).
    pub recommendations: Vec<Timestamped>,
    /// Past scale-ups (rate limits).
    pub scale_up_events: Vec<Timestamped>,
    /// Past scale-downs (rate limits).
    pub scale_down_events: Vec<Timestamped>,
}

/// Everything one decision needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Now, ms.
    pub now_ms: i64,
    /// The autoscaler.
    pub spec: Spec,
    /// `scale.spec.replicas`.
    pub current_replicas: i32,
    /// `scale.status.replicas`.
    pub status_replicas: i32,
    /// The pods the target's selector selects.
    pub pods: Vec<Pod>,
    /// The metric values.
    pub metrics: Metrics,
    /// What earlier decisions left.
    pub history: History,
    /// The controller's flags.
    pub options: Options,
}

/// A metric's current value as the HPA status shows it (`status.currentMetrics[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricStatus {
    /// The spec entry it belongs to.
    pub spec: MetricSpec,
    /// `averageUtilization`, percent.
    pub average_utilization: Option<i32>,
    /// `averageValue`, milli-units.
    pub average_value: Option<i64>,
    /// `value`, milli-units.
    pub value: Option<i64>,
}

/// A status condition (`AbleToScale`, `ScalingActive`, `ScalingLimited`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The condition type.
    pub kind: &'static str,
    /// Its status.
    pub status: bool,
    /// Its reason (`DesiredWithinRange`, `ScaleDownStabilized`, ...).
    pub reason: &'static str,
    /// Its message, as the controller words it.
    pub message: String,
}

/// One decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The replicas the controller would set.
    pub desired_replicas: i32,
    /// The one reason that explains the decision best: the `ScalingActive` reason when
    /// scaling is not active, else the `AbleToScale` reason when stabilization changed the
    /// recommendation, else the `ScalingLimited` reason.
    pub reason: &'static str,
    /// Every condition the controller would set.
    pub conditions: Vec<Condition>,
    /// The metrics' current values (those that could be computed).
    pub metrics: Vec<MetricStatus>,
    /// The per-metric failures, in spec order (`metric: error`).
    pub errors: Vec<String>,
    /// The history to give the next decision (recommendation recorded; a scale event
    /// recorded when the replicas change and there is a behavior).
    pub history: History,
}
