//! Late samples through the remote write sender: a sample stored after the sender has read
//! past its time (a new series with old timestamps, a series catching up) still reaches a
//! real Prometheus started with `--web.enable-remote-write-receiver`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use collector::remote_write::proto::TimeSeries;
use support::{count_1h as count, free_port, metric, query, wait_for};

fn series(name: &str, samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: vec![("__name__".into(), name.into())],
        samples: samples.to_vec(),
        histograms: 0,
    }
}

fn push(promlet: &str, s: &[TimeSeries]) {
    assert_eq!(support::remote_write(promlet, s).0, 204);
}

#[test]
fn samples_stored_after_the_sender_read_past_them_still_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let _prometheus = support::start_prometheus(
        d,
        &prom_addr,
        "global:\n  scrape_interval: 1m\n",
        &["--web.enable-remote-write-receiver"],
    );
    let prom = format!("http://{prom_addr}");
    let config = d.join("promlet.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_timeout: 1s\nremote_write:\n  - url: {prom}/api/v1/write\n    name: prom\n    queue_config:\n      batch_send_deadline: 100ms\n      min_backoff: 50ms\n      max_backoff: 200ms\n"
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = support::serve_with_config(&listen, &d.join("data"), &config);
    let promlet = format!("http://{listen}");

    let t0 = model::now_ms();
    push(&promlet, &[series("slow", &[(t0 - 5_000, 1.0)])]);
    // The sender reads past t0 + 1 s: a clock series keeps its watermark moving.
    wait_for("the watermark past t0", Duration::from_secs(30), || {
        push(&promlet, &[series("clock", &[(model::now_ms(), 1.0)])]);
        let wm_ms = metric(&promlet, "promlet_remote_write_watermark_seconds") * 1000.0;
        (wm_ms > (t0 + 1_000) as f64).then_some(())
    });
    wait_for("slow's first sample", Duration::from_secs(30), || {
        (count(&prom, "slow") == 1.0).then_some(())
    });

    // Now samples at t0..t0+900 ms, behind the watermark: a new series, and the next
    // samples of a series that was behind.
    let late: Vec<(i64, f64)> = (0..10).map(|i| (t0 + i * 100, i as f64)).collect();
    push(
        &promlet,
        &[series("late_new", &late), series("slow", &late)],
    );
    wait_for(
        "the late samples in Prometheus",
        Duration::from_secs(30),
        || (count(&prom, "late_new") == 10.0 && count(&prom, "slow") == 11.0).then_some(()),
    );
    let sum = |base: &str| query(base, "sum_over_time(late_new[1h])").unwrap();
    assert_eq!(
        sum(&prom).values().collect::<Vec<_>>(),
        sum(&promlet).values().collect::<Vec<_>>()
    );
}
