//! End-to-end tests that run the real `promlet` binary (and, where named, the real promtool).

#![allow(clippy::unwrap_used)]

mod import_dump;
mod promqltest;
mod query;
mod serve;

use std::path::Path;
use std::process::{Command, Output};

pub(crate) fn promlet() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_promlet"));
    c.env("PROMLET_LOG", "warn");
    c
}

/// Runs a command, asserting success, and returns stdout.
pub(crate) fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

pub(crate) fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("command starts")
}

/// A small OpenMetrics file: a counter, a gauge with odd values, a histogram and a summary,
/// `hosts` instances, `points` samples each at a 15 s interval with millisecond jitter.
pub(crate) fn write_openmetrics(path: &Path, hosts: usize, points: i64) {
    let start = 1_767_225_600_000i64;
    let mut s = String::new();
    let ts = |i: i64, h: usize| {
        let t = start + i * 15_000 + ((i * 7 + h as i64) % 5) - 2;
        format!("{}.{:03}", t.div_euclid(1000), t.rem_euclid(1000))
    };
    s.push_str("# HELP node_cpu_seconds CPU time.\n# TYPE node_cpu_seconds counter\n");
    for h in 0..hosts {
        for i in 0..points {
            let v = (i * 1489 + h as i64 * 7) as f64 / 100.0;
            s.push_str(&format!(
                "node_cpu_seconds_total{{cpu=\"0\",instance=\"h{h}\",mode=\"idle\"}} {v} {}\n",
                ts(i, h)
            ));
        }
    }
    s.push_str("# TYPE node_load1 gauge\n");
    for h in 0..hosts {
        for i in 0..points {
            let v = match i % 50 {
                7 => "NaN".to_string(),
                9 => "+Inf".to_string(),
                _ => format!("{}", ((i as f64) * 0.37 + h as f64).sin()),
            };
            s.push_str(&format!(
                "node_load1{{instance=\"h{h}\"}} {v} {}\n",
                ts(i, h)
            ));
        }
    }
    s.push_str("# TYPE req_seconds histogram\n");
    for i in 0..points {
        let t = ts(i, 0);
        for (le, n) in [("0.1", i), ("1.0", 2 * i), ("+Inf", 3 * i)] {
            s.push_str(&format!("req_seconds_bucket{{le=\"{le}\"}} {n} {t}\n"));
        }
        s.push_str(&format!(
            "req_seconds_sum {} {t}\nreq_seconds_count {} {t}\n",
            i as f64 * 0.75,
            3 * i
        ));
    }
    s.push_str("# TYPE gc_seconds summary\n");
    for i in 0..points {
        let t = ts(i, 0);
        s.push_str(&format!(
            "gc_seconds{{quantile=\"0.5\"}} {} {t}\n",
            1e-5 * (i % 13) as f64
        ));
        s.push_str(&format!(
            "gc_seconds_sum {} {t}\ngc_seconds_count {i} {t}\n",
            1e-4 * i as f64
        ));
    }
    s.push_str("# EOF\n");
    std::fs::write(path, s).expect("write test file");
}
