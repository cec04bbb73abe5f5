//! The exposition parser over a whole body, in both formats, lenient and strict: every entry
//! is consumed; errors are fine, panics (and endless iteration) are not.
#![no_main]

use collector::exposition::{Format, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::PrometheusText, Format::OpenMetrics] {
        for entry in Parser::new(text, format) {
            if let Err(err) = entry {
                let _ = err.to_string();
            }
        }
        for entry in Parser::new(text, format).strict() {
            if let Err(err) = entry {
                let _ = err.to_string();
            }
        }
    }
});
