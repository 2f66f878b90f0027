//! The one integration-test binary: every test module of the crate.

// Test code panics by design, converts freely between numeric types it
// controls, and builds expected strings the plainest way.
#![allow(
    clippy::missing_panics_doc,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::similar_names,
    clippy::manual_assert,
    clippy::format_collect
)]

mod claims;
mod collectors;
mod compose;
mod concurrency;
mod corpus;
mod exemplars;
mod exposition;
mod fuzz_checks;
mod gzip;
mod handler;
#[cfg(feature = "hyper")]
mod hyper_adapter;
mod inflate;
mod json;
mod native;
mod native_exemplars;
mod native_vec;
mod negotiate;
mod openmetrics;
mod oracle;
mod oracle_om;
mod oracle_tests;
mod panics;
mod ports;
mod process;
mod prometheus;
pub mod promtool;
mod protobuf;
mod protobuf_decode;
mod protobuf_python;
mod push;
mod python;
mod readme_servers;
mod registry;
mod replay;
mod roundtrip;
mod routes;
mod serve;
mod serve_load;
mod skips;
#[cfg(feature = "tower")]
mod tower_adapter;
mod utf8;
mod utf8_claims;
mod utf8_parsers;
mod utf8_scrapers;
mod victoria;
mod web;

use bareprom::Registry;
pub(crate) use fuzz_checks::{names_decode, oracle_utf8};

// The heap counts of the ports' runtime block (`tests/it/ports.rs`) are
// real only with a counting allocator installed; it forwards every call to
// the system allocator and adds two relaxed atomic updates.
#[global_allocator]
static ALLOC: bareprom::CountingAlloc = bareprom::CountingAlloc::new(std::alloc::System);

/// The `Content-Type` the handler answers a scrape in the text format
/// 0.0.4 with, when the scraper asks for no escaping (as `client_golang`,
/// the escaping is always named).
pub const TEXT_SCRAPE: &str = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";

/// The same for `OpenMetrics` 1.0.0.
pub const OPENMETRICS_SCRAPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";

/// The same for protobuf.
pub const PROTOBUF_SCRAPE: &str = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores";

/// Asserts a registry's whole exposition, and that the strict oracle
/// accepts it.
#[track_caller]
pub fn check(registry: &Registry, expected: &str) {
    let text = registry.render();
    assert_eq!(text, expected, "\n--- got ---\n{text}--- expected ---\n{expected}");
    if let Err(e) = oracle::parse(&text) {
        panic!("oracle rejects the exposition: {e}\n{text}");
    }
    gzip::round_trip(text.as_bytes());
}

/// Parses with the oracle, panicking with the text on error.
#[track_caller]
pub fn parse(text: &str) -> oracle::Exposition {
    oracle::parse(text).unwrap_or_else(|e| panic!("oracle rejects the exposition: {e}\n{text}"))
}

/// Whether a test that needs an outside program must fail (under CI) or
/// may skip with a visible message when the program is missing.
#[track_caller]
pub fn missing_program(program: &str) {
    skip_unless_ci(&format!("{program} not found; install it to run this test"));
}

/// Fails under CI (where `.ci/run` installs every outside program a test
/// needs), else skips visibly: see [`skip`].
#[track_caller]
pub fn skip_unless_ci(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{why} (required when CI is set; .ci/run installs it)"
    );
    skip(&format!("{why} (it is required when CI is set)"));
}

/// Writes `SKIP: <why>` straight to the stderr handle. libtest captures
/// `print!` and `eprint!` of a passing test and never shows them, but not
/// a direct write: so the line shows in plain `cargo test` output.
pub fn skip(why: &str) {
    use std::io::Write as _;
    // Nothing to do if stderr is gone; the test result stands.
    let _ = std::io::stderr().write_all(format!("SKIP: {why}\n").as_bytes());
}
