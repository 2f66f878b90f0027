//! A per-thread cache of recent label lookups, in front of the family
//! table's read lock.
//!
//! Why: a lookup that goes to the table takes the read lock (two atomic
//! read-modify-writes on a line every thread shares), probes the index and
//! compares the stored values in the page text, a few dependent loads in a
//! large family; most programs look up the same few label sets over and
//! over. A hit here compares the values with an entry of this thread and
//! clones the handle; it touches nothing shared but the family's epoch and
//! the page's reference count, and computes no hash: the set is picked by
//! a cheap mix of each value's length and first and last 16 bytes.
//!
//! Exact, never by mix alone: an entry holds the looked-up values
//! themselves, each as its length, the two overlapping words that cover
//! its first 16 bytes ([`words_up_to_16`], computed once for the mix and
//! the comparison) and, for a longer value, its remaining bytes in one
//! buffer per entry (up to [`MAX_TAIL`] in all, so route patterns of any
//! usual length are cached); a hit compares all of it. The mix only picks
//! the set and skips entries that cannot match (the test-only `collide`
//! switch makes every mix one value, and the cache must still tell label
//! sets apart). Label sets with more than [`MAX_VALUES`] values or longer
//! tails go to the table. Until issue 19 entries took values of at most 16
//! bytes only, which left out most routes (`/api/v1/resource0` is 17
//! bytes).
//!
//! Invalidation: every family has an epoch, a number no other family has
//! had (0, never cached, until its first cached lookup). Removing a series
//! gives the family a new epoch under the write lock, so no entry made
//! before matches again; an entry stores the epoch read under the read lock
//! its lookup held. Nothing else changes what a label set maps to: inserts
//! add label sets (misses are not cached), compaction moves pages, not the
//! cells handles hold.
//!
//! Cost: per thread and cell type that looks labels up, one allocation of
//! [`SETS`] x [`WAYS`] entries of 128 bytes and their mixes (about 17 KiB)
//! on its first cached lookup, and per entry a buffer of value tails,
//! grown when a longer label set replaces a shorter one (at most
//! [`MAX_TAIL`] bytes each). One lookup in [`ADMIT`] that misses fills an
//! entry; when a thread's lookups mostly miss, the family whose lookup
//! ended that window skips the cache for a while (see [`SKIP`]; measured
//! before issue 19, with short values only, a thread cycling
//! through 2000 label sets, more than fit, pays 1.15-1.18x the lookup of a
//! build without the cache, 1.38x without the skipping), while other
//! families keep theirs. Each entry holds its page's cells, so a removed
//! series' page (or a dropped family's) stays allocated until the entry is
//! replaced or the thread ends.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::thread::LocalKey;

use super::{Cell, Child};
use crate::counter::{CounterCell, FloatCounterCell};
use crate::gauge::{FloatGaugeCell, GaugeCell};
use crate::hash::{hash_values, hash_with_heads, read_last_16, read_last_u64, read_u64, words_up_to_16};
use crate::histogram::HistogramCell;
use crate::native::NativeHistogramCell;
use crate::sharded::ShardedCounterCell;

/// Sets of the cache, picked by the top bits of a key's mix.
const SETS: usize = 32;
/// Entries per set, replaced in turn.
const WAYS: usize = 4;
/// Most label values a cached lookup has.
const MAX_VALUES: usize = 4;
/// Most bytes past the first 16 of each value that an entry stores: three
/// values of 80 bytes fit; a longer label set goes to the table, so that a
/// thread's cache holds at most [`SETS`] x [`WAYS`] x this in value tails.
const MAX_TAIL: usize = 192;
/// One in this many lookups that miss is cached: a label set looked up
/// often gets in after a few misses, while a program cycling through more
/// label sets than the cache holds pays for filling it only on every
/// fourth lookup.
const ADMIT: u32 = 4;
/// Lookups over which a thread's hit rate is judged.
const WINDOW: u32 = 1024;
/// Lookups of one family that skip the cache after a window with fewer
/// than one hit in four: a thread cycling through more label sets than the
/// cache holds then pays for it about once in nine windows, not on every
/// lookup.
const SKIP: u32 = 8 * WINDOW;

/// One thread's cache for families of one cell type.
pub(crate) type Lookups<C> = RefCell<Cache<C>>;

/// The entries of one thread's cache, allocated on first use.
pub struct Cache<C> {
    sets: Option<Box<Sets<C>>>,
    /// Lookups that missed, to admit one in [`ADMIT`] and to pick the way
    /// it replaces.
    misses: u32,
    /// Lookups and hits in the current window.
    looked: u32,
    hits: u32,
    /// Lookups of the family at epoch `skip_epoch` still to skip the cache.
    skip: u32,
    skip_epoch: u64,
    /// Hits so far, for tests.
    #[cfg(test)]
    served: u64,
}

impl<C> Cache<C> {
    /// No entries yet.
    pub const NONE: Self = Cache {
        sets: None,
        misses: 0,
        looked: 0,
        hits: 0,
        skip: 0,
        skip_epoch: 0,
        #[cfg(test)]
        served: 0,
    };

    /// Counts a lookup in the family at `epoch`; after a window of mostly
    /// misses, that family's lookups skip the cache for a while.
    fn count(&mut self, hit: bool, epoch: u64) {
        self.looked += 1;
        self.hits += u32::from(hit);
        #[cfg(test)]
        {
            self.served += u64::from(hit);
        }
        if self.looked == WINDOW {
            if self.hits < WINDOW / 4 {
                (self.skip, self.skip_epoch) = (SKIP, epoch);
            }
            (self.looked, self.hits) = (0, 0);
        }
    }
}

/// A series type with a thread-local cache of its own (a `thread_local!`
/// cannot be generic, so each cell type names its own). Sealed, through
/// [`Cell`](super::Cell).
pub trait Cached: Sized + 'static {
    /// This thread's cache of label lookups in families of this type.
    fn lookups() -> &'static LocalKey<Lookups<Self>>;
}

macro_rules! cached {
    ($($cell:ty),*) => {
        $(
            impl Cached for $cell {
                fn lookups() -> &'static LocalKey<Lookups<$cell>> {
                    thread_local! {
                        static LOOKUPS: Lookups<$cell> = const { RefCell::new(Cache::NONE) };
                    }
                    &LOOKUPS
                }
            }
        )*
    };
}

cached!(
    CounterCell,
    FloatCounterCell,
    GaugeCell,
    FloatGaugeCell,
    ShardedCounterCell,
    HistogramCell,
    NativeHistogramCell
);

/// The cache's entries, in arrays of fixed size: a set index from the top
/// bits of a mix is in bounds, so a hit indexes without checks.
struct Sets<C> {
    /// Each entry's mix, apart from the entries so that a miss reads one
    /// cache line of them, not four entries.
    mixes: [[u64; WAYS]; SETS],
    entries: [[Entry<C>; WAYS]; SETS],
}

impl<C> Sets<C> {
    /// Out of line: the 16 KiB value must not give the lookup a frame of
    /// that size.
    #[cold]
    #[inline(never)]
    fn new() -> Box<Self> {
        Box::new(Sets {
            mixes: [[0; WAYS]; SETS],
            entries: [Entry::EMPTY_SET; SETS],
        })
    }
}

/// A cached lookup: the family's epoch, the values, and the series found.
/// Two cache lines: the first holds the epoch, the lengths and the first
/// three values' heads, which decide most comparisons.
#[repr(C, align(64))]
pub(crate) struct Entry<C> {
    epoch: u64,
    /// Each value's length in 16 bits, value `i` at bit `16 * i`; 0 past
    /// the family's `N` values.
    lens: u64,
    /// Each value's first 16 bytes as [`words_up_to_16`]; zero past `N`.
    heads: [(u64, u64); MAX_VALUES],
    /// The bytes past the first 16 of each longer value, in order; the
    /// buffer is kept when the entry is replaced, so it grows to the
    /// longest label set the entry held and no more than [`MAX_TAIL`].
    tails: Vec<u8>,
    cells: Option<Arc<[C]>>,
    slot: usize,
}

impl<C> Entry<C> {
    const EMPTY: Self = Entry {
        epoch: 0,
        lens: 0,
        heads: [(0, 0); MAX_VALUES],
        tails: Vec::new(),
        cells: None,
        slot: 0,
    };
    const EMPTY_SET: [Self; WAYS] = [Self::EMPTY; WAYS];
}

/// Label values being looked up, as the cache compares them.
pub(super) struct Key<'a, const N: usize> {
    values: &'a [&'a str; N],
    /// Each value's length and first 16 bytes as [`words_up_to_16`], laid
    /// out as an entry holds them (zero past `N`). The lengths are packed
    /// into one word in a register and stored once: stored as four `u16`s
    /// and compared as one word, the load could not be forwarded from the
    /// stores, which cost a hit more time than the instructions saved.
    lens: u64,
    heads: [(u64, u64); MAX_VALUES],
    /// Bytes past the first 16 of each value, in all; the label set is
    /// cached only if at most [`MAX_TAIL`] and `N <= MAX_VALUES`.
    tail: usize,
    /// A cheap mix of each value's length, first 16 and last 16 bytes:
    /// picks the cache set and tells most entries apart before their
    /// values are compared. Not the table's hash (a multiply per 16 bytes,
    /// only needed on a miss); values that differ only in the middle of a
    /// value of more than 32 bytes share a mix, and the comparison tells
    /// them apart.
    mix: u64,
    /// Whether `heads`, `tail` and `mix` are computed: not for a lookup
    /// whose family skips the cache (see [`SKIP`]), which would not use them.
    mixed: bool,
}

impl<'a, const N: usize> Key<'a, N> {
    #[inline]
    pub(super) fn new(values: &'a [&'a str; N]) -> Self {
        Key {
            values,
            lens: 0,
            heads: [(0, 0); MAX_VALUES],
            tail: 0,
            mix: 0,
            mixed: false,
        }
    }

    /// Computes the heads, the tail length and the mix.
    #[inline]
    pub(super) fn mix_in(&mut self) {
        let (mut mix, mut tail, mut lens) = (0u64, 0, 0u64);
        for ((value, head), shift) in self.values.iter().zip(&mut self.heads).zip((0..).step_by(16)) {
            let bytes = value.as_bytes();
            let n = bytes.len();
            // Cut to 16 bits: a value of 2^16 bytes or more makes the key's
            // tail too long to cache, so its lengths are never compared.
            lens |= (n as u64 & 0xffff) << shift;
            let last = if n <= 16 {
                *head = words_up_to_16(bytes);
                0
            } else {
                *head = bytes
                    .first_chunk::<16>()
                    .map_or((0, 0), |w| (read_u64(w), read_last_u64(w)));
                tail += n - 16;
                let (before, last) = read_last_16(bytes);
                last ^ before.rotate_left(17)
            };
            // Not a hash anyone relies on: a poor mix only costs misses.
            mix = (mix ^ head.0 ^ head.1.rotate_left(29) ^ last.rotate_left(43) ^ n as u64)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        #[cfg(test)]
        if crate::hash::collide::on() {
            mix = crate::hash::collide::HASH;
        }
        (self.mix, self.tail, self.lens, self.mixed) = (mix, tail, lens, true);
    }

    /// Whether this label set can be cached (known once mixed).
    #[inline]
    fn cacheable(&self) -> bool {
        N <= MAX_VALUES && self.mixed && self.tail <= MAX_TAIL
    }

    /// The table's hash of the values ([`hash_values`]), for a lookup that
    /// misses the cache; from the heads already at hand for values of up to
    /// 16 bytes.
    #[inline]
    pub(super) fn hash(&self) -> u64 {
        match self.heads.get(..N) {
            // Mixed only when `N <= MAX_VALUES`.
            Some(heads) if self.mixed => hash_with_heads(self.values, heads),
            _ => hash_values(self.values),
        }
    }

    /// The key's set.
    fn set(&self) -> usize {
        // The top five bits pick one of the 32 sets.
        usize::try_from(self.mix >> 59).unwrap_or(0)
    }

    /// Whether `entry`, whose mix is the key's, was made for exactly these
    /// values in a family at `epoch`: lengths and first 16 bytes from the
    /// words, the rest of longer values byte for byte.
    #[inline]
    fn is_in<C>(&self, entry: &Entry<C>, epoch: u64) -> bool {
        // Without a branch per value: the words differ or they do not.
        let differ = (self.heads.iter().zip(&entry.heads).take(N)).fold(0, |differ, (key, stored)| {
            differ | (key.0 ^ stored.0) | (key.1 ^ stored.1)
        });
        if entry.epoch != epoch || entry.lens != self.lens || differ != 0 || entry.tails.len() != self.tail {
            return false;
        }
        if self.tail == 0 {
            return true;
        }
        let mut rest = entry.tails.as_slice();
        for value in self.values {
            if let Some(past) = value.as_bytes().get(16..) {
                let Some((stored, tail)) = rest.split_at_checked(past.len()) else {
                    return false;
                };
                if stored != past {
                    return false;
                }
                rest = tail;
            }
        }
        true
    }
}

/// A number no family has had.
pub(super) fn next_epoch() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Relaxed)
}

/// The handle this thread found for `key` in a family at `epoch`, or
/// whether to [`put`] what the table finds (one miss in [`ADMIT`]).
#[inline]
pub(super) fn get<C: Cell, const N: usize>(epoch: u64, key: &mut Key<'_, N>) -> Result<Child<C>, bool> {
    lookup(epoch, key, Child::new)
}

/// As [`get`], with `found` called on the page and slot of the series
/// found (with this thread's cache borrowed: a lookup inside `found` goes
/// to the table) instead of making a handle of them.
#[inline]
pub(super) fn lookup<C: Cell, const N: usize, T>(
    epoch: u64,
    key: &mut Key<'_, N>,
    found: impl FnOnce(&Arc<[C]>, usize) -> T,
) -> Result<T, bool> {
    if N > MAX_VALUES {
        return Err(false);
    }
    if epoch == 0 {
        // The family's first lookup: a cacheable one takes an epoch.
        key.mix_in();
        return Err(key.cacheable());
    }
    with_lookups::<C, _>(|cache| {
        if cache.skip > 0 && cache.skip_epoch == epoch {
            cache.skip -= 1;
            return Err(false);
        }
        key.mix_in();
        if !key.cacheable() {
            return Err(false);
        }
        let child = cache.sets.as_deref().and_then(|sets| {
            let set = key.set();
            let (mixes, entries) = (sets.mixes.get(set)?, sets.entries.get(set)?);
            let (_, entry) =
                (mixes.iter().zip(entries)).find(|(mix, entry)| **mix == key.mix && key.is_in(entry, epoch))?;
            Some(found(entry.cells.as_ref()?, entry.slot))
        });
        cache.count(child.is_some(), epoch);
        child.ok_or_else(|| {
            cache.misses = cache.misses.wrapping_add(1);
            cache.misses % ADMIT == 0
        })
    })
    .unwrap_or(Err(false))
}

/// Whether this thread's lookups in the family at `epoch` skip the cache,
/// and how many lookups of this thread's families of type `C` it served.
#[cfg(test)]
pub(super) fn state<C: Cell>(epoch: u64) -> (bool, u64) {
    with_lookups::<C, _>(|cache| (cache.skip > 0 && cache.skip_epoch == epoch, cache.served)).unwrap_or_default()
}

/// Remembers that `key` found `child` in a family at `epoch`.
pub(super) fn put<C: Cell, const N: usize>(epoch: u64, key: &Key<'_, N>, child: &Child<C>) {
    if !key.cacheable() || epoch == 0 {
        return;
    }
    with_lookups::<C, _>(|cache| {
        let sets = cache.sets.get_or_insert_with(Sets::new);
        // Ways are replaced in turn across sets: close enough to the least
        // recently added, without moving entries.
        let way = (cache.misses / ADMIT) as usize % WAYS;
        let set = key.set();
        let (Some(mix), Some(entry)) = (
            sets.mixes.get_mut(set).and_then(|m| m.get_mut(way)),
            sets.entries.get_mut(set).and_then(|e| e.get_mut(way)),
        ) else {
            return;
        };
        *mix = key.mix;
        entry.epoch = epoch;
        // Zero past `N`, as the key has them.
        (entry.lens, entry.heads) = (key.lens, key.heads);
        entry.tails.clear();
        for value in key.values {
            if let Some(past) = value.as_bytes().get(16..) {
                entry.tails.extend_from_slice(past);
            }
        }
        entry.cells = Some(Arc::clone(&child.cells));
        entry.slot = child.slot;
    });
}

/// Runs `f` on this thread's cache for cell type `C`; `None` when they
/// are gone (a lookup from another thread-local's destructor at thread
/// exit) or in use (a lookup inside [`Family::apply`](super::Family::apply)'s
/// closure), and the lookup then goes to the table.
#[inline]
fn with_lookups<C: Cell, R>(f: impl FnOnce(&mut Cache<C>) -> R) -> Option<R> {
    let lookups: &'static LocalKey<Lookups<C>> = C::lookups();
    lookups
        .try_with(|cell| cell.try_borrow_mut().ok().map(|mut cache| f(&mut cache)))
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size the module docs give for a thread's cache (64-bit).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_entry_is_two_cache_lines() {
        assert_eq!(std::mem::size_of::<Entry<CounterCell>>(), 128);
        assert_eq!(std::mem::size_of::<Entry<HistogramCell>>(), 128);
    }

    /// A window of mostly misses turns the cache off for [`SKIP`] lookups
    /// of the family that ended it; a window with one hit in four or more
    /// keeps it on.
    #[test]
    fn mostly_missing_threads_skip_the_cache() {
        let mut cache: Cache<CounterCell> = Cache::NONE;
        for i in 0..WINDOW {
            cache.count(i % 4 == 0, 7);
        }
        assert_eq!(cache.skip, 0, "one hit in four keeps it");
        for i in 0..WINDOW {
            cache.count(i % 5 == 0, 7);
        }
        assert_eq!(
            (cache.skip, cache.skip_epoch),
            (SKIP, 7),
            "one hit in five turns it off"
        );
        assert_eq!((cache.looked, cache.hits), (0, 0), "a new window");
    }

    /// Only the family that ended a window of misses skips the cache: a
    /// small hot family looked up alongside a large cold one keeps its hits.
    #[test]
    fn a_skipping_family_leaves_the_others_cached() {
        static HOT: crate::CounterVec<1> = crate::CounterVec::new("skip_hot_total", "Hot.", ["v"]);
        static COLD: crate::CounterVec<1> = crate::CounterVec::new("skip_cold_total", "Cold.", ["v"]);
        let cold: Vec<String> = (0..4000).map(|i| i.to_string()).collect();
        for round in 0..4 {
            for v in &cold {
                COLD.with([v]).inc();
            }
            let (_, before) = HOT.cache_state();
            for _ in 0..64 {
                HOT.with(["hot"]).inc();
            }
            let (skipping, after) = HOT.cache_state();
            assert!(!skipping, "round {round}: the hot family skips the cache");
            // A few misses until the hot label set is admitted.
            assert!(after - before >= 56, "round {round}: {} hits of 64", after - before);
        }
        assert!(COLD.cache_state().0, "the cold family should skip the cache");
        assert_eq!(HOT.with(["hot"]).get(), 4 * 64);
    }
}
