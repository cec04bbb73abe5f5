//! `promlet inspect`: what a data directory holds.

use anyhow::Result;

use crate::args::InspectArgs;

pub(crate) fn run(args: InspectArgs) -> Result<()> {
    if args.verify {
        return verify(&args.storage.data);
    }
    let db = super::open_db(&args.storage)?;
    if args.files {
        for (name, dir) in db.keyspace_dirs() {
            println!("{name}\t{}", dir.display());
        }
        return Ok(());
    }
    let c = db.census()?;
    let per_sample = if c.samples > 0 {
        c.disk_bytes as f64 / c.samples as f64
    } else {
        0.0
    };
    if args.json {
        let range = c
            .time_range
            .map_or("null".to_string(), |(a, b)| format!("[{a},{b}]"));
        println!(
            "{{\"series\":{},\"samples\":{},\"head_samples\":{},\"chunks\":{},\"bytes_on_disk\":{},\"bytes_per_sample\":{:.4},\"time_range_ms\":{range},\"partitions\":{}}}",
            c.series,
            c.samples,
            c.head_samples,
            c.chunks,
            c.disk_bytes,
            per_sample,
            c.partitions.len()
        );
        return Ok(());
    }
    println!("data directory   {}", db.dir().display());
    println!("series           {}", c.series);
    println!(
        "samples          {} ({} in open head chunks)",
        c.samples, c.head_samples
    );
    println!("chunks           {}", c.chunks);
    println!("bytes on disk    {}", c.disk_bytes);
    println!("bytes per sample {per_sample:.3}");
    if let Some((lo, hi)) = c.time_range {
        println!("time range       {lo} .. {hi} (ms)");
    }
    println!(
        "\n{:>16} {:>10} {:>12} {:>12} {:>8}",
        "partition start", "chunks", "samples", "chunk bytes", "B/sample"
    );
    for p in &c.partitions {
        let bps = if p.samples > 0 {
            p.chunk_bytes as f64 / p.samples as f64
        } else {
            0.0
        };
        println!(
            "{:>16} {:>10} {:>12} {:>12} {:>8.3}",
            p.start, p.chunks, p.samples, p.chunk_bytes, bps
        );
    }
    Ok(())
}

/// `--verify`: every damaged file of the store under `data`, without opening it.
fn verify(data: &std::path::Path) -> Result<()> {
    let kv = data.join("kv");
    let damaged = tsdb::damaged_files(&kv)?;
    if damaged.is_empty() {
        println!("{}: every table file matches its manifest", kv.display());
        return Ok(());
    }
    for f in &damaged {
        println!("{f}");
    }
    anyhow::bail!("{} damaged file(s) under {}", damaged.len(), kv.display())
}
