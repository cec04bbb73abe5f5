//! Durability under `kill -9`: a child process appends and commits in a loop and reports each
//! acknowledged commit; the parent kills it with SIGKILL mid-stream, reopens the directory and
//! finds every acknowledged sample, and every batch either whole or absent.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use model::Appendable;
use tsdb::Db;

use crate::{labels, select_all, small_options};

const CHILD_ENV: &str = "PROMLET_TSDB_CRASH_CHILD";
const SERIES: i64 = 5;
const PER_SERIES: i64 = 10;

fn batch_samples(batch: i64) -> impl Iterator<Item = (i64, i64, f64)> {
    (0..SERIES).flat_map(move |s| {
        (0..PER_SERIES).map(move |k| (s, batch * 1000 + k * 100, (batch * 31 + k) as f64 + 0.5))
    })
}

/// The child's body; a no-op unless the parent started this test binary with `CHILD_ENV`.
#[test]
fn crash_child_process() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let db = Db::open(&dir, small_options()).unwrap();
    for batch in 0.. {
        let mut app = db.appender();
        for (s, t, v) in batch_samples(batch) {
            app.append(None, &labels("m", &format!("s{s}")), t, v)
                .unwrap();
        }
        app.commit().unwrap();
        println!("committed {batch}");
    }
}

#[test]
fn every_acknowledged_commit_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::crash_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acknowledged = -1i64;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("committed ") {
            acknowledged = n.parse().unwrap();
            if acknowledged >= 400 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(acknowledged >= 400, "child stopped early at {acknowledged}");

    let db = Db::open(dir.path(), small_options()).unwrap();
    let got = select_all(&db, i64::MIN, i64::MAX);
    assert_eq!(got.len(), SERIES as usize);
    let stored: std::collections::HashMap<(String, i64), f64> = got
        .iter()
        .flat_map(|s| {
            let job = s.labels.get("job").unwrap().to_string();
            s.samples.iter().map(move |p| ((job.clone(), p.t), p.v))
        })
        .collect();
    let mut batch = 0;
    loop {
        let present = batch_samples(batch)
            .filter(|(s, t, v)| stored.get(&(format!("s{s}"), *t)) == Some(v))
            .count() as i64;
        if batch <= acknowledged {
            assert_eq!(
                present,
                SERIES * PER_SERIES,
                "acknowledged batch {batch} incomplete"
            );
        } else {
            assert!(
                present == 0 || present == SERIES * PER_SERIES,
                "batch {batch} is partial"
            );
            if present == 0 {
                break;
            }
        }
        batch += 1;
    }
    // Nothing beyond the last whole batch.
    let expected = batch * SERIES * PER_SERIES;
    assert_eq!(stored.len() as i64, expected);
    // And the reopened database keeps working.
    let mut app = db.appender();
    app.append(None, &labels("m", "s0"), batch * 1000 + 5000, 1.0)
        .unwrap();
    app.commit().unwrap();
}
