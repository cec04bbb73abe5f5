//! A real target: Debian's `prometheus-node-exporter` scraped by `promlet serve
//! --config.file` every second; its stable series, queried from promlet's API, carry the
//! values and labels (plus `job` and `instance`) that a direct scrape shows.
//!
//! The exporter is installed by `scripts/test.sh`; without it this test fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use collector::exposition::{Entry, Format, Parser};
use support::{Guard, free_port, get, query, serve_command, wait_for};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";

type Series = support::Series;

/// The samples of `name` in a direct scrape.
fn direct(body: &str, name: &str) -> Series {
    let mut out = Series::new();
    for entry in Parser::new(body, Format::PrometheusText) {
        if let Entry::Sample(s) = entry.unwrap()
            && s.name == name
        {
            let labels = s
                .labels
                .iter()
                .map(|(n, v)| ((*n).to_string(), v.to_string()))
                .collect();
            out.insert(labels, s.value);
        }
    }
    out
}

fn start_promlet(dir: &Path, listen: &str, target: &str) -> Guard {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let child = serve_command(listen, &dir.join("data"))
        .arg("--config.file")
        .arg(&config)
        .spawn()
        .expect("promlet starts");
    Guard(child)
}

#[test]
fn node_exporter_series_are_stored_as_scraped() {
    assert!(
        Path::new(NODE_EXPORTER).exists(),
        "{NODE_EXPORTER} is missing: scripts/test.sh installs Debian's prometheus-node-exporter"
    );
    let target = format!("127.0.0.1:{}", free_port());
    let _exporter = Guard(
        Command::new(NODE_EXPORTER)
            .arg(format!("--web.listen-address={target}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node exporter starts"),
    );
    let metrics_url = format!("http://{target}/metrics");
    wait_for("node exporter", Duration::from_secs(30), || {
        get(&metrics_url)
    });

    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let _promlet = start_promlet(dir.path(), &listen, &target);
    let base = format!("http://{listen}");
    wait_for("two successful scrapes", Duration::from_secs(60), || {
        let up = query(&base, "up{job=\"node\"}")?;
        let scrapes = query(&base, "count_over_time(up{job=\"node\"}[1m])")?;
        let ok =
            up.values().next() == Some(&1.0) && scrapes.values().next().is_some_and(|n| *n >= 2.0);
        ok.then_some(())
    });

    let body = get(&metrics_url).expect("direct scrape");
    for name in [
        "node_memory_MemTotal_bytes",
        "node_boot_time_seconds",
        "node_filesystem_size_bytes",
    ] {
        let want: Series = direct(&body, name)
            .into_iter()
            .map(|(mut l, v)| {
                l.insert("job".into(), "node".into());
                l.insert("instance".into(), target.clone());
                (l, v)
            })
            .collect();
        assert!(!want.is_empty(), "node exporter exposes no {name}");
        let got = query(&base, name).expect("query answers");
        assert_eq!(got, want, "{name}");
    }

    let targets: serde_json::Value =
        serde_json::from_str(&get(&format!("{base}/api/v1/targets")).unwrap()).unwrap();
    let active = &targets["data"]["activeTargets"][0];
    assert_eq!(active["health"], "up", "{targets}");
    assert_eq!(active["scrapeUrl"], format!("http://{target}/metrics"));
    assert_eq!(active["labels"]["job"], "node");
    assert_eq!(active["scrapeInterval"], "1s");
}
