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

/// Writes `om` (OpenMetrics text ending with `# EOF`) to `dir` and imports it with
/// `promlet import` into `dir/data`; returns the data directory.
#[allow(dead_code)]
pub(crate) fn import(dir: &std::path::Path, om: &str) -> std::path::PathBuf {
    let file = dir.join("import.om");
    std::fs::write(&file, om).unwrap();
    let data = dir.join("data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promlet"))
        .arg("import")
        .arg(&file)
        .arg("--data")
        .arg(&data)
        .output()
        .expect("promlet import runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

/// Starts Debian's Prometheus on `addr` with `config` (YAML) and `extra` flags, its data in
/// `dir/prom`, and waits until it is ready.
#[allow(dead_code)]
pub(crate) fn start_prometheus(
    dir: &std::path::Path,
    addr: &str,
    config: &str,
    extra: &[&str],
) -> Guard {
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).unwrap();
    let child = std::process::Command::new("prometheus")
        .arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prom").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--log.level=warn")
        .args(extra)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("prometheus runs (scripts/test.sh installs it)");
    let guard = Guard(child);
    wait_for("Prometheus ready", Duration::from_secs(30), || {
        get(&format!("http://{addr}/-/ready"))
    });
    guard
}

/// A kubeconfig in `dir` for a plain-HTTP API server at `server`, without credentials.
#[allow(dead_code)]
pub(crate) fn kubeconfig(dir: &std::path::Path, server: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"{server}\"}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: u}}\ncurrent-context: fake\nusers:\n- name: u\n  user: {{}}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// POSTs `series` to `base`'s `/api/v1/write` as Prometheus's remote write does: (status,
/// body); status 0 when the request failed.
#[allow(dead_code)]
pub(crate) fn remote_write(
    base: &str,
    series: &[collector::remote_write::proto::TimeSeries],
) -> (u16, String) {
    let body = snap::raw::Encoder::new()
        .compress_vec(&collector::remote_write::proto::encode_write_request(
            series,
        ))
        .unwrap();
    post_snappy(base, &body)
}

/// POSTs an already compressed body to `base`'s `/api/v1/write`.
#[allow(dead_code)]
pub(crate) fn post_snappy(base: &str, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    match agent
        .post(&format!("{base}/api/v1/write"))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .send(body)
    {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}

/// A sample of a server's /metrics, by name prefix (0 when absent).
#[allow(dead_code)]
pub(crate) fn metric(base: &str, name: &str) -> f64 {
    let text = get(&format!("{base}/metrics")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// `count_over_time(expr[1h])` of the first series, 0 when none.
#[allow(dead_code)]
pub(crate) fn count_1h(base: &str, expr: &str) -> f64 {
    query(base, &format!("count_over_time({expr}[1h])"))
        .and_then(|m| m.values().next().copied())
        .unwrap_or(0.0)
}

/// `promlet serve` on `listen` with `data` and the config file `config`, once ready.
#[allow(dead_code)]
pub(crate) fn serve_with_config(
    listen: &str,
    data: &std::path::Path,
    config: &std::path::Path,
) -> Guard {
    let g = Guard(
        serve_command(listen, data)
            .arg("--config.file")
            .arg(config)
            .spawn()
            .expect("promlet serve starts"),
    );
    wait_for("promlet ready", Duration::from_secs(60), || {
        get(&format!("http://{listen}/-/ready"))
    });
    g
}
