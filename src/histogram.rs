//! Histograms: observations counted into cumulative buckets, with a sum.
//!
//! Each bucket holds the count of observations that fell into it alone (not
//! cumulative), and there is no separate total: a scrape reads every bucket
//! once, adds them up as it writes the cumulative `_bucket` lines, and
//! writes that same total as the `+Inf` bucket and as `_count`. So every
//! scrape is cumulative and shows `_count` equal to the `+Inf` bucket, even
//! while other threads observe, without a lock. Buckets only grow, so
//! consecutive scrapes never go down. `_sum` is a separate atomic and may
//! include an observation whose bucket the scrape had already passed.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use crate::counter::add_f64;
use crate::error::{Error, ErrorKind};
use crate::exemplar::Exemplar;
use crate::exemplar::store::Slot;
use crate::expose::{FamilyDesc, HistogramPoint, Kind, Names, SeriesLabels, Sink};
use crate::layout::{self, Bounds, Layout};
use crate::metric::{Meta, Metric, seal};
use crate::name::{self, MAX_BUCKETS};

mod exemplar;
mod timer;

pub use timer::Timer;

/// The default bucket bounds of the Prometheus client libraries, in seconds:
/// 5 ms to 10 s.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::DEFAULT_BUCKETS.len(), 11);
/// ```
pub const DEFAULT_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// `count` bounds starting at `start`, each `factor` times the previous.
///
/// # Errors
///
/// [`ErrorKind::InvalidBuckets`] unless `start > 0`, `factor > 1`,
/// `count >= 1` and every bound is finite.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::exponential_buckets(1.0, 2.0, 4)?, [1.0, 2.0, 4.0, 8.0]);
/// # Ok::<(), bareprom::Error>(())
/// ```
pub fn exponential_buckets(start: f64, factor: f64, count: usize) -> Result<Vec<f64>, Error> {
    if !(start > 0.0 && factor > 1.0 && count >= 1) {
        return Err(Error::new(
            ErrorKind::InvalidBuckets,
            "exponential: need start > 0, factor > 1, count >= 1",
        ));
    }
    let bounds: Vec<f64> = std::iter::successors(Some(start), |b| Some(b * factor))
        .take(count)
        .collect();
    checked(bounds)
}

/// `count` bounds starting at `start`, each `width` above the previous.
///
/// # Errors
///
/// [`ErrorKind::InvalidBuckets`] unless `width > 0`, `count >= 1` and every
/// bound is finite.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::linear_buckets(0.5, 0.5, 3)?, [0.5, 1.0, 1.5]);
/// # Ok::<(), bareprom::Error>(())
/// ```
pub fn linear_buckets(start: f64, width: f64, count: usize) -> Result<Vec<f64>, Error> {
    if !(width > 0.0 && count >= 1 && start.is_finite()) {
        return Err(Error::new(
            ErrorKind::InvalidBuckets,
            "linear: need width > 0, count >= 1",
        ));
    }
    let bounds: Vec<f64> = (0..count).map(|i| start + width * i as f64).collect();
    checked(bounds)
}

fn checked(bounds: Vec<f64>) -> Result<Vec<f64>, Error> {
    if bounds.iter().all(|b| b.is_finite()) && name::buckets(&bounds).is_ok() {
        Ok(bounds)
    } else {
        Err(Error::new(ErrorKind::InvalidBuckets, &format!("{bounds:?}")))
    }
}

/// The parts every histogram has, borrowed: shared by [`Histogram`] and
/// [`HistogramCell`] so both observe and encode the same way.
#[derive(Clone, Copy)]
struct Core<'a> {
    bounds: &'a [f64],
    /// The bounds rendered for `le`, when kept; rendered per scrape if not.
    les: Option<&'a [Box<str>]>,
    /// One per bound plus the `+Inf` bucket; not cumulative.
    counts: &'a [AtomicU64],
    sum: &'a AtomicU64,
}

impl Core<'_> {
    #[inline]
    #[allow(
        clippy::neg_cmp_op_on_partial_ord,
        reason = "`!(v <= b)` is what puts NaN above every bound"
    )]
    fn observe(self, v: f64) {
        // The first bucket whose bound is >= v, i.e. the number of bounds
        // below v. NaN is >= nothing and so lands in `+Inf`, as in
        // client_golang: `!(v <= b)` holds for every bound then. Up to 16
        // bounds are counted without a branch (the compiler turns the sum
        // into vector compares): a search that stops at the first match
        // mispredicts whenever consecutive observations change bucket
        // (measured on the benches' 64 spread values, with the static's
        // core inlined too: 10.3 -> 7.5 ns per observe).
        // The binary search would put NaN first (NaN < b is false too),
        // hence its explicit case.
        let i = if self.bounds.len() <= 16 {
            self.bounds.iter().map(|b| usize::from(!(v <= *b))).sum()
        } else if v.is_nan() {
            self.bounds.len()
        } else {
            self.bounds.partition_point(|b| *b < v)
        };
        if let Some(bucket) = self.counts.get(i) {
            bucket.fetch_add(1, Relaxed);
        }
        add_f64(self.sum, v);
    }

    fn count(self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }

    fn sum(self) -> f64 {
        f64::from_bits(self.sum.load(Relaxed))
    }

    /// Reads every bucket once, accumulating, and hands the point to the
    /// sink (with the buckets' exemplars, if any): the `+Inf` bucket and
    /// the count are the same total.
    fn expose(self, sink: &mut dyn Sink, labels: SeriesLabels<'_>, exemplars: &[Option<Arc<Exemplar>>]) {
        let mut cumulative = sink.take_counts();
        cumulative.clear();
        let mut total = 0u64;
        for count in self.counts {
            total += count.load(Relaxed);
            cumulative.push(total);
        }
        cumulative.resize(self.bounds.len() + 1, total);
        let point = HistogramPoint {
            bounds: self.bounds,
            les: self.les,
            cumulative: &cumulative,
            sum: self.sum(),
        };
        if exemplars.is_empty() {
            sink.histogram(labels, &point);
        } else {
            sink.histogram_with_exemplars(labels, &point, exemplars);
        }
        sink.put_counts(cumulative);
    }
}

/// An unlabelled histogram that can live in a plain `static`.
///
/// Its counts live inline (room for up to 64 finite bounds), so observing
/// never allocates. Buckets are counted non-cumulatively with no separate
/// total: a scrape reads each once and writes the running sum as every
/// cumulative bucket, the `+Inf` bucket and `_count`, so each scrape is
/// consistent even while other threads observe, without a lock.
///
/// # Examples
///
/// ```
/// use bareprom::{Histogram, Registry};
///
/// static SIZE: Histogram = Histogram::with_buckets("app_reply_bytes", "Reply sizes.", &[100.0, 1000.0]);
///
/// let registry = Registry::new();
/// registry.register(&SIZE)?;
/// SIZE.observe(64.0);
/// SIZE.observe(512.0);
/// SIZE.observe(4096.0);
/// assert_eq!(
///     registry.render(),
///     "# HELP app_reply_bytes Reply sizes.\n\
///      ## TYPE app_reply_bytes histogram\n\
///      app_reply_bytes_bucket{le=\"100\"} 1\n\
///      app_reply_bytes_bucket{le=\"1000\"} 2\n\
///      app_reply_bytes_bucket{le=\"+Inf\"} 3\n\
///      app_reply_bytes_sum 4672\n\
///      app_reply_bytes_count 3\n"
/// );
/// # Ok::<(), bareprom::Error>(())
/// ```
///
/// Unsorted bounds in a `static` do not compile:
///
/// ```compile_fail
/// static BAD: bareprom::Histogram = bareprom::Histogram::with_buckets("x_seconds", "X.", &[1.0, 0.5]);
/// ```
pub struct Histogram {
    meta: Meta,
    bounds: Cow<'static, [f64]>,
    /// The bounds rendered for `le`, on the first scrape (a `const`
    /// constructor cannot format floats).
    les: OnceLock<Box<[Box<str>]>>,
    counts: [AtomicU64; MAX_BUCKETS + 1],
    sum: AtomicU64,
    /// One exemplar per bucket, allocated on the first
    /// [`observe_with_exemplar`](Histogram::observe_with_exemplar).
    exemplars: Slot,
}

impl Histogram {
    /// A histogram with [`DEFAULT_BUCKETS`].
    ///
    /// # Panics
    ///
    /// If `name` is invalid; in a `static` that is a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::Histogram = bareprom::Histogram::new("rpc_seconds", "RPC latency.");
    /// H.observe(0.2);
    /// assert_eq!(H.sum(), 0.2);
    /// ```
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Self::with_buckets(name, help, &DEFAULT_BUCKETS)
    }

    /// A histogram with the given bucket bounds (ascending; a trailing
    /// `+Inf` is optional, it is always implied).
    ///
    /// # Panics
    ///
    /// If `name` is invalid or the bounds are empty, unsorted, contain NaN
    /// or are more than 64; in a `static` that is a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::Histogram = bareprom::Histogram::with_buckets("q_depth", "Depth.", &[1.0, 10.0]);
    /// H.observe(5.0);
    /// assert_eq!(H.count(), 1);
    /// ```
    pub const fn with_buckets(name: &'static str, help: &'static str, bounds: &'static [f64]) -> Self {
        name::unwrap(name::buckets(bounds));
        let finite = name::finite_len(bounds);
        assert!(finite <= MAX_BUCKETS, "invalid histogram buckets: more than 64 bounds");
        Histogram {
            meta: Meta::new(name, help),
            bounds: Cow::Borrowed(bounds.split_at(finite).0),
            les: OnceLock::new(),
            counts: [const { AtomicU64::new(0) }; MAX_BUCKETS + 1],
            sum: AtomicU64::new(0),
            exemplars: Slot::new(),
        }
    }

    /// A histogram for a name or layout built at run time, e.g. with
    /// [`exponential_buckets`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`] or [`ErrorKind::InvalidBuckets`].
    ///
    /// # Examples
    ///
    /// ```
    /// let buckets = bareprom::exponential_buckets(0.001, 10.0, 4)?;
    /// let h = bareprom::Histogram::try_new("db_seconds", "Query latency.", buckets)?;
    /// h.observe(0.05);
    /// assert_eq!(h.count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        bounds: impl Into<Cow<'static, [f64]>>,
    ) -> Result<Self, Error> {
        let bounds = layout::validated(bounds.into())?;
        if bounds.len() > MAX_BUCKETS {
            return Err(Error::new(ErrorKind::InvalidBuckets, "more than 64 bounds"));
        }
        Ok(Histogram {
            meta: Meta::try_new(name.into(), help.into())?,
            bounds,
            les: OnceLock::new(),
            counts: [const { AtomicU64::new(0) }; MAX_BUCKETS + 1],
            sum: AtomicU64::new(0),
            exemplars: Slot::new(),
        })
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
    /// static SIZES: bareprom::Histogram = bareprom::Histogram::with_buckets("app_body_bytes", "Body sizes.", &[1024.0]).with_unit("bytes");
    /// assert_eq!(SIZES.unit(), "bytes");
    /// ```
    #[must_use]
    pub const fn with_unit(mut self, unit: &'static str) -> Self {
        self.meta.set_unit(unit, Kind::Histogram);
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
        self.meta.try_set_unit(unit, Kind::Histogram)?;
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

    #[inline]
    fn core(&self) -> Core<'_> {
        Core {
            bounds: &self.bounds,
            les: None,
            counts: &self.counts[..=self.bounds.len()],
            sum: &self.sum,
        }
    }

    /// Records one observation.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::Histogram = bareprom::Histogram::new("h_seconds", "H.");
    /// H.observe(0.3);
    /// assert_eq!(H.count(), 1);
    /// ```
    #[inline]
    pub fn observe(&self, v: f64) {
        self.core().observe(v);
    }

    /// Starts a [`Timer`] that observes elapsed seconds when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::Histogram = bareprom::Histogram::new("h_seconds", "H.");
    /// drop(H.start_timer());
    /// assert_eq!(H.count(), 1);
    /// ```
    pub fn start_timer(&self) -> Timer<'_> {
        Timer::borrowing(self.core())
    }

    /// How many observations were made.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::Histogram = bareprom::Histogram::new("h_seconds", "H.");
    /// assert_eq!(H.count(), 0);
    /// ```
    pub fn count(&self) -> u64 {
        self.core().count()
    }

    /// The sum of all observations.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::Histogram = bareprom::Histogram::new("h_seconds", "H.");
    /// H.observe(1.5);
    /// assert_eq!(H.sum(), 1.5);
    /// ```
    pub fn sum(&self) -> f64 {
        self.core().sum()
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("name", &self.meta.name)
            .field("bounds", &self.bounds)
            .field("count", &self.count())
            .field("sum", &self.sum())
            .finish()
    }
}

impl Metric for Histogram {}
impl seal::Encode for Histogram {
    fn describe(&self, i: usize) -> Option<FamilyDesc<'_>> {
        (i == 0).then(|| self.meta.desc(Kind::Histogram, Names::NONE))
    }
    fn expose(&self, _: usize, sink: &mut dyn Sink) {
        let les = self.les.get_or_init(|| Bounds::new(&self.bounds).les);
        let mut exemplars = Vec::new();
        // Only for a format that writes them (as `Unlabelled::expose`).
        if sink.carries_exemplars() {
            self.exemplars.copy(&mut exemplars);
        }
        Core {
            les: Some(les),
            ..self.core()
        }
        .expose(sink, SeriesLabels::None, &exemplars);
    }
}

/// The value of one histogram series in a
/// [`HistogramVec`](crate::HistogramVec): its bounds (shared with the
/// family), bucket counts and sum.
///
/// # Examples
///
/// ```
/// use bareprom::HistogramVec;
///
/// static LATENCY: HistogramVec<1> = HistogramVec::new("rpc_seconds", "RPC latency.", ["method"]);
/// let get = LATENCY.with(["get"]);
/// get.observe(0.02);
/// assert_eq!(get.count(), 1);
/// ```
pub struct HistogramCell {
    bounds: Arc<Bounds>,
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl HistogramCell {
    #[inline]
    fn core(&self) -> Core<'_> {
        Core {
            bounds: &self.bounds.values,
            les: Some(&self.bounds.les),
            counts: &self.counts,
            sum: &self.sum,
        }
    }

    /// Records one observation.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::HistogramVec<1> = bareprom::HistogramVec::new("h_seconds", "H.", ["op"]);
    /// H.with(["read"]).observe(0.5);
    /// assert_eq!(H.with(["read"]).sum(), 0.5);
    /// ```
    #[inline]
    pub fn observe(&self, v: f64) {
        self.core().observe(v);
    }

    /// Starts a [`Timer`] that observes elapsed seconds when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::HistogramVec<1> = bareprom::HistogramVec::new("h_seconds", "H.", ["op"]);
    /// let read = H.with(["read"]);
    /// drop(read.start_timer());
    /// assert_eq!(read.count(), 1);
    /// ```
    pub fn start_timer(&self) -> Timer<'_> {
        Timer::borrowing(self.core())
    }

    /// How many observations were made.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::HistogramVec<1> = bareprom::HistogramVec::new("h_seconds", "H.", ["op"]);
    /// assert_eq!(H.with(["read"]).count(), 0);
    /// ```
    pub fn count(&self) -> u64 {
        self.core().count()
    }

    /// The sum of all observations.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::HistogramVec<1> = bareprom::HistogramVec::new("h_seconds", "H.", ["op"]);
    /// assert_eq!(H.with(["read"]).sum(), 0.0);
    /// ```
    pub fn sum(&self) -> f64 {
        self.core().sum()
    }
}

impl fmt::Debug for HistogramCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HistogramCell")
            .field("count", &self.count())
            .field("sum", &self.sum())
            .finish()
    }
}

impl seal::Series for HistogramCell {
    const KIND: Kind = Kind::Histogram;
    const ZERO: Self = panic!("a histogram needs bucket bounds: use Histogram");
    const DEFAULT_BOUNDS: &'static [f64] = &DEFAULT_BUCKETS;
    fn create(layout: &Layout) -> Self {
        let bounds = layout.shared_buckets();
        HistogramCell {
            counts: (0..=bounds.values.len()).map(|_| AtomicU64::new(0)).collect(),
            bounds,
            sum: AtomicU64::new(0),
        }
    }
    fn expose(&self, sink: &mut dyn Sink, labels: SeriesLabels<'_>) {
        self.core().expose(sink, labels, &[]);
    }
    fn expose_with_exemplars(
        &self,
        sink: &mut dyn Sink,
        labels: SeriesLabels<'_>,
        exemplars: &[Option<Arc<Exemplar>>],
    ) {
        self.core().expose(sink, labels, exemplars);
    }
}

#[cfg(test)]
mod tests;
