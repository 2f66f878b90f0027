//! `Accept` and `Accept-Encoding` negotiation never panics and always
//! chooses among what was offered. See `check_negotiate` in
//! `tests/it/fuzz_negotiate.rs`.
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

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::check_negotiate(data));
