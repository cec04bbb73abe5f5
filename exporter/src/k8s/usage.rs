//! Node and pod usage computed from stored series, as metrics-server computes it from the
//! kubelet's `/metrics/resource`: CPU is the rate between a series' last two samples (the
//! `window` is the time between them, the `timestamp` the newer one); memory is the last
//! working-set sample.
//!
//! Which series count:
//! - **Containers:** `container_cpu_usage_seconds_total` and
//!   `container_memory_working_set_bytes` with `namespace`, `pod` and `container` labels (the
//!   kubelet's set, or cAdvisor's once pod names are known), `container="POD"` (the sandbox)
//!   excluded. On a host without Kubernetes (no series of that node has a `pod` or `pod_uid`
//!   label), cgroups stand in for pods: each leaf cgroup below the root is a pod named after
//!   its directory, in a namespace named after its parent directory (`root` at the top), with
//!   one container of the same name.
//! - **Nodes:** `node_cpu_usage_seconds_total` / `node_memory_working_set_bytes` (kubelet), or
//!   the root cgroup's `container_*{id="/"}` (cAdvisor), named by the `node` label, else by
//!   `instance`. Capacity comes from the same node's `node_cpu_seconds_total` (one CPU per
//!   `cpu` label value) and `node_memory_MemTotal_bytes`.
//!
//! A series whose newest sample is a staleness marker, or older than [`LOOKBACK_MS`], is gone;
//! one with a single sample, or whose counter went down, has no CPU yet and its object is
//! left out, as metrics-server leaves it out.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use model::{Labels, MatchOp, Matcher, Queryable, SelectHints, Timestamp, is_stale_nan};

/// How far back the last two samples of a series may lie, in ms.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// One object's usage over `[timestamp - window, timestamp]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The newer sample's time, ms since the epoch.
    pub timestamp_ms: Timestamp,
    /// Time between the two CPU samples, ms.
    pub window_ms: i64,
    /// CPU in nanocores (10⁻⁹ CPU).
    pub cpu_nanocores: u64,
    /// Memory working set in bytes.
    pub memory_bytes: u64,
}

/// A node's usage and capacity.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeUsage {
    /// The node name.
    pub name: String,
    /// Usage.
    pub usage: Usage,
    /// CPUs counted from `node_cpu_seconds_total`, in millicores (0 when unknown).
    pub cpu_capacity_milli: u64,
    /// `node_memory_MemTotal_bytes` (0 when unknown).
    pub memory_capacity_bytes: u64,
}

/// A pod's containers.
#[derive(Debug, Clone, PartialEq)]
pub struct PodUsage {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// Containers, sorted by name.
    pub containers: Vec<(String, Usage)>,
}

impl PodUsage {
    /// The pod's timestamp and window: those of its container with the earliest timestamp.
    pub fn timestamp_window(&self) -> (Timestamp, i64) {
        self.containers
            .iter()
            .map(|(_, u)| (u.timestamp_ms, u.window_ms))
            .min()
            .unwrap_or((0, 0))
    }
}

/// Every node and pod with usage at `now`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Nodes, sorted by name.
    pub nodes: Vec<NodeUsage>,
    /// Pods, sorted by namespace and name.
    pub pods: Vec<PodUsage>,
}

/// A failed read of the storage.
#[derive(Debug, thiserror::Error)]
#[error("reading usage series: {0}")]
pub struct UsageError(String);

/// The last two samples of a series (stale or too old: `None`).
#[derive(Debug, Clone, Copy)]
struct Tail {
    last: model::Sample,
    prev: Option<model::Sample>,
}

fn tail(samples: &[model::Sample]) -> Option<Tail> {
    let last = *samples.last()?;
    if is_stale_nan(last.v) {
        return None;
    }
    let prev = samples.len().checked_sub(2).map(|i| samples[i]);
    let prev = prev.filter(|p| !is_stale_nan(p.v));
    Some(Tail { last, prev })
}

/// CPU usage from a cumulative seconds counter: `None` without two samples or after a reset.
fn cpu_rate(t: &Tail) -> Option<(Timestamp, i64, u64)> {
    let prev = t.prev?;
    let window = t.last.t - prev.t;
    // Whole nanoseconds first, as the kubelet's counter is read, so that decimal inputs
    // such as 0.1 and 0.1123456 give an exact difference.
    let nanos = |v: f64| (v * 1e9).round();
    let delta = nanos(t.last.v) - nanos(prev.v);
    if window <= 0 || delta < 0.0 || !delta.is_finite() {
        return None;
    }
    let nanocores = delta / (window as f64 / 1000.0);
    Some((t.last.t, window, nanocores as u64))
}

/// Reads the latest samples of every series named `name` matching `extra`.
fn select(
    storage: &dyn Queryable,
    now: Timestamp,
    name: &str,
    extra: &[Matcher],
) -> Result<Vec<(Labels, Tail)>, UsageError> {
    let err = |e: model::Error| UsageError(e.to_string());
    let q = storage.querier(now - LOOKBACK_MS, now).map_err(err)?;
    let mut matchers = vec![Matcher::new(MatchOp::Equal, model::METRIC_NAME, name).map_err(err)?];
    matchers.extend_from_slice(extra);
    let hints = SelectHints {
        start: now - LOOKBACK_MS,
        end: now,
        unordered: true,
        ..SelectHints::default()
    };
    let mut out = Vec::new();
    for series in q.select(&hints, &matchers).map_err(err)? {
        let s = series.map_err(err)?;
        if let Some(t) = tail(&s.samples) {
            out.push((s.labels, t));
        }
    }
    Ok(out)
}

/// The node a series belongs to: its `node` label, else its `instance`.
fn node_name(l: &Labels) -> &str {
    l.get("node")
        .filter(|n| !n.is_empty())
        .or_else(|| l.get("instance"))
        .unwrap_or("")
}

/// [`node_name`], owned.
fn node_of(l: &Labels) -> String {
    node_name(l).to_string()
}

/// A container: (namespace, pod, container), borrowed from its series' labels.
type ContainerKey<'a> = (&'a str, &'a str, &'a str);

/// Every node with usage at `now`, sorted by name.
///
/// # Errors
/// A storage failure.
pub fn nodes(storage: &dyn Queryable, now: Timestamp) -> Result<Vec<NodeUsage>, UsageError> {
    let root = [Matcher::new(MatchOp::Equal, "id", "/").map_err(|e| UsageError(e.to_string()))?];
    let mut cpu: BTreeMap<String, (Timestamp, i64, u64)> = BTreeMap::new();
    let mut mem: BTreeMap<String, (Timestamp, u64)> = BTreeMap::new();
    for (name, extra) in [
        ("node_cpu_usage_seconds_total", &[][..]),
        ("container_cpu_usage_seconds_total", &root[..]),
    ] {
        for (l, t) in select(storage, now, name, extra)? {
            if let Some(rate) = cpu_rate(&t) {
                keep_newest(&mut cpu, node_of(&l), rate, |r| r.0);
            }
        }
    }
    for (name, extra) in [
        ("node_memory_working_set_bytes", &[][..]),
        ("container_memory_working_set_bytes", &root[..]),
    ] {
        for (l, t) in select(storage, now, name, extra)? {
            let v = (t.last.t, t.last.v.max(0.0) as u64);
            keep_newest(&mut mem, node_of(&l), v, |m| m.0);
        }
    }
    let cpus = cpu_counts(storage, now)?;
    let totals = last_values(storage, now, "node_memory_MemTotal_bytes")?;
    let mut out = Vec::new();
    for (name, (ts, window, nanocores)) in cpu {
        let Some((_, bytes)) = mem.get(&name) else {
            continue;
        };
        out.push(NodeUsage {
            usage: Usage {
                timestamp_ms: ts,
                window_ms: window,
                cpu_nanocores: nanocores,
                memory_bytes: *bytes,
            },
            cpu_capacity_milli: cpus.get(&name).copied().unwrap_or(0) * 1000,
            memory_capacity_bytes: totals.get(&name).copied().unwrap_or(0.0) as u64,
            name,
        });
    }
    Ok(out)
}

/// Inserts `v` under `key` unless a value with a newer time is there.
fn keep_newest<V>(map: &mut BTreeMap<String, V>, key: String, v: V, time: impl Fn(&V) -> i64) {
    match map.get(&key) {
        Some(old) if time(old) >= time(&v) => {}
        _ => {
            map.insert(key, v);
        }
    }
}

/// CPUs per node: distinct `cpu` values of `node_cpu_seconds_total{mode="idle"}`.
fn cpu_counts(
    storage: &dyn Queryable,
    now: Timestamp,
) -> Result<BTreeMap<String, u64>, UsageError> {
    let idle =
        [Matcher::new(MatchOp::Equal, "mode", "idle").map_err(|e| UsageError(e.to_string()))?];
    let mut cpus: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (l, _) in select(storage, now, "node_cpu_seconds_total", &idle)? {
        let cpu = l.get("cpu").unwrap_or("").to_string();
        cpus.entry(node_of(&l)).or_default().insert(cpu);
    }
    Ok(cpus.into_iter().map(|(n, c)| (n, c.len() as u64)).collect())
}

/// The last value of `name` per node.
fn last_values(
    storage: &dyn Queryable,
    now: Timestamp,
    name: &str,
) -> Result<BTreeMap<String, f64>, UsageError> {
    let mut out = BTreeMap::new();
    for (l, t) in select(storage, now, name, &[])? {
        out.insert(node_of(&l), t.last.v);
    }
    Ok(out)
}

/// Every pod with usage at `now`, sorted by namespace and name.
///
/// # Errors
/// A storage failure.
pub fn pods(storage: &dyn Queryable, now: Timestamp) -> Result<Vec<PodUsage>, UsageError> {
    let cpu_series = select(storage, now, "container_cpu_usage_seconds_total", &[])?;
    let mem_series = select(storage, now, "container_memory_working_set_bytes", &[])?;
    let leaves = host_leaves(cpu_series.iter().map(|(l, _)| l));
    let mut cpu: FastMap<ContainerKey<'_>, Option<(Timestamp, i64, u64)>> =
        FastMap::with_capacity_and_hasher(cpu_series.len(), Default::default());
    for (l, t) in &cpu_series {
        if let Some(key) = container_key(l, &leaves) {
            let rate = cpu_rate(t);
            match cpu.get(&key) {
                Some(Some(old)) if rate.is_none_or(|r| r.0 <= old.0) => {}
                _ => {
                    cpu.insert(key, rate);
                }
            }
        }
    }
    let mut mem: FastMap<ContainerKey<'_>, (Timestamp, u64)> =
        FastMap::with_capacity_and_hasher(mem_series.len(), Default::default());
    for (l, t) in &mem_series {
        if let Some(key) = container_key(l, &leaves) {
            let v = (t.last.t, t.last.v.max(0.0) as u64);
            match mem.get(&key) {
                Some(old) if old.0 >= v.0 => {}
                _ => {
                    mem.insert(key, v);
                }
            }
        }
    }
    Ok(group_pods(cpu, &mem))
}

/// A hash map with a fast non-cryptographic hasher: keys here are label values already in
/// storage, and the map lives for one request.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// A hash set with the same hasher.
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// Containers grouped into pods; a pod any of whose containers lacks CPU or memory is left
/// out, as metrics-server does.
fn group_pods(
    cpu: FastMap<ContainerKey<'_>, Option<(Timestamp, i64, u64)>>,
    mem: &FastMap<ContainerKey<'_>, (Timestamp, u64)>,
) -> Vec<PodUsage> {
    let mut pods: FastMap<(&str, &str), Option<PodUsage>> = FastMap::default();
    for (key @ (ns, pod, container), rate) in cpu {
        let entry = pods.entry((ns, pod)).or_insert_with(|| {
            Some(PodUsage {
                namespace: ns.to_string(),
                name: pod.to_string(),
                containers: Vec::new(),
            })
        });
        let (Some(p), Some((ts, window, nanocores)), Some((_, bytes))) =
            (entry.as_mut(), rate, mem.get(&key))
        else {
            *entry = None;
            continue;
        };
        let usage = Usage {
            timestamp_ms: ts,
            window_ms: window,
            cpu_nanocores: nanocores,
            memory_bytes: *bytes,
        };
        p.containers.push((container.to_string(), usage));
    }
    let mut out: Vec<PodUsage> = pods.into_values().flatten().collect();
    out.sort_unstable_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for p in &mut out {
        p.containers.sort_by(|a, b| a.0.cmp(&b.0));
    }
    out
}

/// Host cgroups (no pod labels) that have no child cgroup, per node, as (node, cgroup id);
/// none on a node that runs Kubernetes pods (a series there has `pod` or `pod_uid`), where
/// system services are not pods.
fn host_leaves<'a>(series: impl Iterator<Item = &'a Labels>) -> FastSet<(&'a str, &'a str)> {
    let mut ids: FastSet<(&str, &str)> = FastSet::default();
    let mut kube_nodes: FastSet<&str> = FastSet::default();
    for l in series {
        if !is_host_cgroup(l) {
            kube_nodes.insert(node_name(l));
        } else if let Some(id) = l.get("id") {
            ids.insert((node_name(l), id));
        }
    }
    ids.retain(|(node, _)| !kube_nodes.contains(node));
    let parents: FastSet<(&str, &str)> = ids
        .iter()
        .filter_map(|(n, id)| Some((*n, id.rsplit_once('/')?.0)))
        .collect();
    ids.into_iter()
        .filter(|k| k.1 != "/" && !parents.contains(k))
        .collect()
}

/// A cgroup of the host itself (no `pod`, `pod_uid` or `namespace` label).
fn is_host_cgroup(l: &Labels) -> bool {
    let empty = |n: &str| l.get(n).is_none_or(str::is_empty);
    empty("pod") && empty("pod_uid") && empty("namespace")
}

/// The (namespace, pod, container) a container series stands for, if any.
fn container_key<'a>(l: &'a Labels, leaves: &FastSet<(&str, &str)>) -> Option<ContainerKey<'a>> {
    let get = |n: &str| l.get(n).filter(|v| !v.is_empty());
    if let (Some(ns), Some(pod), Some(c)) = (get("namespace"), get("pod"), get("container")) {
        return (c != "POD").then_some((ns, pod, c));
    }
    let id = get("id")?;
    if !is_host_cgroup(l) || !leaves.contains(&(node_name(l), id)) {
        return None;
    }
    let (parent, name) = id.rsplit_once('/')?;
    let namespace = parent.rsplit('/').next().filter(|p| !p.is_empty());
    let namespace = namespace.unwrap_or("root");
    Some((namespace, name, name))
}
