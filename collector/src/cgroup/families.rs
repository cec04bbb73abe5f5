//! Turning read cgroups into families: cAdvisor's `/metrics/cadvisor` names and the kubelet's
//! `/metrics/resource` set. Both use the name `container_cpu_usage_seconds_total` with different
//! labels, so they are separate sets, never mixed in one exposition.

use super::Cgroup;
use super::kubepods::PodRef;
use super::meta::PodMetadata;
use std::sync::Arc;

use crate::{Family, FamilySample, Kind, LabelPair, LabelStr, SampleLabels};

/// One cgroup's labels, shared by all its samples.
type Labels = Option<Arc<[LabelPair]>>;

/// Families in a fixed order, addressed by index while filling.
struct Out(Vec<Family>);

impl Out {
    fn new(table: &[(&str, &str, Kind)]) -> Self {
        Out(table
            .iter()
            .map(|(n, h, k)| Family::new(*n, *h, *k))
            .collect())
    }

    fn push(&mut self, i: usize, base: &Labels, own: &[LabelPair], value: f64) {
        let labels = SampleLabels::new(base.clone(), own.to_vec());
        self.0[i].samples.push(FamilySample { labels, value });
    }

    fn push_opt(&mut self, i: usize, base: &Labels, value: Option<f64>) {
        if let Some(v) = value {
            self.push(i, base, &[], v);
        }
    }

    fn finish(self, out: &mut Vec<Family>) {
        out.extend(self.0.into_iter().filter(|f| !f.samples.is_empty()));
    }
}

const CPU_USAGE: usize = 0;
const CPU_USER: usize = 1;
const CPU_SYSTEM: usize = 2;
const CFS_PERIODS: usize = 3;
const CFS_THROTTLED: usize = 4;
const CFS_THROTTLED_SECONDS: usize = 5;
const MEM_USAGE: usize = 6;
const MEM_WS: usize = 7;
const MEM_RSS: usize = 8;
const MEM_CACHE: usize = 9;
const MEM_MAPPED: usize = 10;
const MEM_SWAP: usize = 11;
const MEM_MAX: usize = 12;
const MEM_FAILCNT: usize = 13;
const MEM_ACTIVE_FILE: usize = 14;
const MEM_INACTIVE_FILE: usize = 15;
const FS_READ_BYTES: usize = 16;
const FS_WRITE_BYTES: usize = 17;
const FS_READS: usize = 18;
const FS_WRITES: usize = 19;
const BLKIO: usize = 20;
const THREADS: usize = 21;
const THREADS_MAX: usize = 22;

/// cAdvisor's names and HELP texts (`lib/metrics/prometheus.go`), in [`CPU_USAGE`]… order.
const CADVISOR: [(&str, &str, Kind); 23] = [
    (
        "container_cpu_usage_seconds_total",
        "Cumulative cpu time consumed in seconds.",
        Kind::Counter,
    ),
    (
        "container_cpu_user_seconds_total",
        "Cumulative user cpu time consumed in seconds.",
        Kind::Counter,
    ),
    (
        "container_cpu_system_seconds_total",
        "Cumulative system cpu time consumed in seconds.",
        Kind::Counter,
    ),
    (
        "container_cpu_cfs_periods_total",
        "Number of elapsed enforcement period intervals.",
        Kind::Counter,
    ),
    (
        "container_cpu_cfs_throttled_periods_total",
        "Number of throttled period intervals.",
        Kind::Counter,
    ),
    (
        "container_cpu_cfs_throttled_seconds_total",
        "Total time duration the container has been throttled.",
        Kind::Counter,
    ),
    (
        "container_memory_usage_bytes",
        "Current memory usage in bytes, including all memory regardless of when it was accessed",
        Kind::Gauge,
    ),
    (
        "container_memory_working_set_bytes",
        "Current working set in bytes.",
        Kind::Gauge,
    ),
    ("container_memory_rss", "Size of RSS in bytes.", Kind::Gauge),
    (
        "container_memory_cache",
        "Number of bytes of page cache memory.",
        Kind::Gauge,
    ),
    (
        "container_memory_mapped_file",
        "Size of memory mapped files in bytes.",
        Kind::Gauge,
    ),
    (
        "container_memory_swap",
        "Container swap usage in bytes.",
        Kind::Gauge,
    ),
    (
        "container_memory_max_usage_bytes",
        "Maximum memory usage recorded in bytes",
        Kind::Gauge,
    ),
    (
        "container_memory_failcnt",
        "Number of memory usage hits limits",
        Kind::Counter,
    ),
    (
        "container_memory_total_active_file_bytes",
        "Current total active file in bytes.",
        Kind::Gauge,
    ),
    (
        "container_memory_total_inactive_file_bytes",
        "Current total inactive file in bytes.",
        Kind::Gauge,
    ),
    (
        "container_fs_reads_bytes_total",
        "Cumulative count of bytes read",
        Kind::Counter,
    ),
    (
        "container_fs_writes_bytes_total",
        "Cumulative count of bytes written",
        Kind::Counter,
    ),
    (
        "container_fs_reads_total",
        "Cumulative count of reads completed",
        Kind::Counter,
    ),
    (
        "container_fs_writes_total",
        "Cumulative count of writes completed",
        Kind::Counter,
    ),
    (
        "container_blkio_device_usage_total",
        "Blkio Device bytes usage",
        Kind::Counter,
    ),
    (
        "container_threads",
        "Number of threads running inside the container",
        Kind::Gauge,
    ),
    (
        "container_threads_max",
        "Maximum number of threads allowed inside the container, infinity if value is zero",
        Kind::Gauge,
    ),
];

/// The labels of one cgroup: cAdvisor's `id`, the kubelet-layout ones, and names when `meta`
/// knows them (`namespace`, `pod`, `container`, `image`).
fn base_labels(id: &str, pod: Option<&PodRef>, meta: &dyn PodMetadata) -> Labels {
    let mut l: Vec<LabelPair> = vec![(ID, id.to_string().into())];
    if let Some(p) = pod {
        if let Some(pm) = meta.pod(&p.uid) {
            l.push(("namespace".into(), pm.namespace.into()));
            l.push(("pod".into(), pm.name.into()));
        }
        l.push(("pod_uid".into(), p.uid.clone().into()));
        l.push(("qos".into(), p.qos.as_str().into()));
        if let Some(c) = &p.container {
            if let Some(cm) = meta.container(&p.uid, &c.id) {
                l.push(("container".into(), cm.name.into()));
                if !cm.image.is_empty() {
                    l.push(("image".into(), cm.image.into()));
                }
            }
            l.push(("container_id".into(), c.id.clone().into()));
            if let Some(r) = c.runtime {
                l.push(("runtime".into(), r.as_str().into()));
            }
        }
    }
    Some(l.into())
}

const ID: LabelStr = LabelStr::Static("id");
const DEVICE: LabelStr = LabelStr::Static("device");

/// Appends cAdvisor-named families for every cgroup. `device` names a block device from its
/// major and minor numbers (cAdvisor's `device` label, e.g. `/dev/sda`).
pub(crate) fn cadvisor(
    cgroups: &[Cgroup],
    meta: &dyn PodMetadata,
    device: &dyn Fn(u32, u32) -> String,
    out: &mut Vec<Family>,
) {
    let mut o = Out::new(&CADVISOR);
    for cg in cgroups {
        let base = base_labels(&cg.id, cg.pod.as_ref(), meta);
        let s = &cg.stats;
        if let Some(c) = &s.cpu {
            let total = [("cpu".into(), "total".into())];
            o.push(CPU_USAGE, &base, &total, c.usage_seconds);
            o.push_opt(CPU_USER, &base, c.user_seconds);
            o.push_opt(CPU_SYSTEM, &base, c.system_seconds);
        }
        if let Some(t) = &s.throttling {
            o.push(CFS_PERIODS, &base, &[], t.periods);
            o.push(CFS_THROTTLED, &base, &[], t.throttled_periods);
            o.push(CFS_THROTTLED_SECONDS, &base, &[], t.throttled_seconds);
        }
        if let Some(m) = &s.memory {
            for (i, v) in [
                (MEM_USAGE, m.usage_bytes),
                (MEM_WS, m.working_set_bytes),
                (MEM_RSS, m.rss_bytes),
                (MEM_CACHE, m.cache_bytes),
                (MEM_MAPPED, m.mapped_file_bytes),
                (MEM_ACTIVE_FILE, m.active_file_bytes),
                (MEM_INACTIVE_FILE, m.inactive_file_bytes),
            ] {
                o.push(i, &base, &[], v);
            }
            o.push_opt(MEM_SWAP, &base, m.swap_bytes);
            o.push_opt(MEM_MAX, &base, m.max_usage_bytes);
            o.push_opt(MEM_FAILCNT, &base, m.failcnt);
        }
        for d in &s.io {
            let dev: LabelStr = device(d.major, d.minor).into();
            let by_dev = [(DEVICE, dev.clone())];
            o.push(FS_READ_BYTES, &base, &by_dev, d.read_bytes);
            o.push(FS_WRITE_BYTES, &base, &by_dev, d.write_bytes);
            o.push(FS_READS, &base, &by_dev, d.reads);
            o.push(FS_WRITES, &base, &by_dev, d.writes);
            let (maj, min): (LabelStr, LabelStr) =
                (d.major.to_string().into(), d.minor.to_string().into());
            for (op, v) in [("Read", d.read_bytes), ("Write", d.write_bytes)] {
                let l = [
                    (DEVICE, dev.clone()),
                    ("major".into(), maj.clone()),
                    ("minor".into(), min.clone()),
                    ("operation".into(), op.into()),
                ];
                o.push(BLKIO, &base, &l, v);
            }
        }
        if let Some(p) = &s.pids {
            o.push(THREADS, &base, &[], p.current);
            o.push_opt(THREADS_MAX, &base, p.max);
        }
    }
    o.finish(out);
}

const R_NODE_CPU: usize = 0;
const R_NODE_WS: usize = 1;
const R_POD_CPU: usize = 2;
const R_POD_WS: usize = 3;
const R_POD_SWAP: usize = 4;
const R_CONTAINER_CPU: usize = 5;
const R_CONTAINER_WS: usize = 6;
const R_CONTAINER_SWAP: usize = 7;

/// The kubelet's `/metrics/resource` names and HELP texts
/// (`pkg/kubelet/metrics/collectors/resource_metrics.go`).
const RESOURCE: [(&str, &str, Kind); 8] = [
    (
        "node_cpu_usage_seconds_total",
        "Cumulative cpu time consumed by the node in core-seconds",
        Kind::Counter,
    ),
    (
        "node_memory_working_set_bytes",
        "Current working set of the node in bytes",
        Kind::Gauge,
    ),
    (
        "pod_cpu_usage_seconds_total",
        "Cumulative cpu time consumed by the pod in core-seconds",
        Kind::Counter,
    ),
    (
        "pod_memory_working_set_bytes",
        "Current working set of the pod in bytes",
        Kind::Gauge,
    ),
    (
        "pod_swap_usage_bytes",
        "Current amount of the pod swap usage in bytes. Reported only on non-windows systems",
        Kind::Gauge,
    ),
    (
        "container_cpu_usage_seconds_total",
        "Cumulative cpu time consumed by the container in core-seconds",
        Kind::Counter,
    ),
    (
        "container_memory_working_set_bytes",
        "Current working set of the container in bytes",
        Kind::Gauge,
    ),
    (
        "container_swap_usage_bytes",
        "Current amount of the container swap usage in bytes. Reported only on non-windows systems",
        Kind::Gauge,
    ),
];

/// Appends the kubelet `/metrics/resource` set: the node from the root cgroup; pods and
/// containers only when `meta` names them (the kubelet reports named containers only, so
/// sandbox containers never appear), labelled `namespace`, `pod` and `container`.
pub(crate) fn resource(cgroups: &[Cgroup], meta: &dyn PodMetadata, out: &mut Vec<Family>) {
    let mut o = Out::new(&RESOURCE);
    for cg in cgroups {
        let (cpu, mem) = (cg.stats.cpu.as_ref(), cg.stats.memory.as_ref());
        let (i_cpu, i_ws, i_swap, labels) = if cg.id == "/" {
            (R_NODE_CPU, R_NODE_WS, None, None)
        } else {
            let Some(p) = &cg.pod else { continue };
            let Some(pm) = meta.pod(&p.uid) else { continue };
            let mut l: Vec<LabelPair> = vec![
                ("namespace".into(), pm.namespace.into()),
                ("pod".into(), pm.name.into()),
            ];
            match &p.container {
                None => (R_POD_CPU, R_POD_WS, Some(R_POD_SWAP), Some(l.into())),
                Some(c) => {
                    let Some(cm) = meta.container(&p.uid, &c.id) else {
                        continue;
                    };
                    l.insert(0, ("container".into(), cm.name.into()));
                    let l = Some(l.into());
                    (R_CONTAINER_CPU, R_CONTAINER_WS, Some(R_CONTAINER_SWAP), l)
                }
            }
        };
        o.push_opt(i_cpu, &labels, cpu.map(|c| c.usage_seconds));
        o.push_opt(i_ws, &labels, mem.map(|m| m.working_set_bytes));
        if let (Some(i), Some(swap)) = (i_swap, mem.and_then(|m| m.swap_bytes)) {
            o.push(i, &labels, &[], swap);
        }
    }
    o.finish(out);
}
