// The included-registry half of the `encode_roundtrip` check. Part of
// `fuzz_checks.rs` (included from there with `#[path]`).

use super::*;

/// The same registry included in another with a name prefix and a
/// constant label: every family name prefixed, the label before the
/// registry's own, the health family written once, by the including
/// registry, naming the prefixed families.
pub(super) fn check_included(registry: Registry, entries: &[Entry], const_labels: &[(String, String)]) {
    let (label, value) = ("tenant", "t \"1\"\n\\");
    let parent = Registry::new();
    let included = parent.include(Arc::new(registry), "inc_", &[(label, value)]);
    let clash = const_labels.iter().any(|(n, _)| n == label);
    assert_eq!(included.is_err(), clash, "include gave {included:?}");
    if clash {
        return;
    }
    let text = parent.render();
    let got = oracle::parse(&text)
        .unwrap_or_else(|e| panic!("oracle rejects the included exposition: {e}\n{}", excerpt(&text)));
    let labels: Vec<(String, String)> = [(label.to_owned(), value.to_owned())]
        .into_iter()
        .chain(const_labels.iter().cloned())
        .collect();
    let want = expected(entries, &labels, "inc_", &[]);
    compare(&want, &got, &text);
    gzip_roundtrip(text.as_bytes());
}
