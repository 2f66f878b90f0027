//! Labelled families: `CounterVec<N>`, `FloatCounterVec<N>`, `GaugeVec<N>`,
//! `FloatGaugeVec<N>` and `HistogramVec<N>`, one generic [`Family`].
//!
//! A family maps `N` label values to a series. The table (see
//! `family/table.rs`) sits behind an `RwLock`: a lookup of an existing
//! series takes the read lock, compares the values in full against the
//! series' stored (escaped) values, clones the `Arc` of the series' page of
//! cells and releases the lock. Only a new label set takes the write lock.
//! The lock guards the table only; the values are atomics, so a held
//! [`Child`] is bumped without any lock at all.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use std::sync::{PoisonError, RwLock};

use crate::counter::{CounterCell, FloatCounterCell};
use crate::error::Error;
use crate::expose::{Kind, Names};
use crate::gauge::{FloatGaugeCell, GaugeCell};
use crate::hash::hash_values;
use crate::histogram::HistogramCell;
use crate::layout::Layout;
use crate::metric::{Meta, seal};
use crate::name;
use crate::native::NativeHistogramCell;
use crate::sharded::ShardedCounterCell;

pub(crate) mod cache;
mod child;
mod emit;
mod exemplar;
mod histogram;
mod native;
mod table;
mod utf8;

pub use child::Child;
pub use native::NativeHistogramVec;

use cache::Key;
use table::{MAX_SERIES, SnapshotBuffer, Table};

/// A series value type a metric holds: [`CounterCell`],
/// [`FloatCounterCell`], [`GaugeCell`], [`FloatGaugeCell`],
/// [`ShardedCounterCell`], [`HistogramCell`] or [`NativeHistogramCell`]. Sealed.
///
/// # Examples
///
/// ```
/// fn total<C: bareprom::Cell>(family: &bareprom::Family<C, 1>) -> usize {
///     family.len()
/// }
/// static HITS: bareprom::CounterVec<1> = bareprom::CounterVec::new("hits_total", "Hits.", ["path"]);
/// assert_eq!(total(&HITS), 0);
/// ```
pub trait Cell: seal::Series + cache::Cached {}

impl Cell for CounterCell {}
impl Cell for FloatCounterCell {}
impl Cell for GaugeCell {}
impl Cell for FloatGaugeCell {}
impl Cell for ShardedCounterCell {}
impl Cell for HistogramCell {}
impl Cell for NativeHistogramCell {}

/// Series a family holds before new label sets go to the overflow series.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::DEFAULT_SERIES_LIMIT, 10_000);
/// ```
pub const DEFAULT_SERIES_LIMIT: usize = 10_000;

/// The value every label takes in a family's overflow series.
///
/// # Examples
///
/// ```
/// static HITS: bareprom::CounterVec<1> =
///     bareprom::CounterVec::new("hits_total", "Hits.", ["path"]).with_series_limit(1);
/// HITS.with(["/a"]).inc();
/// HITS.with(["/b"]).inc(); // over the limit
/// assert_eq!(HITS.with([bareprom::OVERFLOW_LABEL_VALUE]).get(), 1);
/// ```
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

/// A counter family with `N` labels.
///
/// # Examples
///
/// ```
/// use bareprom::{CounterVec, Registry};
///
/// static SWEPT: CounterVec<1> = CounterVec::new("app_swept_total", "Rows swept.", ["outcome"]);
///
/// let registry = Registry::new();
/// registry.register(&SWEPT)?;
/// SWEPT.with(["acked"]).inc_by(3);
/// assert!(registry.render().contains("app_swept_total{outcome=\"acked\"} 3\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
///
/// A label name starting with `__` does not compile:
///
/// ```compile_fail
/// static BAD: bareprom::CounterVec<1> = bareprom::CounterVec::new("x_total", "X.", ["__name"]);
/// ```
pub type CounterVec<const N: usize> = Family<CounterCell, N>;
/// A float counter family with `N` labels.
///
/// # Examples
///
/// ```
/// static BUSY: bareprom::FloatCounterVec<1> =
///     bareprom::FloatCounterVec::new("busy_seconds_total", "Busy time.", ["worker"]);
/// BUSY.with(["w1"]).inc_by(0.5);
/// assert_eq!(BUSY.with(["w1"]).get(), 0.5);
/// ```
pub type FloatCounterVec<const N: usize> = Family<FloatCounterCell, N>;
/// An `i64` gauge family with `N` labels.
///
/// # Examples
///
/// ```
/// static QUEUED: bareprom::GaugeVec<1> = bareprom::GaugeVec::new("queued", "Queued jobs.", ["queue"]);
/// QUEUED.with(["mail"]).set(4);
/// assert_eq!(QUEUED.with(["mail"]).get(), 4);
/// ```
pub type GaugeVec<const N: usize> = Family<GaugeCell, N>;
/// An `f64` gauge family with `N` labels.
///
/// # Examples
///
/// ```
/// static TEMP: bareprom::FloatGaugeVec<1> = bareprom::FloatGaugeVec::new("temp_celsius", "Temperature.", ["room"]);
/// TEMP.with(["lab"]).set(21.5);
/// assert_eq!(TEMP.with(["lab"]).get(), 21.5);
/// ```
pub type FloatGaugeVec<const N: usize> = Family<FloatGaugeCell, N>;
/// A histogram family with `N` labels.
///
/// # Examples
///
/// ```
/// static RPC: bareprom::HistogramVec<1> =
///     bareprom::HistogramVec::with_buckets("rpc_seconds", "RPC latency.", ["method"], &[0.1, 1.0]);
/// RPC.with(["get"]).observe(0.05);
/// assert_eq!(RPC.with(["get"]).count(), 1);
/// ```
pub type HistogramVec<const N: usize> = Family<HistogramCell, N>;

/// A labelled family of series of type `C`, keyed by `N` label values.
///
/// Usually named through its aliases ([`CounterVec`], [`GaugeVec`],
/// [`HistogramVec`], …). Series are rendered in the order they were first
/// looked up. Past the series limit ([`DEFAULT_SERIES_LIMIT`] unless set),
/// a new label set is given the family's overflow series, whose every label
/// is [`OVERFLOW_LABEL_VALUE`], and counted in
/// `bareprom_series_dropped_total{family="<name>"}`: a bug that labels by
/// user id or raw path cannot eat the heap. The overflow series, once it
/// exists, counts towards the limit.
///
/// Memory: series live in pages of up to 64 (one allocation of cells and
/// one text of escaped label values per page), so a series costs its cell,
/// its escaped values, 4 bytes per value and one 4-byte index word: 53 bytes
/// for a counter with values `GET`, `/api/v1/items/1234`, `200`. A removed
/// series' slot is not reused (a [`Child`] may still hold it); its page is
/// freed once all its series are removed and no handle holds it.
pub struct Family<C: Cell, const N: usize> {
    meta: Meta,
    labels: LabelNames<N>,
    layout: Layout,
    limit: AtomicUsize,
    dropped: AtomicU64,
    table: RwLock<Table<C, N>>,
    /// What scrapes take the table's snapshot into.
    snapshots: SnapshotBuffer<C>,
    /// 0 until the first cached lookup; a new number after every removal.
    epoch: AtomicU64,
}

enum LabelNames<const N: usize> {
    Static([&'static str; N]),
    Owned(Box<[String]>),
}

impl<const N: usize> LabelNames<N> {
    fn names(&self) -> Names<'_> {
        match self {
            LabelNames::Static(names) => Names::Strs(names),
            LabelNames::Owned(names) => Names::Strings(names),
        }
    }
}

impl<C: Cell, const N: usize> Family<C, N> {
    /// A family with the given label names (histograms get
    /// [`DEFAULT_BUCKETS`](crate::DEFAULT_BUCKETS); native histograms
    /// [`NativeHistogram::new`](crate::NativeHistogram::new)'s window and
    /// no classic buckets).
    ///
    /// # Panics
    ///
    /// If the metric name or a label name is invalid, a label name starts
    /// with `__` or repeats, or a histogram uses `le`; in a `static` that is
    /// a compile error. Use [`Family::try_new`] for names built at run time.
    ///
    /// # Examples
    ///
    /// ```
    /// static ERRORS: bareprom::CounterVec<2> =
    ///     bareprom::CounterVec::new("errors_total", "Errors.", ["service", "code"]);
    /// ERRORS.with(["db", "timeout"]).inc();
    /// assert_eq!(ERRORS.with(["db", "timeout"]).get(), 1);
    /// ```
    pub const fn new(name: &'static str, help: &'static str, labels: [&'static str; N]) -> Self {
        Self::build(name, help, labels, C::DEFAULT_BOUNDS)
    }

    const fn build(name: &'static str, help: &'static str, labels: [&'static str; N], buckets: &'static [f64]) -> Self {
        name::unwrap(name::label_names(&labels, matches!(C::KIND, Kind::Histogram)));
        Family {
            meta: Meta::new(name, help),
            labels: LabelNames::Static(labels),
            layout: Layout::new(Cow::Borrowed(buckets)),
            limit: AtomicUsize::new(DEFAULT_SERIES_LIMIT),
            dropped: AtomicU64::new(0),
            table: RwLock::new(Table::new()),
            snapshots: SnapshotBuffer::new(),
            epoch: AtomicU64::new(0),
        }
    }

    /// A family for names built at run time (histograms get
    /// [`DEFAULT_BUCKETS`](crate::DEFAULT_BUCKETS), native histograms as in
    /// [`Family::new`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`](crate::ErrorKind::InvalidMetricName),
    /// [`InvalidLabelName`](crate::ErrorKind::InvalidLabelName),
    /// [`ReservedLabelName`](crate::ErrorKind::ReservedLabelName) or
    /// [`DuplicateLabelName`](crate::ErrorKind::DuplicateLabelName).
    ///
    /// # Examples
    ///
    /// ```
    /// let label = String::from("tenant");
    /// let jobs = bareprom::CounterVec::try_new("jobs_total", "Jobs.", [label.as_str()])?;
    /// jobs.with(["acme"]).inc();
    /// assert_eq!(jobs.with(["acme"]).get(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        labels: [&str; N],
    ) -> Result<Self, Error> {
        Self::try_build(name.into(), help.into(), labels, Cow::Borrowed(C::DEFAULT_BOUNDS))
    }

    fn try_build(
        name: Cow<'static, str>,
        help: Cow<'static, str>,
        labels: [&str; N],
        buckets: Cow<'static, [f64]>,
    ) -> Result<Self, Error> {
        let meta = Meta::try_new(name, help)?;
        name::check_label_names(&labels, matches!(C::KIND, Kind::Histogram))?;
        Ok(Self::from_meta(meta, labels, buckets))
    }

    fn from_meta(meta: Meta, labels: [&str; N], buckets: Cow<'static, [f64]>) -> Self {
        Family {
            meta,
            labels: LabelNames::Owned(labels.iter().map(|l| (*l).to_owned()).collect()),
            layout: Layout::new(buckets),
            limit: AtomicUsize::new(DEFAULT_SERIES_LIMIT),
            dropped: AtomicU64::new(0),
            table: RwLock::new(Table::new()),
            snapshots: SnapshotBuffer::new(),
            epoch: AtomicU64::new(0),
        }
    }

    /// The same metric with a unit, written as `# UNIT` in `OpenMetrics`
    /// (the text format 0.0.4 has no unit line). The unit must be the
    /// suffix `_<unit>` of the family name (for a counter, the name without
    /// `_total`), as `OpenMetrics` requires; nothing is added to the name.
    ///
    /// # Panics
    ///
    /// If the unit is not `[a-zA-Z0-9_:]+` or not that suffix; in a
    /// `static` that is a compile error. [`try_with_unit`](Self::try_with_unit)
    /// returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// static SENT: bareprom::CounterVec<1> = bareprom::CounterVec::new("app_sent_bytes_total", "Bytes sent.", ["peer"]).with_unit("bytes");
    /// assert_eq!(SENT.unit(), "bytes");
    /// ```
    #[must_use]
    pub const fn with_unit(mut self, unit: &'static str) -> Self {
        self.meta.set_unit(unit, C::KIND);
        self
    }

    /// As [`with_unit`](Self::with_unit), returning an error for a bad unit.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidUnit`](crate::ErrorKind::InvalidUnit).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = bareprom::Gauge::try_new("app_heap_bytes", "Heap.")?.try_with_unit("seconds").unwrap_err();
    /// assert_eq!(err.kind(), bareprom::ErrorKind::InvalidUnit);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_with_unit(mut self, unit: &'static str) -> Result<Self, Error> {
        self.meta.try_set_unit(unit, C::KIND)?;
        Ok(self)
    }

    /// The unit; empty for none.
    ///
    /// # Examples
    ///
    /// ```
    /// static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
    /// assert_eq!(UP.unit(), "");
    /// ```
    pub fn unit(&self) -> &str {
        self.meta.unit
    }

    /// The same family with a different series limit (see the type docs).
    ///
    /// # Examples
    ///
    /// ```
    /// static PEERS: bareprom::GaugeVec<1> =
    ///     bareprom::GaugeVec::new("peer_lag", "Lag per peer.", ["peer"]).with_series_limit(100);
    /// assert_eq!(PEERS.series_limit(), 100);
    /// ```
    #[must_use]
    pub const fn with_series_limit(mut self, limit: usize) -> Self {
        self.reset_limit(limit);
        self
    }

    /// The const setter behind the builders; `&mut` because const code may
    /// not drop a moved-in family.
    pub(crate) const fn reset_limit(&mut self, limit: usize) {
        self.limit = AtomicUsize::new(limit);
    }

    /// Changes the series limit. Series that exist stay; only new label
    /// sets are checked against it.
    ///
    /// # Examples
    ///
    /// ```
    /// static PEERS: bareprom::GaugeVec<1> = bareprom::GaugeVec::new("peer_lag", "Lag per peer.", ["peer"]);
    /// PEERS.set_series_limit(5);
    /// assert_eq!(PEERS.series_limit(), 5);
    /// ```
    pub fn set_series_limit(&self, limit: usize) {
        self.limit.store(limit, Relaxed);
    }

    /// The series limit.
    ///
    /// # Examples
    ///
    /// ```
    /// static G: bareprom::GaugeVec<1> = bareprom::GaugeVec::new("g", "G.", ["k"]);
    /// assert_eq!(G.series_limit(), bareprom::DEFAULT_SERIES_LIMIT);
    /// ```
    pub fn series_limit(&self) -> usize {
        self.limit.load(Relaxed)
    }

    /// The series for these label values, created on first use.
    ///
    /// Takes the read lock only, unless the label set is new; a label set
    /// this thread looked up recently (up to four values, of any length up
    /// to 192 bytes past the first 16 of each in all) is found in a
    /// per-thread cache without the lock, compared in full. The returned handle is owned
    /// (no lock is held by it): keep it to bump the series without any
    /// lookup.
    ///
    /// Allocates when the label set is new, and per thread and series type
    /// for the cache (about 17 KiB of entries on first use, and a buffer of
    /// up to 192 bytes per entry for long values); each cache entry keeps
    /// its series' page of cells allocated until it is replaced.
    ///
    /// # Examples
    ///
    /// ```
    /// static REQS: bareprom::CounterVec<2> = bareprom::CounterVec::new("reqs_total", "Requests.", ["method", "code"]);
    /// let ok = REQS.with(["GET", "200"]);
    /// ok.inc();
    /// REQS.with(["GET", "200"]).inc();
    /// assert_eq!(ok.get(), 2);
    /// ```
    pub fn with(&self, values: [&str; N]) -> Child<C> {
        let mut key = Key::new(&values);
        match cache::get(self.epoch.load(Acquire), &mut key) {
            Ok(child) => child,
            Err(admit) => self.with_from_table(&key, admit, values),
        }
    }

    /// Runs `f` once on the series for these label values (created on
    /// first use, as with [`with`](Family::with)), without making a
    /// handle: for a lookup whose handle would be dropped at once, such as
    /// `with(values).inc()`.
    ///
    /// A handle is a reference count on the series' page, taken and given
    /// back: two atomic read-modify-writes, most of what a lookup that
    /// this thread's cache serves costs besides the `inc` itself. Here the
    /// cache's own reference serves, and `f` runs while this thread's
    /// cache is in use (a lookup inside `f` goes to the table, correctly
    /// but more slowly). A lookup the cache does not serve makes a handle
    /// as `with` does and runs `f` on it, with no lock held.
    ///
    /// # Examples
    ///
    /// ```
    /// static REQS: bareprom::CounterVec<2> = bareprom::CounterVec::new("reqs_total", "Requests.", ["method", "code"]);
    /// REQS.apply(["GET", "200"], |series| series.inc());
    /// REQS.apply(["GET", "200"], |series| series.inc_by(2));
    /// assert_eq!(REQS.apply(["GET", "200"], |series| series.get()), 3);
    /// ```
    pub fn apply<R>(&self, values: [&str; N], mut f: impl FnMut(&C) -> R) -> R {
        let mut key = Key::new(&values);
        // `FnMut`, though it runs once: the cache hands it back untouched
        // when it misses, without a second closure to move it between.
        let admit = match cache::lookup(self.epoch.load(Acquire), &mut key, |cells, slot| {
            cells.get(slot).map(&mut f)
        }) {
            Ok(Some(result)) => return result,
            // A slot past its page: the table never hands one out.
            Ok(None) => false,
            Err(admit) => admit,
        };
        f(&self.with_from_table(&key, admit, values))
    }

    /// [`with`](Family::with) past the cache: the table, read-locked, and
    /// the cache told what it found if `admit`; a new series if none.
    fn with_from_table(&self, key: &Key<'_, N>, admit: bool, values: [&str; N]) -> Child<C> {
        let hash = key.hash();
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        if let Some((cells, slot)) = table.find(hash, &values) {
            let child = Child::new(cells, slot);
            if admit {
                // Read under the lock: a removal after it gives a new epoch.
                let epoch = self.epoch();
                drop(table);
                cache::put(epoch, key, &child);
            }
            return child;
        }
        drop(table);
        self.insert(hash, values)
    }

    /// Creates the series of each label set at zero, so that they are
    /// present from the first scrape: a query such as `rate(x[5m])` then
    /// sees an outcome that has not happened yet as 0, not as missing.
    /// This is `client_golang`'s `WithLabelValues` called once per label set
    /// at start-up, said by name. Label sets that exist are left as they
    /// are; the series cap applies as in [`Family::with`].
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{CounterVec, Registry};
    ///
    /// static SWEPT: CounterVec<1> = CounterVec::new("uploads_swept_total", "Uploads swept, by outcome.", ["outcome"]);
    /// let registry = Registry::new().without_health();
    /// registry.register(&SWEPT)?;
    /// SWEPT.init_series([["acked"], ["expired"], ["error"]]);
    /// assert!(registry.render().ends_with(
    ///     "uploads_swept_total{outcome=\"acked\"} 0\n\
    ///      uploads_swept_total{outcome=\"expired\"} 0\n\
    ///      uploads_swept_total{outcome=\"error\"} 0\n"
    /// ));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn init_series<'a>(&self, label_sets: impl IntoIterator<Item = [&'a str; N]>) {
        for values in label_sets {
            drop(self.with(values));
        }
    }

    /// Whether this thread's lookups in the family skip its cache now, and
    /// how many lookups of this series type the cache has served.
    #[cfg(test)]
    pub(crate) fn cache_state(&self) -> (bool, u64) {
        cache::state::<C>(self.epoch.load(Acquire))
    }

    /// The family's epoch, drawn on first use.
    fn epoch(&self) -> u64 {
        let epoch = self.epoch.load(Acquire);
        if epoch != 0 {
            return epoch;
        }
        let fresh = cache::next_epoch();
        match self.epoch.compare_exchange(0, fresh, AcqRel, Acquire) {
            Ok(_) => fresh,
            Err(current) => current,
        }
    }

    #[cold]
    fn insert(&self, hash: u64, values: [&str; N]) -> Child<C> {
        // The overflow series is the one series allowed past the limit.
        let limit = self.limit.load(Relaxed).min(MAX_SERIES - 1);
        let create = || C::create(&self.layout);
        let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
        if let Some((cells, slot)) = table.find(hash, &values) {
            return Child::new(cells, slot);
        }
        if (N == 0 || table.len() < limit)
            && let Some((cells, slot)) = table.insert(hash, &values, create)
        {
            return Child::new(cells, slot);
        }
        self.dropped.fetch_add(1, Relaxed);
        let overflow = [OVERFLOW_LABEL_VALUE; N];
        let hash = hash_values(&overflow);
        if let Some((cells, slot)) = table.find(hash, &overflow) {
            return Child::new(cells, slot);
        }
        match table.insert(hash, &overflow, create) {
            Some((cells, slot)) => Child::new(cells, slot),
            // Only at MAX_SERIES with the overflow series removed: a series
            // of its own that no scrape shows, rather than a panic.
            None => Child::new(&(0..1).map(|_| create()).collect(), 0),
        }
    }

    /// Removes the series for these label values; returns whether it
    /// existed. Handles already held keep working but are no longer
    /// rendered, as in `client_golang`'s `DeleteLabelValues`.
    ///
    /// # Examples
    ///
    /// ```
    /// static G: bareprom::GaugeVec<1> = bareprom::GaugeVec::new("conn_open", "Open connections.", ["peer"]);
    /// G.with(["a"]).set(1);
    /// assert!(G.remove(["a"]));
    /// assert!(!G.remove(["a"]));
    /// assert_eq!(G.len(), 0);
    /// ```
    pub fn remove(&self, values: [&str; N]) -> bool {
        let hash = hash_values(&values);
        let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
        let removed = table.remove(hash, &values);
        if removed {
            self.epoch.store(cache::next_epoch(), Release);
        }
        removed
    }

    /// How many series the family holds.
    ///
    /// # Examples
    ///
    /// ```
    /// static G: bareprom::GaugeVec<1> = bareprom::GaugeVec::new("g", "G.", ["k"]);
    /// G.with(["x"]);
    /// assert_eq!(G.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.table.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether the family holds no series.
    ///
    /// # Examples
    ///
    /// ```
    /// static G: bareprom::GaugeVec<1> = bareprom::GaugeVec::new("g", "G.", ["k"]);
    /// assert!(G.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many lookups of new label sets went to the overflow series.
    ///
    /// # Examples
    ///
    /// ```
    /// static G: bareprom::GaugeVec<1> = bareprom::GaugeVec::new("g", "G.", ["k"]).with_series_limit(0);
    /// G.with(["x"]).set(1);
    /// assert_eq!(G.dropped(), 1);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}

impl<C: Cell, const N: usize> fmt::Debug for Family<C, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.meta.name)
            .field("labels", &self.labels.names().iter().collect::<Vec<_>>())
            .field("series", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
