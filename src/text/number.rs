//! Number formatting for the encoder: integers with every digit, floats as
//! the shortest digits that parse back to the same bits.

use std::fmt::Write as _;

const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;
const E8: u64 = 100_000_000;

/// The eight decimal digits of `v` (below 10^8, leading zeros included) as
/// the values 0-9 in the bytes of a little-endian word, the first digit in
/// the lowest byte: split in halves, then pairs, then digits, each step
/// for all lanes at once with one multiply (the lanes cannot carry into
/// each other at these sizes), instead of a division per digit pair.
#[inline]
#[allow(clippy::cast_lossless)] // u32 -> u64
fn eight_digits(v: u32) -> u64 {
    let v = v as u64;
    // abcdefgh -> abcd in bits 0-31, efgh in bits 32-63.
    let halves = (v / 10_000) | ((v % 10_000) << 32);
    // Each half -> its first two digits in 16 bits, its last two above:
    // x * 10486 >> 20 is x / 100 for every x below 10^4.
    let high_pairs = ((halves * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let pairs = high_pairs | (halves - high_pairs * 100) << 16;
    // Each pair -> its tens in one byte, its units in the next:
    // x * 103 >> 10 is x / 10 for every x below 100.
    let tens = ((pairs * 103) >> 10) & 0x000f_000f_000f_000f;
    tens | (pairs - tens * 10) << 8
}

/// The ASCII digits of `v` (below 10^8) without leading zeros, at the
/// start of a word, and how many there are (0 itself keeps one).
#[inline]
pub(crate) fn eight_digits_ascii(v: u32) -> ([u8; 8], usize) {
    let digits = eight_digits(v);
    // Leading zero digits are the zero low bytes.
    let zeros = (digits.trailing_zeros() / 8).min(7);
    (
        ((digits | ASCII_ZEROS) >> (8 * zeros)).to_le_bytes(),
        8 - zeros as usize,
    )
}

/// Where the formatters append: a `Vec`, or a [`NumBuf`].
pub(crate) trait Put {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
    /// Appends the first `len` bytes of `word` (a fixed-size copy where
    /// that is cheaper).
    fn put8(&mut self, word: [u8; 8], len: usize);
}

impl Put for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    #[inline]
    fn put8(&mut self, word: [u8; 8], len: usize) {
        let end = self.len() + len;
        self.extend_from_slice(&word);
        self.truncate(end);
    }
}

/// A formatted value on the stack: every value text fits in
/// [`NumBuf::CAP`] bytes, and the whole buffer can be copied as one chunk.
pub(crate) struct NumBuf {
    bytes: [u8; NumBuf::CAP],
    len: usize,
}

impl NumBuf {
    /// The buffer's size: more than the longest value text (24 bytes).
    pub(crate) const CAP: usize = 32;

    /// `value` formatted as [`write_value`](super::write_value) does.
    pub(crate) fn of(value: crate::expose::Value) -> Self {
        let mut buf = NumBuf {
            bytes: [0; NumBuf::CAP],
            len: 0,
        };
        super::write_value(&mut buf, value);
        buf
    }

    /// The whole buffer, the text first.
    pub(crate) fn chunk(&self) -> &[u8; NumBuf::CAP] {
        &self.bytes
    }

    /// The text's length.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Put for NumBuf {
    fn put(&mut self, bytes: &[u8]) {
        // Value texts fit (see `CAP`); a longer one could not arise, and
        // is cut rather than a panic.
        let end = (self.len + bytes.len()).min(NumBuf::CAP);
        if let (Some(dst), Some(src)) = (self.bytes.get_mut(self.len..end), bytes.get(..end - self.len)) {
            dst.copy_from_slice(src);
        }
        self.len = end;
    }

    fn put8(&mut self, word: [u8; 8], len: usize) {
        self.put(word.get(..len).unwrap_or(&word));
    }
}

/// Writes every digit of `v`: eight at a time (see [`eight_digits`]).
#[inline]
#[allow(clippy::cast_possible_truncation)] // a value below 10^8
pub(crate) fn write_u64(out: &mut impl Put, v: u64) {
    if v < E8 {
        let (word, len) = eight_digits_ascii(v as u32);
        out.put8(word, len);
    } else {
        write_large(out, v);
    }
}

/// [`write_u64`] of 10^8 and more; apart, so that the common case saves no
/// registers.
#[inline(never)]
#[allow(clippy::cast_possible_truncation)] // every cast is of a value below 10^8
fn write_large(out: &mut impl Put, v: u64) {
    let (high, low) = (v / E8, (v % E8) as u32);
    if high < E8 {
        let (word, len) = eight_digits_ascii(high as u32);
        out.put8(word, len);
    } else {
        let (word, len) = eight_digits_ascii((high / E8) as u32);
        out.put8(word, len);
        out.put(&(eight_digits((high % E8) as u32) | ASCII_ZEROS).to_le_bytes());
    }
    out.put(&(eight_digits(low) | ASCII_ZEROS).to_le_bytes());
}

/// Writes `v` as the shortest digits that parse back to the same bits.
///
/// Special values first (`NaN`, `+Inf`, `-Inf`, as Prometheus spells them),
/// then finite values: positional notation when `1e-4 <= |v| < 1e16` (so
/// every integer below 2^53 prints as an integer and bucket bounds such as
/// `1000` print as users write them), exponent notation (`1e21`, `5e-324`)
/// otherwise.
pub(crate) fn write_f64(out: &mut impl Put, v: f64) {
    if v.is_nan() {
        out.put(b"NaN");
    } else if v.is_infinite() {
        out.put(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else {
        write_finite(out, v);
    }
}

/// Zeros to pad positional notation with (at most 16 are needed).
const ZEROS: [u8; 16] = [b'0'; 16];

fn write_finite(out: &mut impl Put, v: f64) {
    // Integers that f64 holds exactly take the integer formatter: the common
    // case for gauges and bucket counts, and much cheaper than `fmt`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::float_cmp)] // |v| < 2^53, integral
    if v.abs() < 9_007_199_254_740_992.0 && v == (v as i64) as f64 {
        if v.is_sign_negative() {
            out.put(b"-");
        }
        write_u64(out, v.abs() as u64);
        return;
    }
    // `{:e}` gives the shortest round-trip digits (Rust's float printing is
    // exact and shortest); only the layout is ours to choose.
    let mut buf = StackBuf::default();
    let _ = write!(buf, "{v:e}");
    let text = buf.as_bytes();
    let e_at = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
    let exp: i32 = std::str::from_utf8(&text[e_at + 1..])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(-4..16).contains(&exp) {
        out.put(text);
        return;
    }
    let (sign, mantissa) = match text[..e_at].split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, &text[..e_at]),
    };
    if sign {
        out.put(b"-");
    }
    // The mantissa is `d` or `d.ddd` (at most 17 digits): collect its
    // digits without the point, on the stack.
    let mut digit_buf = [0_u8; 32];
    let mut n = 0;
    for (slot, &d) in digit_buf.iter_mut().zip(mantissa.iter().filter(|b| b.is_ascii_digit())) {
        *slot = d;
        n += 1;
    }
    let digits = &digit_buf[..n];
    if exp < 0 {
        out.put(b"0.");
        out.put(&ZEROS[..exp.unsigned_abs() as usize - 1]);
        out.put(digits);
    } else {
        let int_len = exp.unsigned_abs() as usize + 1; // exp >= 0 here
        if digits.len() <= int_len {
            out.put(digits);
            out.put(&ZEROS[..int_len - digits.len()]);
        } else {
            out.put(&digits[..int_len]);
            out.put(b".");
            out.put(&digits[int_len..]);
        }
    }
}

/// A fixed buffer for `{:e}` output, which is at most 24 bytes for an f64.
#[derive(Default)]
struct StackBuf {
    bytes: [u8; 32],
    len: usize,
}

impl StackBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_f64(v: f64, expected: &str) {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, expected);
        if v.is_finite() {
            assert_eq!(text.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{text}");
        }
    }

    #[test]
    fn floats_are_shortest_and_exact() {
        check_f64(0.0, "0");
        check_f64(-0.0, "-0");
        check_f64(1.0, "1");
        check_f64(-3.0, "-3");
        check_f64(0.1, "0.1");
        check_f64(0.1 + 0.2, "0.30000000000000004");
        check_f64(1000.0, "1000");
        check_f64(2.5e-3, "0.0025");
        check_f64(1e-4, "0.0001");
        check_f64(1e-5, "1e-5");
        check_f64(1e-7, "1e-7");
        check_f64(123_456.789, "123456.789");
        check_f64(9_007_199_254_740_993.0, "9007199254740992");
        check_f64(1e16, "1e16");
        check_f64(1.5e16, "1.5e16");
        check_f64(1e21, "1e21");
        check_f64(f64::MAX, "1.7976931348623157e308");
        check_f64(f64::MIN, "-1.7976931348623157e308");
        check_f64(f64::MIN_POSITIVE, "2.2250738585072014e-308");
        check_f64(5e-324, "5e-324");
        check_f64(f64::INFINITY, "+Inf");
        check_f64(f64::NEG_INFINITY, "-Inf");
        check_f64(f64::NAN, "NaN");
    }

    #[test]
    fn integers_print_every_digit() {
        for v in [0, 9, 10, 99, 100, 101, 12_345, 9_007_199_254_740_993, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }

    /// Every value below 10^5, every power of ten and its neighbours,
    /// the ends of the 8- and 16-digit splits, and a million pseudo-random
    /// values of every magnitude print as `to_string` does.
    #[test]
    fn integers_match_to_string() {
        let mut values: Vec<u64> = (0..100_000).collect();
        let mut p = 1_u64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, next - 1]);
            p = next;
        }
        values.extend([E8 * E8 - 1, E8 * E8, u64::MAX - 1, u64::MAX]);
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 64));
        }
        let mut out = Vec::new();
        for v in values {
            out.clear();
            write_u64(&mut out, v);
            assert_eq!(std::str::from_utf8(&out), Ok(v.to_string().as_str()), "{v}");
        }
    }
}
