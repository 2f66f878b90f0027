// How the fuzz checks read their input, and the edge cases a tag byte
// picks. Part of `fuzz_checks.rs` (included from there with `#[path]`).

use super::*;

/// The fuzz input, read front to back. Past its end every read gives zero
/// bytes, so every input, the empty one included, describes something.
pub(super) struct Input<'a>(pub(super) &'a [u8]);

/// Edge cases a tag byte picks, so that short inputs reach them.
pub(super) const EDGE_U64: [u64; 13] = [
    0,
    1,
    2,
    9,
    10,
    99,
    100,
    1 << 53,
    (1 << 53) + 1,
    u64::MAX >> 1,
    (u64::MAX >> 1) + 1,
    u64::MAX - 1,
    u64::MAX,
];

pub(super) const EDGE_F64: [f64; 32] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    0.25,
    2.5,
    0.1 + 0.2,
    1e-4,
    1e-5,
    1e-7,
    1e15,
    1e16,
    1e21,
    9_007_199_254_740_992.0,
    9_007_199_254_740_994.0,
    f64::MIN_POSITIVE,
    5e-324,
    f64::from_bits(0x000f_ffff_ffff_ffff),
    f64::MAX,
    f64::MIN,
    f64::EPSILON,
    f64::NAN,
    -f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    100.0,
    1000.0,
    1.0 / 3.0,
    -1.5e300,
    0.005,
    10.0,
];

pub(super) const EDGE_TEXT: [&str; 28] = [
    "",
    " ",
    "\\",
    "\"",
    "\n",
    "\\n",
    "\\\"",
    "\"\\",
    "a\\",
    "\r",
    "\r\n",
    "\t",
    "\0",
    "\u{1F600}",
    "\u{5E9}\u{5DC}\u{5D5}\u{5DD} \u{5E2}\u{5D5}\u{5DC}\u{5DD}",
    "\u{202E}rtl",
    "\u{FEFF}",
    "\u{10FFFF}",
    OVERFLOW_LABEL_VALUE,
    "{}",
    "le=\"1\"",
    "a\",b=\"c\"}",
    "x y",
    "#",
    "# HELP x y",
    "NaN",
    "+Inf",
    "a",
];

pub(super) const METRIC_NAMES: [&str; 13] = [
    "a",
    "a_bucket",
    "a_sum",
    "a_count",
    "a_total",
    "b",
    "_",
    ":",
    "a:b_c9",
    "bareprom_series_dropped_total",
    "bareprom_series_dropped",
    "bareprom_collector_panics_total",
    "bareprom_collector_rejected_total",
];

pub(super) const LABEL_NAMES: [&str; 11] = [
    "l",
    "m",
    "le",
    "family",
    "collector",
    "quantile",
    "_",
    "__x",
    "__name__",
    "L_9",
    "a",
];

pub(super) const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
pub(super) const DIGITS_AND_COLON: &[u8] = b"0123456789:";

impl<'a> Input<'a> {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }

    pub(super) fn byte(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    /// A number below `n` (which must not be zero).
    pub(super) fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    pub(super) fn word(&mut self) -> u64 {
        let mut word = [0u8; 8];
        let bytes = self.bytes(8);
        word[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(word)
    }

    /// Any `u64`: a tag byte picks an edge case or the next 8 bytes.
    pub(super) fn u64(&mut self) -> u64 {
        let tag = usize::from(self.byte());
        if tag < 0x80 {
            EDGE_U64[tag % EDGE_U64.len()]
        } else {
            self.word()
        }
    }

    pub(super) fn i64(&mut self) -> i64 {
        self.u64() as i64
    }

    /// Any `f64` bit pattern: a tag byte picks an edge case or the next 8 bytes.
    pub(super) fn f64(&mut self) -> f64 {
        let tag = usize::from(self.byte());
        if tag < 0x80 {
            EDGE_F64[tag % EDGE_F64.len()]
        } else {
            f64::from_bits(self.word())
        }
    }

    /// Any UTF-8: an edge case, a long string, or up to 255 bytes read lossily.
    pub(super) fn text(&mut self) -> String {
        let tag = usize::from(self.byte());
        match tag {
            0x00..0x40 => EDGE_TEXT[tag % EDGE_TEXT.len()].to_owned(),
            0x40 => "x".repeat(5000),
            0x41 => "\\\"\n".repeat(700),
            0x42 => (0..128u8).map(char::from).collect(),
            0x43 => "\u{1F600}\u{202E}".repeat(300),
            _ => {
                let len = usize::from(self.byte());
                String::from_utf8_lossy(self.bytes(len)).into_owned()
            }
        }
    }

    /// A valid metric name: one that invites clashes, or one built from the
    /// input with a suffix that does.
    pub(super) fn metric_name(&mut self) -> String {
        let tag = usize::from(self.byte());
        if tag < 0x80 {
            return METRIC_NAMES[tag % METRIC_NAMES.len()].to_owned();
        }
        let mut name = self.word_from(&[LETTERS, b":"], &[LETTERS, DIGITS_AND_COLON]);
        name.push_str(["", "_bucket", "_sum", "_count", "_total"][tag % 5]);
        name
    }

    /// A label name matching the grammar; a few from the pool are reserved
    /// (`__x`) or special (`le`, and the health families' `family`).
    pub(super) fn label_name(&mut self) -> String {
        let tag = usize::from(self.byte());
        if tag < 0x80 {
            return LABEL_NAMES[tag % LABEL_NAMES.len()].to_owned();
        }
        self.word_from(&[LETTERS], &[LETTERS, b"0123456789"])
    }

    /// One to twelve characters, the first from `first`, the rest from `rest`.
    pub(super) fn word_from(&mut self, first: &[&[u8]], rest: &[&[u8]]) -> String {
        let len = 1 + self.below(12);
        (0..len)
            .map(|i| {
                let class: Vec<u8> = if i == 0 { first.concat() } else { rest.concat() };
                char::from(class[self.below(class.len())])
            })
            .collect()
    }

    /// Bucket bounds: raw (often invalid), or sorted and deduplicated,
    /// optionally ending in `+Inf`.
    pub(super) fn bounds(&mut self) -> Vec<f64> {
        let mode = self.byte();
        let len = usize::from(mode >> 2) % 70;
        let mut bounds: Vec<f64> = (0..len).map(|_| self.f64()).collect();
        if mode & 1 == 1 {
            bounds.retain(|b| !b.is_nan());
            bounds.sort_by(f64::total_cmp);
            // Sorted, so this drops repeats and `0` after `-0`.
            bounds.dedup_by(|later, kept| *later <= *kept);
        }
        if mode & 2 == 2 {
            bounds.push(f64::INFINITY);
        }
        bounds
    }
}
