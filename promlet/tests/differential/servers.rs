//! Loading the data set into Prometheus 2.42 (promtool backfill) and into promlet
//! (`promlet import`), and running both servers. A [`Server`] kills its process when dropped,
//! so every exit path of the test (a failed assertion included) stops both.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http;

/// How long a server may take to become ready before the test fails (a hang guard).
const READY_DEADLINE: Duration = Duration::from_secs(90);

/// A running server process, killed on drop.
pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) addr: SocketAddr,
    child: Child,
    log: Log,
}

/// Where a server's log goes: a file (Prometheus) or lines read from its stderr (promlet).
enum Log {
    File(PathBuf),
    Lines(Arc<Mutex<String>>),
}

impl Server {
    /// The server's log so far (for failure messages), at most the last `max` bytes.
    pub(crate) fn log_tail(&self, max: usize) -> String {
        let text = match &self.log {
            Log::File(p) => std::fs::read_to_string(p).unwrap_or_default(),
            Log::Lines(l) => l.lock().map(|s| s.clone()).unwrap_or_default(),
        };
        let mut cut = text.len().saturating_sub(max);
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        text[cut..].to_string()
    }

    /// `GET path` on this server.
    pub(crate) fn get(&self, path: &str) -> http::Response {
        http::get(self.addr, path).unwrap_or_else(|e| {
            panic!(
                "{} at {} did not answer GET {path}: {e}\nlog:\n{}",
                self.name,
                self.addr,
                self.log_tail(4000)
            )
        })
    }

    /// `POST path` with a form-encoded `body` on this server.
    pub(crate) fn post_form(&self, path: &str, body: &str) -> http::Response {
        http::post_form(self.addr, path, body).unwrap_or_else(|e| {
            panic!(
                "{} at {} did not answer POST {path}: {e}\nlog:\n{}",
                self.name,
                self.addr,
                self.log_tail(4000)
            )
        })
    }

    /// Polls `/-/ready` until it answers 200. Fails when the process exits or the deadline
    /// passes.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited with {status} before it was ready",
                    self.name
                ));
            }
            if let Ok(r) = http::get(self.addr, "/-/ready")
                && r.status == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} was not ready within {READY_DEADLINE:?}",
                    self.name
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to completion, failing the test with its output when it fails.
fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Checks that the real Prometheus is installed: the test must not skip silently.
pub(crate) fn require_prometheus() {
    for tool in ["prometheus", "promtool"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "`{tool}` is not installed: this test compares promlet with the real Prometheus \
             (Debian package `prometheus`, installed by scripts/test.sh)"
        );
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// Backfills `om` with promtool into `dir/prometheus` and starts Prometheus on it.
pub(crate) fn start_prometheus(om: &Path, dir: &Path) -> Server {
    let data = dir.join("prometheus");
    run_ok(
        Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(om)
            .arg(&data),
    );
    let config = dir.join("prometheus.yml");
    // No scrape targets: the server only answers queries over the backfilled blocks. The
    // evaluation interval is the step of subqueries written without one (`x[10m:]`).
    std::fs::write(&config, "global:\n  evaluation_interval: 1m\n").expect("write config");
    // The port is chosen before Prometheus binds it, so another process could take it in
    // between: then Prometheus exits and we try again with another port.
    let mut last_err = String::new();
    for attempt in 0..3 {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let log = dir.join(format!("prometheus-{attempt}.log"));
        let log_file = std::fs::File::create(&log).expect("create log file");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            // Retention counts back from the newest block; keep everything.
            .arg("--storage.tsdb.retention.time=3650d")
            .arg("--query.lookback-delta=5m")
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .expect("start prometheus");
        let mut server = Server {
            name: "Prometheus",
            addr,
            child,
            log: Log::File(log),
        };
        match server.wait_ready() {
            Ok(()) => return server,
            Err(e) => last_err = format!("{e}\nlog:\n{}", server.log_tail(4000)),
        }
    }
    panic!("Prometheus did not start: {last_err}");
}

/// Imports `om` with `promlet import` into `dir/promlet` and starts `promlet serve` on it.
pub(crate) fn start_promlet(om: &Path, dir: &Path) -> Server {
    let data = dir.join("promlet");
    let bin = env!("CARGO_BIN_EXE_promlet");
    run_ok(
        Command::new(bin)
            .env("PROMLET_LOG", "warn")
            .arg("import")
            .arg(om)
            .arg("--data")
            .arg(&data)
            .stdin(Stdio::null()),
    );
    let mut child = Command::new(bin)
        .env("PROMLET_LOG", "info")
        .args([
            "serve",
            "--collect-host=false",
            "--listen",
            "127.0.0.1:0",
            "--retention",
            "0",
            "--data",
        ])
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promlet serve");
    // Read stderr for as long as the process lives (so its pipe never fills), keep it for
    // failure messages, and pass the listening address on once it is logged.
    let lines = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = mpsc::channel::<SocketAddr>();
    let stderr = child.stderr.take().expect("piped stderr");
    let sink = lines.clone();
    std::thread::spawn(move || {
        let mut addr_tx = Some(addr_tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line
                .split("addr=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|a| a.parse().ok())
                && let Some(tx) = addr_tx.take()
            {
                let _ = tx.send(addr);
            }
            if let Ok(mut s) = sink.lock() {
                s.push_str(&line);
                s.push('\n');
            }
        }
    });
    let addr = addr_rx.recv_timeout(READY_DEADLINE);
    let mut server = Server {
        name: "promlet",
        addr: addr.unwrap_or_else(|_| ([127, 0, 0, 1], 0).into()),
        child,
        log: Log::Lines(lines),
    };
    if addr.is_err() {
        panic!(
            "promlet serve did not log its address:\n{}",
            server.log_tail(4000)
        );
    }
    if let Err(e) = server.wait_ready() {
        panic!("{e}\nlog:\n{}", server.log_tail(4000));
    }
    server
}
