//! A real target: Debian's `prometheus-node-exporter` scraped by `promlet serve
//! --config.file` every second; its stable series, queried from promlet's API, carry the
//! values and labels (plus `job` and `instance`) that a direct scrape shows.
//!
//! The exporter is installed by `scripts/test.sh`; without it this test fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use collector::exposition::{Entry, Format, Parser};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";

/// Kills and reaps the child on every path out of the test.
struct Guard(Child);

impl Drop for Guard {
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

fn get(url: &str) -> Option<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    let mut resp = agent.get(url).call().ok()?;
    resp.body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .ok()
}

/// Polls `probe` until it gives a value, failing after `limit`.
fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

type Series = BTreeMap<BTreeMap<String, String>, f64>;

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

/// An instant query's vector as labels (without `__name__`) to value.
fn query(base: &str, expr: &str) -> Option<Series> {
    let url = format!("{base}/api/v1/query?query={}", encode(expr));
    let json: serde_json::Value = serde_json::from_str(&get(&url)?).ok()?;
    let mut out = Series::new();
    for r in json["data"]["result"].as_array()? {
        let labels = r["metric"]
            .as_object()?
            .iter()
            .filter(|(n, _)| n.as_str() != "__name__")
            .map(|(n, v)| (n.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        out.insert(labels, r["value"][1].as_str()?.parse().ok()?);
    }
    Some(out)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
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
    let child = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .args([
            "serve",
            "--collect-host=false",
            "--listen",
            listen,
            "--data",
        ])
        .arg(dir.join("data"))
        .arg("--config.file")
        .arg(&config)
        .env("PROMLET_LOG", "warn")
        .stdout(Stdio::null())
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
