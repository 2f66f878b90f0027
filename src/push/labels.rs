//! Finding, in an encoded text exposition, a sample that carries one of the
//! label names a push puts in its grouping key.
//!
//! The check reads the bytes that are about to be sent rather than asking
//! the registry, so it sees exactly what the gateway would: metric labels,
//! the registry's constant labels, and what collectors wrote.

/// The first sample (its metric name) that carries a label in `names`, and
/// that label. Lines that are not well-formed samples are passed over.
pub(crate) fn first_clash<'t>(text: &'t [u8], names: &[&str]) -> Option<(&'t [u8], &'t [u8])> {
    let lines = text
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty() && line[0] != b'#');
    for line in lines {
        let Some(open) = line.iter().position(|&b| b == b'{' || b == b' ') else {
            continue;
        };
        if line[open] != b'{' {
            continue;
        }
        let metric = &line[..open];
        let mut rest = &line[open + 1..];
        // `name="value"` pairs separated by `,` up to `}`.
        while let Some(eq) = rest.iter().position(|&b| b == b'=') {
            let label = &rest[..eq];
            if names.iter().any(|name| name.as_bytes() == label) {
                return Some((metric, label));
            }
            let Some(after) = skip_quoted(&rest[eq + 1..]) else {
                break;
            };
            match after.split_first() {
                Some((b',', more)) => rest = more,
                _ => break,
            }
        }
    }
    None
}

/// The bytes after a `"`-quoted, backslash-escaped value at the start of
/// `bytes`.
fn skip_quoted(bytes: &[u8]) -> Option<&[u8]> {
    let mut i = 1;
    if bytes.first() != Some(&b'"') {
        return None;
    }
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return bytes.get(i + 1..),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::first_clash;

    #[test]
    fn finds_labels_only_in_sample_label_sets() {
        let text = b"# HELP job_runs_total job=\"x\"\n# TYPE job_runs_total counter\n\
            job_runs_total{stage=\"a,job=\\\"b\\\"\",job=\"nightly\"} 1\n";
        assert_eq!(first_clash(text, &["job"]), Some((&b"job_runs_total"[..], &b"job"[..])));
        assert_eq!(first_clash(text, &["instance"]), None);
        assert_eq!(first_clash(text, &["a"]), None, "inside a value");
        assert_eq!(
            first_clash(b"up 1\nx{instance=\"\"} 2\n", &["instance"]).map(|c| c.0),
            Some(&b"x"[..])
        );
    }
}
