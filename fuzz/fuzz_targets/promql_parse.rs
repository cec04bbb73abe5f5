//! `query::parse` on arbitrary text: errors are fine, panics are not. A parsed expression is
//! also printed back (`Display`), which must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match query::parse(input) {
        Ok(expr) => {
            let _ = expr.to_string();
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
});
