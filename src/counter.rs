//! Counters: values that only go up. `Counter` counts events in a `u64`;
//! `FloatCounter` sums non-negative quantities such as seconds in an `f64`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::family::{Cell, Layout};
use crate::registry::seal;
use crate::text::{Encoder, Kind, Labels, Value};
use crate::unlabelled::Unlabelled;

/// An unlabelled `u64` counter that can live in a plain `static`.
///
/// The methods are those of [`CounterCell`], reached through `Deref`.
///
/// # Examples
///
/// ```
/// use bareprom::{Counter, Registry};
///
/// static REQUESTS: Counter = Counter::new("app_requests_total", "Requests served.");
///
/// let registry = Registry::new();
/// registry.register(&REQUESTS)?;
/// REQUESTS.inc();
/// assert_eq!(
///     registry.render(),
///     "# HELP app_requests_total Requests served.\n\
///      ## TYPE app_requests_total counter\n\
///      app_requests_total 1\n"
/// );
/// # Ok::<(), bareprom::Error>(())
/// ```
///
/// An invalid name in a `static` does not compile:
///
/// ```compile_fail
/// static BAD: bareprom::Counter = bareprom::Counter::new("app-requests", "Dashes are invalid.");
/// ```
pub type Counter = Unlabelled<CounterCell>;

/// An unlabelled `f64` counter, for sums such as seconds spent.
///
/// The methods are those of [`FloatCounterCell`], reached through `Deref`.
///
/// # Examples
///
/// ```
/// use bareprom::{FloatCounter, Registry};
///
/// static BUSY: FloatCounter = FloatCounter::new("worker_busy_seconds_total", "Time spent working.");
///
/// let registry = Registry::new();
/// registry.register(&BUSY)?;
/// BUSY.inc_by(0.5);
/// BUSY.inc_by(0.25);
/// assert!(registry.render().ends_with("worker_busy_seconds_total 0.75\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub type FloatCounter = Unlabelled<FloatCounterCell>;

/// The atomic value of a counter series: the unlabelled [`Counter`] holds
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

impl Cell for CounterCell {}
impl seal::Series for CounterCell {
    crate::family::cache::lookups!(CounterCell);
    const KIND: Kind = Kind::Counter;
    const ZERO: Self = Self::new();
    fn create(_: &Layout) -> Self {
        Self::new()
    }
    fn encode_series(&self, enc: &mut Encoder<'_>, name: &str, labels: Labels<'_>) {
        enc.sample(name, "", labels, None, Value::U64(self.get()));
    }
}

/// The atomic value of a float counter series: the unlabelled
/// [`FloatCounter`] holds one, and every child of a
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

impl Cell for FloatCounterCell {}
impl seal::Series for FloatCounterCell {
    crate::family::cache::lookups!(FloatCounterCell);
    const KIND: Kind = Kind::Counter;
    const ZERO: Self = Self::new();
    fn create(_: &Layout) -> Self {
        Self::new()
    }
    fn encode_series(&self, enc: &mut Encoder<'_>, name: &str, labels: Labels<'_>) {
        enc.sample(name, "", labels, None, Value::F64(self.get()));
    }
}
