//! Every f64 bit pattern renders as text that parses back to the same bits,
//! in the documented layout. See `check_float_format` in
//! `tests/it/fuzz_checks.rs`.
#![no_main]

// The checks and the oracle are shared with the integration tests, which
// replay this target's corpus through the same function (tests/it/corpus.rs).
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

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::check_float_format(data));
