//! Faults: `kill -9` of `promlet serve` while it scrapes and ingests, then a restart on the
//! same data directory; and a full disk (a small tmpfs made for the test), with clear
//! errors and writes resuming once space returns.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use collector::remote_write::proto::TimeSeries;
use support::{Guard, free_port, get, query, serve_command, wait_for};

/// POSTs one sample of `name` at `t` with value `v` to `/api/v1/write`: (status, body).
fn push(base: &str, name: &str, t: i64, v: f64) -> (u16, String) {
    let ts = TimeSeries {
        labels: vec![("__name__".into(), name.into())],
        samples: vec![(t, v)],
        histograms: 0,
    };
    support::remote_write(base, &[ts])
}

fn start(listen: &str, data: &Path, config: &Path) -> Guard {
    support::serve_with_config(listen, data, config)
}

fn count(base: &str, expr: &str) -> f64 {
    query(base, &format!("count_over_time({expr}[1h])"))
        .and_then(|m| m.values().next().copied())
        .unwrap_or(0.0)
}

#[test]
fn kill_9_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let listen = format!("127.0.0.1:{}", free_port());
    // promlet scrapes its own /metrics every 100 ms while samples are pushed.
    let config = d.join("promlet.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['{listen}']\n"),
    )
    .unwrap();
    let data = d.join("data");
    let mut serve = start(&listen, &data, &config);
    let base = format!("http://{listen}");
    // A second in the past: the counts below are taken at the current time, which must be past
    // every pushed sample however fast the 300 pushes go.
    let t0 = model::now_ms() - 1_000;
    let mut acknowledged = 0;
    for i in 0..300 {
        let (code, body) = push(&base, "committed", t0 + i, i as f64);
        assert_eq!(code, 204, "{body}");
        acknowledged += 1;
    }
    wait_for("a few self-scrapes", Duration::from_secs(30), || {
        (count(&base, "up{job=\"self\"}") >= 3.0).then_some(())
    });
    // SIGKILL in the middle of scraping: no shutdown, no flush.
    serve.0.kill().unwrap();
    serve.0.wait().unwrap();
    drop(serve);

    let _serve = start(&listen, &data, &config);
    assert_eq!(count(&base, "committed"), f64::from(acknowledged));
    let last = query(&base, "last_over_time(committed[1h])").unwrap();
    assert_eq!(last.values().copied().collect::<Vec<_>>(), [299.0]);
    assert!(
        count(&base, "up{job=\"self\"}") >= 3.0,
        "scraped samples survive too"
    );
    // And it keeps ingesting.
    assert_eq!(push(&base, "committed", t0 + 1000, 1.0).0, 204);
}

/// A tmpfs of `mib` MiB at `dir` (removed by the guard).
struct SmallFs(std::path::PathBuf);

impl SmallFs {
    fn mount(dir: &Path, mib: u32) -> SmallFs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a tmpfs (the test runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallFs(dir.to_path_buf())
    }

    fn resize(&self, mib: u32) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={mib}m")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
    }
}

#[test]
fn a_full_disk_gives_clear_errors_and_writes_resume() {
    let dir = tempfile::tempdir().unwrap();
    // Larger than the 32 MiB promlet keeps free; then filled beside it.
    let fs = SmallFs::mount(&dir.path().join("small"), 48);
    let data = fs.0.join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("empty.yml");
    std::fs::write(&config, "").unwrap();
    let _serve = start(&listen, &data, &config);
    let base = format!("http://{listen}");

    // Fill the disk beside promlet, leaving a little room.
    let filler = fs.0.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=1M", "count=96"])
        .arg(format!("of={}", filler.display()))
        .output();
    let t0 = model::now_ms();
    let mut stored = 0u32;
    let mut refused = None;
    for i in 0..20_000 {
        let (code, body) = push(&base, &format!("fill_{}", i % 500), t0 + i64::from(i), 1.0);
        match code {
            204 => stored += 1,
            _ => {
                refused = Some((code, body));
                break;
            }
        }
    }
    let (code, body) = refused.expect("the full disk refused a write");
    // 503: a sender keeps the samples and retries later.
    assert_eq!(code, 503, "{body}");
    assert!(body.starts_with("storage full: "), "a clear error: {body}");
    assert!(
        body.contains(&data.display().to_string()),
        "names the directory: {body}"
    );
    // Still up, still answering queries over what was stored.
    assert!(get(&format!("{base}/-/healthy")).is_some());

    // Space returns (the filler goes, the filesystem grows): writes resume.
    std::fs::remove_file(&filler).unwrap();
    fs.resize(96);
    let mut last = (0, String::new());
    for _ in 0..300 {
        last = push(&base, "after_full", model::now_ms(), 1.0);
        if last.0 == 204 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(last.0, 204, "writes resume once space returns: {}", last.1);
    assert_eq!(count(&base, "after_full"), 1.0);
    let total: f64 = query(&base, "count_over_time({__name__=~\"fill_.*\"}[1h])")
        .unwrap()
        .values()
        .sum();
    assert!(
        total >= f64::from(stored),
        "acknowledged samples kept: {total} of {stored}"
    );
}

#[test]
fn a_damaged_wal_segment_is_named_quarantined_and_the_rest_served() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    let config = d.join("empty.yml");
    std::fs::write(&config, "").unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let t0 = model::now_ms();
    // Two runs, each killed: the samples stay in WAL segments 1 and 2.
    for (run, name) in [(0, "first"), (1, "second")] {
        let mut serve = start(&listen, &data, &config);
        for i in 0..200 {
            assert_eq!(push(&base, name, t0 + run * 1000 + i, 1.0).0, 204);
        }
        serve.0.kill().unwrap();
        serve.0.wait().unwrap();
    }
    let segment = data.join("wal").join("00000001");
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&segment, &bytes).unwrap();

    let log = d.join("serve.log");
    let child = serve_command(&listen, &data)
        .arg("--config.file")
        .arg(&config)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _serve = Guard(child);
    wait_for(
        "promlet ready despite the damage",
        Duration::from_secs(60),
        || get(&format!("{base}/-/ready")),
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("00000001") && text.contains("quarantine"),
        "the log names the damaged segment: {text}"
    );
    // What precedes the damage is served; the damaged and later segments are kept aside.
    let first = count(&base, "first");
    assert!(first > 0.0 && first < 200.0, "first: {first}");
    let quarantined = std::fs::read_dir(data.join("wal").join("quarantine"))
        .unwrap()
        .flat_map(|e| std::fs::read_dir(e.unwrap().path()).unwrap())
        .count();
    assert_eq!(quarantined, 2);
    assert_eq!(
        push(&base, "third", model::now_ms(), 1.0).0,
        204,
        "and it writes"
    );
}

/// `promlet <args>`: (exit success, stdout).
fn promlet(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_promlet"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_damaged_data_file_is_named_and_the_rest_served() {
    const DAY_S: i64 = 86_400;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 20 series, one sample a minute for three days: three one-day partitions.
    let mut om = String::from("# TYPE m gauge\n");
    for s in 0..20 {
        for t in (0..3 * DAY_S).step_by(60) {
            om.push_str(&format!("m{{s=\"{s}\"}} {} {t}\n", t % 977));
        }
    }
    om.push_str("# EOF\n");
    let data = support::import(d, &om);
    let data_arg = data.to_str().unwrap();
    let (ok, files) = promlet(&["inspect", "--files", "--data", data_arg]);
    assert!(ok, "{files}");
    let second_day = files
        .lines()
        .find_map(|l| l.strip_prefix("p86400000\t"))
        .expect("the second day's partition");
    let tables: Vec<_> = std::fs::read_dir(Path::new(second_day).join("tables"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(tables.len(), 1, "{tables:?}");
    let table = &tables[0];
    let mut bytes = std::fs::read(table).unwrap();
    let at = bytes.len() * 3 / 10;
    bytes[at..at + 4].iter_mut().for_each(|b| *b = !*b);
    std::fs::write(table, &bytes).unwrap();
    let name = table.display().to_string();

    let (ok, out) = promlet(&["inspect", "--verify", "--data", data_arg]);
    assert!(
        !ok && out.contains(&name),
        "inspect --verify names it: {out}"
    );

    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let log = d.join("serve.log");
    let _serve = Guard(
        serve_command(&listen, &data)
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_for("promlet ready", Duration::from_secs(60), || {
        get(&format!("{base}/-/ready"))
    });
    let at_time = |range: &str, t: i64| {
        let url = format!(
            "{base}/api/v1/query?query={}&time={t}",
            support::encode(&format!("sum(count_over_time(m[{range}]))"))
        );
        let v = support::get_json(&url).unwrap();
        assert_eq!(v["status"], "success", "{v}");
        let n: f64 = v["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let warnings: Vec<String> = v["warnings"]
            .as_array()
            .map(|a| a.iter().map(|w| w.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        (n, warnings)
    };
    // The first and third days are whole and carry no warning (the third day's range stays
    // an hour clear of the second day's partition).
    assert_eq!(at_time("1d", DAY_S - 1), (20.0 * 1440.0, vec![]));
    assert_eq!(at_time("23h", 3 * DAY_S - 1), (20.0 * 1380.0, vec![]));
    // The second day is served but for what the damaged block held, with a warning naming
    // the file.
    let (n, warnings) = at_time("1d", 2 * DAY_S - 1);
    assert!(n > 20.0 * 1440.0 / 2.0 && n < 20.0 * 1440.0, "{n}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&name), "{warnings:?}");
    let metrics = get(&format!("{base}/metrics")).unwrap();
    assert!(
        metrics.contains("promlet_tsdb_damaged_data_files 1"),
        "{metrics}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(&name), "the log names the file: {text}");
}
