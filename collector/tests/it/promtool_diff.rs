//! Differential test against Prometheus 2.42's OpenMetrics parser, through
//! `promtool tsdb create-blocks-from openmetrics` (promtool must be on PATH; scripts/test.sh installs it).
//!
//! Every case has timestamps, so promtool fails only on what its parser rejects; for the
//! accepted ones the sample counts promtool prints must equal ours.

use std::path::Path;
use std::process::Command;

use collector::exposition::{Entry, Format, Parser};

const CASES: &[&str] = &[
    "a 1 1\n# EOF\n",
    "a 1 1\n# EOF",
    "a 1 1\n# EOF\n\n",
    "a 1 1\n",
    "a 1 1\n# EOF \n",
    "a  1 1\n# EOF\n",
    "a 1 1 \n# EOF\n",
    "a\t1 1\n# EOF\n",
    "a{} 1 1\n# EOF\n",
    "a{b=\"c\",} 1 1\n# EOF\n",
    "a{b=\"c\", d=\"e\"} 1 1\n# EOF\n",
    "a {b=\"c\"} 1 1\n# EOF\n",
    "a{b=\"c\"d=\"e\"} 1 1\n# EOF\n",
    "a{b=\"x\\\\y\\\"z\\nw\\tq\"} 1 1\n# EOF\n",
    "a 1 1\n# hello\n# EOF\n",
    "a 1 1\n\nb 1 1\n# EOF\n",
    "#hello\na 1 1\n# EOF\n",
    "# HELP a text \\\" \\n\na 1 1\n# EOF\n",
    "# HELP a\na 1 1\n# EOF\n",
    "# HELP a \na 1 1\n# EOF\n",
    "# HELP  a x\na 1 1\n# EOF\n",
    "# TYPE a untyped\na 1 1\n# EOF\n",
    "# TYPE a Counter\na 1 1\n# EOF\n",
    "# TYPE a counter \na 1 1\n# EOF\n",
    "# TYPE a stateset\na 1 1\n# EOF\n",
    "# UNIT a_seconds seconds\na_seconds 1 1\n# EOF\n",
    "# UNIT a_seconds bytes\na_seconds 1 1\n# EOF\n",
    "# UNIT seconds seconds\nseconds 1 1\n# EOF\n",
    "# UNIT _seconds seconds\n_seconds 1 1\n# EOF\n",
    "# UNIT a_seconds\na_seconds 1 1\n# EOF\n",
    "a_total 1 1 # {id=\"x\"} 2 3\n# EOF\n",
    "a 1 1 # {id=\"x\"} 2\n# EOF\n",
    "a_bucket{le=\"1\"} 1 1 # {} 2\n# EOF\n",
    "a_total 1 1 # {id=\"x\"}\n# EOF\n",
    "a_total 1 1 # {id=\"x\"} 2 3 4\n# EOF\n",
    "a_total 1 1  # {id=\"x\"} 2\n# EOF\n",
    "a_total 1 1 # id\n# EOF\n",
    "a_total 1 1 # {id=\"x\"} 1 Inf\n# EOF\n",
    "a_total 1 1 # {id=\"x\",} 1\n# EOF\n",
    "a 1 1 #\n# EOF\n",
    "a 1 1 1\n# EOF\n",
    "a Inf 1\nb +Inf 1\nc -inf 1\nd nan 1\ne infinity 1\nf .5 1\ng 5. 1\nh 1e3 1\ni -0 1\nj +5 1\n# EOF\n",
    "a 0x10 1\n# EOF\n",
    "a 0x1p3 1\n# EOF\n",
    "a 1_0 1\n# EOF\n",
    "a 1e400 1\n# EOF\n",
    "a 1e-400 1\n# EOF\n",
    "a +nan 1\n# EOF\n",
    "a true 1\n# EOF\n",
    "a 1 1.5e3\nb 1 1520879607.789\nc 1 1.0049\nd 1 +7\ne 1 .5\n# EOF\n",
    "a 1 Inf\n# EOF\n",
    "a 1 NaN\n# EOF\n",
    "a 1 1z\n# EOF\n",
    "a 1 1\r\n# EOF\n",
    "# EOF\r\n",
    "{a=\"b\"} 1 1\n# EOF\n",
    "a{\"b\"=\"c\"} 1 1\n# EOF\n",
    " a 1 1\n# EOF\n",
    "a{b=\"c\nd\"} 1 1\n# EOF\n",
    "a{b='c'} 1 1\n# EOF\n",
    "a{=\"c\"} 1 1\n# EOF\n",
    "a{b=\"\u{e9}\u{2603}\"} 1 1\n# EOF\n",
    "a\u{e9} 1 1\n# EOF\n",
    "# TYPE foo counter\nfoo 1 1\nbar 1 1\nfoo 2 2\n# EOF\n",
    "a:b:c 1 1\n_x 1 1\n# EOF\n",
    "a 1 1\n#  EOF\n",
    "a 1 1\n# EOF # EOF\n",
    "# HELP a x\n# HELP a y\na 1 1\n# EOF\n",
];

/// What promtool made of `input`: `Ok(samples written)` or `Err(message)`.
fn promtool(input: &str, dir: &Path, i: usize) -> Result<usize, String> {
    let file = dir.join(format!("case{i}.om"));
    let out = dir.join(format!("out{i}"));
    std::fs::write(&file, input).map_err(|e| e.to_string())?;
    let output = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(&out)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    // Columns: ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, ...
    let stdout = String::from_utf8_lossy(&output.stdout);
    let samples = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(4)?.parse::<usize>().ok());
    Ok(samples.sum())
}

/// Our verdict: `Ok(samples)` or `Err(message)`.
fn ours(input: &str) -> Result<usize, String> {
    let entries: Result<Vec<_>, _> = Parser::new(input, Format::OpenMetrics).collect();
    let entries = entries.map_err(|e| e.to_string())?;
    Ok(entries
        .iter()
        .filter(|e| matches!(e, Entry::Sample(_)))
        .count())
}

#[test]
fn accepts_and_rejects_what_promtool_does() {
    // The real peer is a test requirement (scripts/test.sh installs it): no silent skip.
    assert!(
        Command::new("promtool").arg("--version").output().is_ok(),
        "promtool is not on PATH: install Debian's prometheus package (scripts/test.sh does)"
    );
    let dir = std::env::temp_dir().join(format!("promtool-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut mismatches = Vec::new();
    for (i, input) in CASES.iter().enumerate() {
        let (theirs, ours) = (promtool(input, &dir, i), ours(input));
        if theirs.is_ok() != ours.is_ok() || theirs.as_ref().ok() != ours.as_ref().ok() {
            mismatches.push(format!(
                "{input:?}\n  promtool: {theirs:?}\n  ours:     {ours:?}"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
