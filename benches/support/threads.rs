//! Two-thread jobs for the contended rows: both threads released by one
//! barrier, and how much of the time they really ran at once, so a row
//! measured while another process held a core says so.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Barrier;
use std::time::Instant;

use crate::timing::{Job, median};

/// Runs `work` on two threads released together by a barrier, `n / 2`
/// iterations each, and returns the share of the time during which both ran
/// at once: near 1 when the two really contended, near 0 when one core was
/// taken by another process and the threads merely took turns.
pub(crate) fn two_threads(n: u64, work: impl Fn(u64) + Sync) -> f64 {
    let barrier = Barrier::new(2);
    let run = |iters| {
        barrier.wait();
        let start = Instant::now();
        work(iters);
        (start, Instant::now())
    };
    let (a, b) = std::thread::scope(|s| {
        let other = s.spawn(|| run(n / 2));
        let mine = run(n - n / 2);
        (other.join().expect("worker thread"), mine)
    });
    let both = a.1.min(b.1).saturating_duration_since(a.0.max(b.0));
    let either = a.1.max(b.1).saturating_duration_since(a.0.min(b.0));
    both.as_secs_f64() / either.as_secs_f64().max(1e-12)
}

/// A two-thread job that records, per sample, how much its threads overlapped.
pub(crate) fn threaded_job<'a>(overlaps: &Rc<RefCell<Vec<f64>>>, work: impl Fn(u64) + Sync + 'a) -> Job<'a> {
    let overlaps = Rc::clone(overlaps);
    Box::new(move |n| {
        let overlap = two_threads(n, &work);
        overlaps.borrow_mut().push(overlap);
    })
}

/// The derived column of a threaded row: how much the threads of our job
/// and of the reference overlapped (medians).
pub(crate) fn overlap_note(
    ours: &Rc<RefCell<Vec<f64>>>,
    reference: &Rc<RefCell<Vec<f64>>>,
) -> impl Fn(f64) -> String + 'static {
    let (ours, reference) = (Rc::clone(ours), Rc::clone(reference));
    move |_| {
        format!(
            "threads ran together {:.0} % (ours), {:.0} % (reference) of the time",
            median(&ours.borrow()) * 100.0,
            median(&reference.borrow()) * 100.0
        )
    }
}
