//! The cgroup collector on fixture trees: cgroup v2, v1 and hybrid, the kubelet layouts for
//! both cgroup drivers and the three runtimes, the `/metrics/resource` set and a cgroup that
//! vanishes between listing and reading. Values and labels are asserted exactly.

#[path = "fixtures/cgroup/gen.rs"]
mod fixture_gen;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use collector::cgroup::{
    CgroupCollector, Config, ContainerMeta, MetricSet, Mode, PodMeta, StaticMetadata,
};
use collector::{Collect, CollectStats, Family, Kind};
use fixture_gen::{Vals, container_id, pod_uid, v1_cgroup, v1_root, v2_cgroup, v2_root};

type LabelMap = BTreeMap<String, String>;

fn collect(c: &CgroupCollector) -> (Vec<Family>, CollectStats) {
    let mut out = Vec::new();
    let stats = c.collect(&mut out).unwrap_or_else(|e| panic!("{e}"));
    (out, stats)
}

fn collector(root: &Path) -> CgroupCollector {
    CgroupCollector::new(Config::at(root)).unwrap_or_else(|e| panic!("{e}"))
}

/// The samples of `name` whose `id` label is `id`, as (labels, value).
fn samples(fams: &[Family], name: &str, id: &str) -> Vec<(LabelMap, f64)> {
    let fam = fams.iter().find(|f| f.name == name);
    let fam = fam.unwrap_or_else(|| panic!("no family {name}"));
    fam.samples
        .iter()
        .filter(|s| s.labels.iter().any(|(k, v)| k == "id" && v == id))
        .map(|s| (s.labels.to_vec().into_iter().collect(), s.value))
        .collect()
}

/// The one value of `name` for cgroup `id`.
fn value(fams: &[Family], name: &str, id: &str) -> f64 {
    let s = samples(fams, name, id);
    assert_eq!(s.len(), 1, "{name}{{id={id}}}: {s:?}");
    s[0].1
}

fn labels(pairs: &[(&str, &str)]) -> LabelMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

/// Every cAdvisor value of a fully populated v2 cgroup, from the numbers it was written with.
fn assert_v2_values(fams: &[Family], id: &str, v: Vals) {
    let cases = [
        (
            "container_cpu_usage_seconds_total",
            v.usage_usec as f64 / 1e6,
        ),
        ("container_cpu_user_seconds_total", v.user_usec as f64 / 1e6),
        (
            "container_cpu_system_seconds_total",
            v.system_usec as f64 / 1e6,
        ),
        ("container_cpu_cfs_periods_total", v.periods as f64),
        (
            "container_cpu_cfs_throttled_periods_total",
            v.throttled as f64,
        ),
        (
            "container_cpu_cfs_throttled_seconds_total",
            v.throttled_usec as f64 / 1e6,
        ),
        ("container_memory_usage_bytes", v.current as f64),
        ("container_memory_working_set_bytes", v.working_set()),
        ("container_memory_rss", v.anon as f64),
        ("container_memory_cache", v.file as f64),
        ("container_memory_mapped_file", v.file_mapped as f64),
        ("container_memory_swap", v.swap as f64),
        (
            "container_memory_total_inactive_file_bytes",
            v.inactive_file as f64,
        ),
        (
            "container_memory_total_active_file_bytes",
            v.active_file as f64,
        ),
        ("container_fs_reads_bytes_total", v.rbytes as f64),
        ("container_fs_writes_bytes_total", v.wbytes as f64),
        ("container_fs_reads_total", v.rios as f64),
        ("container_fs_writes_total", v.wios as f64),
        ("container_threads", v.pids as f64),
    ];
    for (name, want) in cases {
        assert_eq!(value(fams, name, id), want, "{name}{{id={id}}}");
    }
}

const UID: &str = "8d5c3f9e-2a4b-4c1d-9e8f-0123456789ab";
const UID_: &str = "8d5c3f9e_2a4b_4c1d_9e8f_0123456789ab";

#[test]
fn v2_systemd_driver_three_runtimes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    v2_root(root, Vals::of(99));
    v2_cgroup(root, "system.slice/sshd.service", Vals::of(50));
    let qos = "kubepods.slice/kubepods-burstable.slice";
    let pod = format!("{qos}/kubepods-burstable-pod{UID_}.slice");
    let runtimes = [
        ("cri-containerd-", "containerd"),
        ("crio-", "cri-o"),
        ("docker-", "docker"),
    ];
    for (i, (prefix, _)) in runtimes.iter().enumerate() {
        v2_cgroup(
            root,
            &format!("{pod}/{prefix}{}.scope", container_id(i as u64)),
            Vals::of(i as u64),
        );
    }
    v2_cgroup(
        root,
        &format!("{pod}/crio-conmon-{}.scope", container_id(7)),
        Vals::of(7),
    );
    v2_cgroup(root, &pod, Vals::of(10));
    let c = collector(root);
    assert_eq!(c.layout().mode, Mode::Unified);
    let (fams, stats) = collect(&c);
    assert_eq!(stats.skipped, 0);

    for (i, (prefix, runtime)) in runtimes.iter().enumerate() {
        let cid = container_id(i as u64);
        let id = format!("/{pod}/{prefix}{cid}.scope");
        assert_v2_values(&fams, &id, Vals::of(i as u64));
        let got = samples(&fams, "container_memory_working_set_bytes", &id);
        let want = labels(&[
            ("id", &id),
            ("pod_uid", UID),
            ("qos", "burstable"),
            ("container_id", &cid),
            ("runtime", runtime),
        ]);
        assert_eq!(got[0].0, want, "{id}");
        let cpu = samples(&fams, "container_cpu_usage_seconds_total", &id);
        assert_eq!(cpu[0].0.get("cpu").map(String::as_str), Some("total"));
    }
    // The pod cgroup: pod labels, no container; conmon and services: only `id`.
    let pod_id = format!("/{pod}");
    assert_v2_values(&fams, &pod_id, Vals::of(10));
    let got = samples(&fams, "container_memory_usage_bytes", &pod_id);
    assert_eq!(
        got[0].0,
        labels(&[("id", &pod_id), ("pod_uid", UID), ("qos", "burstable")])
    );
    let conmon = format!("/{pod}/crio-conmon-{}.scope", container_id(7));
    assert_eq!(
        samples(&fams, "container_memory_usage_bytes", &conmon)[0].0,
        labels(&[("id", &conmon)])
    );
    assert_v2_values(&fams, "/system.slice/sshd.service", Vals::of(50));
    // The root: no memory.current, so usage = anon + file (runc's emulation).
    let r = Vals::of(99);
    assert_eq!(
        value(&fams, "container_memory_usage_bytes", "/"),
        (r.anon + r.file) as f64
    );
    assert_eq!(
        value(&fams, "container_memory_working_set_bytes", "/"),
        (r.anon + r.file - r.inactive_file) as f64
    );
    assert_eq!(
        value(&fams, "container_cpu_usage_seconds_total", "/"),
        r.usage_usec as f64 / 1e6
    );
    // Kinds and the device label (no /sys/dev/block given: MAJ:MIN).
    let kind = |n: &str| fams.iter().find(|f| f.name == n).map(|f| f.kind);
    assert_eq!(
        kind("container_cpu_usage_seconds_total"),
        Some(Kind::Counter)
    );
    assert_eq!(kind("container_memory_rss"), Some(Kind::Gauge));
    let io = samples(
        &fams,
        "container_fs_reads_bytes_total",
        "/system.slice/sshd.service",
    );
    assert_eq!(io[0].0.get("device").map(String::as_str), Some("8:0"));
    let blk = samples(
        &fams,
        "container_blkio_device_usage_total",
        "/system.slice/sshd.service",
    );
    let ops: Vec<_> = blk
        .iter()
        .map(|(l, v)| (l["operation"].clone(), l["major"].clone(), *v))
        .collect();
    let v = Vals::of(50);
    assert_eq!(
        ops,
        vec![
            ("Read".into(), "8".into(), v.rbytes as f64),
            ("Write".into(), "8".into(), v.wbytes as f64)
        ]
    );
}

#[test]
fn v1_cgroupfs_driver_and_qos_classes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    v1_root(root);
    v1_cgroup(root, "", Vals::of(99));
    let cases = [
        (
            format!("kubepods/pod{UID}/{}", container_id(0)),
            "guaranteed",
            None,
        ),
        (
            format!("kubepods/burstable/pod{UID}/crio-{}", container_id(1)),
            "burstable",
            Some("cri-o"),
        ),
        (
            format!("kubepods/besteffort/pod{UID}/{}", container_id(2)),
            "besteffort",
            None,
        ),
    ];
    v1_cgroup(root, &format!("kubepods/burstable/pod{UID}"), Vals::of(20));
    for (i, (rel, _, _)) in cases.iter().enumerate() {
        v1_cgroup(root, rel, Vals::of(i as u64));
    }
    let c = collector(root);
    assert_eq!(c.layout().mode, Mode::Legacy);
    let (fams, stats) = collect(&c);
    assert_eq!(stats.skipped, 0);
    for (i, (rel, qos, runtime)) in cases.iter().enumerate() {
        let v = Vals::of(i as u64);
        let id = format!("/{rel}");
        let cid = container_id(i as u64);
        let mut want = vec![
            ("id", id.as_str()),
            ("pod_uid", UID),
            ("qos", qos),
            ("container_id", &cid),
        ];
        want.extend(runtime.map(|r| ("runtime", r)));
        assert_eq!(
            samples(&fams, "container_memory_rss", &id)[0].0,
            labels(&want),
            "{id}"
        );
        let cases = [
            (
                "container_cpu_usage_seconds_total",
                v.usage_usec as f64 / 1e6,
            ),
            // cpuacct.stat is in USER_HZ (1/100 s) ticks.
            ("container_cpu_user_seconds_total", v.user_usec as f64 / 1e6),
            (
                "container_cpu_system_seconds_total",
                v.system_usec as f64 / 1e6,
            ),
            (
                "container_cpu_cfs_throttled_seconds_total",
                v.throttled_usec as f64 / 1e6,
            ),
            ("container_memory_usage_bytes", v.current as f64),
            // v1: total_inactive_file, not the cgroup-local inactive_file.
            ("container_memory_working_set_bytes", v.working_set()),
            ("container_memory_rss", v.anon as f64),
            ("container_memory_cache", v.file as f64),
            ("container_memory_swap", v.swap as f64),
            ("container_memory_max_usage_bytes", (v.current * 2) as f64),
            ("container_memory_failcnt", 3.0),
            ("container_fs_reads_bytes_total", v.rbytes as f64),
            ("container_fs_writes_total", v.wios as f64),
            ("container_threads", v.pids as f64),
        ];
        for (name, want) in cases {
            assert_eq!(value(&fams, name, &id), want, "{name}{{id={id}}}");
        }
    }
    // pids.max "max" is unlimited: no container_threads_max sample.
    assert!(fams.iter().all(|f| f.name != "container_threads_max"));
    // The pod cgroups in between are listed too (intermediate directories).
    let pod = format!("/kubepods/burstable/pod{UID}");
    assert_eq!(
        samples(&fams, "container_memory_rss", &pod)[0].0,
        labels(&[("id", &pod), ("pod_uid", UID), ("qos", "burstable")])
    );
}

#[test]
fn hybrid_reads_v1_controllers() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    v1_root(root);
    v1_cgroup(root, "", Vals::of(99));
    v1_cgroup(root, "system.slice/cron.service", Vals::of(3));
    // The hybrid v2 mount: controller-less, only systemd's tracking.
    let unified = root.join("unified");
    std::fs::create_dir_all(unified.join("system.slice")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(unified.join("cgroup.controllers"), "").unwrap_or_else(|e| panic!("{e}"));
    let c = collector(root);
    assert_eq!(c.layout().mode, Mode::Hybrid);
    let (fams, _) = collect(&c);
    assert_eq!(
        value(
            &fams,
            "container_memory_working_set_bytes",
            "/system.slice/cron.service"
        ),
        Vals::of(3).working_set()
    );
    assert_eq!(
        value(
            &fams,
            "container_cpu_usage_seconds_total",
            "/system.slice/cron.service"
        ),
        Vals::of(3).usage_usec as f64 / 1e6
    );
}

#[test]
fn mountinfo_reroots_a_host_tree() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path().join("host/sys/fs/cgroup");
    v2_root(&root, Vals::of(1));
    v2_cgroup(&root, "a.slice", Vals::of(2));
    let info = dir.path().join("mountinfo");
    std::fs::write(
        &info,
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut config = Config::at(&root);
    config.mountinfo = Some(info);
    let c = CgroupCollector::new(config).unwrap_or_else(|e| panic!("{e}"));
    let (fams, _) = collect(&c);
    assert_v2_values(&fams, "/a.slice", Vals::of(2));
}

#[test]
fn vanished_cgroup_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    let n = fixture_gen::v2_kubepods(root, 2, 2);
    let c = collector(root);
    let mut stats = CollectStats::default();
    let listing = c.list(&mut stats);
    let gone = listing
        .ids()
        .find(|id| id.ends_with(&format!("cri-containerd-{}.scope", container_id(1))))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("container 1 not listed"));
    // The container exits between listing and reading.
    std::fs::remove_dir_all(root.join(gone.trim_start_matches('/')))
        .unwrap_or_else(|e| panic!("{e}"));
    let cgroups = c.read(&listing, &mut stats);
    assert_eq!(stats.skipped, 1);
    assert_eq!(cgroups.len(), listing.len() - 1);
    assert!(cgroups.iter().all(|cg| cg.id != gone));
    let containers = cgroups
        .iter()
        .filter(|cg| cg.pod.as_ref().is_some_and(|p| p.container.is_some()));
    assert_eq!(containers.count() as u64, n - 1);
}

#[test]
fn missing_optional_file_is_not_a_vanished_cgroup() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    v2_root(root, Vals::of(1));
    v2_cgroup(root, "a.slice", Vals::of(2));
    std::fs::remove_file(root.join("a.slice/memory.swap.current"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (fams, stats) = collect(&collector(root));
    assert_eq!(stats.skipped, 0);
    assert_eq!(
        value(&fams, "container_memory_rss", "/a.slice"),
        Vals::of(2).anon as f64
    );
    assert!(fams.iter().all(|f| f.name != "container_memory_swap"));
}

#[test]
fn resource_set_with_pod_names() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    fixture_gen::v2_kubepods(root, 2, 2);
    // Container 1 is the pod's sandbox: the API never names it.
    let c = collector(root).with_metadata(Arc::new(c_meta()));
    let (cad, _) = collect(&c);
    let (res, _) = collect(
        &collector(root)
            .with_metadata(Arc::new(c_meta()))
            .with_set(MetricSet::Resource),
    );

    // cAdvisor set: names join the kubelet labels.
    let pod = format!(
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice",
        pod_uid(0).replace('-', "_")
    );
    let id = format!("{pod}/cri-containerd-{}.scope", container_id(0));
    let cid = container_id(0);
    let want = labels(&[
        ("id", &id),
        ("namespace", "default"),
        ("pod", "web-0"),
        ("pod_uid", &pod_uid(0)),
        ("qos", "burstable"),
        ("container", "nginx"),
        ("image", "nginx:1.27"),
        ("container_id", &cid),
        ("runtime", "containerd"),
    ]);
    assert_eq!(
        samples(&cad, "container_memory_working_set_bytes", &id)[0].0,
        want
    );

    // Resource set: node from the root, the named pod and container only.
    let flat = |name: &str| -> Vec<(LabelMap, f64)> {
        res.iter()
            .filter(|f| f.name == name)
            .flat_map(|f| {
                f.samples
                    .iter()
                    .map(|s| (s.labels.to_vec().into_iter().collect(), s.value))
            })
            .collect()
    };
    let root_v = Vals::of(1000);
    assert_eq!(
        flat("node_cpu_usage_seconds_total"),
        vec![(LabelMap::new(), root_v.usage_usec as f64 / 1e6)]
    );
    assert_eq!(
        flat("node_memory_working_set_bytes"),
        vec![(
            LabelMap::new(),
            (root_v.anon + root_v.file - root_v.inactive_file) as f64
        )]
    );
    let pod_l = labels(&[("namespace", "default"), ("pod", "web-0")]);
    assert_eq!(
        flat("pod_cpu_usage_seconds_total"),
        vec![(pod_l.clone(), Vals::of(500).usage_usec as f64 / 1e6)]
    );
    assert_eq!(
        flat("pod_memory_working_set_bytes"),
        vec![(pod_l, Vals::of(500).working_set())]
    );
    let c_l = labels(&[
        ("namespace", "default"),
        ("pod", "web-0"),
        ("container", "nginx"),
    ]);
    assert_eq!(
        flat("container_cpu_usage_seconds_total"),
        vec![(c_l.clone(), Vals::of(0).usage_usec as f64 / 1e6)]
    );
    assert_eq!(
        flat("container_memory_working_set_bytes"),
        vec![(c_l.clone(), Vals::of(0).working_set())]
    );
    assert_eq!(
        flat("container_swap_usage_bytes"),
        vec![(c_l, Vals::of(0).swap as f64)]
    );
}

fn c_meta() -> StaticMetadata {
    let mut meta = StaticMetadata::default();
    meta.pods.insert(
        pod_uid(0),
        PodMeta {
            namespace: "default".into(),
            name: "web-0".into(),
        },
    );
    meta.containers.insert(
        container_id(0),
        ContainerMeta {
            name: "nginx".into(),
            image: "nginx:1.27".into(),
        },
    );
    meta
}

#[test]
fn no_cgroups_is_an_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    assert!(CgroupCollector::new(Config::at(dir.path())).is_err());
}

/// Between collections the walk is skipped unless inotify reported a change; a cgroup made or
/// removed anywhere in the tree (here two levels down) must still show up or go at once, and
/// a changed file must be read afresh through its kept descriptor.
#[test]
fn cgroups_made_or_removed_between_collections_are_seen() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    v2_root(root, Vals::of(1));
    v2_cgroup(root, "a.slice", Vals::of(2));
    for c in [collector(root), collector(root).without_watch()] {
        let ids = |c: &CgroupCollector| {
            let (fams, _) = collect(c);
            let fam = fams.iter().find(|f| f.name == "container_memory_rss");
            let fam = fam.unwrap_or_else(|| panic!("no container_memory_rss"));
            let ids: Vec<String> = fam
                .samples
                .iter()
                .filter_map(|s| s.labels.get("id").map(str::to_string))
                .collect();
            (ids, fams)
        };
        assert_eq!(ids(&c).0, ["/", "/a.slice"]);
        v2_cgroup(root, "a.slice/b.scope", Vals::of(3));
        let (seen, fams) = ids(&c);
        assert_eq!(seen, ["/", "/a.slice", "/a.slice/b.scope"]);
        assert_v2_values(&fams, "/a.slice/b.scope", Vals::of(3));
        v2_cgroup(root, "a.slice/b.scope", Vals::of(4));
        assert_v2_values(&ids(&c).1, "/a.slice/b.scope", Vals::of(4));
        std::fs::remove_dir_all(root.join("a.slice/b.scope")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ids(&c).0, ["/", "/a.slice"]);
    }
}
