//! The remote write receiver against a real Prometheus (Debian's package): Prometheus scrapes
//! itself every second and remote-writes everything to `promlet serve`; every sample
//! Prometheus stored up to a fixed time must be in promlet, series for series. Then bodies
//! that are not snappy, not a WriteRequest, or hold invalid labels get a 400 with the reason
//! and store nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::{Guard, free_port, get, query, serve_command, wait_for};

/// Every raw sample of `{job="prometheus"}` in the 10 minutes up to `t`: series (with their
/// metric name) to `[(time, value)]` as the API writes them.
type Samples = BTreeMap<String, Vec<(String, String)>>;

fn samples(base: &str, t: f64) -> Option<Samples> {
    let url = format!(
        "{base}/api/v1/query?query={}&time={t}",
        support::encode("{job=\"prometheus\"}[10m]")
    );
    let json: serde_json::Value = serde_json::from_str(&get(&url)?).ok()?;
    let mut out = Samples::new();
    for r in json["data"]["result"].as_array()? {
        let points = r["values"]
            .as_array()?
            .iter()
            .map(|p| (p[0].to_string(), p[1].as_str().unwrap_or("").to_string()))
            .collect();
        out.insert(r["metric"].to_string(), points);
    }
    Some(out)
}

#[test]
fn prometheus_remote_write_delivers_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = Guard(serve_command(&listen, &d.join("data")).spawn().unwrap());
    let promlet = format!("http://{listen}");
    wait_for("promlet ready", Duration::from_secs(30), || {
        get(&format!("{promlet}/-/ready"))
    });

    let prom_addr = format!("127.0.0.1:{}", free_port());
    let config = d.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['{prom_addr}']\nremote_write:\n  - url: {promlet}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n      max_samples_per_send: 200\n"
        ),
    )
    .unwrap();
    let _prometheus = support::start_prometheus(
        d,
        &prom_addr,
        &std::fs::read_to_string(&config).unwrap(),
        &[],
    );
    let prom = format!("http://{prom_addr}");
    // Five scrapes of itself, then a fixed time to compare up to.
    wait_for("five scrapes", Duration::from_secs(60), || {
        let n = query(&prom, "count_over_time(up{job=\"prometheus\"}[10m])")?;
        n.values().next().is_some_and(|v| *v >= 5.0).then_some(())
    });
    let t = model::now_ms() as f64 / 1000.0 - 1.0;
    let want = samples(&prom, t).expect("Prometheus answers");
    let count: usize = want.values().map(Vec::len).sum();
    assert!(
        want.len() > 100 && count > 500,
        "Prometheus's own series: {} series, {count} samples",
        want.len()
    );
    // Remote write is asynchronous: wait until promlet holds the same samples up to t.
    let mut last = None;
    let got = wait_for(
        "promlet to hold what Prometheus sent",
        Duration::from_secs(60),
        || {
            last = samples(&promlet, t);
            last.clone().filter(|g| {
                g.len() == want.len() && g.values().map(Vec::len).sum::<usize>() == count
            })
        },
    );
    // The same series with the same timestamps and values, sample for sample.
    for (series, points) in &want {
        assert_eq!(got.get(series), Some(points), "{series}");
    }
}

/// POSTs `body` to promlet's receiver: (status, body).
fn post(url: &str, body: &[u8]) -> (u16, String) {
    support::post_snappy(url.trim_end_matches("/api/v1/write"), body)
}

#[test]
fn malformed_bodies_get_400_and_store_nothing() {
    use collector::remote_write::proto::{TimeSeries, encode_write_request};
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = Guard(
        serve_command(&listen, &dir.path().join("data"))
            .spawn()
            .unwrap(),
    );
    let base = format!("http://{listen}");
    wait_for("promlet ready", Duration::from_secs(30), || {
        get(&format!("{base}/-/ready"))
    });
    let url = format!("{base}/api/v1/write");
    let snappy = |raw: &[u8]| snap::raw::Encoder::new().compress_vec(raw).unwrap();
    let now = model::now_ms();
    let good = TimeSeries {
        labels: vec![
            ("__name__".into(), "rw_test".into()),
            ("k".into(), "v".into()),
        ],
        samples: vec![(now - 1000, 1.0), (now, 2.0)],
        histograms: 0,
    };

    let (code, body) = post(&url, b"not snappy at all");
    assert_eq!(code, 400);
    assert!(body.starts_with("snappy: "), "{body}");

    let mut truncated = encode_write_request(std::slice::from_ref(&good));
    truncated.truncate(truncated.len() - 3);
    let (code, body) = post(&url, &snappy(&truncated));
    assert_eq!(code, 400);
    assert!(body.starts_with("decoding WriteRequest at byte "), "{body}");

    // A good series and one without a metric name: nothing of the request is stored.
    let nameless = TimeSeries {
        labels: vec![("k".into(), "v".into())],
        samples: vec![(now, 3.0)],
        histograms: 0,
    };
    let (code, body) = post(
        &url,
        &snappy(&encode_write_request(&[good.clone(), nameless])),
    );
    assert_eq!(code, 400);
    assert!(
        body.contains("timeseries[1]") && body.contains("no metric name"),
        "{body}"
    );
    let stored = query(&base, "count_over_time(rw_test[1h])").unwrap_or_default();
    assert!(stored.is_empty(), "a refused request stored {stored:?}");

    // The good series alone is stored, and sending it again (a retry whose first answer was
    // lost) is accepted: samples the storage already holds are skipped, not refused.
    for _ in 0..2 {
        let (code, body) = post(
            &url,
            &snappy(&encode_write_request(std::slice::from_ref(&good))),
        );
        assert_eq!(code, 204, "{body}");
    }
    let stored = query(&base, "count_over_time(rw_test[1h])").unwrap();
    assert_eq!(stored.values().copied().collect::<Vec<_>>(), [2.0]);
}
