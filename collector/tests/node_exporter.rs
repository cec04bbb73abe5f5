//! promlet's node readers against the real node_exporter 1.5 on this machine (Debian's
//! `prometheus-node-exporter`, installed by `scripts/test.sh`; this test fails without it).
//!
//! node_exporter runs on a free loopback port with exactly the collectors promlet implements
//! and promlet's device and mount filters. The test scrapes it (A), collects with promlet
//! (P), scrapes again (B), then checks:
//! - the same families, with the same TYPE, HELP and label names, and the same series;
//! - values: constants exact (memory total, boot time, filesystem size and inodes, info
//!   metrics, zone offset); counters A − tolerance ≤ P ≤ B + tolerance; other gauges within
//!   the range A..B widened by a stated slack.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use collector::exposition::{Entry, Format, MetricType, Parser};
use collector::node::{NodeCollector, NodeConfig};
use collector::{Collect, Family, Kind};

const BINARY: &str = "prometheus-node-exporter";
const COLLECTORS: [&str; 9] = [
    "cpu",
    "diskstats",
    "filesystem",
    "loadavg",
    "meminfo",
    "netdev",
    "pressure",
    "stat",
    "time",
];
/// node_exporter's own metrics, which are not node metrics.
const SELF_PREFIXES: [&str; 5] = [
    "go_",
    "process_",
    "promhttp_",
    "node_scrape_collector_",
    "node_exporter_build_info",
];

/// Kills node_exporter when the test ends, however it ends.
struct Exporter(Child);

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(cfg: &NodeConfig, port: u16) -> Exporter {
    let mut cmd = Command::new(BINARY);
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--collector.disable-defaults")
        .args(COLLECTORS.iter().map(|c| format!("--collector.{c}")))
        .arg(format!(
            "--collector.diskstats.device-exclude={}",
            cfg.disk_device_exclude
        ))
        .arg(format!(
            "--collector.netdev.device-exclude={}",
            cfg.netdev_device_exclude
        ))
        .arg(format!(
            "--collector.filesystem.mount-points-exclude={}",
            cfg.fs_mount_points_exclude
        ))
        .arg(format!(
            "--collector.filesystem.fs-types-exclude={}",
            cfg.fs_types_exclude
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match cmd.spawn() {
        Ok(child) => Exporter(child),
        Err(e) => panic!("cannot run {BINARY} (scripts/test.sh installs it): {e}"),
    }
}

/// GET /metrics over HTTP/1.0; `None` while nothing listens.
fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200").then(|| body.to_string())
}

/// Polls until node_exporter answers: at most 200 tries, 50 ms apart.
fn scrape_when_ready(port: u16) -> String {
    for _ in 0..200 {
        if let Some(body) = scrape(port) {
            return body;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{BINARY} did not answer on port {port} within 10 s");
}

/// A family as seen in an exposition: type, help, and samples by sorted label pairs.
#[derive(Debug, Default)]
struct Seen {
    kind: Option<MetricType>,
    help: String,
    samples: BTreeMap<Vec<(String, String)>, f64>,
}

fn is_self_metric(name: &str) -> bool {
    SELF_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn parse_exposition(body: &str) -> BTreeMap<String, Seen> {
    let mut out: BTreeMap<String, Seen> = BTreeMap::new();
    for entry in Parser::new(body, Format::PrometheusText) {
        match entry.unwrap() {
            Entry::Help { family, text } if !is_self_metric(family) => {
                out.entry(family.to_string()).or_default().help = text.into_owned();
            }
            Entry::Type { family, kind } if !is_self_metric(family) => {
                out.entry(family.to_string()).or_default().kind = Some(kind);
            }
            Entry::Sample(s) if !is_self_metric(s.name) => {
                let mut labels: Vec<(String, String)> = s
                    .labels
                    .iter()
                    .map(|(n, v)| ((*n).to_string(), v.to_string()))
                    .collect();
                labels.sort();
                let seen = out.entry(s.name.to_string()).or_default();
                seen.samples.insert(labels, s.value);
            }
            _ => {}
        }
    }
    out
}

fn from_families(fams: &[Family]) -> BTreeMap<String, Seen> {
    let mut out: BTreeMap<String, Seen> = BTreeMap::new();
    for f in fams {
        let seen = out.entry(f.name.clone()).or_default();
        seen.help = f.help.clone();
        seen.kind = Some(match f.kind {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge => MetricType::Gauge,
        });
        for s in &f.samples {
            let mut labels = s.labels.to_vec();
            labels.sort();
            assert!(
                seen.samples.insert(labels, s.value).is_none(),
                "duplicate series in {}",
                f.name
            );
        }
    }
    out
}

/// (name, label names) of every family with samples.
fn shapes(m: &BTreeMap<String, Seen>) -> BTreeSet<(String, Vec<String>)> {
    m.iter()
        .flat_map(|(name, seen)| {
            seen.samples
                .keys()
                .map(move |l| (name.clone(), l.iter().map(|(n, _)| n.clone()).collect()))
        })
        .collect()
}

/// Families whose value must be identical in both.
fn is_constant(name: &str) -> bool {
    name == "node_memory_MemTotal_bytes"
        || name == "node_memory_SwapTotal_bytes"
        || name == "node_boot_time_seconds"
        || name == "node_filesystem_size_bytes"
        || name == "node_filesystem_files"
        || name == "node_filesystem_readonly"
        || name == "node_filesystem_device_error"
        || name == "node_time_zone_offset_seconds"
        || name.ends_with("_info")
        || name.starts_with("node_memory_HugePages_Total")
}

/// How far a value may stray from node_exporter's A..B range.
fn slack(name: &str, kind: Option<MetricType>, a: f64, b: f64) -> f64 {
    let span = a.abs().max(b.abs());
    match (name, kind) {
        // iowait is documented to go backwards; allow a few ticks.
        ("node_cpu_seconds_total", _) => 0.5,
        // Load averages move every 5 s; procs counts at any instant.
        ("node_load1" | "node_load5" | "node_load15", _) => 0.5,
        ("node_procs_running" | "node_procs_blocked", _) => 16.0,
        ("node_disk_io_now", _) => 64.0,
        // Counters read between A and B.
        (_, Some(MetricType::Counter)) => 0.0,
        // Memory and free-space gauges move with the other builds on this machine.
        _ => (span * 0.05).max(64.0 * 1024.0 * 1024.0),
    }
}

fn check_value(name: &str, kind: Option<MetricType>, a: f64, p: f64, b: f64) -> Option<String> {
    if is_constant(name) {
        return (p != a && p != b)
            .then(|| format!("{name}: promlet {p}, node_exporter {a} then {b}"));
    }
    let tol = slack(name, kind, a, b);
    let (lo, hi) = (a.min(b) - tol, a.max(b) + tol);
    (p < lo || p > hi)
        .then(|| format!("{name}: promlet {p} outside node_exporter {a}..{b} ± {tol}"))
}

#[test]
fn node_readers_match_node_exporter_on_this_host() {
    let cfg = NodeConfig::default();
    let node = NodeCollector::new(&cfg).unwrap();
    let port = free_port();
    let _exporter = start(&cfg, port);
    let a = parse_exposition(&scrape_when_ready(port));
    let mut fams = Vec::new();
    let stats = node.collect(&mut fams).unwrap();
    let b = parse_exposition(&scrape_when_ready(port));
    let p = from_families(&fams);
    assert_eq!(stats.skipped, 0, "no reader failed");
    // cpu, stat, meminfo, loadavg and time alone give more than 40 families on any Linux.
    assert!(
        a.len() > 40,
        "node_exporter exposed only {} node families",
        a.len()
    );

    // Families, label names and series.
    let (sa, sp) = (shapes(&a), shapes(&p));
    let missing: Vec<_> = sa.difference(&sp).collect();
    let extra: Vec<_> = sp.difference(&sa).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "node_exporter has, promlet lacks: {missing:#?}\npromlet has, node_exporter lacks: {extra:#?}"
    );
    let mut problems = Vec::new();
    for (name, pa) in &a {
        let (pp, pb) = (&p[name], &b[name]);
        if pa.kind != pp.kind || pa.help != pp.help {
            problems.push(format!(
                "{name}: TYPE/HELP {:?} {:?} vs node_exporter {:?} {:?}",
                pp.kind, pp.help, pa.kind, pa.help
            ));
        }
        let keys_a: BTreeSet<_> = pa.samples.keys().collect();
        let keys_p: BTreeSet<_> = pp.samples.keys().collect();
        if keys_a != keys_p {
            problems.push(format!(
                "{name}: series {keys_p:?} vs node_exporter {keys_a:?}"
            ));
            continue;
        }
        for (labels, &va) in &pa.samples {
            let vb = pb.samples.get(labels).copied().unwrap_or(va);
            let vp = pp.samples[labels];
            if let Some(m) = check_value(name, pa.kind, va, vp, vb) {
                problems.push(format!("{m} {labels:?}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
