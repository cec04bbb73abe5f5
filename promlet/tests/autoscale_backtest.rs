//! `promlet autoscale backtest` over generated load shapes (step, ramp, spike, oscillation):
//! CPU counters of three `web` pods written as OpenMetrics, loaded with `promlet import`, and
//! replayed through the algorithm every 15 s. The replicas follow the decisions and the
//! observed load is spread over them, so the assertions follow from the load alone: a pod
//! requests 1 core and the target is 50%, so L cores want 2·L replicas.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Seconds between samples, and between decisions.
const STEP_S: i64 = 15;
/// Data starts this long before the replay (irate needs two samples).
const LEAD_S: i64 = 300;

/// OpenMetrics of three pods sharing `load(minute) -> cores` for `minutes`, ending at `end_s`.
fn load_data(load: &dyn Fn(f64) -> f64, minutes: i64, end_s: i64) -> String {
    let start_s = end_s - minutes * 60 - LEAD_S;
    let mut out = String::from("# TYPE container_cpu_usage_seconds_total gauge\n");
    for pod in 0..3 {
        let mut counter = 0.0;
        let mut t = start_s;
        while t <= end_s {
            let minute = (t - (end_s - minutes * 60)) as f64 / 60.0;
            counter += load(minute.max(0.0)) / 3.0 * STEP_S as f64;
            let _ = writeln!(
                out,
                "container_cpu_usage_seconds_total{{namespace=\"default\",pod=\"web-{pod}\",container=\"app\"}} {counter} {t}"
            );
            t += STEP_S;
        }
    }
    out.push_str("# EOF\n");
    out
}

const CONFIG: &str = r#"
interval: 15s
autoscalers:
  - name: web
    podNamePattern: 'web-.*'
    podRequests: {cpu: "1"}
    initialReplicas: 2
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      minReplicas: 1
      maxReplicas: 20
      metrics:
        - type: Resource
          resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
"#;

/// Imports `load` and replays it with `config`: (current, desired, reason) per step.
fn backtest(
    dir: &Path,
    config: &str,
    load: &dyn Fn(f64) -> f64,
    minutes: i64,
) -> Vec<(i64, i64, String)> {
    let end_s = 1_790_000_000; // a fixed end: 2026-09-21T...
    let data = dir.join("data");
    let om = dir.join("load.om");
    std::fs::write(&om, load_data(load, minutes, end_s)).unwrap();
    let import = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .arg("import")
        .arg(&om)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let cfg = dir.join("autoscale.yml");
    std::fs::write(&cfg, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .args(["autoscale", "backtest", "--json", "--config"])
        .arg(&cfg)
        .arg("--data")
        .arg(&data)
        .args([
            "--start",
            &(end_s - minutes * 60).to_string(),
            "--end",
            &end_s.to_string(),
        ])
        .arg("-o")
        .arg(dir.join("timeline.svg"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let svg = std::fs::read_to_string(dir.join("timeline.svg")).unwrap();
    assert!(svg.contains("web replicas"), "the graph has the timeline");
    json[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["currentReplicas"].as_i64().unwrap(),
                s["desiredReplicas"].as_i64().unwrap(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn desired(steps: &[(i64, i64, String)]) -> Vec<i64> {
    steps.iter().map(|s| s.1).collect()
}

#[test]
fn a_step_scales_up_at_most_doubling_per_decision() {
    let dir = tempfile::tempdir().unwrap();
    let steps = backtest(
        dir.path(),
        CONFIG,
        &|m| if m < 10.0 { 1.0 } else { 4.0 },
        20,
    );
    let d = desired(&steps);
    // 1 core on 2 pods is 50%: nothing to do until the step.
    assert!(d[..38].iter().all(|r| *r == 2), "{d:?}");
    let first = d.iter().position(|r| *r != 2).unwrap();
    // 4 cores want 8 pods; the legacy limit allows max(2·2, 4) = 4 first.
    assert_eq!(d[first], 4, "{steps:?}");
    assert_eq!(steps[first].2, "ScaleUpLimit");
    assert_eq!(d[first + 1], 8);
    assert_eq!(*d.last().unwrap(), 8);
}

#[test]
fn a_ramp_scales_up_monotonically() {
    let dir = tempfile::tempdir().unwrap();
    // 1 core rising to 6 cores over 20 minutes.
    let steps = backtest(dir.path(), CONFIG, &|m| 1.0 + 5.0 * (m / 20.0).min(1.0), 25);
    let d = desired(&steps);
    assert!(d.windows(2).all(|w| w[1] >= w[0]), "{d:?}");
    // 6 cores want 12 pods; 11 or 13 are within the 10% tolerance (54.5% and 46.2%), and
    // the ramp approaches from below, so it stops at the first count within it.
    assert_eq!(*d.last().unwrap(), 11, "{d:?}");
}

#[test]
fn a_spike_is_followed_up_and_held_for_the_stabilization_window() {
    let dir = tempfile::tempdir().unwrap();
    // 1 core, 5 cores for one minute at minute 5, then 1 core again.
    let steps = backtest(
        dir.path(),
        CONFIG,
        &|m| if (5.0..6.0).contains(&m) { 5.0 } else { 1.0 },
        20,
    );
    let d = desired(&steps);
    let peak = *d.iter().max().unwrap();
    assert!(peak >= 4, "{d:?}");
    let peak_at = d.iter().position(|r| *r == peak).unwrap();
    let drop_at = peak_at + d[peak_at..].iter().position(|r| *r < peak).unwrap();
    // The last high recommendation was during the spike; the scale-down waits 5 minutes
    // (20 decisions) after it.
    let spike_end = 6 * 4;
    assert!(
        drop_at >= spike_end + 19,
        "dropped at step {drop_at}: {d:?}"
    );
    assert_eq!(steps[drop_at - 1].2, "ScaleDownStabilized", "{steps:?}");
    assert_eq!(*d.last().unwrap(), 2);
}

/// Load alternating between 1 and 3 cores every two minutes.
fn oscillating(m: f64) -> f64 {
    if (m / 2.0).floor() as i64 % 2 == 0 {
        1.0
    } else {
        3.0
    }
}

#[test]
fn stabilization_suppresses_flapping_under_oscillation() {
    let dir = tempfile::tempdir().unwrap();
    let steps = backtest(dir.path(), CONFIG, &oscillating, 30);
    let d = desired(&steps);
    let peak_at = d.iter().position(|r| *r == 6).unwrap();
    assert!(
        d[peak_at..].iter().all(|r| *r == 6),
        "scaled down while the load kept coming back: {d:?}"
    );

    // Without a scale-down window the same load flaps.
    let flappy = CONFIG.replace(
        "      metrics:",
        "      behavior: {scaleDown: {stabilizationWindowSeconds: 0}}\n      metrics:",
    );
    let dir = tempfile::tempdir().unwrap();
    let steps = backtest(dir.path(), &flappy, &oscillating, 30);
    let downs = steps.iter().filter(|s| s.1 < s.0).count();
    assert!(
        downs >= 5,
        "expected flapping without stabilization: {steps:?}"
    );
}
