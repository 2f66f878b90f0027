//! The label hash: picks a series' slot in a family's index and its
//! per-thread cache set. Never an identity: lookups compare values in full.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// Hashes label values. Each value's length is folded in with its bytes,
/// so that `("ab", "c")` and `("a", "bc")` differ. Identity is still
/// decided by full comparison; the hash only picks the index slot.
///
/// One 64x64->128-bit multiply per 16 bytes (the folded multiply of
/// foldhash and wyhash): label values are short, so a value costs one
/// multiply, and the multiplies of different values do not wait on each
/// other's loads.
///
/// The hash starts from a seed drawn once per process (from std's
/// `RandomState`), so that nobody can compute label values that all land in
/// one probe run and make every lookup compare against thousands of series.
/// Output order does not depend on the hash, so the seed changes nothing
/// visible.
pub(crate) fn hash_values(values: &[&str]) -> u64 {
    #[cfg(test)]
    if collide::on() {
        return collide::HASH;
    }
    let mut h = K0 ^ seed();
    for v in values {
        let bytes = v.as_bytes();
        let words = if bytes.len() <= 16 {
            words_up_to_16(bytes)
        } else {
            long_words(&mut h, bytes)
        };
        h = fold_value(h, words, bytes.len());
    }
    folded_multiply(h ^ K2, K0)
}

/// [`hash_values`], with each value's [`words_up_to_16`] of its first 16
/// bytes already at hand (the lookup cache computes them): the same hash,
/// without reading a short value twice.
#[inline]
pub(crate) fn hash_with_heads(values: &[&str], heads: &[(u64, u64)]) -> u64 {
    #[cfg(test)]
    if collide::on() {
        return collide::HASH;
    }
    let mut h = K0 ^ seed();
    for (v, head) in values.iter().zip(heads) {
        let bytes = v.as_bytes();
        let words = if bytes.len() <= 16 {
            *head
        } else {
            long_words(&mut h, bytes)
        };
        h = fold_value(h, words, bytes.len());
    }
    folded_multiply(h ^ K2, K0)
}

/// A value of more than 16 bytes: all 16-byte chunks but the last into the
/// running hash, then the last 16 bytes (overlapping the chunk before, as
/// wyhash does) as the two words to fold with the length.
#[inline]
fn long_words(h: &mut u64, bytes: &[u8]) -> (u64, u64) {
    let mut rest = bytes;
    while rest.len() > 16 {
        *h = folded_multiply(read_u64(rest) ^ K1, read_u64(&rest[8..]) ^ *h);
        rest = &rest[16..];
    }
    read_last_16(bytes)
}

const K0: u64 = 0x243f_6a88_85a3_08d3;
const K1: u64 = 0x1319_8a2e_0370_7344;
const K2: u64 = 0xa409_3822_299f_31d0;

/// The per-process seed of [`hash_values`].
#[inline]
fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| RandomState::new().hash_one(K0))
}

/// A value of `n` bytes, as two words, into the running hash `h`.
#[inline]
fn fold_value(h: u64, (lo, hi): (u64, u64), n: usize) -> u64 {
    folded_multiply(lo ^ K1, hi ^ h ^ (n as u64).wrapping_mul(K2))
}

/// Up to 16 bytes as two words, without a variable-length copy:
/// overlapping reads, as wyhash does (the length is mixed in separately, so
/// the overlap cannot make two values collide).
#[inline]
pub(crate) fn words_up_to_16(bytes: &[u8]) -> (u64, u64) {
    let n = bytes.len();
    if n >= 8 {
        (read_u64(bytes), read_last_u64(bytes))
    } else if n >= 4 {
        (u64::from(read_u32(bytes)), u64::from(read_last_u32(bytes)))
    } else if n > 0 {
        (
            u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16,
            0,
        )
    } else {
        (0, 0)
    }
}

#[inline]
fn folded_multiply(x: u64, y: u64) -> u64 {
    let full = u128::from(x) * u128::from(y);
    // Truncation is the point: the low and high halves are folded together.
    #[allow(clippy::cast_possible_truncation)]
    let (low, high) = (full as u64, (full >> 64) as u64);
    low ^ high
}

#[inline]
pub(crate) fn read_u64(b: &[u8]) -> u64 {
    b.first_chunk().map_or(0, |w| u64::from_le_bytes(*w))
}

/// The last 8 bytes as a word (0 if fewer): `last_chunk` keeps the
/// slice's bounds in view, where `read_u64(&b[n - 8..])` leaves a check.
#[inline]
pub(crate) fn read_last_u64(b: &[u8]) -> u64 {
    b.last_chunk().map_or(0, |w| u64::from_le_bytes(*w))
}

/// The last 16 bytes as two words (0 if fewer).
#[inline]
pub(crate) fn read_last_16(b: &[u8]) -> (u64, u64) {
    b.last_chunk::<16>().map_or((0, 0), |w| (read_u64(w), read_last_u64(w)))
}

/// The last 4 bytes as a word (0 if fewer).
#[inline]
pub(crate) fn read_last_u32(b: &[u8]) -> u32 {
    b.last_chunk().map_or(0, |w| u32::from_le_bytes(*w))
}

#[inline]
pub(crate) fn read_u32(b: &[u8]) -> u32 {
    b.first_chunk().map_or(0, |w| u32::from_le_bytes(*w))
}

#[cfg(test)]
/// The test-only switch that gives every label set of this thread's
/// lookups one hash, so that every index word has the same tag and home:
/// identity is then decided by the table's value comparison alone.
pub(crate) mod collide {
    use std::cell::Cell;

    /// The one hash while the switch is on.
    pub(crate) const HASH: u64 = 0x5bd1_e995_0000_0000;

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
    }

    pub(crate) fn on() -> bool {
        ON.with(Cell::get)
    }

    /// Runs `f` with the switch on for this thread.
    pub(crate) fn during<R>(f: impl FnOnce() -> R) -> R {
        struct Off;
        impl Drop for Off {
            fn drop(&mut self) {
                ON.with(|on| on.set(false));
            }
        }
        ON.with(|on| on.set(true));
        let _off = Off;
        f()
    }
}
