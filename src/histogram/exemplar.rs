//! Exemplars on histograms: one per bucket, the latest observation's with
//! an exemplar in that bucket winning, as in `client_golang`. Kept beside
//! the counts (`exemplar/store.rs`), so `observe` is untouched.

use crate::error::Error;
use crate::exemplar::Exemplar;

use super::{Histogram, HistogramCell};

/// The bucket `v` falls in: the first bound at or above it, or the `+Inf`
/// bucket (`bounds.len()`), where NaN goes too; the same bucket `observe`
/// counts it in.
fn bucket(bounds: &[f64], v: f64) -> usize {
    if v.is_nan() {
        bounds.len()
    } else {
        bounds.partition_point(|b| *b < v)
    }
}

impl Histogram {
    /// Records one observation and an exemplar of value `v` (with the
    /// current wall-clock time) for the bucket `v` falls in, replacing that
    /// bucket's previous exemplar: `client_golang`'s `ObserveWithExemplar`.
    /// `OpenMetrics` (`x_bucket{le="0.1"} 3 # {trace_id="abc"} 0.07
    /// 1700000000.123`) and protobuf scrapes carry it; the text format
    /// 0.0.4 cannot and leaves it out.
    ///
    /// Not for the hot path: it allocates and takes a small lock;
    /// [`observe`](Histogram::observe) is the same whether or not this is
    /// ever called.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; `v` is observed all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static LATENCY: bareprom::Histogram = bareprom::Histogram::new("job_seconds", "Job latency.");
    /// LATENCY.observe_with_exemplar(0.07, &[("trace_id", "4bf92f35")])?;
    /// assert_eq!(LATENCY.count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.observe(v);
        let exemplar = Exemplar::new(labels, v)?;
        self.exemplars
            .set(self.bounds.len() + 1, bucket(&self.bounds, v), exemplar);
        Ok(())
    }
}

impl HistogramCell {
    /// How many buckets the series has (`+Inf` included), and which one
    /// `v` falls in.
    pub(crate) fn bucket_of(&self, v: f64) -> (usize, usize) {
        let bounds = &self.bounds.values;
        (bounds.len() + 1, bucket(bounds, v))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;

    use super::bucket;

    #[test]
    fn the_exemplar_bucket_is_the_one_observe_counts_in() {
        let bounds = [0.5, 1.0, 2.5];
        let h = crate::Histogram::try_new("h", "H.", bounds.to_vec()).unwrap();
        for v in [
            f64::NEG_INFINITY,
            -1.0,
            0.0,
            0.5,
            0.6,
            1.0,
            2.5,
            2.6,
            f64::INFINITY,
            f64::NAN,
        ] {
            let before: Vec<u64> = h.counts.iter().map(|c| c.load(Relaxed)).collect();
            h.observe(v);
            let counted = h.counts.iter().zip(&before).position(|(c, b)| c.load(Relaxed) != *b);
            assert_eq!(counted, Some(bucket(&bounds, v)), "{v}");
        }
    }
}
