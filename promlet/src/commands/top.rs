//! `promlet top nodes|pods`: `kubectl top`'s table from a promlet server's resource metrics
//! API, the same columns, rounding and sorting; with `--since D`, the average, p95 and maximum
//! of each object over the last `D`, from the API evaluated at `--points` times in that window
//! (promlet's `time` parameter).

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use exporter::k8s::format::parse_quantity;
use serde_json::Value;

use super::top_table::{cpu_cell, memory_cell, percent_cell, percentile, render};
use crate::args::{TopArgs, TopSort, TopWhat};

/// One row's object: its key columns (`NAME`, or `NAMESPACE NAME`, or `NAMESPACE POD NAME`)
/// and its usage in nanocores and bytes.
#[derive(Debug, Clone)]
struct Row {
    key: Vec<String>,
    cpu: f64,
    memory: f64,
}

pub(crate) fn run(args: TopArgs) -> Result<()> {
    let table = match &args.since {
        None => current(&args)?,
        Some(since) => history(&args, since)?,
    };
    print!("{}", render(&table));
    Ok(())
}

fn get_json(base: &str, path: &str, params: &[(&str, String)]) -> Result<Value> {
    let (url, status, body) = super::http_get(base, path, params)?;
    let json: Value = serde_json::from_str(&body)
        .with_context(|| format!("{url} answered {status} with no JSON: {}", body.trim()))?;
    if !status.is_success() {
        let message = json["message"].as_str().unwrap_or(body.trim());
        bail!("{url}: {status}: {message}");
    }
    Ok(json)
}

fn quantity(v: &Value) -> Result<f64> {
    let text = v.as_str().unwrap_or("0");
    parse_quantity(text).map_err(|e| anyhow::anyhow!("bad quantity {text:?}: {e}"))
}

fn metrics_path(args: &TopArgs) -> String {
    let base = "/apis/metrics.k8s.io/v1beta1";
    match args.what {
        TopWhat::Nodes => format!("{base}/nodes"),
        TopWhat::Pods if args.all_namespaces => format!("{base}/pods"),
        TopWhat::Pods => format!("{base}/namespaces/{}/pods", args.namespace),
    }
}

/// The rows of the metrics API at `time` (now when `None`).
fn rows(args: &TopArgs, time: Option<i64>) -> Result<Vec<Row>> {
    let mut params = Vec::new();
    if let Some(sel) = &args.selector {
        params.push(("labelSelector", sel.clone()));
    }
    if let Some(t) = time {
        params.push(("time", format!("{}", t as f64 / 1000.0)));
    }
    let json = get_json(&args.server, &metrics_path(args), &params)?;
    let mut out = Vec::new();
    for item in json["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
        let ns = item["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if args.what == TopWhat::Nodes {
            let (cpu, memory) = (
                quantity(&item["usage"]["cpu"])?,
                quantity(&item["usage"]["memory"])?,
            );
            out.push(Row {
                key: vec![name],
                cpu: cpu * 1e9,
                memory,
            });
            continue;
        }
        let prefix = if args.all_namespaces {
            vec![ns]
        } else {
            Vec::new()
        };
        let containers = item["containers"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut pod = Row {
            key: [prefix.clone(), vec![name.clone()]].concat(),
            cpu: 0.0,
            memory: 0.0,
        };
        for c in containers {
            let (cpu, memory) = (
                quantity(&c["usage"]["cpu"])? * 1e9,
                quantity(&c["usage"]["memory"])?,
            );
            if args.containers {
                let cname = c["name"].as_str().unwrap_or("").to_string();
                let key = [prefix.clone(), vec![name.clone(), cname]].concat();
                out.push(Row { key, cpu, memory });
            }
            pod.cpu += cpu;
            pod.memory += memory;
        }
        if !args.containers {
            out.push(pod);
        }
    }
    Ok(out)
}

fn header(args: &TopArgs) -> Vec<String> {
    let mut h: Vec<&str> = Vec::new();
    if args.what == TopWhat::Pods && args.all_namespaces {
        h.push("NAMESPACE");
    }
    if args.what == TopWhat::Pods && args.containers {
        h.push("POD");
    }
    h.push("NAME");
    h.into_iter().map(String::from).collect()
}

/// Sorts by the chosen key, highest first; the API's order (by name) otherwise.
fn sort(rows: &mut [Row], by: Option<TopSort>) {
    match by {
        Some(TopSort::Cpu) => rows.sort_by(|a, b| b.cpu.total_cmp(&a.cpu)),
        Some(TopSort::Memory) => rows.sort_by(|a, b| b.memory.total_cmp(&a.memory)),
        None => {}
    }
}

/// Node capacity (millicores ×1e6 = nanocores, bytes) from the core `nodes`.
fn capacities(args: &TopArgs) -> Result<BTreeMap<String, (f64, f64)>> {
    let json = get_json(&args.server, "/api/v1/nodes", &[])?;
    let mut out = BTreeMap::new();
    for n in json["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let alloc = &n["status"]["allocatable"];
        let name = n["metadata"]["name"].as_str().unwrap_or("").to_string();
        out.insert(
            name,
            (quantity(&alloc["cpu"])? * 1e9, quantity(&alloc["memory"])?),
        );
    }
    Ok(out)
}

/// The current usage, as kubectl top prints it.
fn current(args: &TopArgs) -> Result<Vec<Vec<String>>> {
    let mut rows = rows(args, None)?;
    if rows.is_empty() {
        bail!("metrics not available yet");
    }
    sort(&mut rows, args.sort_by);
    let mut head = header(args);
    if args.what == TopWhat::Nodes {
        head.extend(["CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"].map(String::from));
        let caps = capacities(args)?;
        let mut table = vec![head];
        for r in rows {
            let (cpu_cap, mem_cap) = caps.get(&r.key[0]).copied().unwrap_or((0.0, 0.0));
            let cpu_milli = (r.cpu / 1e6).ceil();
            let mut line = r.key;
            line.push(cpu_cell(r.cpu));
            line.push(percent_cell(cpu_milli, (cpu_cap / 1e6).ceil()));
            line.push(memory_cell(r.memory));
            line.push(percent_cell(r.memory, mem_cap));
            table.push(line);
        }
        return Ok(table);
    }
    head.extend(["CPU(cores)", "MEMORY(bytes)"].map(String::from));
    let mut table = vec![head];
    for r in rows {
        let mut line = r.key;
        line.extend([cpu_cell(r.cpu), memory_cell(r.memory)]);
        table.push(line);
    }
    Ok(table)
}

/// Average, p95 and maximum over `since`, from `points` evaluations of the API.
fn history(args: &TopArgs, since: &str) -> Result<Vec<Vec<String>>> {
    let span = model::parse_duration_ms(since)
        .with_context(|| format!("--since {since:?}: not a duration such as 1h or 30m"))?;
    let points = i64::from(args.points.max(2));
    let now = model::now_ms();
    let mut series: BTreeMap<Vec<String>, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for i in 0..points {
        let at = now - span + span * i / (points - 1);
        for r in rows(args, Some(at))? {
            let e = series.entry(r.key).or_default();
            e.0.push(r.cpu);
            e.1.push(r.memory);
        }
    }
    if series.is_empty() {
        bail!("no metrics in the last {since}");
    }
    let mut rows: Vec<(Vec<String>, [f64; 6])> = series
        .into_iter()
        .map(|(k, (cpu, mem))| {
            (
                k,
                [
                    mean(&cpu),
                    percentile(&cpu, 95.0),
                    max(&cpu),
                    mean(&mem),
                    percentile(&mem, 95.0),
                    max(&mem),
                ],
            )
        })
        .collect();
    match args.sort_by {
        Some(TopSort::Cpu) => rows.sort_by(|a, b| b.1[0].total_cmp(&a.1[0])),
        Some(TopSort::Memory) => rows.sort_by(|a, b| b.1[3].total_cmp(&a.1[3])),
        None => {}
    }
    let mut head = header(args);
    head.extend(
        [
            "CPU(avg)",
            "CPU(p95)",
            "CPU(max)",
            "MEMORY(avg)",
            "MEMORY(p95)",
            "MEMORY(max)",
        ]
        .map(String::from),
    );
    let mut table = vec![head];
    for (key, v) in rows {
        let mut line = key;
        line.extend(v[..3].iter().map(|c| cpu_cell(*c)));
        line.extend(v[3..].iter().map(|m| memory_cell(*m)));
        table.push(line);
    }
    Ok(table)
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}
