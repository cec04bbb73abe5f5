//! The parser's documented round trip: whatever `query::parse` accepts, its printed form
//! (`Display`) parses again, to an expression that prints the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = query::parse(input) else {
        return;
    };
    let printed = expr.to_string();
    match query::parse(&printed) {
        Ok(again) => assert_eq!(
            again.to_string(),
            printed,
            "{input:?} printed as {printed:?}, which reprints differently"
        ),
        Err(err) => panic!("{input:?} printed as {printed:?}, which does not parse: {err}"),
    }
});
