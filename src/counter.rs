//! Counters: values that only go up. `Counter` counts events in a `u64`;
//! `FloatCounter` sums non-negative quantities such as seconds in an `f64`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::exemplar::Exemplar;
use crate::expose::{Kind, SeriesLabels, Sink, Value};
use crate::layout::Layout;
use crate::metric::seal;

/// The atomic value of a counter series: the unlabelled [`Counter`](crate::Counter) holds
/// one, and every child of a [`CounterVec`](crate::CounterVec) is one.
///
/// # Examples
///
/// ```
/// use bareprom::CounterVec;
///
/// static SWEPT: CounterVec<1> = CounterVec::new("app_swept_total", "Rows swept.", ["outcome"]);
/// let acked = SWEPT.with(["acked"]); // a `Child<CounterCell>`
/// acked.inc_by(3);
/// assert_eq!(acked.get(), 3);
/// ```
#[derive(Default)]
pub struct CounterCell {
    value: AtomicU64,
}

impl CounterCell {
    /// A counter at zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bareprom::CounterCell::new();
    /// assert_eq!(cell.get(), 0);
    /// ```
    pub const fn new() -> Self {
        CounterCell {
            value: AtomicU64::new(0),
        }
    }

    /// Adds one.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bareprom::CounterCell::new();
    /// cell.inc();
    /// assert_eq!(cell.get(), 1);
    /// ```
    #[inline]
    pub fn inc(&self) {
        self.value.fetch_add(1, Relaxed);
    }

    /// Adds `n`. The count wraps after 2^64 − 1, which no real event count
    /// reaches; saturating would cost a compare-and-swap loop on every call.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bareprom::CounterCell::new();
    /// cell.inc_by(40);
    /// cell.inc_by(2);
    /// assert_eq!(cell.get(), 42);
    /// ```
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.value.fetch_add(n, Relaxed);
    }

    /// The current count.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::CounterCell::new().get(), 0);
    /// ```
    #[inline]
    pub fn get(&self) -> u64 {
        self.value.load(Relaxed)
    }
}

impl fmt::Debug for CounterCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CounterCell").field(&self.get()).finish()
    }
}

impl seal::Series for CounterCell {
    const KIND: Kind = Kind::Counter;
    const ZERO: Self = Self::new();
    fn create(_: &Layout) -> Self {
        Self::new()
    }
    #[inline]
    fn value(&self) -> Option<Value> {
        Some(Value::U64(self.get()))
    }
    fn expose(&self, sink: &mut dyn Sink, labels: SeriesLabels<'_>) {
        sink.series(labels, Value::U64(self.get()));
    }
    fn expose_with_exemplars(
        &self,
        sink: &mut dyn Sink,
        labels: SeriesLabels<'_>,
        exemplars: &[Option<Arc<Exemplar>>],
    ) {
        match exemplars.first() {
            Some(Some(exemplar)) => sink.series_with_exemplar(labels, Value::U64(self.get()), exemplar),
            _ => sink.series(labels, Value::U64(self.get())),
        }
    }
}

/// The atomic value of a float counter series: the unlabelled
/// [`FloatCounter`](crate::FloatCounter) holds one, and every child of a
/// [`FloatCounterVec`](crate::FloatCounterVec) is one.
///
/// # Examples
///
/// ```
/// let cell = bareprom::FloatCounterCell::new();
/// cell.inc_by(0.25);
/// cell.inc_by(-1.0); // ignored: counters never go down
/// assert_eq!(cell.get(), 0.25);
/// ```
#[derive(Default)]
pub struct FloatCounterCell {
    bits: AtomicU64,
}

impl FloatCounterCell {
    /// A float counter at zero.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::FloatCounterCell::new().get(), 0.0);
    /// ```
    pub const fn new() -> Self {
        FloatCounterCell {
            bits: AtomicU64::new(0),
        }
    }

    /// Adds `v` when it is finite and not negative; negative, NaN and
    /// infinite input is ignored rather than panicking, because a counter
    /// must never go down and a NaN or infinity would stick forever.
    ///
    /// # Examples
    ///
    /// ```
    /// let secs = bareprom::FloatCounterCell::new();
    /// secs.inc_by(1.5);
    /// secs.inc_by(f64::NAN);
    /// assert_eq!(secs.get(), 1.5);
    /// ```
    #[inline]
    pub fn inc_by(&self, v: f64) {
        if v.is_finite() && v > 0.0 {
            add_f64(&self.bits, v);
        }
    }

    /// The current sum.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::FloatCounterCell::new().get(), 0.0);
    /// ```
    #[inline]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Relaxed))
    }
}

/// Adds to an `f64` stored as bits; a compare-and-swap loop is the only way
/// to add floats atomically.
#[inline]
pub(crate) fn add_f64(bits: &AtomicU64, v: f64) {
    let mut current = bits.load(Relaxed);
    loop {
        let next = (f64::from_bits(current) + v).to_bits();
        match bits.compare_exchange_weak(current, next, Relaxed, Relaxed) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

impl fmt::Debug for FloatCounterCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FloatCounterCell").field(&self.get()).finish()
    }
}

impl seal::Series for FloatCounterCell {
    const KIND: Kind = Kind::Counter;
    const ZERO: Self = Self::new();
    fn create(_: &Layout) -> Self {
        Self::new()
    }
    #[inline]
    fn value(&self) -> Option<Value> {
        Some(Value::F64(self.get()))
    }
    fn expose(&self, sink: &mut dyn Sink, labels: SeriesLabels<'_>) {
        sink.series(labels, Value::F64(self.get()));
    }
    fn expose_with_exemplars(
        &self,
        sink: &mut dyn Sink,
        labels: SeriesLabels<'_>,
        exemplars: &[Option<Arc<Exemplar>>],
    ) {
        match exemplars.first() {
            Some(Some(exemplar)) => sink.series_with_exemplar(labels, Value::F64(self.get()), exemplar),
            _ => sink.series(labels, Value::F64(self.get())),
        }
    }
}
