//! `NativeTimer`: observes elapsed seconds into a native histogram, as
//! [`Timer`](crate::Timer) does for a classic one.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::NativeHistogramCell;

/// Observes the seconds elapsed since it was started into a native
/// histogram when dropped (or [`stopped`](NativeTimer::stop)).
///
/// # Examples
///
/// ```
/// static JOB: bareprom::NativeHistogram = bareprom::NativeHistogram::new("job_seconds", "Job.");
/// {
///     let _timer = JOB.start_timer();
///     // ... the work being timed ...
/// }
/// assert_eq!(JOB.count(), 1);
/// ```
#[must_use = "a timer observes when dropped; dropping it at once times nothing"]
pub struct NativeTimer<'a> {
    target: Target<'a>,
    start: Instant,
    armed: bool,
}

/// What a [`NativeTimer`] observes into.
enum Target<'a> {
    /// A histogram it borrows (a `static`'s, or a cell's).
    Borrowed(&'a NativeHistogramCell),
    /// One series of a family's page, whose cells it keeps alive.
    Page(Arc<[NativeHistogramCell]>, usize),
}

impl Target<'_> {
    fn observe(&self, v: f64) {
        match self {
            Target::Borrowed(cell) => cell.observe(v),
            Target::Page(cells, slot) => {
                if let Some(cell) = cells.get(*slot) {
                    cell.observe(v);
                }
            }
        }
    }
}

impl<'a> NativeTimer<'a> {
    pub(crate) fn borrowing(cell: &'a NativeHistogramCell) -> Self {
        Self::new(Target::Borrowed(cell))
    }

    fn new(target: Target<'a>) -> Self {
        NativeTimer {
            target,
            start: Instant::now(),
            armed: true,
        }
    }

    /// Observes the elapsed seconds now and returns them.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogram = bareprom::NativeHistogram::new("h_seconds", "H.");
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

impl NativeTimer<'static> {
    /// A timer for the series in `slot` of a family page.
    pub(crate) fn owning(cells: Arc<[NativeHistogramCell]>, slot: usize) -> Self {
        Self::new(Target::Page(cells, slot))
    }
}

impl Drop for NativeTimer<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.target.observe(self.start.elapsed().as_secs_f64());
        }
    }
}

impl fmt::Debug for NativeTimer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeTimer")
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}
