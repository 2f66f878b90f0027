//! Exemplars written by collectors: a counter series' one, a histogram's
//! per bucket. Kept with the series as data, like everything a collector
//! writes, and handed to the sink with it; formats without exemplars (the
//! text format 0.0.4) leave them out, and a gauge family's are never
//! written (`OpenMetrics` forbids them there, protobuf has no field).

use std::sync::Arc;

use crate::exemplar::Exemplar;
use crate::expose::{Kind, Value};

use super::{FamilyWriter, HistogramWriter, Point};

impl<const N: usize> FamilyWriter<'_, u64, N> {
    /// Writes one series with an exemplar, as
    /// [`series`](FamilyWriter::series) does, for a counter family (a gauge
    /// family's series is written without it).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// struct Jobs;
    /// impl bareprom::Collect for Jobs {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_500);
    ///         let exemplar = bareprom::Exemplar::new(&[("job_id", "42")], 1.0).unwrap().with_timestamp(Some(at));
    ///         out.counter_family("jobs_done_total", "Jobs done.", ["queue"]).series_with_exemplar(["mail"], 7, &exemplar);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new().without_health();
    /// registry.register_collector("jobs", Jobs)?;
    /// let mut om = Vec::new();
    /// registry.encode_openmetrics(&mut om);
    /// assert!(String::from_utf8(om).unwrap().contains(
    ///     "jobs_done_total{queue=\"mail\"} 7 # {job_id=\"42\"} 1 1700000000.5\n"
    /// ));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn series_with_exemplar(&mut self, values: [&str; N], value: u64, exemplar: &Exemplar) {
        self.push(values, Point::Exemplar(Value::U64(value), Arc::new(exemplar.clone())));
    }
}

impl<const N: usize> FamilyWriter<'_, f64, N> {
    /// Writes one series with an exemplar, as
    /// [`series`](FamilyWriter::series) does (a negative or NaN counter
    /// value is rejected), for a counter family (a gauge family's series is
    /// written without it).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Busy;
    /// impl bareprom::Collect for Busy {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         let exemplar = bareprom::Exemplar::new(&[("span", "s1")], 0.5).unwrap().with_timestamp(None);
    ///         out.float_counter_family("busy_seconds_total", "Busy.", ["w"]).series_with_exemplar(["w1"], 2.5, &exemplar);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new().without_health();
    /// registry.register_collector("busy", Busy)?;
    /// let mut om = Vec::new();
    /// registry.encode_openmetrics(&mut om);
    /// assert!(String::from_utf8(om).unwrap().contains("busy_seconds_total{w=\"w1\"} 2.5 # {span=\"s1\"} 0.5\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn series_with_exemplar(&mut self, values: [&str; N], value: f64, exemplar: &Exemplar) {
        let counter = self.family.as_ref().is_some_and(|f| f.kind == Kind::Counter);
        if counter && (value.is_nan() || value < 0.0) {
            self.reject();
            return;
        }
        self.push(values, Point::Exemplar(Value::F64(value), Arc::new(exemplar.clone())));
    }
}

impl<const N: usize> HistogramWriter<'_, N> {
    /// Writes one series as [`series`](HistogramWriter::series) does, with
    /// an exemplar per bucket: `exemplars[i]` for the bucket of the `i`-th
    /// bound, the one after the last bound for `+Inf`; `None`, or a
    /// shorter slice, for buckets without. The series is rejected (and
    /// counted) if it has more exemplars than buckets, or an exemplar
    /// whose value is not in its bucket (above the bucket's bound, or not
    /// above the bound before).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Sizes;
    /// impl bareprom::Collect for Sizes {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         let big = bareprom::Exemplar::new(&[("id", "r9")], 900.0).unwrap().with_timestamp(None);
    ///         let mut sizes = out.histogram_family("reply_bytes", "Reply sizes.", ["route"], &[100.0]);
    ///         sizes.series_with_exemplars(["/a"], &[2], 3, 1000.0, &[None, Some(&big)]);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new().without_health();
    /// registry.register_collector("sizes", Sizes)?;
    /// let mut om = Vec::new();
    /// registry.encode_openmetrics(&mut om);
    /// assert!(String::from_utf8(om).unwrap().contains(
    ///     "reply_bytes_bucket{route=\"/a\",le=\"+Inf\"} 3 # {id=\"r9\"} 900\n"
    /// ));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn series_with_exemplars(
        &mut self,
        values: [&str; N],
        cumulative: &[u64],
        count: u64,
        sum: f64,
        exemplars: &[Option<&Exemplar>],
    ) {
        let Some(family) = self.inner.family.as_deref() else {
            return;
        };
        let bounds = &family.bounds;
        let in_bucket = |i: usize, v: f64| {
            let above_previous = i == 0 || bounds.get(i - 1).is_some_and(|b| v > *b);
            let below_bound = bounds.get(i).is_none_or(|b| v <= *b);
            (above_previous && below_bound) || (i == bounds.len() && v.is_nan())
        };
        let fits = exemplars.len() <= bounds.len() + 1
            && exemplars
                .iter()
                .enumerate()
                .all(|(i, e)| e.is_none_or(|e| in_bucket(i, e.value())));
        if !fits {
            self.inner.reject();
            return;
        }
        let before = family.series.len();
        self.series(values, cumulative, count, sum);
        let Some(family) = self.inner.family.as_deref_mut() else {
            return;
        };
        if family.series.len() > before
            && let Some((_, point)) = family.series.last_mut()
            && let Point::Histogram { cumulative, sum } = point
        {
            *point = Point::HistogramExemplars {
                cumulative: std::mem::take(cumulative),
                sum: *sum,
                exemplars: exemplars.iter().map(|e| e.map(|e| Arc::new(e.clone()))).collect(),
            };
        }
    }
}
