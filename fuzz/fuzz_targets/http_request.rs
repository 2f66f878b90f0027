//! The std server's request-head parser (`src/serve/http.rs`) never panics,
//! never borrows outside the head, and agrees with a naive reference
//! (`src/serve/http/reference.rs`) on every head it accepts or refuses; raw
//! bytes go to the parser, never to a socket. Both are crate-private;
//! `bareprom::fuzzing` (compiled only under `cfg(fuzzing)`) runs them. The
//! corpus is replayed by `src/corpus_tests.rs` under `cargo test`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bareprom::fuzzing::http_request(data));
