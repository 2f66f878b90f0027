//! The scrape side of a family: its series handed to a sink, counters
//! and gauges in batches.

use super::{Cell, Family};
use crate::expose::{FamilyDesc, Kind, Plain, SeriesLabels, Sink};
use crate::metric::{Metric, seal};

/// Series handed to a sink per [`Sink::plain_series`] call: a batch lives
/// on the stack, and one call per batch costs next to nothing per series.
const BATCH: usize = 16;

impl<C: Cell, const N: usize> Family<C, N> {
    /// Calls `f` with every series' labels (its escaped values in its
    /// page's text) and value, in first-seen order. The table's page
    /// handles are copied out and the lock released first (see
    /// `SnapshotBuffer::snapshot`), so a scrape never blocks a writer longer than
    /// that copy, and `f` runs with no lock held.
    pub(crate) fn for_each_series(&self, mut f: impl FnMut(SeriesLabels<'_>, &C)) {
        let snapshot = self.snapshots.snapshot(&self.table);
        snapshot.for_each(|text, start, ends, cell| {
            let labels = if N == 0 {
                SeriesLabels::None
            } else {
                SeriesLabels::Escaped { text, start, ends }
            };
            f(labels, cell);
        });
        self.snapshots.keep(snapshot);
    }

    /// [`for_each_series`](Family::for_each_series) for counters and
    /// gauges: the series go to the sink in batches.
    fn expose_plain(&self, sink: &mut dyn Sink) {
        let snapshot = self.snapshots.snapshot(&self.table);
        let mut batch = [Plain::EMPTY; BATCH];
        let mut len = 0;
        snapshot.for_each(|text, start, ends, cell| {
            let Some(value) = cell.value() else {
                // Not a counter or gauge after all: in order, the slow way.
                sink.plain_series(batch.get(..len).unwrap_or_default());
                len = 0;
                cell.expose(sink, SeriesLabels::Escaped { text, start, ends });
                return;
            };
            if let Some(slot) = batch.get_mut(len) {
                *slot = Plain {
                    text,
                    start,
                    ends,
                    value,
                };
                len += 1;
            }
            if len == BATCH {
                sink.plain_series(&batch);
                len = 0;
            }
        });
        sink.plain_series(batch.get(..len).unwrap_or_default());
        self.snapshots.keep(snapshot);
    }
}

impl<C: Cell, const N: usize> Metric for Family<C, N> {}
impl<C: Cell, const N: usize> seal::Encode for Family<C, N> {
    fn describe(&self, i: usize) -> Option<FamilyDesc<'_>> {
        (i == 0).then(|| self.meta.desc(C::KIND, self.labels.names()))
    }

    fn expose(&self, _: usize, sink: &mut dyn Sink) {
        if self.expose_with_exemplars(sink) {
            return;
        }
        if N > 0 && matches!(C::KIND, Kind::Counter | Kind::Gauge) {
            self.expose_plain(sink);
        } else {
            self.for_each_series(|labels, cell| cell.expose(sink, labels));
        }
    }

    fn dropped(&self) -> Option<u64> {
        (N > 0).then(|| self.dropped())
    }
}
