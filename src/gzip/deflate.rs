//! DEFLATE compression (RFC 1951): LZ77 over a 32 KiB window with hash
//! chains and one step of lazy matching, then one Huffman-coded block per
//! run of tokens, each block written with dynamic codes, the fixed codes or
//! stored, whichever is smallest.
//!
//! The matcher hashes four bytes and so finds matches of four bytes or
//! more; three-byte matches save too little to pay for their search. The
//! parameters sit between zlib's levels 5 and 6: exposition text repeats
//! the previous lines of its family almost whole, so a short chain already
//! finds the best match, and the lazy step picks up what greedy parsing
//! loses at line starts.

#![allow(
    clippy::cast_possible_truncation,
    reason = "symbols, lengths, distances and extra-bit values are bounded by the format (below 2^16), positions by the segment (below 2^30)"
)]

use super::huffman::{canonical_codes, code_lengths};

/// Largest distance the matcher uses. One less than the format's 32 KiB,
/// so that a chain link is never read after the position 32 KiB later has
/// overwritten it.
const MAX_DISTANCE: usize = (1 << 15) - 1;
const MIN_MATCH: usize = 4;
const MAX_MATCH: usize = 258;
/// Chain links followed per search.
const MAX_CHAIN: usize = 24;
/// A match this long ends the search at once.
const NICE_MATCH: usize = 128;
/// After a match this long the next position is not searched (no lazy step).
const LAZY_LIMIT: usize = 32;
/// After a match this long the lazy search follows a quarter of the chain.
const GOOD_MATCH: usize = 8;
/// Tokens per block: enough for the codes to fit the data, few enough for
/// the codes to follow it when it changes.
const BLOCK_TOKENS: usize = 1 << 15;
/// Segments longer than this are compressed independently, which keeps
/// positions in `u32`; no match crosses a segment boundary.
const SEGMENT: usize = 1 << 30;

/// Base lengths of length symbols 257..=285, and their extra bits.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of distance symbols 0..=29, and their extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
/// The order in which code-length code lengths are sent.
const CLEN_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// `LENGTH_CODE[len - 3]`: the index into `LENGTH_BASE` for a match length.
static LENGTH_CODE: [u8; 256] = length_codes();

const fn length_codes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut code = 0;
    while code < 28 {
        let mut len = LENGTH_BASE[code] as usize;
        while len < LENGTH_BASE[code + 1] as usize {
            table[len - 3] = code as u8;
            len += 1;
        }
        code += 1;
    }
    // 258 has a symbol of its own (285), not 284 with all extra bits set.
    table[255] = 28;
    table
}

/// The distance symbol of a distance in `1..=32768`.
fn dist_code(dist: usize) -> usize {
    let d = dist - 1;
    if d < 4 {
        d
    } else {
        let log = (usize::BITS - 1 - d.leading_zeros()) as usize;
        2 * log + ((d >> (log - 1)) & 1)
    }
}

const LITLEN_SYMBOLS: usize = 286;
const DIST_SYMBOLS: usize = 30;
const END_OF_BLOCK: usize = 256;

/// Compresses `data` into a raw DEFLATE stream appended to `out`.
pub(super) fn deflate(data: &[u8], out: &mut Vec<u8>) {
    let mut writer = BitWriter { out, acc: 0, bits: 0 };
    let mut matcher = Matcher::new(data.len().min(SEGMENT));
    let segments = data.len().div_ceil(SEGMENT).max(1);
    for (i, segment) in data
        .chunks(SEGMENT)
        .chain(data.is_empty().then_some(&data[..0]))
        .enumerate()
    {
        matcher.compress(segment, i + 1 == segments, &mut writer);
    }
    writer.flush();
}

/// Bits packed least significant first, as DEFLATE wants them.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter<'_> {
    /// Appends the low `count` bits of `value`; `count` is at most 32.
    #[inline]
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.bits;
        self.bits += count;
        if self.bits >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.bits -= 32;
        }
    }

    /// Pads to a byte boundary and writes out every pending byte.
    fn flush(&mut self) {
        while self.bits > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits = self.bits.saturating_sub(8);
        }
        self.acc = 0;
    }
}

/// The LZ77 state: hash heads and chain links, plus the current block.
struct Matcher {
    /// Most recent position (plus nothing: `u32::MAX` is empty) per hash.
    head: Vec<u32>,
    /// Previous position with the same hash, indexed by position & mask.
    prev: Vec<u32>,
    hash_shift: u32,
    prev_mask: usize,
    block: Block,
}

/// The tokens of the block being built and their symbol frequencies.
struct Block {
    /// A literal byte (`< 256`), or a match: length << 16 | distance.
    tokens: Vec<u32>,
    litlen_freq: [u32; LITLEN_SYMBOLS],
    dist_freq: [u32; DIST_SYMBOLS],
    /// Where the block's bytes start in the segment.
    start: usize,
}

impl Matcher {
    fn new(len: usize) -> Self {
        // Small inputs get small tables: filling 256 KiB would cost more
        // than compressing a short body.
        let size = len.next_power_of_two().clamp(1 << 8, 1 << 15);
        Matcher {
            head: vec![u32::MAX; size],
            prev: vec![u32::MAX; size],
            hash_shift: 32 - size.trailing_zeros(),
            prev_mask: size - 1,
            block: Block {
                tokens: Vec::with_capacity(BLOCK_TOKENS.min(len + 1)),
                litlen_freq: [0; LITLEN_SYMBOLS],
                dist_freq: [0; DIST_SYMBOLS],
                start: 0,
            },
        }
    }

    #[inline]
    fn hash(&self, data: &[u8], pos: usize) -> usize {
        let word = data[pos..pos + 4].try_into().map_or(0, u32::from_le_bytes);
        (word.wrapping_mul(0x9E37_79B1) >> self.hash_shift) as usize
    }

    /// Links `pos` into its hash chain and returns the previous head.
    #[inline]
    fn insert(&mut self, data: &[u8], pos: usize) -> u32 {
        let h = self.hash(data, pos);
        let before = self.head[h];
        let here = pos as u32;
        self.head[h] = here;
        self.prev[pos & self.prev_mask] = before;
        before
    }

    /// The longest match for `pos` that is longer than `better_than`, as
    /// (length, distance); length 0 if there is none.
    #[inline]
    fn longest(&self, data: &[u8], pos: usize, mut candidate: u32, chain: usize, better_than: usize) -> (usize, usize) {
        let limit = MAX_MATCH.min(data.len() - pos);
        let (mut best, mut best_dist) = (better_than, 0);
        if limit <= best {
            return (0, 0);
        }
        for _ in 0..chain {
            let cand = candidate as usize;
            let dist = pos.wrapping_sub(cand);
            if dist > MAX_DISTANCE || dist == 0 {
                break;
            }
            // The byte that would make this match longer than the best
            // decides most candidates without a full comparison.
            if data[cand + best] == data[pos + best] {
                let len = match_length(data, cand, pos, limit);
                if len > best {
                    best = len;
                    best_dist = dist;
                    if len >= NICE_MATCH || len == limit {
                        break;
                    }
                }
            }
            candidate = self.prev[cand & self.prev_mask];
        }
        if best_dist == 0 { (0, 0) } else { (best, best_dist) }
    }

    fn compress(&mut self, data: &[u8], last: bool, out: &mut BitWriter<'_>) {
        self.head.fill(u32::MAX);
        self.prev.fill(u32::MAX);
        self.block.start = 0;
        let n = data.len();
        let mut pos = 0;
        // A match found at `pos - 1`, kept while `pos` is searched for a
        // longer one; and whether the byte at `pos - 1` awaits emission.
        let (mut prev_len, mut prev_dist, mut pending) = (0usize, 0usize, false);
        while pos < n {
            let (mut len, mut dist) = (0, 0);
            if pos + MIN_MATCH <= n {
                let candidate = self.insert(data, pos);
                if prev_len < LAZY_LIMIT {
                    let chain = if prev_len >= GOOD_MATCH {
                        MAX_CHAIN / 4
                    } else {
                        MAX_CHAIN
                    };
                    (len, dist) = self.longest(data, pos, candidate, chain, prev_len.max(MIN_MATCH - 1));
                }
            }
            if prev_len >= MIN_MATCH && len <= prev_len {
                self.block.push_match(prev_len, prev_dist);
                let end = pos - 1 + prev_len;
                for p in pos + 1..end.min(n.saturating_sub(MIN_MATCH - 1)) {
                    self.insert(data, p);
                }
                pos = end;
                prev_len = 0;
                pending = false;
                self.block.flush_if_full(data, pos, out);
            } else {
                if pending {
                    self.block.push_literal(data[pos - 1]);
                    self.block.flush_if_full(data, pos, out);
                }
                pending = true;
                (prev_len, prev_dist) = (len, dist);
                pos += 1;
            }
        }
        if pending {
            self.block.push_literal(data[n - 1]);
        }
        self.block.write(data, n, last, out);
    }
}

/// How many bytes at `a` and `b` agree, up to `limit`; `a < b` and `b +
/// limit` is within `data`.
#[inline]
fn match_length(data: &[u8], a: usize, b: usize, limit: usize) -> usize {
    let mut len = 0;
    while len + 8 <= limit {
        let x = load64(data, a + len) ^ load64(data, b + len);
        if x != 0 {
            return len + (x.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < limit && data[a + len] == data[b + len] {
        len += 1;
    }
    len
}

#[inline]
fn load64(data: &[u8], at: usize) -> u64 {
    data[at..at + 8].try_into().map_or(0, u64::from_le_bytes)
}

impl Block {
    #[inline]
    fn push_literal(&mut self, byte: u8) {
        self.tokens.push(u32::from(byte));
        self.litlen_freq[usize::from(byte)] += 1;
    }

    #[inline]
    fn push_match(&mut self, len: usize, dist: usize) {
        self.tokens.push(((len as u32) << 16) | dist as u32);
        self.litlen_freq[257 + usize::from(LENGTH_CODE[len - 3])] += 1;
        self.dist_freq[dist_code(dist)] += 1;
    }

    #[inline]
    fn flush_if_full(&mut self, data: &[u8], end: usize, out: &mut BitWriter<'_>) {
        if self.tokens.len() >= BLOCK_TOKENS {
            self.write(data, end, false, out);
        }
    }

    /// Writes the block (the tokens for `data[self.start..end]`) in the
    /// cheapest of the three block types, then starts a new one at `end`.
    fn write(&mut self, data: &[u8], end: usize, last: bool, out: &mut BitWriter<'_>) {
        self.litlen_freq[END_OF_BLOCK] += 1;
        let extra_bits: u64 = self.litlen_freq[257..]
            .iter()
            .zip(LENGTH_EXTRA)
            .chain(self.dist_freq.iter().zip(DIST_EXTRA))
            .map(|(&f, e)| u64::from(f) * u64::from(e))
            .sum();

        let dynamic = DynamicCodes::new(&self.litlen_freq, &self.dist_freq);
        let dynamic_bits = dynamic.header_bits() + dynamic.codes.data_bits(&self.litlen_freq, &self.dist_freq);
        let fixed = Codes::fixed();
        let fixed_bits = fixed.data_bits(&self.litlen_freq, &self.dist_freq);
        let raw = &data[self.start..end];
        // Stored: alignment (at most 7 bits, counted as 7) and 4 length
        // bytes per piece of at most 65535 bytes.
        let pieces = raw.len().div_ceil(0xFFFF).max(1) as u64;
        let stored_bits = pieces * (3 + 7 + 32) + 8 * raw.len() as u64;

        let final_bit = u32::from(last);
        if stored_bits <= dynamic_bits.min(fixed_bits) + extra_bits {
            write_stored(raw, last, out);
        } else if fixed_bits <= dynamic_bits {
            out.put(final_bit | (1 << 1), 3);
            fixed.write_tokens(&self.tokens, out);
        } else {
            out.put(final_bit | (2 << 1), 3);
            dynamic.write_header(out);
            dynamic.codes.write_tokens(&self.tokens, out);
        }
        self.tokens.clear();
        self.litlen_freq = [0; LITLEN_SYMBOLS];
        self.dist_freq = [0; DIST_SYMBOLS];
        self.start = end;
    }
}

fn write_stored(raw: &[u8], last: bool, out: &mut BitWriter<'_>) {
    let mut pieces = raw.chunks(0xFFFF).peekable();
    if raw.is_empty() {
        out.put(u32::from(last), 3);
        out.flush();
        out.out.extend_from_slice(&[0, 0, 0xFF, 0xFF]);
        return;
    }
    while let Some(piece) = pieces.next() {
        out.put(u32::from(last && pieces.peek().is_none()), 3);
        out.flush();
        let len = piece.len() as u16;
        out.out.extend_from_slice(&len.to_le_bytes());
        out.out.extend_from_slice(&(!len).to_le_bytes());
        out.out.extend_from_slice(piece);
    }
}

/// Code lengths and bit-reversed codes for both alphabets of a block.
struct Codes {
    litlen_len: [u8; 288],
    litlen_code: [u16; 288],
    dist_len: [u8; 32],
    dist_code: [u16; 32],
}

impl Codes {
    fn from_lengths(litlen_len: &[u8; 288], dist_len: [u8; 32]) -> Self {
        let mut codes = Codes {
            litlen_len: *litlen_len,
            litlen_code: [0; 288],
            dist_len,
            dist_code: [0; 32],
        };
        canonical_codes(&codes.litlen_len, &mut codes.litlen_code);
        canonical_codes(&codes.dist_len, &mut codes.dist_code);
        codes
    }

    /// The fixed codes of RFC 1951 section 3.2.6.
    fn fixed() -> Self {
        let mut litlen = [8u8; 288];
        litlen[144..256].fill(9);
        litlen[256..280].fill(7);
        Codes::from_lengths(&litlen, [5; 32])
    }

    /// Bits of the coded symbols, without their extra bits.
    fn data_bits(&self, litlen_freq: &[u32], dist_freq: &[u32]) -> u64 {
        let cost = |freq: &[u32], len: &[u8]| -> u64 {
            freq.iter().zip(len).map(|(&f, &l)| u64::from(f) * u64::from(l)).sum()
        };
        cost(litlen_freq, &self.litlen_len) + cost(dist_freq, &self.dist_len)
    }

    fn write_tokens(&self, tokens: &[u32], out: &mut BitWriter<'_>) {
        for &token in tokens {
            let len = (token >> 16) as usize;
            if len == 0 {
                let byte = token as usize;
                out.put(u32::from(self.litlen_code[byte]), u32::from(self.litlen_len[byte]));
            } else {
                let code = usize::from(LENGTH_CODE[len - 3]);
                let symbol = 257 + code;
                let extra = (len - usize::from(LENGTH_BASE[code])) as u32;
                let bits = u32::from(self.litlen_len[symbol]);
                out.put(
                    u32::from(self.litlen_code[symbol]) | (extra << bits),
                    bits + u32::from(LENGTH_EXTRA[code]),
                );
                let dist = (token & 0xFFFF) as usize;
                let code = dist_code(dist);
                let extra = (dist - usize::from(DIST_BASE[code])) as u32;
                let bits = u32::from(self.dist_len[code]);
                out.put(
                    u32::from(self.dist_code[code]) | (extra << bits),
                    bits + u32::from(DIST_EXTRA[code]),
                );
            }
        }
        out.put(
            u32::from(self.litlen_code[END_OF_BLOCK]),
            u32::from(self.litlen_len[END_OF_BLOCK]),
        );
    }
}

/// A block's own codes and the run-length coded header that sends them.
struct DynamicCodes {
    codes: Codes,
    hlit: usize,
    hdist: usize,
    /// Code-length symbols (0..=18) with their extra-bit values.
    runs: Vec<(u8, u8)>,
    clen_len: [u8; 19],
    clen_code: [u16; 19],
    hclen: usize,
}

impl DynamicCodes {
    fn new(litlen_freq: &[u32; LITLEN_SYMBOLS], dist_freq: &[u32; DIST_SYMBOLS]) -> Self {
        // Two used symbols at least in each alphabet, so that every code is
        // complete: some decoders refuse the one-code and no-code trees the
        // format otherwise allows.
        let mut dist_freq = *dist_freq;
        for symbol in 0..2 {
            if dist_freq.iter().filter(|&&f| f > 0).count() < 2 && dist_freq[symbol] == 0 {
                dist_freq[symbol] = 1;
            }
        }
        let mut litlen_freq = *litlen_freq;
        if litlen_freq.iter().filter(|&&f| f > 0).count() < 2 {
            let spare = usize::from(litlen_freq[0] > 0);
            litlen_freq[spare] = 1;
        }
        let mut litlen_len = [0u8; 288];
        code_lengths(&litlen_freq, 15, &mut litlen_len[..LITLEN_SYMBOLS]);
        let mut dist_len = [0u8; 32];
        code_lengths(&dist_freq, 15, &mut dist_len[..DIST_SYMBOLS]);
        let hlit = 257
            + litlen_len[257..LITLEN_SYMBOLS]
                .iter()
                .rposition(|&l| l > 0)
                .map_or(0, |i| i + 1);
        let hdist = dist_len.iter().rposition(|&l| l > 0).map_or(1, |i| i + 1);
        let all: Vec<u8> = litlen_len[..hlit].iter().chain(&dist_len[..hdist]).copied().collect();
        let runs = run_lengths(&all);
        let mut clen_freq = [0u32; 19];
        for &(symbol, _) in &runs {
            clen_freq[usize::from(symbol)] += 1;
        }
        if clen_freq.iter().filter(|&&f| f > 0).count() < 2 {
            // zlib refuses an incomplete code-length code.
            let spare = usize::from(clen_freq[0] > 0);
            clen_freq[spare] = 1;
        }
        let mut clen_len = [0u8; 19];
        code_lengths(&clen_freq, 7, &mut clen_len);
        let mut clen_code = [0u16; 19];
        canonical_codes(&clen_len, &mut clen_code);
        let hclen = 4.max(CLEN_ORDER.iter().rposition(|&s| clen_len[s] > 0).map_or(0, |i| i + 1));
        DynamicCodes {
            codes: Codes::from_lengths(&litlen_len, dist_len),
            hlit,
            hdist,
            runs,
            clen_len,
            clen_code,
            hclen,
        }
    }

    fn header_bits(&self) -> u64 {
        let runs: u64 = self
            .runs
            .iter()
            .map(|&(s, _)| u64::from(self.clen_len[usize::from(s)]) + u64::from(run_extra_bits(s)))
            .sum();
        3 + 14 + 3 * self.hclen as u64 + runs
    }

    fn write_header(&self, out: &mut BitWriter<'_>) {
        let counts = ((self.hlit - 257) as u32) | (((self.hdist - 1) as u32) << 5) | (((self.hclen - 4) as u32) << 10);
        out.put(counts, 14);
        for &symbol in &CLEN_ORDER[..self.hclen] {
            out.put(u32::from(self.clen_len[symbol]), 3);
        }
        for &(symbol, extra) in &self.runs {
            let s = usize::from(symbol);
            out.put(u32::from(self.clen_code[s]), u32::from(self.clen_len[s]));
            out.put(u32::from(extra), run_extra_bits(symbol));
        }
    }
}

fn run_extra_bits(symbol: u8) -> u32 {
    match symbol {
        16 => 2,
        17 => 3,
        18 => 7,
        _ => 0,
    }
}

/// The code-length alphabet's run-length coding of `lengths` (RFC 1951
/// section 3.2.7): 16 repeats the previous length 3 to 6 times, 17 and 18
/// send 3 to 10 and 11 to 138 zeros.
fn run_lengths(lengths: &[u8]) -> Vec<(u8, u8)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < lengths.len() {
        let len = lengths[i];
        let run = lengths[i..].iter().take_while(|&&l| l == len).count();
        if len == 0 {
            let mut left = run;
            while left >= 11 {
                let n = left.min(138);
                runs.push((18, (n - 11) as u8));
                left -= n;
            }
            if left >= 3 {
                runs.push((17, (left - 3) as u8));
                left = 0;
            }
            runs.extend(std::iter::repeat_n((0, 0), left));
        } else {
            runs.push((len, 0));
            let mut left = run - 1;
            while left >= 3 {
                let n = left.min(6);
                runs.push((16, (n - 3) as u8));
                left -= n;
            }
            runs.extend(std::iter::repeat_n((len, 0), left));
        }
        i += run;
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::{DIST_BASE, DIST_EXTRA, LENGTH_BASE, LENGTH_CODE, LENGTH_EXTRA, dist_code, run_lengths};

    #[test]
    fn length_and_distance_symbols_cover_their_ranges() {
        for len in 3..=258usize {
            let code = usize::from(LENGTH_CODE[len - 3]);
            let base = usize::from(LENGTH_BASE[code]);
            assert!(base <= len && len - base < 1 << LENGTH_EXTRA[code], "length {len}");
        }
        assert_eq!(LENGTH_CODE[255], 28);
        for dist in 1..=32768usize {
            let code = dist_code(dist);
            let base = usize::from(DIST_BASE[code]);
            assert!(base <= dist && dist - base < 1 << DIST_EXTRA[code], "distance {dist}");
        }
    }

    #[test]
    fn run_lengths_expand_back() {
        let lengths = [0u8, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 3, 7, 7, 7]
            .into_iter()
            .chain(std::iter::repeat_n(0, 150))
            .collect::<Vec<u8>>();
        let mut back = Vec::new();
        for (symbol, extra) in run_lengths(&lengths) {
            let extra = usize::from(extra);
            match symbol {
                16 => {
                    let last = *back.last().unwrap();
                    back.extend(std::iter::repeat_n(last, 3 + extra));
                }
                17 => back.extend(std::iter::repeat_n(0, 3 + extra)),
                18 => back.extend(std::iter::repeat_n(0, 11 + extra)),
                l => back.push(l),
            }
        }
        assert_eq!(back, lengths);
    }
}
