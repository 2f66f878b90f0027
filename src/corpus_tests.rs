//! Replays the checked-in corpora of the `proc_parsers` and `http_request`
//! fuzz targets through the same functions the fuzzer runs, so that
//! `cargo test` keeps every seed and every past crash passing. Unit tests,
//! because those parsers are crate-private; the other targets' corpora are
//! replayed by `tests/it/corpus.rs`.

use std::panic::catch_unwind;
use std::path::PathBuf;

// The fuzz entry points: the crate's own under `cfg(fuzzing)`, otherwise the
// same file compiled here.
#[cfg(fuzzing)]
use crate::fuzzing;
#[cfg(not(fuzzing))]
#[allow(unreachable_pub, reason = "`pub` for the fuzz crate; here only these tests call it")]
#[path = "fuzzing.rs"]
mod fuzzing;

/// Runs `check` on every file of `fuzz/corpus/<target>` and fails naming
/// every file it panics on; fails too when the directory is missing or
/// empty, so that a moved corpus cannot pass vacuously.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
    let mut files: Vec<_> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display())).path())
        .filter(|path| path.is_file())
        // Hidden files are libFuzzer's or an editor's, not corpus entries.
        .filter(|path| !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} has no files", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            catch_unwind(|| check(&bytes)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target} fails on\n{}", failed.join("\n"));
}

#[test]
fn proc_parsers_corpus() {
    replay("proc_parsers", fuzzing::proc_parsers);
}

#[test]
fn http_request_corpus() {
    replay("http_request", fuzzing::http_request);
}
