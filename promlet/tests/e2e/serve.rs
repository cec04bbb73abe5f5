//! `promlet serve` starts, answers health and metrics, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use crate::promlet;

pub(crate) fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serve_answers_and_shuts_down_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = promlet()
        .env("PROMLET_LOG", "info")
        .args([
            "serve",
            "--collect-host=false",
            "--listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(dir.path().join("data"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hang guard, not a timing assumption: if serve never logs its address, kill it so the
    // test fails instead of blocking the suite.
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if done_rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .is_err()
        {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut addr = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.split("addr=").nth(1) {
            addr = Some(rest.split_whitespace().next().unwrap().to_string());
            break;
        }
        line.clear();
    }
    let addr = addr.expect("serve logs its address");
    assert_eq!(http_get(&addr, "/-/healthy").0, 200);
    assert_eq!(http_get(&addr, "/-/ready").0, 200);
    let (status, body) = http_get(&addr, "/metrics");
    assert_eq!(status, 200);
    for name in [
        "promlet_tsdb_head_series 0",
        "promlet_tsdb_samples_appended_total 0",
        "promlet_tsdb_storage_bytes",
    ] {
        assert!(body.contains(name), "missing {name} in {body}");
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    let _ = done_tx.send(());
    assert!(status.success(), "exit status {status}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("shutting down"), "{rest}");
}
