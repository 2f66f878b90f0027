//! Length-limited Huffman code lengths and the canonical codes DEFLATE
//! derives from them (RFC 1951 section 3.2.2).
//!
//! Lengths come from Moffat and Katajainen's in-place algorithm over the
//! symbols sorted by frequency (linear after the sort, no tree nodes); when
//! the longest code exceeds the format's limit (15 bits, 7 for the
//! code-length code), the length histogram is repaired the way zlib and
//! miniz do it: overlong codes are cut to the limit, then codes are moved
//! one level down until the Kraft sum is exactly one again. The result is
//! within a fraction of a percent of optimal on real frequency tables.

#![allow(
    clippy::cast_possible_truncation,
    reason = "symbols, lengths and counts here are bounded by the format's alphabets (at most 288 symbols, 15 bits)"
)]
#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "the in-place algorithm walks down to index -1"
)]

/// Code lengths for `freqs`, none longer than `limit` bits: 0 for a symbol
/// of frequency 0, at least 1 for every other. Every code with two or more
/// used symbols is complete; a single used symbol gets length 1.
pub(super) fn code_lengths(freqs: &[u32], limit: u8, lengths: &mut [u8]) {
    lengths.fill(0);
    let mut used: Vec<(u32, u16)> = freqs
        .iter()
        .enumerate()
        .filter(|&(_, &f)| f > 0)
        .map(|(symbol, &f)| (f, symbol as u16))
        .collect();
    match used.len() {
        0 => return,
        1 => {
            lengths[usize::from(used[0].1)] = 1;
            return;
        }
        _ => {}
    }
    // Ascending frequency; ties by symbol, so that output is deterministic.
    used.sort_unstable();
    let mut work: Vec<u32> = used.iter().map(|&(f, _)| f).collect();
    minimum_redundancy(&mut work);
    // `work[i]` is now the length of the i-th least frequent symbol, and
    // lengths never increase along `work`.
    let mut count = [0u32; 64];
    for &len in &work {
        count[len as usize] += 1;
    }
    limit_lengths(&mut count, usize::from(limit));
    // Hand the lengths out again, shortest to the most frequent symbols.
    let mut symbols = used.iter().rev();
    for (len, &n) in count.iter().enumerate().take(usize::from(limit) + 1).skip(1) {
        for _ in 0..n {
            if let Some(&(_, symbol)) = symbols.next() {
                lengths[usize::from(symbol)] = len as u8;
            }
        }
    }
}

/// Moffat and Katajainen, "In-place calculation of minimum-redundancy
/// codes" (1995): `a` holds at least two frequencies in ascending order and
/// is overwritten with their code lengths.
fn minimum_redundancy(a: &mut [u32]) {
    let n = a.len();
    // Phase 1: combine, leaving parent pointers in the internal nodes.
    a[0] += a[1];
    let (mut root, mut leaf) = (0usize, 2usize);
    for next in 1..n - 1 {
        if leaf >= n || a[root] < a[leaf] {
            a[next] = a[root];
            a[root] = next as u32;
            root += 1;
        } else {
            a[next] = a[leaf];
            leaf += 1;
        }
        if leaf >= n || (root < next && a[root] < a[leaf]) {
            a[next] += a[root];
            a[root] = next as u32;
            root += 1;
        } else {
            a[next] += a[leaf];
            leaf += 1;
        }
    }
    // Phase 2: internal node depths.
    a[n - 2] = 0;
    for next in (0..n - 2).rev() {
        a[next] = a[a[next] as usize] + 1;
    }
    // Phase 3: leaf depths.
    let (mut available, mut used, mut depth) = (1u32, 0u32, 0u32);
    let mut root = n as isize - 2;
    let mut next = n as isize - 1;
    while available > 0 {
        while root >= 0 && a[root as usize] == depth {
            used += 1;
            root -= 1;
        }
        while available > used {
            a[next as usize] = depth;
            next -= 1;
            available -= 1;
        }
        available = 2 * used;
        depth += 1;
        used = 0;
    }
}

/// Repairs a histogram of code lengths (`count[len]` codes of length `len`)
/// so that no code is longer than `limit` and the code stays complete.
fn limit_lengths(count: &mut [u32; 64], limit: usize) {
    let overlong: u32 = count[limit + 1..].iter().sum();
    if overlong == 0 {
        return;
    }
    count[limit] += overlong;
    count[limit + 1..].fill(0);
    // Kraft sum in units of 2^-limit; one code too many at the limit is
    // fixed by moving a shorter code one level down, which splits it in two.
    let mut total: u64 = (1..=limit).map(|len| u64::from(count[len]) << (limit - len)).sum();
    while total > 1 << limit {
        count[limit] -= 1;
        for len in (1..limit).rev() {
            if count[len] > 0 {
                count[len] -= 1;
                count[len + 1] += 2;
                break;
            }
        }
        total -= 1;
    }
}

/// The canonical codes for `lengths`, bit-reversed so that they can be
/// written least significant bit first, as DEFLATE packs them.
pub(super) fn canonical_codes(lengths: &[u8], codes: &mut [u16]) {
    let mut count = [0u16; 16];
    for &len in lengths {
        count[usize::from(len)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (symbol, &len) in lengths.iter().enumerate() {
        if len > 0 {
            let code = next[usize::from(len)];
            next[usize::from(len)] += 1;
            codes[symbol] = code.reverse_bits() >> (16 - u16::from(len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{canonical_codes, code_lengths};

    fn kraft(lengths: &[u8]) -> f64 {
        lengths
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| 0.5f64.powi(i32::from(l)))
            .sum()
    }

    #[test]
    fn lengths_are_complete_and_limited() {
        // Fibonacci frequencies give the deepest possible tree.
        let mut fib = vec![1u32, 1];
        while fib.len() < 30 {
            let next = fib[fib.len() - 1] + fib[fib.len() - 2];
            fib.push(next);
        }
        for limit in [7u8, 15] {
            let mut lengths = vec![0u8; fib.len()];
            code_lengths(&fib, limit, &mut lengths);
            assert!(lengths.iter().all(|&l| (1..=limit).contains(&l)), "{lengths:?}");
            assert!((kraft(&lengths) - 1.0).abs() < 1e-12, "{lengths:?}");
            // More frequent symbols never get longer codes.
            assert!(lengths.windows(2).all(|w| w[0] >= w[1]), "{lengths:?}");
        }
    }

    #[test]
    fn random_tables_give_complete_limited_codes() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..2000 {
            let symbols = 2 + (next() % 287) as usize;
            // Frequencies spread over many orders of magnitude, some zero.
            let freqs: Vec<u32> = (0..symbols)
                .map(|_| match next() % 4 {
                    0 => 0,
                    _ => (next() % (1 << (next() % 24))) as u32,
                })
                .collect();
            let used = freqs.iter().filter(|&&f| f > 0).count();
            for limit in [7u8, 15] {
                if used > 1 << limit {
                    continue;
                }
                let mut lengths = vec![0u8; symbols];
                code_lengths(&freqs, limit, &mut lengths);
                for (&f, &l) in freqs.iter().zip(&lengths) {
                    assert_eq!(f == 0, l == 0, "round {round}");
                    assert!(l <= limit, "round {round}");
                }
                if used >= 2 {
                    assert!((kraft(&lengths) - 1.0).abs() < 1e-12, "round {round}: {lengths:?}");
                }
                // A more frequent symbol never has a longer code.
                let mut by_freq: Vec<(u32, u8)> = freqs.iter().copied().zip(lengths.iter().copied()).collect();
                by_freq.retain(|&(f, _)| f > 0);
                by_freq.sort_unstable();
                assert!(
                    by_freq.windows(2).all(|w| w[0].0 == w[1].0 || w[0].1 >= w[1].1),
                    "round {round}"
                );
            }
        }
    }

    #[test]
    fn unlimited_lengths_are_optimal() {
        let freqs = [45u32, 13, 12, 16, 9, 5];
        let mut lengths = [0u8; 6];
        code_lengths(&freqs, 15, &mut lengths);
        let cost: u32 = freqs.iter().zip(lengths).map(|(&f, l)| f * u32::from(l)).sum();
        // The textbook example: 224 bits.
        assert_eq!(cost, 224);
    }

    #[test]
    fn zero_and_one_used_symbols() {
        let mut lengths = [9u8; 4];
        code_lengths(&[0, 0, 0, 0], 15, &mut lengths);
        assert_eq!(lengths, [0; 4]);
        code_lengths(&[0, 0, 7, 0], 15, &mut lengths);
        assert_eq!(lengths, [0, 0, 1, 0]);
    }

    #[test]
    fn canonical_codes_follow_the_rfc_example() {
        // RFC 1951 section 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give
        // 010, 011, 100, 101, 110, 00, 1110, 1111.
        let lengths = [3u8, 3, 3, 3, 3, 2, 4, 4];
        let mut codes = [0u16; 8];
        canonical_codes(&lengths, &mut codes);
        let expected = [0b010u16, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for ((&code, &want), &len) in codes.iter().zip(&expected).zip(&lengths) {
            assert_eq!(code, want.reverse_bits() >> (16 - u16::from(len)));
        }
    }
}
