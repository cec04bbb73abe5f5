//! Raw bytes into the remote write decoders: `decode_write_request` on the bytes as an
//! (uncompressed) `WriteRequest`, and the receiver's whole path, `exporter::remote::store`,
//! on the bytes as a snappy-compressed body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = collector::remote_write::proto::decode_write_request(data);
    let _ = exporter::remote::store(&model::MemStorage::new(), data);
});
