//! Parses every `eval` expression of Prometheus's promqltest files that must parse.

use std::fs;

/// Directory holding the `.test` files.
const DIR: &str = "../../shared/promqltest";

/// Lowest number of expressions that must parse; raise it as the parser improves.
const FLOOR: usize = 1799;

/// Extracts the expression of an `eval` line, or `None` if the line is no eval command.
fn expression(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("eval ")?;
    let words: Vec<&str> = rest.splitn(8, ' ').collect();
    match words.first().copied()? {
        // instant at <t> <expr>
        "instant" => rest.splitn(4, ' ').nth(3),
        // range from <a> to <b> step <s> <expr>
        "range" => rest.splitn(8, ' ').nth(7),
        _ => None,
    }
}

/// Every expression expected to parse, with its file and line number.
fn cases() -> Vec<(String, usize, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR);
    let mut out = Vec::new();
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
    {
        let text = fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(expr) = expression(line) else {
                continue;
            };
            let fails = lines[i + 1..]
                .iter()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("expect"))
                .any(|l| l.starts_with("expect fail"));
            if fails || expr.contains("{{") {
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((name, i + 1, expr.trim().to_string()));
        }
    }
    out
}

#[test]
fn promqltest_expressions_parse() {
    let cases = cases();
    let mut ok = 0;
    let mut failures = Vec::new();
    for (file, line, expr) in &cases {
        match query::parse(expr) {
            Ok(e) => {
                ok += 1;
                let printed = e.to_string();
                match query::parse(&printed) {
                    Ok(again) if format!("{again:?}") == format!("{e:?}") => {}
                    other => failures.push(format!(
                        "{file}:{line}: round trip {expr} -> {printed} -> {other:?}"
                    )),
                }
            }
            Err(err) => failures.push(format!("{file}:{line}: {expr}\n    {err}")),
        }
    }
    for f in &failures {
        eprintln!("{f}");
    }
    eprintln!("promqltest: {ok} of {} expressions parse", cases.len());
    assert!(ok >= FLOOR, "only {ok} of {} parse", cases.len());
}
