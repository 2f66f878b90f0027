//! gzip round trips through the test-only decoder (`inflate.rs`), over
//! inputs chosen to reach every block type and match shape; every
//! exposition the other tests check goes through it too (`crate::check`).

use std::fmt::Write as _;

use crate::fuzz_checks::gzip_roundtrip;

/// The compressed size of `data`, after checking its round trip through
/// the test-only decoder.
#[track_caller]
pub(crate) fn round_trip(data: &[u8]) -> usize {
    gzip_roundtrip(data).len()
}

/// A deterministic byte generator (xorshift), so failures reproduce.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn empty_and_tiny_inputs() {
    assert_eq!(
        round_trip(b""),
        20,
        "an empty member is header, one empty block, trailer"
    );
    for len in 1..=40 {
        round_trip(&noise(len, len as u64));
        round_trip(&vec![b'a'; len]);
    }
}

#[test]
fn runs_and_overlapping_matches() {
    // Distance 1 with length 258 copies overlap the bytes they read.
    for len in [257, 258, 259, 1000, 70_000] {
        let size = round_trip(&vec![0u8; len]);
        assert!(size < 20 + len / 100 + 16, "{len} zeros took {size} bytes");
    }
    round_trip(&b"ab".repeat(5000));
    round_trip(&b"abcabcabd".repeat(3000));
}

#[test]
fn incompressible_input_falls_back_to_stored_blocks() {
    // More than one stored piece of 65535 bytes, and a few bytes over.
    for len in [65_535, 65_536, 200_000] {
        let data = noise(len, 7);
        let size = round_trip(&data);
        // Five bytes per stored block (one per 32768 tokens) plus the member.
        assert!(
            size <= len + len.div_ceil(32_768) * 5 + 18,
            "{len} random bytes took {size}"
        );
    }
}

#[test]
fn mixed_input_changes_block_types() {
    // Text, then noise, then text again, long enough for several blocks:
    // matches reach back across block boundaries.
    let text = "http_requests_total{method=\"GET\",route=\"/api/v1/items/17\",status=\"200\"} 42\n".repeat(2000);
    let mut data = text.clone().into_bytes();
    data.extend(noise(100_000, 3));
    data.extend(text.bytes());
    data.extend(noise(3, 9));
    round_trip(&data);
}

#[test]
fn matches_reach_the_whole_window_and_no_further() {
    // A block of noise repeated at distances around 32 KiB.
    for gap in [32_760, 32_767, 32_768, 32_769, 40_000] {
        let block = noise(300, gap as u64);
        let mut data = block.clone();
        data.extend(noise(gap - 300, 11));
        data.extend(&block);
        round_trip(&data);
    }
}

#[test]
fn exposition_text_compresses_tenfold() {
    let mut text = String::new();
    for i in 0..10_000 {
        let method = ["GET", "POST", "PUT", "DELETE", "PATCH"][i % 5];
        let status = ["200", "404"][i % 2];
        let value = i * 7 + 1;
        writeln!(
            text,
            "http_requests_total{{method=\"{method}\",route=\"/api/v1/items/{i}\",status=\"{status}\"}} {value}"
        )
        .unwrap();
    }
    let size = round_trip(text.as_bytes());
    assert!(size * 10 < text.len(), "{} bytes of exposition took {size}", text.len());
}

#[test]
fn every_byte_value_and_varied_alphabets() {
    let all: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    round_trip(&all);
    // Geometrically skewed literals (byte k with probability 2^-(k+1)):
    // an unlimited Huffman code would need more than 15 bits for the rare
    // ones, so the length limit is reached.
    let skewed: Vec<u8> = noise(400_000, 5)
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]).trailing_zeros() as u8)
        .collect();
    round_trip(&skewed);
}
