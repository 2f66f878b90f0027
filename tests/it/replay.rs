//! Reading a fuzz corpus and replaying it through a check, shared by the
//! integration tests (`corpus.rs`) and the crate's unit tests
//! (`src/corpus_tests.rs`, which includes this file by `#[path]`).

use std::panic::catch_unwind;
use std::path::{Path, PathBuf};

/// The files of `fuzz/corpus/<target>`, sorted; panics when the directory
/// is missing or empty, so that a moved corpus cannot make the test pass
/// vacuously. Hidden files (libFuzzer's and editors' own) are skipped.
pub(crate) fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display())).path())
        .filter(|path| path.is_file())
        .filter(|path| !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} has no files", dir.display());
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect()
}

/// Runs `check` on every file of the target's corpus and fails naming every
/// file whose check panicked (each panic message is printed as it happens).
#[track_caller]
pub(crate) fn replay(target: &str, check: fn(&[u8])) {
    let failed: Vec<String> = corpus(target)
        .iter()
        .filter(|(_, bytes)| catch_unwind(|| check(bytes)).is_err())
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target}: the check fails on\n{}", failed.join("\n"));
}
