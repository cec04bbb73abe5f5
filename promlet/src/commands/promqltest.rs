//! `promlet promqltest FILE...`: runs Prometheus `.test` files against the engine, with the
//! settings Prometheus's own test of these files uses.
//!
//! Each failed eval prints as `FILE:LINE: EXPR` and its message indented by four spaces; the
//! last line is `N passed, N failed` over all files. The exit status is 1 when an eval failed
//! or a file could not be read or parsed (the error names the file on stderr).

use std::io::Write;

use anyhow::Result;
use query::promqltest::run::{self, FileReport};

use super::SilentFailure;
use crate::args::PromqltestArgs;

pub(crate) fn run(args: PromqltestArgs) -> Result<()> {
    let opts = run::test_engine_options();
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed, mut broken) = (0usize, 0usize, 0usize);
    for path in &args.files {
        let name = path.display();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                broken += 1;
                continue;
            }
        };
        match run::run_file(&text, &opts) {
            Ok(report) => {
                write_failures(&mut out, &name.to_string(), &report)?;
                passed += report.passed;
                failed += report.failures.len();
            }
            Err(e) => {
                eprintln!("{name}:{}: {}", e.line, e.message);
                broken += 1;
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    out.flush()?;
    if failed > 0 || broken > 0 {
        return Err(SilentFailure.into());
    }
    Ok(())
}

fn write_failures(out: &mut impl Write, file: &str, report: &FileReport) -> Result<()> {
    for f in &report.failures {
        writeln!(out, "{file}:{}: {}", f.line, f.expr)?;
        for line in f.message.lines() {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}
