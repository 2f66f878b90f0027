//! The `/proc` parsers of the process collector never panic, whatever the
//! file holds. They are crate-private; `bareprom::fuzzing` (compiled only
//! under `cfg(fuzzing)`, which cargo-fuzz sets) runs them. The corpus is
//! replayed by `src/corpus_tests.rs` under `cargo test`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bareprom::fuzzing::proc_parsers(data));
