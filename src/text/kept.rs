//! Buffers an encoder keeps per thread between scrapes, so that a scrape
//! on a thread that has scraped before allocates nothing for its scratch.
//!
//! An allocation per scrape costs more than its own time: glibc sorts the
//! chunks that other code freed into its bins during the next `malloc`
//! that its per-thread cache cannot serve, and whoever calls it pays. In
//! the benches a scrape whose buffers grew anew each time paid 0.5-1.5 ms
//! for that after other rows ran, 20-70 times its whole encode (issue 19).
//!
//! Each encoder keeps its buffers in a `thread_local!` cell of its own
//! (`take` at the start of a scrape, `keep` at its end). A scrape inside a
//! scrape (a collector encoding another registry) finds the cell empty and
//! starts from new buffers; whichever ends last is kept.

use std::cell::Cell;
use std::thread::LocalKey;

/// Kept buffers larger than this in all are dropped instead: a scrape of
/// label values of hundreds of kilobytes should not pin that much memory
/// in every thread that ever scraped.
pub(crate) const KEPT_MAX: usize = 64 * 1024;

/// The buffers kept in `cell`, or new (empty) ones.
pub(crate) fn take<T: Default + 'static>(cell: &'static LocalKey<Cell<T>>) -> T {
    // Fails only while the thread's locals are being destroyed.
    cell.try_with(Cell::take).unwrap_or_default()
}

/// Keeps `buffers` (of `bytes` capacity in all) in `cell` for the next
/// scrape on this thread.
pub(crate) fn keep<T: Default + 'static>(cell: &'static LocalKey<Cell<T>>, buffers: T, bytes: usize) {
    if bytes <= KEPT_MAX {
        // Fails only while the thread's locals are being destroyed: then
        // the buffers are dropped, as they would be with the thread.
        let _ = cell.try_with(|kept| kept.set(buffers));
    }
}
