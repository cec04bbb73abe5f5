//! `/federate` scraped by a real Prometheus (Debian's package) with `honor_labels: true`: the
//! series matching `match[]` arrive with their own labels and latest values; the others do
//! not arrive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use std::time::Duration;

use support::{Guard, free_port, get, query, serve_command, wait_for};

#[test]
fn prometheus_federates_from_promlet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A minute of samples up to now: two `app_requests` series and one `other` series.
    let now = model::now_ms() / 1000;
    let mut om = String::from("# TYPE app_requests gauge\n");
    for (inst, v) in [("a", 10.0), ("b", 20.5)] {
        for i in 0..=4 {
            let _ = writeln!(
                om,
                "app_requests{{job=\"app\",instance=\"{inst}\"}} {} {}",
                v + f64::from(i),
                now - 60 + i64::from(i) * 15
            );
        }
    }
    let _ = writeln!(
        om,
        "# TYPE other gauge\nother{{job=\"other\"}} 1 {}\n# EOF",
        now - 5
    );
    let data = support::import(d, &om);
    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = Guard(serve_command(&listen, &data).spawn().unwrap());
    wait_for("promlet ready", Duration::from_secs(30), || {
        get(&format!("http://{listen}/-/ready"))
    });

    let prom_addr = format!("127.0.0.1:{}", free_port());
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: federate\n    honor_labels: true\n    metrics_path: /federate\n    params:\n      'match[]': ['{{job=\"app\"}}']\n    static_configs:\n      - targets: ['{listen}']\n"
    );
    let _prometheus = support::start_prometheus(d, &prom_addr, &config, &[]);
    let prom = format!("http://{prom_addr}");
    let got = wait_for(
        "Prometheus to scrape /federate",
        Duration::from_secs(60),
        || query(&prom, "app_requests").filter(|s| s.len() == 2),
    );
    let values: Vec<(String, f64)> = got
        .iter()
        .map(|(l, v)| (l["instance"].clone(), *v))
        .collect();
    assert_eq!(values, [("a".to_string(), 14.0), ("b".to_string(), 24.5)]);
    assert!(
        got.keys().all(|l| l["job"] == "app"),
        "honor_labels kept job=app: {got:?}"
    );
    let up = query(&prom, "up{job=\"federate\"}").unwrap();
    assert_eq!(up.values().copied().collect::<Vec<_>>(), [1.0]);
    assert!(
        query(&prom, "other").unwrap().is_empty(),
        "not matched, not federated"
    );
}
