//! The owned handle to one series of a family.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

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
