//! Collects the node families N times and reports this process's CPU time per collection;
//! the promlet half of `bench/node_cpu.sh`.
//!
//! `cargo run --release -p collector --example node_collect -- [N] [--print]`
//!
//! Each round collects every node reader and renders the families as Prometheus text (what
//! a `/metrics` scrape costs besides HTTP), so it compares with node_exporter's CPU per
//! scrape. `--print` writes the last rendering to stdout.

use std::fmt::Write as _;

use collector::node::{NodeCollector, NodeConfig};
use collector::{Collect, Family, Kind};

fn render(fams: &[Family], out: &mut String) {
    out.clear();
    for f in fams {
        let kind = match f.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {kind}", f.name);
        for s in &f.samples {
            out.push_str(&f.name);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (n, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(
                        out,
                        "{n}=\"{}\"",
                        v.replace('\\', "\\\\").replace('"', "\\\"")
                    );
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", s.value);
        }
    }
}

/// utime + stime of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `)` of the command name: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_ascii_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / procfs::ticks_per_second() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(Ok(1000), |a| a.parse())?;
    let print = args.iter().any(|a| a == "--print");
    let node = NodeCollector::new(&NodeConfig::default())?;
    let mut fams = Vec::new();
    let mut text = String::new();
    let mut samples = 0;
    let start_cpu = cpu_seconds();
    let start = std::time::Instant::now();
    for _ in 0..n {
        fams.clear();
        node.collect(&mut fams)?;
        render(&fams, &mut text);
        samples = fams.iter().map(|f| f.samples.len()).sum();
    }
    let cpu = cpu_seconds() - start_cpu;
    let wall = start.elapsed().as_secs_f64();
    if print {
        print!("{text}");
    }
    eprintln!(
        "collections={n} families={} samples={samples} cpu_seconds={cpu:.3} cpu_ms_per_collection={:.4} wall_ms_per_collection={:.4}",
        fams.len(),
        cpu * 1000.0 / n as f64,
        wall * 1000.0 / n as f64
    );
    Ok(())
}
