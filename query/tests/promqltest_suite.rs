//! Runs every Prometheus `.test` file with `query::promqltest::run::run_file` and checks the
//! failing evals against the skip list `promqltest_skip.txt`.
//!
//! The test fails when an eval fails that is not listed, when a listed eval passes (the list
//! only shrinks: remove the line), or when a listed line is no eval. With
//! `PROMQLTEST_WRITE_SKIP=1` it writes the list of today's failures instead, keeping the
//! reason of every line already listed:
//!
//! ```text
//! PROMQLTEST_WRITE_SKIP=1 cargo test -p query --test promqltest_suite
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use query::promqltest::run::{CaseFailure, FailureKind, run_file, test_engine_options};
use query::promqltest::{Command, Eval, ExpectedResult, parse_file};

/// Directory holding the `.test` files.
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/promqltest");

/// The skip list.
const SKIP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/promqltest_skip.txt");

/// Longest reason written for a new skip-list line.
const REASON_LEN: usize = 100;

/// Functions that only read native histograms.
const NATIVE_ONLY: [&str; 5] = [
    "histogram_count(",
    "histogram_sum(",
    "histogram_avg(",
    "histogram_stddev(",
    "histogram_stdvar(",
];

/// `file.test:LINE`.
type Key = (String, usize);

/// One file's outcome: every eval by line, and the failures.
struct FileRun {
    evals: BTreeMap<usize, Eval>,
    failures: Vec<CaseFailure>,
    histogram_loads: bool,
}

fn test_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(DIR)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "test"));
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs one file; `Err` when it does not read.
fn run(path: &Path) -> Result<FileRun, String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let commands = parse_file(&text).map_err(|e| e.to_string())?;
    let mut evals = BTreeMap::new();
    let mut histogram_loads = false;
    for cmd in commands {
        match cmd {
            Command::Eval(ev) => {
                evals.insert(ev.line, *ev);
            }
            Command::Load {
                series, with_nhcb, ..
            } => {
                histogram_loads |= with_nhcb
                    || series
                        .iter()
                        .flat_map(|(_, p)| p)
                        .any(|p| p.value.as_f64().is_none());
            }
            Command::Clear => {}
        }
    }
    let report = run_file(&text, &test_engine_options()).map_err(|e| e.to_string())?;
    Ok(FileRun {
        evals,
        failures: report.failures,
        histogram_loads,
    })
}

/// Reads the skip list: `file.test:LINE  reason`, `#` comments.
fn read_skip_list() -> Result<BTreeMap<Key, String>, String> {
    let text = fs::read_to_string(SKIP).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let parsed = key
            .rsplit_once(':')
            .and_then(|(f, l)| Some((f.to_string(), l.parse::<usize>().ok()?)));
        let Some(key) = parsed else {
            return Err(format!("{SKIP}:{}: malformed entry {line:?}", i + 1));
        };
        out.insert(key, reason.trim().to_string());
    }
    Ok(out)
}

/// Whether the eval's expectation holds histograms.
fn expects_histograms(ev: &Eval) -> bool {
    match &ev.expect.result {
        ExpectedResult::Series(s) => s
            .iter()
            .flat_map(|s| &s.values)
            .any(|v| v.as_ref().is_some_and(|v| v.as_f64().is_none())),
        _ => false,
    }
}

/// The reason written for a newly listed failure.
fn reason(run: &FileRun, f: &CaseFailure) -> String {
    let ev = run.evals.get(&f.line);
    let native_only = run.histogram_loads && NATIVE_ONLY.iter().any(|n| f.expr.contains(n));
    if f.kind() == FailureKind::NativeHistograms
        || ev.is_some_and(expects_histograms)
        || native_only
    {
        return "native histograms".to_string();
    }
    if f.kind() == FailureKind::Annotations {
        return "annotation text".to_string();
    }
    let first = f.message.lines().next().unwrap_or_default();
    let mut short: String = first.chars().take(REASON_LEN).collect();
    if short.len() < first.len() {
        short.push('…');
    }
    short
}

/// Writes the skip list from today's failures.
fn write_skip_list(
    failures: &BTreeMap<Key, String>,
    old: &BTreeMap<Key, String>,
) -> std::io::Result<()> {
    let mut text = String::from(
        "# Evals of ../shared/promqltest/*.test that fail today: `file.test:LINE  reason`.\n\
         # Checked by tests/promqltest_suite.rs; the list only shrinks. Regenerate with\n\
         #   PROMQLTEST_WRITE_SKIP=1 cargo test -p query --test promqltest_suite\n\
         # (reasons of lines already listed are kept).\n",
    );
    for (key, reason) in failures {
        let reason = old.get(key).filter(|r| !r.is_empty()).unwrap_or(reason);
        text.push_str(&format!("{}:{}  {reason}\n", key.0, key.1));
    }
    fs::write(SKIP, text)
}

#[test]
fn promqltest_suite() {
    let files = test_files();
    assert!(!files.is_empty(), "no .test files in {DIR}");
    let skip = read_skip_list().unwrap();
    let mut problems = Vec::new();
    let mut evals: BTreeSet<Key> = BTreeSet::new();
    let mut failures: BTreeMap<Key, String> = BTreeMap::new();
    let mut details: BTreeMap<Key, String> = BTreeMap::new();
    let (mut total, mut passed) = (0, 0);
    for path in &files {
        let name = file_name(path);
        let run = match run(path) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{name}: does not read: {e}"));
                continue;
            }
        };
        total += run.evals.len();
        passed += run.evals.len() - run.failures.len();
        evals.extend(run.evals.keys().map(|&l| (name.clone(), l)));
        for f in &run.failures {
            let key = (name.clone(), f.line);
            failures.insert(key.clone(), reason(&run, f));
            details.insert(
                key,
                format!("{}\n    {}", f.expr, f.message.replace('\n', "\n    ")),
            );
        }
    }
    println!(
        "promqltest: {passed} of {total} evals pass, {} fail",
        failures.len()
    );
    if std::env::var_os("PROMQLTEST_WRITE_SKIP").is_some_and(|v| v == "1") {
        write_skip_list(&failures, &skip).unwrap();
        println!("wrote {SKIP}");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        return;
    }
    for (key, detail) in &details {
        if !skip.contains_key(key) {
            problems.push(format!("{}:{}: {detail}", key.0, key.1));
        }
    }
    for key in skip.keys() {
        if !evals.contains(key) {
            problems.push(format!("skip list: {}:{} is not an eval", key.0, key.1));
        } else if !failures.contains_key(key) {
            problems.push(format!("remove from skip list: {}:{}", key.0, key.1));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
