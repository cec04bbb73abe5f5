//! `promlet promqltest`: failures as `FILE:LINE: EXPR` with the message indented, a closing
//! `N passed, N failed` line, and exit status 1 on any failure or unreadable file.

use crate::{promlet, run};

const PASSING: &str = "load 5m\n  x{a=\"1\"} 1 2 3\n\neval instant at 10m x\n  x{a=\"1\"} 3\n\neval instant at 10m x * 2\n  {a=\"1\"} 6\n";

const FAILING: &str = "load 5m\n  x 1 2\n\neval instant at 5m x\n  x 3\n";

#[test]
fn reports_failures_and_totals() {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass.test");
    let fail = dir.path().join("fail.test");
    std::fs::write(&pass, PASSING).unwrap();
    std::fs::write(&fail, FAILING).unwrap();

    let out = run(promlet().arg("promqltest").arg(&pass));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "2 passed, 0 failed\n"
    );

    let out = run(promlet().arg("promqltest").arg(&pass).arg(&fail));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(format!("{}:4: x", fail.display()).as_str())
    );
    let message = lines.next().unwrap();
    assert!(
        message.starts_with("    ") && message.contains('3'),
        "{stdout}"
    );
    assert_eq!(stdout.lines().last(), Some("2 passed, 1 failed"));

    let missing = dir.path().join("missing.test");
    let out = run(promlet().arg("promqltest").arg(&pass).arg(&missing));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("missing.test"), "{stderr}");
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .ends_with("2 passed, 0 failed\n")
    );

    let broken = dir.path().join("broken.test");
    std::fs::write(&broken, "load 5m\n  x 1 2\nnonsense here\n").unwrap();
    let out = run(promlet().arg("promqltest").arg(&broken));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("broken.test:3:"), "{stderr}");
}
