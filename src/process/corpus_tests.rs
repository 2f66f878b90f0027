//! Replays the checked-in corpus of the `proc_parsers` fuzz target through
//! the same function the fuzzer runs, so that `cargo test` keeps every seed
//! and every past crash passing. A unit test, because the parsers are
//! crate-private.

use std::panic::catch_unwind;

// The fuzz entry point: the crate's own under `cfg(fuzzing)`, otherwise the
// same file compiled here.
#[cfg(fuzzing)]
use crate::fuzzing;
#[cfg(not(fuzzing))]
#[allow(unreachable_pub, reason = "`pub` for the fuzz crate; here only this test calls it")]
#[path = "../fuzzing.rs"]
mod fuzzing;

#[test]
fn proc_parsers_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/proc_parsers");
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("corpus {dir}: {e}"));
    let mut files: Vec<_> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("corpus {dir}: {e}")).path())
        .filter(|path| path.is_file())
        // Hidden files are libFuzzer's or an editor's, not corpus entries.
        .filter(|path| !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    // An empty or moved corpus must fail rather than pass vacuously.
    assert!(!files.is_empty(), "corpus {dir} has no files");
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            catch_unwind(|| fuzzing::proc_parsers(&bytes)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "proc_parsers panics on\n{}", failed.join("\n"));
}
