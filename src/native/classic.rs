//! Classic buckets alongside a native histogram's, for scrapers of the text
//! formats (and Prometheus 2.45+ with `scrape_classic_histograms`).
//!
//! A scrape must never show more in a classic bucket than the native
//! count it sends with it (the protobuf `Histogram` has one
//! `sample_count`, and `+Inf` is taken from it). An observation counts its
//! native bucket first and its classic bucket after, with `Release`; a
//! scrape reads the classic buckets first, with `Acquire`, and the native
//! ones after. Any classic increment the scrape sees then comes with the
//! native increment made before it, so the classic total read is at most
//! the native count read: every cumulative bucket is at most
//! `sample_count`. The text formats show the classic buckets with their
//! own total as `_count` (exact for them, as a classic histogram's).

use std::sync::atomic::{
    AtomicU64,
    Ordering::{Acquire, Release},
};
use std::sync::{Arc, OnceLock};

use crate::expose::HistogramPoint;
use crate::layout::Bounds;

/// Where the classic bounds are kept.
pub(crate) enum ClassicBounds {
    /// No classic buckets.
    None,
    /// Bounds of a `static` (validated; no `+Inf`), rendered for `le` on
    /// each scrape.
    Static(&'static [f64]),
    /// Bounds with their `le` texts, shared by a family's series.
    Shared(Arc<Bounds>),
}

/// Classic bounds and their counts (one per bound plus `+Inf`, not
/// cumulative), allocated on the first observation.
pub(crate) struct Classic {
    bounds: ClassicBounds,
    counts: OnceLock<Box<[AtomicU64]>>,
}

impl Classic {
    #[allow(clippy::declare_interior_mutable_const)] // a fresh copy at every use is the point
    pub(crate) const NONE: Classic = Classic::new(ClassicBounds::None);

    pub(crate) const fn new(bounds: ClassicBounds) -> Self {
        Classic {
            bounds,
            counts: OnceLock::new(),
        }
    }

    pub(crate) fn shared(bounds: Arc<Bounds>) -> Self {
        Self::new(ClassicBounds::Shared(bounds))
    }

    /// Replaces the bounds and their counts, in const context, where the
    /// old ones cannot be dropped: they are forgotten. In a `static` or on
    /// a fresh histogram that is nothing (no counts yet, bounds borrowed);
    /// at run time on a histogram with run-time bounds or counts, it leaks
    /// them (see `with_classic_buckets`).
    pub(crate) const fn set_bounds(&mut self, bounds: ClassicBounds) {
        std::mem::forget(std::mem::replace(self, Classic::new(bounds)));
    }

    /// The bounds (empty for none).
    pub(crate) fn values(&self) -> &[f64] {
        match &self.bounds {
            ClassicBounds::None => &[],
            ClassicBounds::Static(values) => values,
            ClassicBounds::Shared(bounds) => &bounds.values,
        }
    }

    /// Counts `v` (not NaN) into its classic bucket, after its native one.
    #[inline]
    #[allow(
        clippy::neg_cmp_op_on_partial_ord,
        reason = "the same bucket choice as the classic histogram's"
    )]
    pub(crate) fn observe(&self, v: f64) {
        let bounds = self.values();
        if bounds.is_empty() {
            return;
        }
        // The number of bounds below v, as `Histogram::observe` counts it:
        // without a branch for up to 16 bounds.
        let i = if bounds.len() <= 16 {
            bounds.iter().map(|b| usize::from(!(v <= *b))).sum()
        } else {
            bounds.partition_point(|b| *b < v)
        };
        let counts = self
            .counts
            .get_or_init(|| (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect());
        if let Some(count) = counts.get(i) {
            count.fetch_add(1, Release);
        }
    }

    /// Appends the cumulative counts, one per bound plus `+Inf` (nothing
    /// without bounds).
    pub(crate) fn read_cumulative(&self, out: &mut Vec<u64>) {
        let len = self.values().len();
        if len == 0 {
            return;
        }
        let start = out.len();
        let mut total = 0;
        if let Some(counts) = self.counts.get() {
            for count in counts {
                total += count.load(Acquire);
                out.push(total);
            }
        }
        out.resize(start + len + 1, total);
    }

    /// The classic histogram of `cumulative` (from
    /// [`read_cumulative`](Classic::read_cumulative)), if there are bounds.
    pub(crate) fn point<'a>(&'a self, cumulative: &'a [u64], sum: f64) -> Option<HistogramPoint<'a>> {
        let bounds = self.values();
        if bounds.is_empty() {
            return None;
        }
        let les = match &self.bounds {
            ClassicBounds::Shared(shared) => Some(&shared.les[..]),
            ClassicBounds::None | ClassicBounds::Static(_) => None,
        };
        Some(HistogramPoint {
            bounds,
            les,
            cumulative,
            sum,
        })
    }
}
