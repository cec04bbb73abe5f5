//! The receiver's whole path (snappy, protobuf, labels, storage) with the fuzzed bytes as the
//! decompressed `WriteRequest`: they are snappy-compressed first, so every input gets past
//! the decompressor and the fuzzer spends its time in the decoder and the appender.
#![no_main]

use collector::remote_write::proto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = snap::raw::Encoder::new().compress_vec(data) else {
        return;
    };
    let decoded = proto::decode_write_request(data);
    let stored = exporter::remote::store(&model::MemStorage::new(), &body);
    // What does not decode is refused; what is stored decoded to as many series.
    match (&decoded, &stored) {
        (Err(_), Ok(s)) => panic!("undecodable body stored: {s:?}"),
        (Ok(series), Ok(s)) => assert_eq!(series.len(), s.series),
        _ => {}
    }
});
