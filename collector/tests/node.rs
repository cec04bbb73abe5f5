//! The node readers on the fixture tree `tests/fixtures/node/` (a fake `/proc`, `/sys`, udev
//! database and zone file): exact families, label sets and values.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use collector::node::{NodeCollector, NodeConfig, PressureCollector};
use collector::{Collect, Family, Kind};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/node")
}

/// 2021-07-15T00:00:00.5Z: summer time in the fixture's zone (Europe/Paris).
fn collect() -> Vec<Family> {
    let clock = Arc::new(|| UNIX_EPOCH + Duration::from_millis(1_626_307_200_500));
    let node = NodeCollector::with_clock(&NodeConfig::under(&root()), clock).unwrap();
    let mut out = Vec::new();
    let stats = node.collect(&mut out).unwrap();
    assert_eq!(stats.skipped, 1, "only /missing fails statfs");
    out
}

/// `name{a="b",...} value` per sample, labels in the reader's order, families in output
/// order; filesystem sizes (the host disk's) replaced by `*`.
fn render(fams: &[Family]) -> String {
    let mut s = String::new();
    for f in fams {
        let kind = match f.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        s.push_str(&format!("# {} {kind} {}\n", f.name, f.help));
        for x in &f.samples {
            let labels: Vec<String> = x
                .labels
                .iter()
                .map(|(n, v)| format!("{n}=\"{v}\""))
                .collect();
            let statfs = f.name.starts_with("node_filesystem_")
                && !f.name.ends_with("device_error")
                && !f.name.ends_with("readonly");
            let value = if statfs {
                "*".to_string()
            } else {
                x.value.to_string()
            };
            s.push_str(&format!("{}{{{}}} {value}\n", f.name, labels.join(",")));
        }
    }
    s
}

fn family<'a>(fams: &'a [Family], name: &str) -> &'a Family {
    fams.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no family {name}"))
}

#[test]
fn fixture_tree_gives_node_exporters_families() {
    let got = render(&collect());
    let want = include_str!("fixtures/node/expected.txt");
    if got != want {
        let diff: Vec<String> = got
            .lines()
            .zip(want.lines())
            .filter(|(g, w)| g != w)
            .take(10)
            .map(|(g, w)| format!("got  {g}\nwant {w}"))
            .collect();
        panic!(
            "rendering differs ({} vs {} lines):\n{}\n--- full output ---\n{got}",
            got.lines().count(),
            want.lines().count(),
            diff.join("\n")
        );
    }
}

#[test]
fn filesystem_sizes_are_statfs_of_the_mount_under_rootfs() {
    let fams = collect();
    let st = rustix::fs::statfs(root()).unwrap();
    let size = family(&fams, "node_filesystem_size_bytes");
    let want = st.f_blocks as f64 * st.f_bsize as f64;
    assert_eq!(size.samples.len(), 2, "/ and /data, /data once");
    for s in &size.samples {
        assert_eq!(s.value, want, "{:?}", s.labels);
    }
    let files = family(&fams, "node_filesystem_files");
    assert!(files.samples.iter().all(|s| s.value == st.f_files as f64));
    let avail = family(&fams, "node_filesystem_avail_bytes");
    let free = family(&fams, "node_filesystem_free_bytes");
    for (a, f) in avail.samples.iter().zip(&free.samples) {
        assert!(a.value <= f.value && f.value <= want);
    }
}

#[test]
fn missing_pressure_files_are_skipped_not_errors() {
    // The fixture has no /proc/pressure/memory; a tree without /proc/pressure gives nothing.
    let mut out = Vec::new();
    PressureCollector::new(&root().join("nowhere"))
        .collect(&mut out)
        .unwrap();
    assert!(out.is_empty());
}

#[test]
fn a_missing_proc_file_is_an_error_naming_it() {
    let mut cfg = NodeConfig::under(&root());
    cfg.proc_root = root().join("nowhere");
    let node = NodeCollector::new(&cfg).unwrap();
    let mut out = Vec::new();
    for r in node.readers() {
        if r.name() == "time" || r.name() == "pressure" {
            continue;
        }
        let err = r.collect(&mut out).unwrap_err().to_string();
        assert!(err.contains("nowhere"), "{err}");
    }
}

#[test]
fn malformed_files_are_errors_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("promlet-node-bad-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("proc/net")).unwrap();
    for (file, text) in [
        ("stat", "cpu0 1 x\n"),
        ("meminfo", "MemTotal: x kB\n"),
        ("loadavg", "0.1\n"),
        ("diskstats", "8 0 sda 1 2\n"),
        ("net/dev", "h\nh\n eth0: 1 2\n"),
    ] {
        std::fs::write(dir.join("proc").join(file), text).unwrap();
    }
    let node = NodeCollector::new(&NodeConfig::under(&dir)).unwrap();
    let mut failed = Vec::new();
    for r in node.readers() {
        if let Err(e) = r.collect(&mut Vec::new()) {
            failed.push(format!("{}: {e}", r.name()));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let joined = failed.join("\n");
    for (reader, file) in [
        ("cpu", "stat"),
        ("meminfo", "meminfo"),
        ("loadavg", "loadavg"),
        ("diskstats", "diskstats"),
        ("netdev", "net/dev"),
    ] {
        assert!(
            failed
                .iter()
                .any(|f| f.starts_with(reader) && f.contains(file)),
            "{reader} should fail naming {file}:\n{joined}"
        );
    }
}
