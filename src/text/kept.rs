//! Buffers an encoder keeps per thread between scrapes, so that a scrape
//! on a thread that has scraped before allocates nothing for its scratch.
//!
//! An allocation per scrape costs more than its own time: glibc sorts the
//! chunks that other code freed into its bins during the next `malloc`
//! that its per-thread cache cannot serve, and whoever calls it pays. In
//! the benches a scrape whose buffers grew anew each time paid 0.5-1.5 ms
//! for that after other rows ran, 20-70 times its whole encode (issue 19).
//!
//! Each encoder keeps its buffers boxed in a `thread_local!` cell of its
//! own, taken for a scrape and put back after (two pointer moves). A scrape
//! inside a scrape (a collector encoding another registry) finds the cell
//! empty and starts from new buffers; whichever ends last is kept.

use std::cell::Cell;
use std::thread::LocalKey;

/// Kept buffers larger than this in all are dropped instead: a scrape of
/// label values of hundreds of kilobytes should not pin that much memory
/// in every thread that ever scraped.
pub(crate) const KEPT_MAX: usize = 64 * 1024;

/// An encoder's buffers.
pub(crate) trait Buffers: Default {
    /// Empties every buffer, keeping its capacity; returns the bytes they
    /// hold room for.
    fn clear(&mut self) -> usize;
}

/// One buffer of [`Buffers`].
pub(crate) trait Buffer {
    /// Empties it, keeping its capacity; returns the bytes it holds room
    /// for.
    fn clear_kept(&mut self) -> usize;
}

impl<T> Buffer for Vec<T> {
    fn clear_kept(&mut self) -> usize {
        self.clear();
        self.capacity() * size_of::<T>()
    }
}

impl Buffer for String {
    fn clear_kept(&mut self) -> usize {
        self.clear();
        self.capacity()
    }
}

/// The cell an encoder keeps its buffers in.
pub(crate) type Kept<T> = Cell<Option<Box<T>>>;

/// Runs `f` on the buffers kept in `cell` (emptied), or on new ones, and
/// keeps them for the next scrape on this thread.
pub(crate) fn with<T: Buffers + 'static, R>(cell: &'static LocalKey<Kept<T>>, f: impl FnOnce(&mut T) -> R) -> R {
    // Kept buffers were emptied when they were put back. `try_with` fails
    // only while the thread's locals are being destroyed: then the buffers
    // are new, and dropped after.
    let mut buffers = cell.try_with(Cell::take).ok().flatten().unwrap_or_default();
    let result = f(&mut buffers);
    if buffers.clear() <= KEPT_MAX {
        let _ = cell.try_with(|kept| kept.set(Some(buffers)));
    }
    result
}
