//! Where the bytes go: encodes each series of an OpenMetrics file into sealed chunks of 240
//! samples and prints bytes per sample and the chosen encodings per metric, largest share first.
//!
//! `cargo run --release -p promlet --example breakdown -- bench/out/realistic.om` (env `CHUNK`
//! sets the samples per chunk, 240 by default).

use std::collections::BTreeMap;
use std::error::Error;

use collector::exposition::{Entry, Format, Parser};
use model::Sample;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).ok_or("usage: breakdown FILE.om")?;
    let text = std::fs::read_to_string(path)?;
    let mut series: BTreeMap<(String, String), Vec<Sample>> = BTreeMap::new();
    for entry in Parser::new(&text, Format::OpenMetrics) {
        let Entry::Sample(s) = entry? else { continue };
        let t = s.timestamp_ms.ok_or("sample without timestamp")?;
        let kind: Vec<_> = s
            .labels
            .iter()
            .filter(|(n, _)| !matches!(*n, "instance" | "cpu"))
            .collect();
        let key = (format!("{}{kind:?}", s.name), format!("{:?}", s.labels));
        series.entry(key).or_default().push(Sample::new(t, s.value));
    }
    let mut by_metric: BTreeMap<String, (u64, u64, String)> = BTreeMap::new();
    let (mut bytes, mut samples) = (0u64, 0u64);
    for ((metric, _), points) in &series {
        for chunk in points.chunks(
            std::env::var("CHUNK")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(240),
        ) {
            let mut out = Vec::new();
            chunkenc::encode_sealed(chunk, &mut out);
            let modes = chunkenc::sealed_modes(&out)?;
            let e = by_metric.entry(metric.clone()).or_default();
            e.0 += out.len() as u64;
            e.1 += chunk.len() as u64;
            e.2 = format!("{:?}/{:?}", modes.ts, modes.values);
            bytes += out.len() as u64;
            samples += chunk.len() as u64;
        }
    }
    let mut rows: Vec<_> = by_metric.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.0));
    println!(
        "total {:.3} B/sample over {samples} samples",
        bytes as f64 / samples as f64
    );
    for (metric, (b, n, modes)) in rows.iter().take(30) {
        let share = 100.0 * *b as f64 / bytes as f64;
        println!(
            "{:>7.3} B/sample {share:>5.1}% {metric:60} {modes}",
            *b as f64 / *n as f64
        );
    }
    Ok(())
}
