//! `promlet query` and `query-range` on a data directory and against `promlet serve`: the
//! same tables and the same JSON both ways, Prometheus's errors, and the server's limits.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, Stdio};
use std::sync::mpsc;

use crate::serve::http_get;
use crate::{promlet, run, run_ok};

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;

/// A small OpenMetrics file with known values, 15 s apart from [`T0`].
fn write_fixture(path: &Path) {
    let s = format!(
        "# TYPE temp gauge\n\
         temp{{room=\"a\"}} 20.5 {t0}\n\
         temp{{room=\"a\"}} 21 {t1}\n\
         temp{{room=\"a\"}} 22 {t2}\n\
         temp{{room=\"b\"}} NaN {t0}\n\
         temp{{room=\"b\"}} +Inf {t1}\n\
         temp{{room=\"b\"}} 1e-7 {t2}\n\
         # EOF\n",
        t0 = T0,
        t1 = T0 + 15,
        t2 = T0 + 30
    );
    std::fs::write(path, s).unwrap();
}

/// A data directory holding the fixture.
fn imported(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("in.om");
    write_fixture(&file);
    let data = dir.join("data");
    run_ok(promlet().arg("import").arg(&file).arg("--data").arg(&data));
    data
}

const INSTANT_TABLE: &str = "SERIES          VALUE\n\
                             temp{room=\"a\"}  22\n\
                             temp{room=\"b\"}  0.0000001\n";

const INSTANT_JSON: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"temp","room":"a"},"value":[1767225630,"22"]},{"metric":{"__name__":"temp","room":"b"},"value":[1767225630,"1e-07"]}]}}
"#;

const RANGE_TABLE: &str = "SERIES          TIME                  VALUE\n\
                           temp{room=\"a\"}  2026-01-01T00:00:00Z  20.5\n\
                           \x20               2026-01-01T00:00:15Z  21\n\
                           \x20               2026-01-01T00:00:30Z  22\n\
                           temp{room=\"b\"}  2026-01-01T00:00:00Z  NaN\n\
                           \x20               2026-01-01T00:00:15Z  +Inf\n\
                           \x20               2026-01-01T00:00:30Z  0.0000001\n";

const RANGE_JSON: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"temp","room":"a"},"values":[[1767225600,"20.5"],[1767225615,"21"],[1767225630,"22"]]},{"metric":{"__name__":"temp","room":"b"},"values":[[1767225600,"NaN"],[1767225615,"+Inf"],[1767225630,"1e-07"]]}]}}
"#;

/// The query commands' arguments, to be followed by `--data DIR` or `--server URL`.
fn instant(format: &str) -> Vec<String> {
    let t = (T0 + 30).to_string();
    ["query", "temp", "--time", &t, "-o", format]
        .map(String::from)
        .to_vec()
}

fn range(format: &str) -> Vec<String> {
    [
        "query-range",
        "temp",
        "--start",
        "2026-01-01T00:00:00Z",
        "--end",
        &(T0 + 30).to_string(),
        "--step",
        "15s",
        "--format",
        format,
    ]
    .map(String::from)
    .to_vec()
}

/// Runs a query command expecting failure; returns its stderr.
fn fails(args: &[&str], target: &[&str]) -> String {
    let out = run(promlet().args(args).args(target));
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn query_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = imported(dir.path());
    let d = data.to_str().unwrap();
    let q = |args: Vec<String>| run_ok(promlet().args(args).args(["--data", d]));
    assert_eq!(q(instant("table")), INSTANT_TABLE);
    assert_eq!(q(instant("json")), INSTANT_JSON);
    assert_eq!(q(range("table")), RANGE_TABLE);
    assert_eq!(q(range("json")), RANGE_JSON);
    let scalar = run_ok(promlet().args(["query", "1 + 0.5", "--data", d]));
    assert_eq!(scalar, "1.5\n");
    let t = (T0 + 60).to_string();
    let rel = run_ok(promlet().args(["query", "temp", "--time", &t, "--data", d]));
    assert_eq!(
        rel, INSTANT_TABLE,
        "a sample stays visible for the lookback"
    );

    let err = fails(&["query", "temp{"], &["--data", d]);
    assert!(
        err.contains(r#"bad_data: invalid parameter "query": 1:"#),
        "{err}"
    );
    let err = fails(
        &[
            "query-range",
            "temp",
            "--start",
            "0",
            "--end",
            "20000",
            "--step",
            "1",
        ],
        &["--data", d],
    );
    assert!(
        err.contains("exceeded maximum resolution of 11,000 points per timeseries"),
        "{err}"
    );
    let err = fails(&["query", "temp", "--time", "yesterday"], &["--data", d]);
    assert!(err.contains("yesterday"), "{err}");
    let err = fails(
        &[
            "query",
            "count_over_time(temp[1h])",
            "--query.timeout",
            "0s",
        ],
        &["--data", d],
    );
    assert!(err.contains("timeout: "), "{err}");
}

/// A `promlet serve` child on a free port, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    addr: String,
    _stderr: BufReader<ChildStderr>,
    done: mpsc::Sender<()>,
}

impl Server {
    /// Starts `promlet serve` on `data` with extra flags and waits until `/-/ready` answers.
    fn start(data: &Path, flags: &[&str]) -> Self {
        let mut child = promlet()
            .env("PROMLET_LOG", "info")
            .args([
                "serve",
                "--collect-host=false",
                "--listen",
                "127.0.0.1:0",
                "--data",
            ])
            .arg(data)
            .args(flags)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A hang guard, not a timing assumption: kill a server that never gets going.
        let pid = child.id();
        let (done, done_rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) =
                done_rx.recv_timeout(std::time::Duration::from_secs(120))
            {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        });
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "serve exited early"
            );
            if let Some(rest) = line.split("addr=").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // The address is logged once bound; readiness follows from the same start-up.
        while http_get(&addr, "/-/ready").0 != 200 {
            std::thread::yield_now();
        }
        Self {
            child,
            addr,
            _stderr: stderr,
            done,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait();
        let _ = self.done.send(());
        if !std::thread::panicking() {
            assert!(status.unwrap().success());
        }
    }
}

#[test]
fn query_a_server_like_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = imported(dir.path());
    let server = Server::start(&data, &[]);
    let url = server.url();
    let q = |args: Vec<String>| run_ok(promlet().args(args).args(["--server", &url]));
    assert_eq!(q(instant("table")), INSTANT_TABLE);
    assert_eq!(q(instant("json")), INSTANT_JSON);
    assert_eq!(q(range("table")), RANGE_TABLE);
    assert_eq!(q(range("json")), RANGE_JSON);
    let trailing_slash = format!("{url}/");
    let q = run_ok(
        promlet()
            .args(instant("json"))
            .args(["--server", &trailing_slash]),
    );
    assert_eq!(q, INSTANT_JSON);

    let err = fails(&["query", "temp{"], &["--server", &url]);
    assert!(
        err.contains(r#"bad_data: invalid parameter "query": 1:"#),
        "{err}"
    );
    let err = fails(
        &[
            "query-range",
            "temp",
            "--start",
            "0",
            "--end",
            "20000",
            "--step",
            "1",
        ],
        &["--server", &url],
    );
    assert!(
        err.contains("bad_data: exceeded maximum resolution of 11,000 points per timeseries"),
        "{err}"
    );
    let (status, body) = http_get(&server.addr, "/api/v1/label/room/values");
    assert_eq!(status, 200);
    assert!(
        body.ends_with(r#"{"status":"success","data":["a","b"]}"#),
        "{body}"
    );
    let (status, body) = http_get(&server.addr, "/api/v1/status/buildinfo");
    assert_eq!(status, 200);
    assert!(body.contains(r#""goVersion":"rustc "#), "{body}");
}

#[test]
fn server_limits_fail_queries_not_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = imported(dir.path());
    let server = Server::start(&data, &["--query.max-samples", "3"]);
    let url = server.url();
    let t = (T0 + 30).to_string();
    let err = fails(&["query", "temp[1m]", "--time", &t], &["--server", &url]);
    assert!(
        err.contains(
            "execution: query processing would load too many samples into memory in query execution"
        ),
        "{err}"
    );
    assert_eq!(http_get(&server.addr, "/-/healthy").0, 200);
    let ok = run_ok(promlet().args(instant("table")).args(["--server", &url]));
    assert_eq!(ok, INSTANT_TABLE);
}
