//! The push client's parser of the gateway's answer (`src/push/response.rs`)
//! never panics, never asks for more bytes once the connection has ended,
//! keeps its verdict whatever bytes follow, and parses answers built from
//! the input (every framing, in pieces) to exactly what was built; the scan
//! for grouping labels (`src/push/labels.rs`) finds the labels the encoder
//! writes whatever their values; gateway URLs and grouping values
//! (`src/push/target.rs`) round-trip. All are crate-private; `bareprom::fuzzing`
//! (compiled only under `cfg(fuzzing)`) runs them. The corpus is replayed by
//! `src/corpus_tests.rs` under `cargo test`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bareprom::fuzzing::push_response(data));
