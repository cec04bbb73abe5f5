//! `promlet graph EXPR -o FILE`: the same drawing as `/api/v1/render`, from a data directory
//! or from a server, and clear errors for a bad file name or query.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use std::process::{Command, Output};
use std::time::Duration;

use support::{Guard, free_port, get, serve_command, wait_for};

/// Ten minutes of two `up` series ending at `end_s`, imported into `dir/data`.
fn data(dir: &std::path::Path, end_s: i64) -> std::path::PathBuf {
    let mut om = String::from("# TYPE up gauge\n");
    for job in ["a", "b"] {
        for i in 0..=40 {
            let _ = writeln!(om, "up{{job=\"{job}\"}} 1 {}", end_s - 600 + i * 15);
        }
    }
    om.push_str("# EOF\n");
    support::import(dir, &om)
}

fn graph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promlet"))
        .arg("graph")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn draws_from_a_data_directory_and_from_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let end_s = 1_790_000_000;
    let data = data(dir.path(), end_s);
    let (start, end) = ((end_s - 600).to_string(), end_s.to_string());
    let svg = dir.path().join("up.svg");
    let out = graph(&[
        "up",
        "--data",
        data.to_str().unwrap(),
        "--start",
        &start,
        "--end",
        &end,
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("job=&quot;a&quot;") || text.contains("job=\"a\""),
        "{text}"
    );
    assert!(
        text.contains("job=&quot;b&quot;") || text.contains("job=\"b\""),
        "{text}"
    );

    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = Guard(serve_command(&listen, &data).spawn().unwrap());
    let server = format!("http://{listen}");
    wait_for("promlet ready", Duration::from_secs(30), || {
        get(&format!("{server}/-/ready"))
    });
    let png = dir.path().join("up.png");
    let out = graph(&[
        "up",
        "--server",
        &server,
        "--start",
        &start,
        "--end",
        &end,
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
}

#[test]
fn bad_file_names_and_queries_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = data(dir.path(), 1_790_000_000);
    let gif = dir.path().join("up.gif");
    let out = graph(&[
        "up",
        "--data",
        data.to_str().unwrap(),
        "-o",
        gif.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".png or .svg"));
    let png = dir.path().join("x.png");
    let out = graph(&[
        "sum(",
        "--data",
        data.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("parse error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!png.exists(), "no image for a bad query");
}
