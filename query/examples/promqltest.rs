//! Runs promqltest files and prints every failure and a summary (a development aid; the
//! `promlet promqltest` command is the user-facing form).

use query::promqltest::run::{run_file, test_engine_options};

fn main() {
    let opts = test_engine_options();
    let (mut passed, mut failed) = (0, 0);
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        match run_file(&text, &opts) {
            Ok(report) => {
                passed += report.passed;
                failed += report.failures.len();
                for f in report.failures {
                    println!(
                        "{path}:{}: {}\n    {}",
                        f.line,
                        f.expr,
                        f.message.replace('\n', "\n    ")
                    );
                }
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
    println!("{passed} passed, {failed} failed");
}
