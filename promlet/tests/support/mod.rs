//! Helpers shared by the tests that run `promlet serve` against real targets: a child-process
//! guard, free ports, HTTP GETs, polling with a deadline, and instant queries.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

/// Kills and reaps the child on every path out of the test.
pub(crate) struct Guard(pub(crate) Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn get(url: &str) -> Option<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    let mut resp = agent.get(url).call().ok()?;
    resp.body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .ok()
}

/// Polls `probe` until it gives a value, failing after `limit`.
pub(crate) fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Label sets (without `__name__`) to values.
pub(crate) type Series = BTreeMap<BTreeMap<String, String>, f64>;

/// An instant query's vector as labels (without `__name__`) to value.
pub(crate) fn query(base: &str, expr: &str) -> Option<Series> {
    query_url(&format!("{base}/api/v1/query?query={}", encode(expr)))
}

fn query_url(url: &str) -> Option<Series> {
    let json: serde_json::Value = serde_json::from_str(&get(url)?).ok()?;
    let mut out = Series::new();
    for r in json["data"]["result"].as_array()? {
        let labels = r["metric"]
            .as_object()?
            .iter()
            .filter(|(n, _)| n.as_str() != "__name__")
            .map(|(n, v)| (n.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        out.insert(labels, r["value"][1].as_str()?.parse().ok()?);
    }
    Some(out)
}

pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs the `openssl` command in `dir`, failing the test on an error.
pub(crate) fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const EC_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
];

/// A self-signed CA in `dir`: `<ca>.key` and `<ca>.crt`.
pub(crate) fn make_ca(dir: &std::path::Path, ca: &str) {
    let (key, crt, subject) = (
        format!("{ca}.key"),
        format!("{ca}.crt"),
        format!("/CN={ca}"),
    );
    let mut args = vec!["req", "-x509", "-days", "2", "-subj", &subject];
    args.extend(EC_KEY);
    args.extend(["-keyout", &key, "-out", &crt]);
    openssl(dir, &args);
}

/// A certificate `<who>.crt` (key `<who>.key`) signed by `<ca>`, with the x509v3 `extension`
/// (`subjectAltName=IP:127.0.0.1`, `extendedKeyUsage=clientAuth`, ...).
pub(crate) fn signed_cert(dir: &std::path::Path, ca: &str, who: &str, extension: &str) {
    let (key, csr, crt, ext) = (
        format!("{who}.key"),
        format!("{who}.csr"),
        format!("{who}.crt"),
        format!("{who}.ext"),
    );
    std::fs::write(dir.join(&ext), format!("{extension}\n")).unwrap();
    let subject = format!("/CN={who}");
    let mut req = vec!["req", "-subj", &subject];
    req.extend(EC_KEY);
    req.extend(["-keyout", &key, "-out", &csr]);
    openssl(dir, &req);
    let (ca_crt, ca_key) = (format!("{ca}.crt"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &crt,
        ],
    );
}

/// A table printed by kubectl or promlet as rows of words (padding ignored); fails the test
/// when the command failed.
pub(crate) fn table_words(out: &std::process::Output) -> Vec<Vec<String>> {
    assert!(
        out.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Waits until something accepts TCP connections on `addr`, so that the next `free_port`
/// cannot hand out the same port again.
pub(crate) fn wait_listening(addr: &str) {
    wait_for(
        &format!("a listener on {addr}"),
        Duration::from_secs(30),
        || std::net::TcpStream::connect(addr).ok().map(|_| ()),
    );
}

/// `promlet serve --collect-host=false --listen <listen> --data <data>`, logging warnings
/// only, stdout discarded; the caller adds flags and spawns it.
pub(crate) fn serve_command(listen: &str, data: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_promlet"));
    cmd.args([
        "serve",
        "--collect-host=false",
        "--listen",
        listen,
        "--data",
    ])
    .arg(data)
    .env("PROMLET_LOG", "warn")
    .stdout(std::process::Stdio::null());
    cmd
}

/// `get(url)` parsed as JSON.
pub(crate) fn get_json(url: &str) -> Option<serde_json::Value> {
    serde_json::from_str(&get(url)?).ok()
}

/// `curl -k` with `args` in `dir` (certificate paths relative to it): the HTTP status (0
/// when the request failed) and the body.
pub(crate) fn curl(dir: &std::path::Path, url: &str, args: &[&str]) -> (u16, String) {
    let out = std::process::Command::new("curl")
        .args(["-sk", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .current_dir(dir)
        .output()
        .expect("curl runs (scripts/test.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}
