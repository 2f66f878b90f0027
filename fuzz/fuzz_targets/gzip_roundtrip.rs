//! `bareprom::gzip` round-trips any input through two independent
//! decoders: the test-only one written from RFC 1951 (`check_gzip_roundtrip`
//! in `tests/it/fuzz_gzip.rs`, which `cargo test` replays over this
//! target's corpus) and flate2's, which real HTTP stacks resemble.
#![no_main]

use std::io::Read as _;

#[allow(dead_code, reason = "each target runs one of the checks")]
#[path = "../../tests/it/fuzz_checks.rs"]
mod fuzz_checks;
#[allow(dead_code, reason = "the checks use part of the decoder's API")]
#[path = "../../tests/it/inflate.rs"]
mod inflate;
#[allow(dead_code, reason = "the checks use part of the oracle's API")]
#[path = "../../tests/it/oracle.rs"]
mod oracle;
#[allow(dead_code, reason = "the encoder check alone uses it")]
#[path = "../../tests/it/oracle_om.rs"]
mod oracle_om;
#[allow(dead_code, reason = "the checks use part of the decoder's API")]
#[path = "../../tests/it/protobuf_decode.rs"]
mod protobuf_decode;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_checks::check_gzip_roundtrip(data);
    let gz = fuzz_checks::gzip_roundtrip(data);
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut back)
        .unwrap_or_else(|e| panic!("flate2 refuses gzip of {} bytes: {e}", data.len()));
    assert!(back == data, "flate2 decodes other bytes");
});
