//! `promlet import` then `promlet dump` gives back the input, agrees with promtool's backfill of
//! the same file, and a bad file is refused with its line and leaves no data behind.

use std::collections::BTreeMap;

use crate::{promlet, run, run_ok, write_openmetrics};

/// Parses `{labels} value ts_ms` lines (promtool's dump format) into a sorted map; values are
/// compared by their text after normalising through f64.
fn parse_promtool_dump(text: &str) -> BTreeMap<(String, i64), String> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let close = l.rfind('}').expect("labels end");
            let labels = l[..=close].to_string();
            let mut rest = l[close + 1..].split_whitespace();
            let v: f64 = rest.next().expect("value").parse().expect("float");
            let t: i64 = rest.next().expect("ts").parse().expect("int");
            let v = if v.is_nan() {
                "NaN".to_string()
            } else {
                format!("{v:e}")
            };
            ((labels, t), v)
        })
        .collect()
}

#[test]
fn import_then_dump_gives_back_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.om");
    write_openmetrics(&file, 3, 500);
    let data = dir.path().join("data");
    run_ok(promlet().arg("import").arg(&file).arg("--data").arg(&data));
    let dumped = run_ok(
        promlet()
            .args(["dump", "--format", "openmetrics", "--data"])
            .arg(&data),
    );
    // Re-import the dump elsewhere and compare both databases sample by sample.
    let again = dir.path().join("again.om");
    std::fs::write(&again, &dumped).unwrap();
    let data2 = dir.path().join("data2");
    run_ok(
        promlet()
            .arg("import")
            .arg(&again)
            .arg("--data")
            .arg(&data2),
    );
    let a = run_ok(promlet().args(["dump", "--data"]).arg(&data));
    let b = run_ok(promlet().args(["dump", "--data"]).arg(&data2));
    assert_eq!(a, b);
    let samples = parse_promtool_dump(&a);
    // 3 hosts x 2 series + 5 histogram + 3 summary series, 500 samples each.
    assert_eq!(samples.len(), (3 * 2 + 5 + 3) * 500);

    let json = run_ok(promlet().args(["inspect", "--json", "--data"]).arg(&data));
    assert!(json.contains("\"series\":14,"), "{json}");
    assert!(json.contains("\"samples\":7000,"), "{json}");
}

#[test]
fn import_agrees_with_promtool_backfill() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.om");
    write_openmetrics(&file, 2, 700);
    let prom = dir.path().join("prom");
    run_ok(
        std::process::Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&file)
            .arg(&prom),
    );
    std::fs::create_dir_all(prom.join("wal")).unwrap();
    let theirs = run_ok(
        std::process::Command::new("promtool")
            .args(["tsdb", "dump"])
            .arg(&prom),
    );
    let data = dir.path().join("data");
    run_ok(promlet().arg("import").arg(&file).arg("--data").arg(&data));
    let ours = run_ok(promlet().args(["dump", "--data"]).arg(&data));
    let (theirs, ours) = (parse_promtool_dump(&theirs), parse_promtool_dump(&ours));
    assert_eq!(theirs.len(), ours.len());
    assert!(
        theirs == ours,
        "first difference: {:?}",
        theirs.iter().zip(&ours).find(|(a, b)| a != b)
    );
}

#[test]
fn a_bad_line_names_its_place_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.om");
    write_openmetrics(&file, 1, 100);
    let text = std::fs::read_to_string(&file).unwrap();
    // Break a line near the end: everything before it is valid.
    let mut lines: Vec<&str> = text.lines().collect();
    let n = lines.len() - 3;
    lines[n] = "gc_seconds_sum 1.0.0 1767225600.000";
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let data = dir.path().join("data");
    let out = run(promlet().arg("import").arg(&file).arg("--data").arg(&data));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("line {}", n + 1)), "{err}");
    assert!(
        !data.join("VERSION").exists() || {
            let json = run_ok(promlet().args(["inspect", "--json", "--data"]).arg(&data));
            json.contains("\"series\":0,")
        }
    );
}

#[test]
fn a_sample_without_timestamp_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nots.om");
    std::fs::write(&file, "# TYPE up gauge\nup 1 1767225600\nup 1\n# EOF\n").unwrap();
    let out = run(promlet()
        .arg("import")
        .arg(&file)
        .arg("--data")
        .arg(dir.path().join("d")));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("timestamp"), "{err}");
}

#[test]
fn dump_match_selects_series() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.om");
    write_openmetrics(&file, 3, 10);
    let data = dir.path().join("data");
    run_ok(promlet().arg("import").arg(&file).arg("--data").arg(&data));
    let out = run_ok(
        promlet()
            .args([
                "dump",
                "--match",
                r#"node_load1{instance=~"h[01]"}"#,
                "--data",
            ])
            .arg(&data),
    );
    let series: std::collections::BTreeSet<&str> = out
        .lines()
        .map(|l| &l[..l.rfind('}').unwrap() + 1])
        .collect();
    assert_eq!(series.len(), 2, "{series:?}");
    assert!(
        series
            .iter()
            .all(|s| s.contains("node_load1") && !s.contains("h2"))
    );
    let bad = run(promlet()
        .args(["dump", "--match", "up{", "--data"])
        .arg(&data));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("at byte"));
}
