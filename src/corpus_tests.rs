//! Replays the checked-in corpora of the `proc_parsers`, `http_request` and
//! `push_response` fuzz targets through the same functions the fuzzer runs, so that
//! `cargo test` keeps every seed and every past crash passing. Unit tests,
//! because those parsers are crate-private; the other targets' corpora are
//! replayed by `tests/it/corpus.rs`.

// The fuzz entry points: the crate's own under `cfg(fuzzing)`, otherwise the
// same file compiled here.
#[cfg(fuzzing)]
use crate::fuzzing;
#[cfg(not(fuzzing))]
#[allow(unreachable_pub, reason = "`pub` for the fuzz crate; here only these tests call it")]
#[path = "fuzzing.rs"]
mod fuzzing;

#[path = "../tests/it/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn proc_parsers_corpus() {
    replay("proc_parsers", fuzzing::proc_parsers);
}

#[test]
fn http_request_corpus() {
    replay("http_request", fuzzing::http_request);
}

#[test]
fn push_response_corpus() {
    replay("push_response", fuzzing::push_response);
}
