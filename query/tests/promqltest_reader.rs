//! Reads every Prometheus promqltest `.test` file with `query::promqltest::parse_file`.

use std::fs;
use std::path::PathBuf;

use query::promqltest::{Command, TextMatch, parse_file};

/// Directory holding the `.test` files.
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/promqltest");

fn test_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(DIR)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "test"));
    files.sort();
    files
}

#[test]
fn every_file_reads() {
    let files = test_files();
    assert!(!files.is_empty(), "no .test files in {DIR}");
    let mut failures = Vec::new();
    let (mut evals, mut loads, mut bad_exprs) = (0, 0, 0);
    // Failing evals, those checking the text, warn/info `msg:` lines, `regex:` lines.
    let (mut fails, mut fail_texts, mut msgs, mut regexes) = (0, 0, 0, 0);
    for path in &files {
        let text = fs::read_to_string(path).expect("readable test file");
        match parse_file(&text) {
            Ok(cmds) => {
                for c in &cmds {
                    match c {
                        Command::Eval(ev) => {
                            evals += 1;
                            if let Some(checks) = &ev.expect.fail {
                                fails += 1;
                                fail_texts += usize::from(!checks.is_empty());
                            }
                            for m in ev.expect.warn.iter().chain(&ev.expect.info) {
                                match m {
                                    TextMatch::Exact(_) => msgs += 1,
                                    TextMatch::Regex(_) => regexes += 1,
                                    TextMatch::Any => {}
                                }
                            }
                            if let Err(e) = &ev.expr {
                                bad_exprs += 1;
                                if std::env::var_os("PROMQLTEST_SHOW_REFUSED").is_some() {
                                    println!(
                                        "{}:{}: {:?}: {e}",
                                        path.display(),
                                        ev.line,
                                        ev.expr_text
                                    );
                                }
                            }
                        }
                        Command::Load { .. } => loads += 1,
                        Command::Clear => {}
                    }
                }
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    println!(
        "{} of {} files read fully; {loads} loads, {evals} evals ({bad_exprs} expressions the parser refuses)",
        files.len() - failures.len(),
        files.len()
    );
    assert!(
        failures.is_empty(),
        "reader errors:\n{}",
        failures.join("\n")
    );
    // Counts from the format specification (section 9 and 10).
    assert_eq!(
        (fails, fail_texts),
        (35, 15),
        "failing evals / with message checks"
    );
    assert_eq!((msgs, regexes), (77, 5), "warn/info msg: and regex: lines");
}
