//! Builds a registry of every metric kind from the input (as
//! `encode_roundtrip` does), encodes it in protobuf, and checks that the
//! test-only decoder written from `metrics.proto` reads back what the strict
//! text oracle reads from the text exposition of the same registry. See
//! `check_protobuf_roundtrip` in `tests/it/fuzz_protobuf.rs`.
#![no_main]

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

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::check_protobuf_roundtrip(data));
