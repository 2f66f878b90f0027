//! The series table of a family: series kept in pages of up to 64, an
//! open-addressing hash index over them (the label hash is `hash.rs`).
//!
//! Memory is the reason for the shape (the design budgets at most 64 bytes
//! of heap per series). A series owns no allocation of its own: its cell
//! lives in its page's one `Arc<[C]>` of cells, its escaped label values in
//! its page's one text, with four bytes per value for where the value ends,
//! and the index holds one 4-byte word per series at a load factor between
//! 3/8 and 3/4 (5.3 to 10.7 bytes per series). Pages grow 1, 2, 4, ... up
//! to 64 cells, so a small family allocates little.
//!
//! An index word is a 7-bit tag of the hash and the series' position plus
//! one (25 bits); the probe starts from other bits of the hash. The word
//! does not keep enough of the hash to find its probe start again, so
//! growing the index and shifting words back after a removal hash the
//! stored values again (both rare next to lookups; issue 19 halved the
//! index, from 8-byte words, for heap and cache lines per lookup).
//!
//! A [`Child`](super::Child) handle holds its page's cells, so cells outlive
//! the table's interest in them. A removed series' slot is therefore never
//! handed out again; a full page whose every series is removed is dropped
//! from the table (its cells live on while a handle holds them), and page
//! numbers are compacted once most pages are gone, so label churn with
//! `remove` does not grow the table.
//!
//! Identity is exact whatever the hash: the index only narrows a lookup to
//! the series whose 7-bit tag matches (one probed word in 128 compares
//! values needlessly), and `holds` compares the values.
//! Each page keeps a mask of the series whose values needed escaping; the
//! others' stored text is their raw text, so a plain comparison decides,
//! and only a series with a `\`, `"` or newline in some value compares the
//! looked-up values as escaped (plain equality would take raw `\n` for a
//! stored newline).
//!
//! Scrapes take a [`Snapshot`] under the read lock: the page `Arc`s, their
//! live-slot masks and a copy of the labels of the page still filling (at
//! most 64 series); a full page's labels are immutable and shared.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::hash::{hash_values, read_last_u32, read_last_u64, read_u32, read_u64};
use crate::text;

/// Most series per page: the live mask is one `u64`.
const PAGE: usize = 64;
const PAGE_AT: At = 64;
/// Most series a family holds, overflow series included. Dense, their
/// positions stay below [`AT_LIMIT`]; a table whose removals left its
/// series spread thinly over pages may refuse a series sooner (see
/// [`Table::insert`]).
pub(super) const MAX_SERIES: usize = 1 << 24;
/// The bits of an index word that hold a position plus one; the others
/// hold the hash's tag.
pub(super) const AT_MASK: u32 = (1 << 25) - 1;
/// Positions (`page * 64 + slot`) the index can hold: `at + 1` fits
/// [`AT_MASK`], 0 being the empty word.
const AT_LIMIT: usize = AT_MASK as usize;
// MAX_SERIES series in full pages, after the small first pages (1, 2, 4,
// ... 32 cells, each one page number), fit the positions.
const _: () = assert!((MAX_SERIES / PAGE + 8) * PAGE <= AT_LIMIT);

/// The escaped label values of a page's series: `N` per series, in slot
/// order, and where each value ends in `text`.
#[derive(Clone, Default)]
struct PageLabels {
    text: String,
    ends: Vec<u32>,
}

impl PageLabels {
    const fn new() -> Self {
        PageLabels {
            text: String::new(),
            ends: Vec::new(),
        }
    }

    /// Appends one series' values, escaped; `false` (and nothing appended)
    /// when the text would pass the 4 GiB the ends can address.
    fn push(&mut self, values: &[&str]) -> bool {
        let (text_len, ends_len) = (self.text.len(), self.ends.len());
        for value in values {
            text::push_escaped_label_value(&mut self.text, value);
            let Ok(end) = u32::try_from(self.text.len()) else {
                self.text.truncate(text_len);
                self.ends.truncate(ends_len);
                return false;
            };
            self.ends.push(end);
        }
        true
    }
}

/// Where the values of the series in `slot` start in a page's text, and
/// where each of its `n` values ends, from the page's `ends`.
fn record(ends: &[u32], slot: usize, n: usize) -> Option<(usize, &[u32])> {
    let first = slot * n;
    let start = match first.checked_sub(1) {
        Some(before) => *ends.get(before)? as usize,
        None => 0,
    };
    Some((start, ends.get(first..first + n)?))
}

/// A full page's labels, immutable and shared with scrapes: the text and
/// the ends each one allocation that the page points to directly, so that a
/// lookup in a family larger than the caches goes from the page to the
/// value ends and the text without a header in between (one cache miss
/// fewer than an `Arc` of both).
#[derive(Clone)]
struct Sealed {
    text: Arc<str>,
    ends: Arc<[u32]>,
}

impl Sealed {
    fn labels(&self) -> (&str, &[u32]) {
        (&self.text, &self.ends)
    }
}

impl PageLabels {
    fn labels(&self) -> (&str, &[u32]) {
        (&self.text, &self.ends)
    }
}

/// One page: the cells, the labels once the page is full (before that they
/// are the table's `open` labels), which slots hold live series, and which
/// slots' stored values differ from the raw ones (some value had a `\`,
/// `"` or newline to escape).
///
/// 64 bytes, not aligned to a cache line: `#[repr(align(64))]` cut a
/// 100 000-series lookup's D1 misses from 10.5 to 9.6 (cachegrind; the
/// page list is an L2 hit either way) but timed 1-7 % slower than without
/// in six interleaved runs (issue 19), so it was left out.
struct Page<C> {
    cells: Arc<[C]>,
    sealed: Option<Sealed>,
    live: u64,
    escaped: u64,
}

/// The labels of a page that has none yet.
static NO_LABELS: PageLabels = PageLabels::new();

/// Where a series is: page number times 64 plus slot.
type At = u32;

/// The series of one family.
pub(super) struct Table<C, const N: usize> {
    /// In first-seen order; `None` for a full page with no live series.
    pages: Vec<Option<Page<C>>>,
    /// How many entries of `pages` are `None`.
    dead_pages: usize,
    /// The labels of the last page while it still has free slots; shared
    /// with scrapes' snapshots, copied on write only if one still holds it.
    open: Option<Arc<PageLabels>>,
    /// Words `tag(hash) | (at + 1)`; 0 is an empty slot. The length is 0
    /// or a power of two; linear probing from `home(hash) & mask`.
    index: Vec<u32>,
    /// Live series.
    len: usize,
}

impl<C, const N: usize> Table<C, N> {
    pub(super) const fn new() -> Self {
        Table {
            pages: Vec::new(),
            dead_pages: 0,
            open: None,
            index: Vec::new(),
            len: 0,
        }
    }

    /// Live series.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The cells and slot of the series with exactly these values.
    pub(super) fn find(&self, hash: u64, values: &[&str; N]) -> Option<(&Arc<[C]>, usize)> {
        let (_, at, page) = self.position(hash, values)?;
        Some((&page.cells, at as usize % PAGE))
    }

    /// Adds a series for `values`, which must not be in the table, with
    /// cells made by `create` if a new page is needed; `hash` is
    /// [`hash_values`] of `values` (growth and removal hash stored values
    /// again). `None` when the values cannot be stored: over 4 GiB of text
    /// in one page, [`MAX_SERIES`] reached, or no position left below
    /// [`AT_LIMIT`] even after compaction (2^19 pages each holding a
    /// series, only after removals left most slots empty).
    pub(super) fn insert(
        &mut self,
        hash: u64,
        values: &[&str; N],
        create: impl Fn() -> C,
    ) -> Option<(&Arc<[C]>, usize)> {
        debug_assert_eq!(hash, hash_values(values), "the table's hash");
        if self.len >= MAX_SERIES {
            return None;
        }
        let used = self.open().ends.len() / N.max(1);
        let full = self
            .pages
            .last()
            .is_none_or(|last| last.as_ref().is_none_or(|p| used >= p.cells.len()));
        if full {
            self.seal_last();
            if (self.pages.len() + 1) * PAGE > AT_LIMIT && self.dead_pages > 0 {
                self.compact();
            }
            if (self.pages.len() + 1) * PAGE > AT_LIMIT {
                return None;
            }
            let size = (self.len + 1).next_power_of_two().min(PAGE);
            let cells: Arc<[C]> = (0..size).map(|_| create()).collect();
            self.pages.push(Some(Page {
                cells,
                sealed: None,
                live: 0,
                escaped: 0,
            }));
        }
        let slot = if full { 0 } else { used };
        let open = Arc::make_mut(self.open.get_or_insert_with(Arc::default));
        let text_before = open.text.len();
        if N == 0 {
            // Nothing to store, but a slot must still be counted as used.
            open.ends.push(0);
        } else if !open.push(values) {
            return None;
        }
        // Escaping lengthens exactly the values it changes.
        let escaped = open.text.len() - text_before != values.iter().map(|v| v.len()).sum::<usize>();
        let page_no = self.pages.len() - 1;
        let at = At::try_from(page_no * PAGE + slot).ok()?;
        let page = self.pages.last_mut()?.as_mut()?;
        page.live |= 1 << slot;
        page.escaped |= u64::from(escaped) << slot;
        self.len += 1;
        if self.len * 4 > self.index.len() * 3 {
            // Indexes every live series, this one included.
            self.grow_index();
        } else {
            self.put(hash, at);
        }
        let page = self.page(at)?;
        Some((&page.cells, slot))
    }

    /// Removes the series with exactly these values; whether it was there.
    pub(super) fn remove(&mut self, hash: u64, values: &[&str; N]) -> bool {
        let Some((position, at, _)) = self.position(hash, values) else {
            return false;
        };
        self.delete(position);
        self.len -= 1;
        let page_no = at as usize / PAGE;
        let is_last = page_no + 1 == self.pages.len();
        if let Some(Some(page)) = self.pages.get_mut(page_no) {
            page.live &= !(1 << (at as usize % PAGE));
            // The last page may still be filling; every other one is full.
            if page.live == 0 && (!is_last || page.sealed.is_some()) {
                self.pages[page_no] = None;
                self.dead_pages += 1;
            }
        }
        if self.dead_pages > 8 && self.dead_pages * 2 > self.pages.len() {
            self.compact();
        }
        true
    }

    /// Pages the table still holds, and entries of its page list (dropped
    /// pages leave a `None` until compaction), for tests of the memory bound.
    #[cfg(test)]
    pub(super) fn page_counts(&self) -> (usize, usize) {
        (self.pages.iter().flatten().count(), self.pages.len())
    }

    /// What a scrape needs, into a new buffer (see [`SnapshotBuffer`]).
    #[cfg(test)]
    pub(super) fn snapshot(&self) -> Snapshot<C, N> {
        self.snapshot_into(Vec::new())
    }

    /// What a scrape needs, taken under the read lock into `pages`
    /// (emptied first).
    fn snapshot_into(&self, mut pages: Vec<PageSnapshot<C>>) -> Snapshot<C, N> {
        pages.clear();
        pages.reserve(self.pages.len() - self.dead_pages);
        pages.extend(
            self.pages
                .iter()
                .flatten()
                .map(|page| (Arc::clone(&page.cells), page.sealed.clone(), page.live)),
        );
        Snapshot {
            pages,
            open: self.open.clone(),
        }
    }

    fn open(&self) -> &PageLabels {
        self.open.as_deref().unwrap_or(&NO_LABELS)
    }

    fn page(&self, at: At) -> Option<&Page<C>> {
        self.pages.get(at as usize / PAGE)?.as_ref()
    }

    /// The index position and location of the series with these values.
    fn position(&self, hash: u64, values: &[&str; N]) -> Option<(usize, At, &Page<C>)> {
        let mask = self.index.len().checked_sub(1)?;
        let tag = tag(hash);
        let mut i = home(hash) & mask;
        loop {
            // The index is never more than 3/4 full, so an empty word ends
            // every probe.
            let word = *self.index.get(i)?;
            if word == 0 {
                return None;
            }
            if word & !AT_MASK == tag {
                let at = at_of(word);
                if let Some(page) = self.page(at)
                    && self.holds(page, at, values)
                {
                    return Some((i, at, page));
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether the series at `at` has exactly these values: every stored
    /// (escaped) value is the given one, escaped. A series none of whose
    /// values needed escaping stored them as they are, so plain equality
    /// decides; otherwise the given values are compared as escaped, since
    /// plain equality would take raw `\n` for a stored newline.
    fn holds(&self, page: &Page<C>, at: At, values: &[&str; N]) -> bool {
        let (text, all_ends) = match &page.sealed {
            Some(sealed) => sealed.labels(),
            None => self.open().labels(),
        };
        let (text, first) = (text.as_bytes(), at as usize % PAGE * N);
        let Some(ends) = all_ends.get(first..first + N) else {
            return false;
        };
        let mut start = match first.checked_sub(1).and_then(|before| all_ends.get(before)) {
            Some(end) => *end as usize,
            None => 0,
        };
        let plain = page.escaped >> (at as usize % PAGE) & 1 == 0;
        for (end, value) in ends.iter().zip(values) {
            let Some(stored) = text.get(start..*end as usize) else {
                return false;
            };
            let value = value.as_bytes();
            let same = if plain {
                same_bytes(stored, value)
            } else {
                is_escaped(stored, value)
            };
            if !same {
                return false;
            }
            start = *end as usize;
        }
        true
    }

    /// The hash the series at `at` was inserted with, from its stored
    /// values (unescaped if they needed escaping).
    fn hash_at(&self, at: At) -> u64 {
        let Some(page) = self.page(at) else {
            return 0;
        };
        let (text, all_ends) = match &page.sealed {
            Some(sealed) => sealed.labels(),
            None => self.open().labels(),
        };
        let slot = at as usize % PAGE;
        let Some((mut start, ends)) = record(all_ends, slot, N) else {
            return 0;
        };
        let mut values = [""; N];
        for (value, end) in values.iter_mut().zip(ends) {
            *value = text.get(start..*end as usize).unwrap_or_default();
            start = *end as usize;
        }
        if page.escaped >> slot & 1 == 0 {
            return hash_values(&values);
        }
        let raw: Vec<String> = values.iter().map(|v| unescape(v)).collect();
        let raw: Vec<&str> = raw.iter().map(String::as_str).collect();
        hash_values(&raw)
    }

    fn put(&mut self, hash: u64, at: At) {
        debug_assert!((at as usize) < AT_LIMIT, "position {at} fits a word");
        let word = tag(hash) | (at + 1);
        let mask = self.index.len() - 1;
        let mut i = home(hash) & mask;
        while self.index[i] != 0 {
            i = (i + 1) & mask;
        }
        self.index[i] = word;
    }

    /// Empties index position `i`, shifting later words of the same probe
    /// run back so that no probe stops early (no tombstones).
    fn delete(&mut self, mut hole: usize) {
        let mask = self.index.len() - 1;
        self.index[hole] = 0;
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let word = self.index[i];
            if word == 0 {
                return;
            }
            let start = home(self.hash_at(at_of(word))) & mask;
            // The word may move to the hole unless its probe starts
            // cyclically in (hole, i].
            let stays = if hole <= i {
                hole < start && start <= i
            } else {
                hole < start || start <= i
            };
            if !stays {
                self.index[hole] = word;
                self.index[i] = 0;
                hole = i;
            }
        }
    }

    /// Doubles the index and puts every live series in it, from the pages
    /// (a word does not hold its probe start).
    fn grow_index(&mut self) {
        let size = (self.index.len() * 2).max(8);
        self.index = vec![0; size];
        for page_no in 0..self.pages.len() {
            let Some(Some(page)) = self.pages.get(page_no) else {
                continue;
            };
            let mut live = page.live;
            while live != 0 {
                let slot = live.trailing_zeros() as usize;
                live &= live - 1;
                let Ok(at) = At::try_from(page_no * PAGE + slot) else {
                    continue;
                };
                let hash = self.hash_at(at);
                self.put(hash, at);
            }
        }
    }

    /// Turns the open labels into the last page's shared, immutable ones.
    fn seal_last(&mut self) {
        let open = self.open.take().unwrap_or_default();
        if let Some(slot) = self.pages.last_mut()
            && let Some(last) = slot
        {
            if last.live == 0 {
                // Every series of the full page was removed while it filled.
                *slot = None;
                self.dead_pages += 1;
            } else {
                // Copied once, to the exact size (they grew by doubling);
                // a full page keeps them as they are from now on.
                last.sealed = Some(Sealed {
                    text: Arc::from(open.text.as_str()),
                    ends: Arc::from(open.ends.as_slice()),
                });
            }
        }
    }

    /// Renumbers the pages without the dropped ones and rewrites the index.
    fn compact(&mut self) {
        let mut renumber = Vec::with_capacity(self.pages.len());
        let mut next = 0;
        for page in &self.pages {
            renumber.push(next);
            next += u32::from(page.is_some());
        }
        self.pages.retain(Option::is_some);
        self.dead_pages = 0;
        for word in self.index.iter_mut().filter(|w| **w != 0) {
            let at = at_of(*word);
            let page = renumber.get(at as usize / PAGE).copied().unwrap_or(0);
            let moved = page * PAGE_AT + at % PAGE_AT;
            *word = (*word & !AT_MASK) | (moved + 1);
        }
    }
}

/// Where a hash's probe starts before masking: its high half (an index of
/// at most 2^25 words uses bits 32 to 56).
pub(super) fn home(hash: u64) -> usize {
    usize::try_from(hash >> 32).unwrap_or(usize::MAX)
}

/// A hash's tag as an index word holds it: bits 25 to 31, apart from the
/// bits [`home`] uses, so that words in one probe run still differ by tag.
pub(super) fn tag(hash: u64) -> u32 {
    u32::try_from(hash & u64::from(!AT_MASK)).unwrap_or(0)
}

/// The location an index word holds.
pub(super) fn at_of(word: u32) -> At {
    (word & AT_MASK).wrapping_sub(1)
}

/// A stored value as it was given: the encoder's escapes undone.
fn unescape(stored: &str) -> String {
    let mut out = String::with_capacity(stored.len());
    let mut chars = stored.chars();
    while let Some(c) = chars.next() {
        out.push(match (c, chars.clone().next()) {
            ('\\', Some(next @ ('\\' | '"'))) => {
                chars.next();
                next
            }
            ('\\', Some('n')) => {
                chars.next();
                '\n'
            }
            _ => c,
        });
    }
    out
}

/// The live series of a family at one moment, readable without the lock.
pub(super) struct Snapshot<C, const N: usize> {
    pages: Vec<PageSnapshot<C>>,
    open: Option<Arc<PageLabels>>,
}

/// A page's cells, its labels once full, and its live mask.
type PageSnapshot<C> = (Arc<[C]>, Option<Sealed>, u64);

/// The buffer a family's snapshots are taken into, kept between scrapes:
/// once a family has been scraped, scraping it again allocates nothing
/// (`text/kept.rs` says why that matters; a snapshot `Vec` grown 4, 8, 16
/// pages per scrape was the case that showed it, issue 19). Per family,
/// not per thread as the encoders' buffers, since its type is the
/// family's. Two scrapes at once: the second takes a fresh buffer, and
/// the larger one is kept. The buffer holds no handle between scrapes
/// (about one byte per series of capacity).
pub(super) struct SnapshotBuffer<C>(Mutex<Vec<PageSnapshot<C>>>);

impl<C> SnapshotBuffer<C> {
    pub(super) const fn new() -> Self {
        SnapshotBuffer(Mutex::new(Vec::new()))
    }

    /// `table`'s snapshot, taken into the kept buffer (a new one while
    /// another scrape holds it); the table's lock is released on return.
    pub(super) fn snapshot<const N: usize>(&self, table: &RwLock<Table<C, N>>) -> Snapshot<C, N> {
        let pages = self
            .0
            .try_lock()
            .map(|mut kept| std::mem::take(&mut *kept))
            .unwrap_or_default();
        table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .snapshot_into(pages)
    }

    /// The kept buffer's length (0 between scrapes) and its capacity.
    #[cfg(test)]
    pub(super) fn kept(&self) -> (usize, usize) {
        let kept = self.0.lock().unwrap();
        (kept.len(), kept.capacity())
    }

    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.kept().1
    }

    /// Keeps `snapshot`'s buffer for the next scrape, its handles dropped.
    pub(super) fn keep<const N: usize>(&self, snapshot: Snapshot<C, N>) {
        let Snapshot { mut pages, open } = snapshot;
        // Dropped before the lock: the last handle of a removed page frees
        // its cells here.
        pages.clear();
        drop(open);
        if let Ok(mut kept) = self.0.try_lock()
            && kept.capacity() < pages.capacity()
        {
            *kept = pages;
        }
    }
}

impl<C, const N: usize> Snapshot<C, N> {
    /// Calls `f` with each live series' escaped values (the page text,
    /// where the series' first value starts in it, where each value ends)
    /// and cell, in first-seen order.
    pub(super) fn for_each<'s>(&'s self, mut f: impl FnMut(&'s str, usize, &'s [u32], &'s C)) {
        for (cells, sealed, live) in &self.pages {
            let (text, ends) = match sealed {
                Some(sealed) => sealed.labels(),
                None => self.open.as_deref().unwrap_or(&NO_LABELS).labels(),
            };
            let mut live = *live;
            while live != 0 {
                let slot = live.trailing_zeros() as usize;
                live &= live - 1;
                if let (Some((start, ends)), Some(cell)) = (record(ends, slot, N), cells.get(slot)) {
                    f(text, start, ends, cell);
                }
            }
        }
    }
}

/// `a == b`, without a `memcmp` call for the short values labels mostly
/// have: overlapping word reads cover 1 to 16 bytes. Longer values go to
/// `memcmp`: an arm of four word compares for 17-32 bytes took fewer
/// instructions but timed 2-18 % slower on random lookups of realistic
/// routes (issue 19; one more size class to mispredict).
#[inline]
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => read_u32(a) == read_u32(b) && read_last_u32(a) == read_last_u32(b),
        8..=16 => (read_u64(a) ^ read_u64(b)) | (read_last_u64(a) ^ read_last_u64(b)) == 0,
        _ => a == b,
    }
}

/// Whether `stored` is `value` as the encoder escapes it.
fn is_escaped(mut stored: &[u8], value: &[u8]) -> bool {
    for &b in value {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'"' => b"\\\"",
            b'\n' => b"\\n",
            _ => std::slice::from_ref(&b),
        };
        let Some(rest) = stored.strip_prefix(escaped) else {
            return false;
        };
        stored = rest;
    }
    stored.is_empty()
}
