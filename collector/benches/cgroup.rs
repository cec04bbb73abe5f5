//! One collection of the cgroup collector (walk, read every file, build cAdvisor's families) on
//! generated fixture trees: cgroup v2 in the kubelet systemd layout with 100 and 1000
//! containers (two per pod, plus pod, QoS and system cgroups), the same as cgroup v1, and this
//! machine's own hierarchy. Each tree is measured in the steady state (no cgroup made or
//! removed since the last collection, so inotify lets the walk be skipped) and with a walk on
//! every collection (`_walk`, as after a change), and with no file kept open between
//! collections (`_closed`); 1000-container trees also with every file kept open (`_allopen`;
//! the default keeps at most 4096).
//!
//! `cargo bench -p collector --bench cgroup`

#[path = "../tests/fixtures/cgroup/gen.rs"]
mod fixture_gen;

use std::hint::black_box;
use std::path::Path;

use collector::cgroup::{CgroupCollector, Config};
use collector::{Collect, CollectStats};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fixture_gen::{Vals, container_id, pod_uid, v1_cgroup, v1_root};

/// The v1 twin of `fixture_gen::v2_kubepods` (cgroupfs driver names).
fn v1_kubepods(root: &Path, pods: u64, per_pod: u64) -> u64 {
    v1_root(root);
    v1_cgroup(root, "", Vals::of(1000));
    v1_cgroup(root, "kubepods", Vals::of(800));
    v1_cgroup(root, "kubepods/burstable", Vals::of(801));
    let mut n = 0;
    for p in 0..pods {
        let pod = format!("kubepods/burstable/pod{}", pod_uid(p));
        v1_cgroup(root, &pod, Vals::of(500 + p));
        for _ in 0..per_pod {
            v1_cgroup(root, &format!("{pod}/{}", container_id(n)), Vals::of(n));
            n += 1;
        }
    }
    n
}

/// A tempdir on tmpfs when there is one: in memory like cgroupfs, and quick to fill.
fn fixture_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    };
    dir.unwrap_or_else(|e| panic!("{e}"))
}

fn collect_once(c: &CgroupCollector) -> usize {
    let mut out = Vec::new();
    let stats = c.collect(&mut out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stats, CollectStats::default());
    out.iter().map(|f| f.samples.len()).sum()
}

/// Raises the soft open-file limit to the hard one, as `promlet` does at start.
fn raise_open_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
}

/// This thread's CPU time (user + system), seconds, from schedstat's first field (ns on CPU).
fn thread_cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns: f64 = text
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    ns / 1e9
}

/// CPU time of one collection, averaged over `n` (criterion reports wall time, which load from
/// other jobs on the machine inflates).
fn cpu_per_collection(c: &CgroupCollector, n: u32) -> f64 {
    let start = thread_cpu_seconds();
    for _ in 0..n {
        black_box(collect_once(c));
    }
    (thread_cpu_seconds() - start) / f64::from(n)
}

fn bench(c: &mut Criterion) {
    raise_open_file_limit();
    let mut group = c.benchmark_group("cgroup_collect");
    for containers in [100u64, 1000] {
        for (name, make) in [
            ("v2", fixture_gen::v2_kubepods as fn(&Path, u64, u64) -> u64),
            ("v1", v1_kubepods),
        ] {
            let dir = fixture_dir();
            let n = make(dir.path(), containers / 2, 2);
            assert_eq!(n, containers);
            let new =
                || CgroupCollector::new(Config::at(dir.path())).unwrap_or_else(|e| panic!("{e}"));
            // Steady state (the tree unchanged since the last walk), and a walk every time
            // (as after every change, or without inotify).
            let mut variants = vec![
                ("", new()),
                ("_walk", new().without_watch()),
                ("_closed", new().with_open_files(0)),
            ];
            if containers > 100 {
                // The default budget (4096 files) covers a quarter of this tree.
                variants.push(("_allopen", new().with_open_files(usize::MAX)));
            }
            for (variant, col) in variants {
                let listed = col.list(&mut CollectStats::default()).len();
                let samples = collect_once(&col);
                let cpu_ms = cpu_per_collection(&col, (20_000 / containers) as u32) * 1e3;
                eprintln!(
                    "{name}{variant}/{containers}: {listed} cgroups, {samples} samples, CPU {cpu_ms:.2} ms per collection, {} files open",
                    col.open_files()
                );
                group.throughput(Throughput::Elements(containers));
                group.bench_function(format!("{name}_{containers}_containers{variant}"), |b| {
                    b.iter(|| black_box(collect_once(&col)))
                });
            }
        }
    }
    if let Ok(col) = CgroupCollector::new(Config::host()) {
        let listed = col.list(&mut CollectStats::default()).len();
        let cpu_ms = cpu_per_collection(&col, 200) * 1e3;
        eprintln!(
            "host: {listed} cgroups, {:?}, CPU {cpu_ms:.3} ms per collection",
            col.layout().mode
        );
        group.throughput(Throughput::Elements(listed as u64));
        group.bench_function("host", |b| {
            b.iter(|| {
                let mut out = Vec::new();
                black_box(col.collect(&mut out).map(|s| s.skipped))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
