//! Where recorded exemplars live: beside the metrics, never in a cell.
//!
//! A counter's or histogram's hot path (`inc`, `inc_by`, `observe`) is an
//! atomic add on its cell and must stay exactly that, and a family series
//! is a cell in a page of cells that must not grow. So nothing about
//! exemplars is in a cell:
//!
//! - an unlabelled metric (`Counter`, `FloatCounter`, `Histogram`,
//!   `NativeHistogram`) has one
//!   [`Slot`], a `OnceLock` of a pointer (16 bytes) that stays empty (read
//!   with one load per scrape) until the metric's first exemplar;
//! - a family series' exemplars are in one process-wide table, keyed by the
//!   address of the series' cell, created on the first exemplar recorded
//!   anywhere. An entry holds a `Weak` of the cell's page, which keeps the
//!   page's allocation (not its cells) alive, so an address is never reused
//!   by another series while its entry exists; entries of dropped pages
//!   are pruned as the table grows. A scrape of a family looks its series
//!   up only once the table exists, and only for counter and histogram
//!   families.
//!
//! Both take a mutex for recording and for a scrape's copy of one series'
//! exemplars (`Arc` clones, no formatting, no user code), and ignore
//! poisoning.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use super::Exemplar;

/// One series' exemplars: one for a counter, one per bucket (the `+Inf`
/// bucket last) for a histogram.
pub(crate) type Exemplars = Box<[Option<Arc<Exemplar>>]>;

/// Where a recorded exemplar goes among a series' entries.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Place {
    /// Entry `index`, replacing the one there: a counter's, a bucket's.
    At(usize),
    /// One of the first `slots` entries, an empty one or else the one with
    /// the oldest timestamp (none counts as oldest), so that they keep the
    /// `slots` latest exemplars; and entry `also` as well, if given (a
    /// native histogram's exemplars, and the classic bucket's alongside).
    Recent { slots: usize, also: Option<usize> },
}

/// The entry of the oldest exemplar among `recent`, an empty one first.
fn oldest(recent: &[Option<Arc<Exemplar>>]) -> usize {
    recent
        .iter()
        .position(Option::is_none)
        .or_else(|| {
            let age = |e: &Option<Arc<Exemplar>>| e.as_ref().and_then(|e| e.since_epoch());
            (0..recent.len()).min_by_key(|&i| recent.get(i).and_then(age))
        })
        .unwrap_or(0)
}

/// Puts `exemplar` in `exemplars` at `place`, made `len` long if it is
/// not; the exemplars replaced are handed back, to be dropped after the
/// lock.
fn put(exemplars: &mut Exemplars, len: usize, place: Place, exemplar: Arc<Exemplar>) -> [Option<Arc<Exemplar>>; 2] {
    if exemplars.len() != len {
        *exemplars = vec![None; len].into_boxed_slice();
    }
    let (index, also) = match place {
        Place::At(index) => (index, None),
        Place::Recent { slots, also } => (oldest(exemplars.get(..slots).unwrap_or_default()), also),
    };
    let also = also.and_then(|i| exemplars.get_mut(i)?.replace(Arc::clone(&exemplar)));
    [exemplars.get_mut(index).and_then(|e| e.replace(exemplar)), also]
}

/// Copies `exemplars` into `out`; whether any is set.
fn copy(exemplars: &[Option<Arc<Exemplar>>], out: &mut Vec<Option<Arc<Exemplar>>>) -> bool {
    out.clear();
    out.extend_from_slice(exemplars);
    out.iter().any(Option::is_some)
}

/// The exemplars of an unlabelled metric, allocated on the first one.
/// Boxed so that an unused slot is a `Once` and a pointer (16 bytes).
pub(crate) struct Slot(OnceLock<Box<Mutex<Exemplars>>>);

impl Slot {
    /// An empty slot (no allocation).
    pub(crate) const fn new() -> Slot {
        Slot(OnceLock::new())
    }

    /// Records `exemplar` as entry `index` of `len`.
    pub(crate) fn set(&self, len: usize, index: usize, exemplar: Exemplar) {
        self.place(len, Place::At(index), exemplar);
    }

    /// Records `exemplar` at `place` among `len` entries.
    pub(crate) fn place(&self, len: usize, place: Place, exemplar: Exemplar) {
        let exemplar = Arc::new(exemplar);
        let cell = self.0.get_or_init(|| Box::new(Mutex::new(Box::default())));
        let old = put(
            &mut cell.lock().unwrap_or_else(PoisonError::into_inner),
            len,
            place,
            exemplar,
        );
        drop(old);
    }

    /// Copies the exemplars into `out`; `false` when there are none.
    pub(crate) fn copy(&self, out: &mut Vec<Option<Arc<Exemplar>>>) -> bool {
        match self.0.get() {
            None => false,
            Some(cell) => copy(&cell.lock().unwrap_or_else(PoisonError::into_inner), out),
        }
    }
}

/// Whether a page is still alive: a `Weak` of its cells.
trait Alive: Send {
    fn alive(&self) -> bool;
}

impl<T: ?Sized + Send + Sync> Alive for Weak<T> {
    fn alive(&self) -> bool {
        self.strong_count() > 0
    }
}

struct Entry {
    page: Box<dyn Alive>,
    exemplars: Exemplars,
}

#[derive(Default)]
struct Table {
    /// By cell address, ordered so that a miss also says how far the next
    /// entry is (see [`Cursor`]).
    entries: BTreeMap<usize, Entry>,
    /// Prune dead pages' entries when there are this many.
    prune_at: usize,
}

/// The table of family series' exemplars, created on the first.
static SERIES: OnceLock<Mutex<Table>> = OnceLock::new();

fn table() -> Option<std::sync::MutexGuard<'static, Table>> {
    Some(SERIES.get()?.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Whether any family series ever recorded an exemplar in this process.
pub(crate) fn series_recorded() -> bool {
    SERIES.get().is_some()
}

/// Records `exemplar` as entry `index` of `len` for the series whose cell
/// is `page[slot]`.
pub(crate) fn set_series<C: Send + Sync + 'static>(
    page: &Arc<[C]>,
    slot: usize,
    len: usize,
    index: usize,
    exemplar: Exemplar,
) {
    place_series(page, slot, len, Place::At(index), exemplar);
}

/// Records `exemplar` at `place` among `len` entries for the series whose
/// cell is `page[slot]`.
pub(crate) fn place_series<C: Send + Sync + 'static>(
    page: &Arc<[C]>,
    slot: usize,
    len: usize,
    place: Place,
    exemplar: Exemplar,
) {
    let Some(cell) = page.get(slot) else {
        return;
    };
    let exemplar = Arc::new(exemplar);
    let key = std::ptr::from_ref(cell).addr();
    let mut table = SERIES
        .get_or_init(|| Mutex::new(Table::default()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut dead = Vec::new();
    if table.entries.len() >= table.prune_at {
        // Amortized: the table is walked once each time it doubles.
        let (alive, gone): (BTreeMap<usize, Entry>, BTreeMap<usize, Entry>) = std::mem::take(&mut table.entries)
            .into_iter()
            .partition(|(_, e)| e.page.alive());
        table.entries = alive;
        dead.extend(gone.into_values());
        table.prune_at = (table.entries.len() * 2).max(64);
    }
    let entry = table.entries.entry(key).or_insert_with(|| Entry {
        page: Box::new(Arc::downgrade(page)),
        exemplars: Box::default(),
    });
    let old = put(&mut entry.exemplars, len, place, exemplar);
    drop(table);
    drop((old, dead));
}

/// What one scrape has learnt of the table: a range of cell addresses that
/// held no entry when last looked, so that the series of a family without
/// exemplars (contiguous cells of a page) are not looked up one by one. A
/// series that records its first exemplar while the scrape runs may be
/// missed by that scrape, as it would be a moment earlier.
#[derive(Default)]
pub(crate) struct Cursor {
    empty: Range<usize>,
}

/// Copies the exemplars of the series whose cell is at `cell` into `out`;
/// `false` when it has none.
#[inline]
pub(crate) fn copy_series<C>(cell: &C, out: &mut Vec<Option<Arc<Exemplar>>>, cursor: &mut Cursor) -> bool {
    let key = std::ptr::from_ref(cell).addr();
    !cursor.empty.contains(&key) && look_up(key, out, cursor)
}

/// [`copy_series`] past the cursor: under the lock.
#[inline(never)]
fn look_up(key: usize, out: &mut Vec<Option<Arc<Exemplar>>>, cursor: &mut Cursor) -> bool {
    let Some(table) = table() else {
        return false;
    };
    if let Some(entry) = table.entries.get(&key) {
        return copy(&entry.exemplars, out);
    }
    let start = table.entries.range(..key).next_back().map_or(0, |(k, _)| k + 1);
    let end = table.entries.range(key..).next().map_or(usize::MAX, |(k, _)| *k);
    cursor.empty = start..end;
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_pages_are_pruned_and_live_ones_kept() {
        let kept: Arc<[u64]> = Arc::from(vec![0u64; 4]);
        let e = || Exemplar::new(&[("t", "x")], 1.0).unwrap();
        set_series(&kept, 1, 1, 0, e());
        let mut out = Vec::new();
        assert!(copy_series(&kept[1], &mut out, &mut Cursor::default()));
        let mut cursor = Cursor::default();
        assert!(!copy_series(&kept[0], &mut out, &mut cursor));
        assert!(cursor.empty.contains(&std::ptr::from_ref(&kept[0]).addr()));
        assert!(
            !cursor.empty.contains(&std::ptr::from_ref(&kept[1]).addr()),
            "the gap ends at the next entry"
        );
        for _ in 0..200 {
            let page: Arc<[u64]> = Arc::from(vec![0u64; 2]);
            set_series(&page, 0, 1, 0, e());
        }
        let len = table().unwrap().entries.len();
        assert!(len < 200, "{len} entries: dead pages were not pruned");
        assert!(
            copy_series(&kept[1], &mut out, &mut Cursor::default()),
            "a live page's exemplar was pruned"
        );
    }

    #[test]
    fn recent_places_keep_the_latest_and_also_set_the_bucket() {
        use std::time::{Duration, UNIX_EPOCH};
        let at = |ms: u64, v: f64| {
            Exemplar::new(&[], v)
                .unwrap()
                .with_timestamp(Some(UNIX_EPOCH + Duration::from_millis(ms)))
        };
        let slot = Slot::new();
        let place = |also| Place::Recent { slots: 3, also };
        // Out of order in time: the oldest (by timestamp) goes first.
        for (ms, v) in [(30, 1.0), (10, 2.0), (20, 3.0), (40, 4.0), (50, 5.0)] {
            slot.place(5, place(Some(4)), at(ms, v));
        }
        let mut out = Vec::new();
        assert!(slot.copy(&mut out));
        let mut kept: Vec<f64> = out[..3].iter().map(|e| e.as_ref().unwrap().value()).collect();
        kept.sort_by(f64::total_cmp);
        assert_eq!(kept, [1.0, 4.0, 5.0], "the three latest by timestamp");
        assert!(out[3].is_none());
        assert_eq!(
            out[4].as_ref().map(|e| e.value()),
            Some(5.0),
            "the bucket's is the last recorded"
        );
        // Without a timestamp an exemplar counts as the oldest.
        slot.place(5, place(None), Exemplar::new(&[], 6.0).unwrap().with_timestamp(None));
        slot.place(5, place(None), at(60, 7.0));
        assert!(slot.copy(&mut out));
        let mut kept: Vec<f64> = out[..3].iter().map(|e| e.as_ref().unwrap().value()).collect();
        kept.sort_by(f64::total_cmp);
        assert_eq!(kept, [4.0, 5.0, 7.0]);
    }

    #[test]
    fn a_slot_grows_to_the_length_asked_and_latest_wins() {
        let slot = Slot::new();
        let mut out = Vec::new();
        assert!(!slot.copy(&mut out));
        slot.set(3, 2, Exemplar::new(&[], 1.0).unwrap());
        slot.set(3, 2, Exemplar::new(&[], 2.0).unwrap());
        assert!(slot.copy(&mut out));
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].as_ref().map(|e| e.value()), Some(2.0));
        assert!(out[0].is_none());
    }
}
