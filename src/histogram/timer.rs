//! [`Timer`]: observes the seconds between its start and its drop (or
//! [`stop`](Timer::stop)) into a histogram it borrows or a family series
//! whose page it keeps alive.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::{Core, HistogramCell};

/// Observes the seconds elapsed since it was started when dropped (or
/// [`stopped`](Timer::stop)).
///
/// # Examples
///
/// ```
/// static LATENCY: bareprom::Histogram = bareprom::Histogram::new("job_seconds", "Job latency.");
/// {
///     let _timer = LATENCY.start_timer();
///     // ... the work being timed ...
/// }
/// assert_eq!(LATENCY.count(), 1);
/// ```
///
/// A timer owns what it observes into, so a handle looked up for it may be
/// a temporary:
///
/// ```
/// static LATENCY: bareprom::HistogramVec<1> = bareprom::HistogramVec::new("op_seconds", "Op latency.", ["op"]);
/// let timer = LATENCY.with(["read"]).start_timer();
/// drop(timer);
/// assert_eq!(LATENCY.with(["read"]).count(), 1);
/// ```
#[must_use = "a timer observes when dropped; dropping it at once times nothing"]
pub struct Timer<'a> {
    target: Target<'a>,
    start: Instant,
    armed: bool,
}

/// What a [`Timer`] observes into.
enum Target<'a> {
    /// A histogram it borrows (a `static`'s, or a cell's).
    Core(Core<'a>),
    /// One series of a family's page, whose cells it keeps alive.
    Page(Arc<[HistogramCell]>, usize),
}

impl Target<'_> {
    fn observe(&self, v: f64) {
        match self {
            Target::Core(core) => core.observe(v),
            Target::Page(cells, slot) => {
                if let Some(cell) = cells.get(*slot) {
                    cell.observe(v);
                }
            }
        }
    }
}

impl<'a> Timer<'a> {
    /// A timer for a histogram it borrows.
    pub(super) fn borrowing(core: Core<'a>) -> Self {
        Timer {
            target: Target::Core(core),
            start: Instant::now(),
            armed: true,
        }
    }
}

impl Timer<'static> {
    /// A timer for the series in `slot` of a family page.
    pub(crate) fn owning(cells: Arc<[HistogramCell]>, slot: usize) -> Self {
        Timer {
            target: Target::Page(cells, slot),
            start: Instant::now(),
            armed: true,
        }
    }
}

impl Timer<'_> {
    /// Observes the elapsed seconds now and returns them.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::Histogram = bareprom::Histogram::new("h_seconds", "H.");
    /// let secs = H.start_timer().stop();
    /// assert!(secs >= 0.0);
    /// assert_eq!(H.count(), 1);
    /// ```
    pub fn stop(mut self) -> f64 {
        self.armed = false;
        let secs = self.start.elapsed().as_secs_f64();
        self.target.observe(secs);
        secs
    }
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.target.observe(self.start.elapsed().as_secs_f64());
        }
    }
}

impl fmt::Debug for Timer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}
