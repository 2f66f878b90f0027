//! Entry points for the fuzz crate in `fuzz/`; not part of the API.
//!
//! Compiled only under `cfg(fuzzing)`, which cargo-fuzz sets. The `/proc`
//! parsers are crate-private and return crate-private types, so they cannot
//! be re-exported as they are; this module runs them instead. The unit test in
//! `src/process/corpus_tests.rs` includes this file too, so `cargo test`
//! replays the `proc_parsers` corpus through exactly what the fuzzer runs.
#![doc(hidden)]

use crate::process::linux;

/// Runs every `/proc` parser on `bytes`, then the arithmetic the collector
/// does on what they return, with the units the input holds and with
/// extreme ones.
///
/// # Panics
///
/// When a parser panics, or breaks one of these documented properties:
/// `parse_stat` gives `None` exactly when the text has no `)`; an auxiliary
/// vector never yields a zero unit; derived seconds are never negative, NaN
/// or infinite.
pub fn proc_parsers(bytes: &[u8]) {
    // The collector reads the text files lossily; so does this.
    let text = String::from_utf8_lossy(bytes);
    let auxv = linux::parse_auxv(bytes);
    assert!(auxv.clock_ticks != Some(0) && auxv.page_size != Some(0), "{auxv:?}");
    let boot = linux::parse_boot_time(&text);
    let limits = linux::parse_limits(&text);
    let net = linux::parse_netstat(&text);
    let stat = linux::parse_stat(&text);
    assert_eq!(stat.is_some(), text.contains(')'), "parse_stat gave {stat:?}");
    let stat = stat.unwrap_or_default();
    for ticks in [auxv.clock_ticks.unwrap_or(100), 0, 1, u64::MAX] {
        let cpu = linux::cpu_seconds(&stat, ticks);
        assert!(cpu.is_none_or(|s| s.is_finite() && s >= 0.0), "cpu seconds {cpu:?}");
        for boot in [boot.unwrap_or(0), u64::MAX] {
            let since_epoch = linux::start_time_seconds(&stat, boot, ticks);
            let sane = since_epoch.is_none_or(|s| s.is_finite() && s >= 0.0);
            assert!(sane, "start time {since_epoch:?}");
        }
    }
    for page_size in [auxv.page_size.unwrap_or(4096), 0, u64::MAX] {
        std::hint::black_box(linux::resident_bytes(&stat, page_size));
    }
    std::hint::black_box((limits, net));
}
