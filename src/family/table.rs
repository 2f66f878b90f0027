//! The series table of a family: a hash index from label values to
//! series, plus the series in first-seen order, and the hash itself.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
/// One series: its value and its rendered, escaped label block.
pub(super) struct Series<C> {
    pub(super) cell: C,
    pub(super) labels: Box<str>,
}

/// The series of one family: a hash index for lookups and a list in
/// first-seen order for deterministic rendering.
pub(super) struct Table<C> {
    index: HashMap<u64, Slot<C>, BuildHasherDefault<PassThrough>>,
    pub(super) order: Vec<Arc<Series<C>>>,
}

/// Series whose label hashes are equal; `Many` only on a 64-bit collision.
enum Slot<C> {
    One(Arc<Series<C>>),
    Many(Vec<Arc<Series<C>>>),
}

impl<C> Table<C> {
    pub(super) const fn new() -> Self {
        Table {
            index: HashMap::with_hasher(BuildHasherDefault::new()),
            order: Vec::new(),
        }
    }

    pub(super) fn find(&self, hash: u64, matches: impl Fn(&str) -> bool) -> Option<&Arc<Series<C>>> {
        match self.index.get(&hash)? {
            Slot::One(series) => matches(&series.labels).then_some(series),
            Slot::Many(list) => list.iter().find(|s| matches(&s.labels)),
        }
    }

    pub(super) fn add(&mut self, hash: u64, series: Arc<Series<C>>) {
        self.order.push(Arc::clone(&series));
        match self.index.remove(&hash) {
            None => self.index.insert(hash, Slot::One(series)),
            Some(Slot::One(other)) => self.index.insert(hash, Slot::Many(vec![other, series])),
            Some(Slot::Many(mut list)) => {
                list.push(series);
                self.index.insert(hash, Slot::Many(list))
            }
        };
    }

    pub(super) fn remove(&mut self, hash: u64, matches: impl Fn(&str) -> bool) -> Option<Arc<Series<C>>> {
        let removed = match self.index.remove(&hash)? {
            Slot::One(series) if matches(&series.labels) => series,
            Slot::One(other) => {
                self.index.insert(hash, Slot::One(other));
                return None;
            }
            Slot::Many(mut list) => {
                let at = list.iter().position(|s| matches(&s.labels));
                let removed = at.map(|at| list.remove(at));
                self.index.insert(hash, Slot::Many(list));
                removed?
            }
        };
        self.order.retain(|s| !Arc::ptr_eq(s, &removed));
        Some(removed)
    }
}

/// The index keys are already hashes; hashing them again would only cost.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0, u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Hashes label values, each prefixed by its length so that `("ab", "c")`
/// and `("a", "bc")` differ. Identity is still decided by full comparison;
/// the hash only picks the slot.
pub(super) fn hash_values(values: &[&str]) -> u64 {
    let mut h = 0x243f_6a88_85a3_08d3_u64;
    for v in values {
        let bytes = v.as_bytes();
        h = mix(h, bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            h = mix(h, read_u64(chunk));
        }
        h = mix(h, tail(bytes, chunks.remainder().len()));
    }
    // Spread the high bits into the low ones the map indexes by.
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

/// The last `rem` (< 8) bytes of `bytes` as one word, without a variable
/// length copy: two overlapping reads, as wyhash does. The length is mixed
/// in separately, so the overlap cannot make two values collide.
#[inline]
fn tail(bytes: &[u8], rem: usize) -> u64 {
    let n = bytes.len();
    if rem == 0 {
        0
    } else if n >= 8 {
        read_u64(&bytes[n - 8..])
    } else if rem >= 4 {
        u64::from(read_u32(&bytes[..4])) | u64::from(read_u32(&bytes[n - 4..])) << 32
    } else {
        u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16
    }
}

#[inline]
fn read_u64(b: &[u8]) -> u64 {
    b.first_chunk().map_or(0, |w| u64::from_le_bytes(*w))
}

#[inline]
fn read_u32(b: &[u8]) -> u32 {
    b.first_chunk().map_or(0, |w| u32::from_le_bytes(*w))
}

#[inline]
fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95)
}
