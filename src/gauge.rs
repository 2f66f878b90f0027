//! Gauges: values that go up and down. `Gauge` holds an `i64` (counts of
//! things, bytes); `FloatGauge` holds an `f64` (temperatures, ratios).

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::counter::add_f64;
use crate::expose::{Kind, SeriesLabels, Sink, Value};
use crate::layout::Layout;
use crate::metric::seal;

/// The atomic value of an `i64` gauge series: the unlabelled [`Gauge`](crate::Gauge)
/// holds one, and every child of a [`GaugeVec`](crate::GaugeVec) is one.
///
/// # Examples
///
/// ```
/// let g = bareprom::GaugeCell::new();
/// g.set(10);
/// g.sub(3);
/// assert_eq!(g.get(), 7);
/// ```
#[derive(Default)]
pub struct GaugeCell {
    value: AtomicI64,
}

impl GaugeCell {
    /// A gauge at zero.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::GaugeCell::new().get(), 0);
    /// ```
    pub const fn new() -> Self {
        GaugeCell {
            value: AtomicI64::new(0),
        }
    }

    /// Sets the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = bareprom::GaugeCell::new();
    /// g.set(-4);
    /// assert_eq!(g.get(), -4);
    /// ```
    #[inline]
    pub fn set(&self, v: i64) {
        self.value.store(v, Relaxed);
    }

    /// Adds one.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = bareprom::GaugeCell::new();
    /// g.inc();
    /// assert_eq!(g.get(), 1);
    /// ```
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Subtracts one.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = bareprom::GaugeCell::new();
    /// g.dec();
    /// assert_eq!(g.get(), -1);
    /// ```
    #[inline]
    pub fn dec(&self) {
        self.add(-1);
    }

    /// Adds `n` (which may be negative); wraps on overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = bareprom::GaugeCell::new();
    /// g.add(7);
    /// assert_eq!(g.get(), 7);
    /// ```
    #[inline]
    pub fn add(&self, n: i64) {
        self.value.fetch_add(n, Relaxed);
    }

    /// Subtracts `n`; wraps on overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = bareprom::GaugeCell::new();
    /// g.sub(2);
    /// assert_eq!(g.get(), -2);
    /// ```
    #[inline]
    pub fn sub(&self, n: i64) {
        self.value.fetch_sub(n, Relaxed);
    }

    /// The current value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::GaugeCell::new().get(), 0);
    /// ```
    #[inline]
    pub fn get(&self) -> i64 {
        self.value.load(Relaxed)
    }
}

impl fmt::Debug for GaugeCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GaugeCell").field(&self.get()).finish()
    }
}

impl seal::Series for GaugeCell {
    const KIND: Kind = Kind::Gauge;
    const ZERO: Self = Self::new();
    fn create(_: &Layout) -> Self {
        Self::new()
    }
    #[inline]
    fn value(&self) -> Option<Value> {
        Some(Value::I64(self.get()))
    }
    fn expose(&self, sink: &mut dyn Sink, labels: SeriesLabels<'_>) {
        sink.series(labels, Value::I64(self.get()));
    }
}

/// The atomic value of an `f64` gauge series: the unlabelled
/// [`FloatGauge`](crate::FloatGauge) holds one, and every child of a
/// [`FloatGaugeVec`](crate::FloatGaugeVec) is one.
///
/// # Examples
///
/// ```
/// let g = bareprom::FloatGaugeCell::new();
/// g.set(1.5);
/// g.add(0.25);
/// assert_eq!(g.get(), 1.75);
/// ```
#[derive(Default)]
pub struct FloatGaugeCell {
    bits: AtomicU64,
}

impl FloatGaugeCell {
    /// A float gauge at zero.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::FloatGaugeCell::new().get(), 0.0);
    /// ```
    pub const fn new() -> Self {
        FloatGaugeCell {
            bits: AtomicU64::new(0),
        }
    }

    /// Sets the value; any `f64`, NaN and infinities included.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = bareprom::FloatGaugeCell::new();
    /// g.set(f64::INFINITY);
    /// assert_eq!(g.get(), f64::INFINITY);
    /// ```
    #[inline]
    pub fn set(&self, v: f64) {
        self.bits.store(v.to_bits(), Relaxed);
    }

    /// Adds `v` (which may be negative).
    ///
    /// # Examples
    ///
    /// ```
    /// let g = bareprom::FloatGaugeCell::new();
    /// g.add(-0.5);
    /// assert_eq!(g.get(), -0.5);
    /// ```
    #[inline]
    pub fn add(&self, v: f64) {
        add_f64(&self.bits, v);
    }

    /// Subtracts `v`.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = bareprom::FloatGaugeCell::new();
    /// g.sub(0.5);
    /// assert_eq!(g.get(), -0.5);
    /// ```
    #[inline]
    pub fn sub(&self, v: f64) {
        add_f64(&self.bits, -v);
    }

    /// The current value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::FloatGaugeCell::new().get(), 0.0);
    /// ```
    #[inline]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Relaxed))
    }
}

impl fmt::Debug for FloatGaugeCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FloatGaugeCell").field(&self.get()).finish()
    }
}

impl seal::Series for FloatGaugeCell {
    const KIND: Kind = Kind::Gauge;
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
}
