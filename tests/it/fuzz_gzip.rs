//! The `gzip_roundtrip` fuzz check; see `fuzz_checks.rs`.

/// Compresses `data`, and a repetitive expansion of it (so that long and
/// overlapping matches and several blocks are reached from short inputs),
/// and checks that the test-only decoder gives both back exactly.
///
/// The expansion repeats `data[1..]` `data[0] % 64 + 1` times, changing one
/// byte in each copy.
///
/// # Panics
///
/// When the decoder refuses the output or decodes other bytes.
pub(crate) fn check_gzip_roundtrip(data: &[u8]) {
    gzip_roundtrip(data);
    if let Some((&count, body)) = data.split_first() {
        let mut expanded = Vec::with_capacity(body.len() * (usize::from(count % 64) + 1));
        for copy in 0..=usize::from(count % 64) {
            let start = expanded.len();
            expanded.extend_from_slice(body);
            if let Some(byte) = expanded.get_mut(start + copy * 7 % body.len().max(1)) {
                *byte = byte.wrapping_add(copy as u8);
            }
        }
        gzip_roundtrip(&expanded);
    }
}

/// Compresses `data`, checks the round trip, and returns the gzip bytes.
pub(crate) fn gzip_roundtrip(data: &[u8]) -> Vec<u8> {
    let mut gz = Vec::new();
    bareprom::gzip(data, &mut gz);
    match crate::inflate::gunzip(&gz) {
        Ok(back) => assert!(back == data, "round trip changed the data ({} bytes)", data.len()),
        Err(e) => panic!("the decoder refuses gzip of {} bytes: {e}", data.len()),
    }
    gz
}
