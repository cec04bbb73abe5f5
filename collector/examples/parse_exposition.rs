//! Parses an exposition file N times and reports the CPU time per parse and the throughput in
//! MiB of input per CPU second; the promlet half of `bench/exposition.sh`.
//!
//! `cargo run --release -p collector --example parse_exposition -- FILE [N] [--openmetrics]`
//!
//! Every sample's labels are touched (as an appender would). A parse error stops the run and
//! names the line.

use std::hint::black_box;

use collector::exposition::{Entry, Format, Parser};

/// This thread's CPU time in nanoseconds (schedstat's first field).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Parses `input` once; the number of samples, or the first error.
fn parse_once(input: &str, format: Format) -> Result<usize, String> {
    let mut samples = 0;
    for entry in Parser::new(input, format) {
        if let Entry::Sample(s) = entry.map_err(|e| e.to_string())? {
            black_box(&s.labels);
            samples += 1;
        }
    }
    Ok(samples)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: parse_exposition FILE [N] [--openmetrics]");
        std::process::exit(2);
    };
    let n: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let format = if args.iter().any(|a| a == "--openmetrics") {
        Format::OpenMetrics
    } else {
        Format::PrometheusText
    };
    let input = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let mut samples = 0;
    let start = thread_cpu_ns();
    for _ in 0..n {
        match parse_once(black_box(&input), format) {
            Ok(s) => samples = s,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
    }
    let ns = (thread_cpu_ns() - start) as f64 / f64::from(n);
    let mib = input.len() as f64 / (1024.0 * 1024.0);
    println!(
        "bytes={} samples={samples} cpu_ms_per_parse={:.3} mib_per_cpu_s={:.1} ns_per_sample={:.1}",
        input.len(),
        ns / 1e6,
        mib / (ns / 1e9),
        ns / samples.max(1) as f64
    );
}
