//! Exemplars on native histograms, kept beside the counts
//! (`exemplar/store.rs`) as a classic histogram's are, so
//! [`observe`](NativeHistogramCell::observe) is untouched and a series'
//! cell does not grow.
//!
//! A series keeps the [`NATIVE_EXEMPLARS`] latest exemplars recorded on it
//! (by timestamp: a new one replaces the oldest), which the protobuf
//! exposition writes in `Histogram.exemplars`, and, with classic buckets
//! alongside, one per classic bucket (the latest in it wins, as for a
//! [`Histogram`](crate::Histogram)), which `OpenMetrics` and protobuf
//! write on the buckets. `client_golang` keeps the same number
//! (`NativeHistogramMaxExemplars`, default 10) but chooses which to drop
//! by value spacing and a time-to-live; the latest few are simpler, cost
//! nothing per observation, and are what a dashboard looks for.
//!
//! The entries of a series: the [`NATIVE_EXEMPLARS`] recent ones, then
//! one per classic bucket (`+Inf` last), if any.

use crate::error::Error;
use crate::exemplar::Exemplar;
use crate::exemplar::store::Place;

use super::{NativeHistogram, NativeHistogramCell};

/// How many recent exemplars a native histogram series keeps:
/// `client_golang`'s default `NativeHistogramMaxExemplars`.
pub(crate) const NATIVE_EXEMPLARS: usize = 10;

impl NativeHistogramCell {
    /// How many exemplar entries the series has, and where `v`'s goes
    /// (not NaN): a recent slot, and its classic bucket if there are any.
    pub(crate) fn exemplar_place(&self, v: f64) -> (usize, Place) {
        let bounds = self.classic().values();
        if bounds.is_empty() {
            return (
                NATIVE_EXEMPLARS,
                Place::Recent {
                    slots: NATIVE_EXEMPLARS,
                    also: None,
                },
            );
        }
        // The bucket `Classic::observe` counts `v` in.
        let bucket = bounds.partition_point(|b| *b < v);
        (
            NATIVE_EXEMPLARS + bounds.len() + 1,
            Place::Recent {
                slots: NATIVE_EXEMPLARS,
                also: Some(NATIVE_EXEMPLARS + bucket),
            },
        )
    }
}

impl NativeHistogram {
    /// Records one observation and an exemplar of value `v` (with the
    /// current wall-clock time): `client_golang`'s `ObserveWithExemplar`.
    /// The histogram keeps its 10 latest exemplars (a new one replaces the
    /// one with the oldest timestamp), which protobuf scrapes carry in
    /// `Histogram.exemplars`; with classic buckets alongside
    /// ([`with_classic_buckets`](NativeHistogram::with_classic_buckets))
    /// it is also the exemplar of the classic bucket `v` falls in, which
    /// `OpenMetrics` shows. Without classic buckets the text formats show
    /// no exemplar: they have no place for it. NaN is not observed and
    /// records nothing.
    ///
    /// Not for the hot path: it allocates and takes a small lock;
    /// [`observe`](NativeHistogram::observe) is the same whether or not
    /// this is ever called.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; `v` is observed all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static LATENCY: bareprom::NativeHistogram =
    ///     bareprom::NativeHistogram::new("rpc_seconds", "RPC latency.").with_classic_buckets(&[0.1, 1.0]);
    /// LATENCY.observe_with_exemplar(0.07, &[("trace_id", "4bf92f35")])?;
    /// let registry = bareprom::Registry::new().without_health();
    /// registry.register(&LATENCY)?;
    /// let mut om = Vec::new();
    /// registry.encode_openmetrics(&mut om);
    /// assert!(String::from_utf8(om).unwrap().contains("rpc_seconds_bucket{le=\"0.1\"} 1 # {trace_id=\"4bf92f35\"} 0.07 "));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.observe(v);
        let exemplar = Exemplar::new(labels, v)?;
        if !v.is_nan() {
            let (len, place) = self.cell.exemplar_place(v);
            self.exemplars.place(len, place, exemplar);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::exemplar::store::Slot;
    use crate::layout::NativeShape;
    use crate::native::classic::{Classic, ClassicBounds};

    /// The classic bucket of an exemplar is the one `observe` counts `v`
    /// in, at bounds, between them, beyond them and at infinities.
    #[test]
    fn the_classic_exemplar_bucket_is_the_one_observe_counts_in() {
        let cell = NativeHistogramCell::new(NativeShape::DEFAULT, Classic::new(ClassicBounds::Static(&[0.5, 1.0])));
        for v in [f64::NEG_INFINITY, -1.0, 0.0, 0.5, 0.6, 1.0, 1.5, f64::INFINITY] {
            let mut before = Vec::new();
            cell.classic().read_cumulative(&mut before);
            cell.observe(v);
            let mut after = Vec::new();
            cell.classic().read_cumulative(&mut after);
            let counted = after.iter().zip(&before).position(|(a, b)| a != b);
            let (len, place) = cell.exemplar_place(v);
            assert_eq!(len, NATIVE_EXEMPLARS + 3);
            let Place::Recent { also, slots } = place else {
                panic!("{place:?}")
            };
            assert_eq!(slots, NATIVE_EXEMPLARS);
            assert_eq!(also, counted.map(|i| NATIVE_EXEMPLARS + i), "{v}");
        }
    }

    #[test]
    fn without_classic_buckets_only_recent_slots_exist() {
        let cell = NativeHistogramCell::new(NativeShape::DEFAULT, Classic::NONE);
        let (len, place) = cell.exemplar_place(3.0);
        assert_eq!(len, NATIVE_EXEMPLARS);
        let slot = Slot::new();
        for i in 0..25 {
            slot.place(len, place, Exemplar::new(&[], f64::from(i)).unwrap());
        }
        let mut out: Vec<Option<Arc<Exemplar>>> = Vec::new();
        assert!(slot.copy(&mut out));
        assert_eq!(out.len(), NATIVE_EXEMPLARS);
        assert!(out.iter().all(Option::is_some));
    }
}
