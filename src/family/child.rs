//! The owned handle to one series of a family.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::histogram::{HistogramCell, Timer};
use crate::native::{NativeHistogramCell, NativeTimer};

/// An owned handle to one series of a [`Family`](super::Family): cheap to clone, holds no
/// lock, dereferences to the series' cell.
///
/// # Examples
///
/// ```
/// static JOBS: bareprom::CounterVec<1> = bareprom::CounterVec::new("jobs_total", "Jobs.", ["queue"]);
/// let mail = JOBS.with(["mail"]);
/// std::thread::spawn(move || mail.inc()).join().unwrap();
/// assert_eq!(JOBS.with(["mail"]).get(), 1);
/// ```
pub struct Child<C> {
    /// The cells of the series' page; the handle keeps them alive.
    pub(super) cells: Arc<[C]>,
    pub(super) slot: usize,
}

impl<C> Child<C> {
    pub(super) fn new(cells: &Arc<[C]>, slot: usize) -> Self {
        Child {
            cells: Arc::clone(cells),
            slot,
        }
    }
}

impl Child<HistogramCell> {
    /// Starts a [`Timer`] that observes elapsed seconds into this series
    /// when dropped. The timer holds the series itself, so the handle may
    /// be a temporary: `LATENCY.with(["GET"]).start_timer()` is one
    /// expression.
    ///
    /// # Examples
    ///
    /// ```
    /// static LATENCY: bareprom::HistogramVec<1> =
    ///     bareprom::HistogramVec::new("req_seconds", "Request latency.", ["method"]);
    /// let timer = LATENCY.with(["GET"]).start_timer();
    /// let secs = timer.stop();
    /// assert!(secs >= 0.0);
    /// assert_eq!(LATENCY.with(["GET"]).count(), 1);
    /// ```
    pub fn start_timer(&self) -> Timer<'static> {
        Timer::owning(Arc::clone(&self.cells), self.slot)
    }
}

impl Child<NativeHistogramCell> {
    /// Starts a [`NativeTimer`] that observes elapsed seconds into this
    /// native series when dropped; it holds the series, so the handle may
    /// be a temporary.
    ///
    /// # Examples
    ///
    /// ```
    /// static LATENCY: bareprom::NativeHistogramVec<1> =
    ///     bareprom::NativeHistogramVec::new("req_seconds", "Request latency.", ["method"]);
    /// let timer = LATENCY.with(["GET"]).start_timer();
    /// assert!(timer.stop() >= 0.0);
    /// assert_eq!(LATENCY.with(["GET"]).count(), 1);
    /// ```
    pub fn start_timer(&self) -> NativeTimer<'static> {
        NativeTimer::owning(Arc::clone(&self.cells), self.slot)
    }
}

impl<C> Deref for Child<C> {
    type Target = C;
    fn deref(&self) -> &C {
        // The table hands out only slots of the page it hands out.
        &self.cells[self.slot]
    }
}

impl<C> Clone for Child<C> {
    fn clone(&self) -> Self {
        Child::new(&self.cells, self.slot)
    }
}

impl<C: fmt::Debug> fmt::Debug for Child<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child").field("value", &**self).finish()
    }
}
