//! The remote write sender against a real Prometheus started with
//! `--web.enable-remote-write-receiver`: samples stored in promlet (received here through
//! promlet's own receiver) arrive in Prometheus; while Prometheus is down promlet retries,
//! and once it is back every sample of the outage arrives too. `write_relabel_configs`
//! drop a series, and external labels are added.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::Duration;

use collector::remote_write::proto::TimeSeries;
use support::{Guard, count_1h as count, free_port, metric, query, wait_for};

fn start_prometheus(dir: &Path, addr: &str) -> Guard {
    support::start_prometheus(
        dir,
        addr,
        "global:\n  scrape_interval: 1m\n",
        &["--web.enable-remote-write-receiver"],
    )
}

/// POSTs `series` to promlet's receiver.
fn push(promlet: &str, series: &[TimeSeries]) {
    assert_eq!(support::remote_write(promlet, series).0, 204);
}

/// `n` samples of `name` 100 ms apart, starting at `start_ms`.
fn series(name: &str, start_ms: i64, n: i64) -> TimeSeries {
    TimeSeries {
        labels: vec![("__name__".into(), name.into()), ("k".into(), "v".into())],
        samples: (0..n).map(|i| (start_ms + i * 100, i as f64)).collect(),
        histograms: 0,
    }
}

#[test]
fn every_sample_arrives_also_across_a_receiver_outage() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let prometheus = start_prometheus(d, &prom_addr);
    let prom = format!("http://{prom_addr}");

    let config = d.join("promlet.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  external_labels: {{origin: promlet}}\nremote_write:\n  - url: {prom}/api/v1/write\n    name: prom\n    queue_config:\n      batch_send_deadline: 200ms\n      min_backoff: 50ms\n      max_backoff: 500ms\n      max_samples_per_send: 7\n    write_relabel_configs:\n      - source_labels: [__name__]\n        regex: secret_.*\n        action: drop\n"
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = support::serve_with_config(&listen, &d.join("data"), &config);
    let promlet = format!("http://{listen}");

    // Before the outage: 20 samples, and a series the relabeling drops.
    let t0 = model::now_ms();
    push(
        &promlet,
        &[series("rw_out", t0, 20), series("secret_token", t0, 5)],
    );
    wait_for(
        "the first samples in Prometheus",
        Duration::from_secs(30),
        || (count(&prom, "rw_out{origin=\"promlet\"}") == 20.0).then_some(()),
    );

    // The outage: Prometheus stops; promlet keeps storing and retrying.
    drop(prometheus);
    // Timestamps of now: the sender forwards samples by time, after its watermark.
    push(&promlet, &[series("rw_out", model::now_ms(), 30)]);
    wait_for("promlet to retry", Duration::from_secs(30), || {
        (metric(&promlet, "promlet_remote_write_retries_total") > 0.0).then_some(())
    });

    // Back: everything arrives, sample for sample.
    let _prometheus = start_prometheus(d, &prom_addr);
    wait_for(
        "the outage's samples in Prometheus",
        Duration::from_secs(60),
        || (count(&prom, "rw_out") == 50.0).then_some(()),
    );
    let sum = |base: &str| query(base, "sum_over_time(rw_out[1h])").unwrap();
    let (theirs, ours) = (sum(&prom), sum(&promlet));
    assert_eq!(
        theirs.values().collect::<Vec<_>>(),
        ours.values().collect::<Vec<_>>()
    );
    assert_eq!(
        count(&prom, "secret_token"),
        0.0,
        "dropped by write_relabel_configs"
    );
    assert_eq!(
        metric(&promlet, "promlet_remote_write_samples_dropped_total"),
        0.0
    );
    assert!(metric(&promlet, "promlet_remote_write_samples_sent_total") >= 50.0);
}
