//! Exemplars on family series: the `…_with_exemplar` methods of a
//! [`Child`] and the family scrape that hands them to the sink. They are
//! kept in the process-wide table of `exemplar/store.rs`, keyed by the
//! series' cell, so a series (one cell in a page of cells) does not grow
//! and [`inc`](CounterCell::inc) / [`observe`](HistogramCell::observe)
//! are untouched.

use crate::counter::{CounterCell, FloatCounterCell};
use crate::error::Error;
use crate::exemplar::{Exemplar, store};
use crate::expose::{Kind, Sink};
use crate::histogram::HistogramCell;
use crate::native::NativeHistogramCell;

use super::{Cell, Child, Family};

impl Child<CounterCell> {
    /// Adds one and records an exemplar (value 1, the current wall-clock
    /// time) for this series, as
    /// [`Counter`](crate::Counter)`::inc_with_exemplar`:
    /// `client_golang`'s `WithLabelValues(..).(ExemplarAdder).AddWithExemplar(1, labels)`.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; the series is incremented all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static REQS: bareprom::CounterVec<1> = bareprom::CounterVec::new("reqs_total", "Requests.", ["code"]);
    /// REQS.with(["200"]).inc_with_exemplar(&[("trace_id", "4bf92f35")])?;
    /// assert_eq!(REQS.with(["200"]).get(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn inc_with_exemplar(&self, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.inc_by_with_exemplar(1, labels)
    }

    /// Adds `n` and records an exemplar of value `n` for this series.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; `n` is added all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static SENT: bareprom::CounterVec<1> = bareprom::CounterVec::new("sent_bytes_total", "Bytes.", ["peer"]);
    /// SENT.with(["db"]).inc_by_with_exemplar(100, &[("trace_id", "abc")])?;
    /// assert_eq!(SENT.with(["db"]).get(), 100);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[allow(
        clippy::cast_precision_loss,
        reason = "an exemplar value is a double in every format"
    )]
    pub fn inc_by_with_exemplar(&self, n: u64, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.inc_by(n);
        store::set_series(&self.cells, self.slot, 1, 0, Exemplar::new(labels, n as f64)?);
        Ok(())
    }
}

impl Child<FloatCounterCell> {
    /// Adds `v` and records an exemplar of value `v` for this series; a
    /// negative, NaN or infinite `v` is ignored and records nothing.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; `v` is added all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static BUSY: bareprom::FloatCounterVec<1> = bareprom::FloatCounterVec::new("busy_seconds_total", "Busy.", ["pool"]);
    /// BUSY.with(["io"]).inc_by_with_exemplar(0.25, &[("trace_id", "abc")])?;
    /// assert_eq!(BUSY.with(["io"]).get(), 0.25);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn inc_by_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), Error> {
        if !(v.is_finite() && v >= 0.0) {
            return Ok(());
        }
        self.inc_by(v);
        store::set_series(&self.cells, self.slot, 1, 0, Exemplar::new(labels, v)?);
        Ok(())
    }
}

impl Child<HistogramCell> {
    /// Records one observation and an exemplar of value `v` (with the
    /// current wall-clock time) for the bucket `v` falls in, replacing that
    /// bucket's previous exemplar: `client_golang`'s `ObserveWithExemplar`.
    /// `OpenMetrics` and protobuf scrapes write it after the bucket's line.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; `v` is observed all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static LATENCY: bareprom::HistogramVec<1> = bareprom::HistogramVec::new("rpc_seconds", "RPC latency.", ["method"]);
    /// LATENCY.with(["get"]).observe_with_exemplar(0.03, &[("trace_id", "4bf92f35")])?;
    /// assert_eq!(LATENCY.with(["get"]).count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.observe(v);
        let (buckets, bucket) = HistogramCell::bucket_of(self, v);
        store::set_series(&self.cells, self.slot, buckets, bucket, Exemplar::new(labels, v)?);
        Ok(())
    }
}

impl Child<NativeHistogramCell> {
    /// Records one observation and an exemplar of value `v` for this
    /// series, as
    /// [`NativeHistogram::observe_with_exemplar`](crate::NativeHistogram::observe_with_exemplar):
    /// the series keeps its 10 latest exemplars (protobuf's
    /// `Histogram.exemplars`) and, with classic buckets alongside, one per
    /// classic bucket (`OpenMetrics` and protobuf buckets). NaN is not
    /// observed and records nothing.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; `v` is observed all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static RPC: bareprom::NativeHistogramVec<1> = bareprom::NativeHistogramVec::new("rpc_seconds", "RPC latency.", ["method"]);
    /// RPC.with(["get"]).observe_with_exemplar(0.03, &[("trace_id", "4bf92f35")])?;
    /// assert_eq!(RPC.with(["get"]).count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.observe(v);
        let exemplar = Exemplar::new(labels, v)?;
        if !v.is_nan() {
            let (len, place) = NativeHistogramCell::exemplar_place(self, v);
            store::place_series(&self.cells, self.slot, len, place, exemplar);
        }
        Ok(())
    }
}

impl<C: Cell, const N: usize> Family<C, N> {
    /// Writes every series as `expose` does, handing the sink the
    /// exemplars of those that have some. Taken only once a family series
    /// anywhere recorded an exemplar, only by counter and histogram
    /// families, and only for a format that carries exemplars.
    pub(super) fn expose_with_exemplars(&self, sink: &mut dyn Sink) -> bool {
        let kind = matches!(C::KIND, Kind::Counter | Kind::Histogram);
        if !kind || !store::series_recorded() || !sink.carries_exemplars() {
            return false;
        }
        let (mut exemplars, mut cursor) = (Vec::new(), store::Cursor::default());
        self.for_each_series(|labels, cell| {
            if store::copy_series(cell, &mut exemplars, &mut cursor) {
                cell.expose_with_exemplars(sink, labels, &exemplars);
            } else {
                cell.expose(sink, labels);
            }
        });
        true
    }
}
