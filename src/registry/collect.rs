//! Collectors: metrics computed at scrape time, and where they write.
//!
//! A collector writes into a [`Scrape`], which keeps what it wrote as data
//! (names, raw label values, values) rather than as bytes: the registry
//! then checks those families against every other family of the scrape,
//! merges them with same-named families of included registries, and hands
//! them to whichever format the scrape is in. A collector that panics
//! loses all it wrote in that scrape and nothing else.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use crate::exemplar::Exemplar;
use crate::expose::{FamilyDesc, HistogramPoint, Kind, Names, SeriesLabels, Sink, Value};
use crate::name;

mod exemplar;

/// A source of metrics computed at scrape time, such as a queue length or
/// the process' resident memory.
///
/// `collect` runs on every scrape, with no lock of the registry held. If it
/// panics, whatever it wrote in that scrape is discarded, the rest of the
/// scrape is served, and `bareprom_collector_panics_total{collector="<name>"}`
/// counts it.
///
/// # Examples
///
/// Per-queue depth, computed when scraped:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use bareprom::{Collect, Registry, Scrape};
///
/// struct QueueDepth(Arc<Mutex<Vec<(String, Vec<u32>)>>>);
///
/// impl Collect for QueueDepth {
///     fn collect(&self, out: &mut Scrape<'_>) {
///         let queues = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
///         let mut depth = out.gauge_family("jobs_queued", "Jobs waiting, per queue.", ["queue"]);
///         for (queue, jobs) in queues.iter() {
///             depth.series([queue], jobs.len() as i64);
///         }
///     }
/// }
///
/// let queues = Arc::new(Mutex::new(vec![("mail".to_owned(), vec![1, 2, 3]), ("sms".to_owned(), vec![4])]));
/// let registry = Registry::new();
/// registry.register_collector("queues", QueueDepth(Arc::clone(&queues)))?;
/// assert_eq!(
///     registry.render(),
///     "# HELP jobs_queued Jobs waiting, per queue.\n\
///      ## TYPE jobs_queued gauge\n\
///      jobs_queued{queue=\"mail\"} 3\n\
///      jobs_queued{queue=\"sms\"} 1\n\
///      ## HELP bareprom_collector_panics_total Scrapes in which a collector panicked and was left out.\n\
///      ## TYPE bareprom_collector_panics_total counter\n\
///      bareprom_collector_panics_total{collector=\"queues\"} 0\n"
/// );
/// # Ok::<(), bareprom::Error>(())
/// ```
pub trait Collect: Send + Sync {
    /// Writes the collector's current values into `out`.
    fn collect(&self, out: &mut Scrape<'_>);
}

/// One family a collector wrote.
pub(super) struct Collected {
    pub(super) name: String,
    help: String,
    kind: Kind,
    labels: Vec<String>,
    /// Whether a name lies outside the legacy charset.
    utf8: bool,
    /// Histograms only: the finite bounds.
    bounds: Vec<f64>,
    series: Vec<(Vec<String>, Point)>,
}

enum Point {
    Value(Value),
    Histogram {
        cumulative: Vec<u64>,
        sum: f64,
    },
    /// A counter value with an exemplar (`exemplar.rs`).
    Exemplar(Value, Arc<Exemplar>),
    /// A histogram with exemplars per bucket (`exemplar.rs`).
    HistogramExemplars {
        cumulative: Vec<u64>,
        sum: f64,
        exemplars: Vec<Option<Arc<Exemplar>>>,
    },
}

impl Collected {
    pub(super) fn desc(&self) -> FamilyDesc<'_> {
        FamilyDesc {
            name: &self.name,
            help: &self.help,
            unit: "",
            kind: self.kind,
            labels: Names::Strings(&self.labels),
            utf8: self.utf8,
        }
    }

    pub(super) fn expose(&self, sink: &mut dyn Sink) {
        for (values, point) in &self.series {
            let labels = if values.is_empty() {
                SeriesLabels::None
            } else {
                SeriesLabels::Raw(values)
            };
            match point {
                Point::Value(value) => sink.series(labels, *value),
                Point::Histogram { cumulative, sum } => sink.histogram(
                    labels,
                    &HistogramPoint {
                        bounds: &self.bounds,
                        les: None,
                        cumulative,
                        sum: *sum,
                    },
                ),
                Point::Exemplar(value, exemplar) => sink.series_with_exemplar(labels, *value, exemplar),
                Point::HistogramExemplars {
                    cumulative,
                    sum,
                    exemplars,
                } => sink.histogram_with_exemplars(
                    labels,
                    &HistogramPoint {
                        bounds: &self.bounds,
                        les: None,
                        cumulative,
                        sum: *sum,
                    },
                    exemplars,
                ),
            }
        }
    }
}

/// Where a [`Collect`] writes during a scrape.
///
/// Each of [`counter`](Scrape::counter), [`gauge`](Scrape::gauge), … writes
/// one whole unlabelled family; each of
/// [`counter_family`](Scrape::counter_family),
/// [`gauge_family`](Scrape::gauge_family), … opens a labelled family that
/// takes any number of series. What is invalid is left out and counted in
/// `bareprom_collector_rejected_total{collector="<name>"}` (rendered once
/// non-zero), so a collector bug never produces an exposition a scraper
/// would reject:
///
/// - a whole family, if its name or a label name is invalid or reserved
///   (`__` prefixes, `le` on a histogram, a constant label of the
///   registry), or if it clashes with another family of the scrape (the
///   same name, or a sample name such as a histogram's `x_count`, unless it
///   is the same family from another included registry, see
///   [`Registry::include`](crate::Registry::include));
/// - a series, if its label values repeat an earlier series of the family,
///   its counter value is negative or NaN, or its histogram counts do not
///   fit the bounds.
///
/// Clashes follow the rule of [`Registry::register`](crate::Registry::register):
/// a family claims every name that a parser we serve maps back to it (its
/// own name; for a histogram `x` also `x_bucket`, `x_sum`, `x_count` and
/// `x_created`; for a counter `x_total`, or `x`, also `x`, `x_total` and
/// `x_created`; a gauge only its name), and two families clash when their
/// claims intersect, whichever is written first. The registry's own health
/// families take part as counters. A collector writing gauge `jobs` and
/// then counter `jobs_total` gets the gauge only.
///
/// # Examples
///
/// ```
/// struct Twice;
/// impl bareprom::Collect for Twice {
///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
///         out.gauge("jobs", "Jobs.", 1);
///         out.counter("jobs_total", "Clashes: OpenMetrics names it `jobs`.", 2);
///     }
/// }
/// let registry = bareprom::Registry::new();
/// registry.register_collector("twice", Twice)?;
/// let text = registry.render();
/// assert!(text.contains("jobs 1\n") && !text.contains("jobs_total 2"));
/// assert!(text.contains("bareprom_collector_rejected_total{collector=\"twice\"} 1\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub struct Scrape<'a> {
    pub(super) families: &'a mut Vec<Collected>,
    pub(super) rejected: u64,
    /// Whether names may lie outside the legacy charset (the collector's
    /// registry was made [`with_utf8_names`](super::Registry::with_utf8_names)).
    pub(super) utf8: bool,
}

impl Scrape<'_> {
    /// Writes a `u64` counter.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Uptime;
    /// impl bareprom::Collect for Uptime {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         out.counter("ticks_total", "Ticks seen.", 42);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("uptime", Uptime)?;
    /// assert!(registry.render().contains("ticks_total 42\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn counter(&mut self, name: &str, help: &str, value: u64) {
        self.counter_family(name, help, []).series([], value);
    }

    /// Writes an `f64` counter; a negative or NaN value is rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Cpu;
    /// impl bareprom::Collect for Cpu {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         out.float_counter("cpu_seconds_total", "CPU time.", 1.5);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("cpu", Cpu)?;
    /// assert!(registry.render().contains("cpu_seconds_total 1.5\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn float_counter(&mut self, name: &str, help: &str, value: f64) {
        if value.is_nan() || value < 0.0 {
            // Rejected before the family exists: no empty family is left.
            self.rejected += 1;
            return;
        }
        self.float_counter_family(name, help, []).series([], value);
    }

    /// Writes an `i64` gauge.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Temp;
    /// impl bareprom::Collect for Temp {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         out.gauge("workers", "Workers alive.", 4);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("workers", Temp)?;
    /// assert!(registry.render().contains("workers 4\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn gauge(&mut self, name: &str, help: &str, value: i64) {
        self.gauge_family(name, help, []).series([], value);
    }

    /// Writes an `f64` gauge.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Load;
    /// impl bareprom::Collect for Load {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         out.float_gauge("load_ratio", "Load.", 0.25);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("load", Load)?;
    /// assert!(registry.render().contains("load_ratio 0.25\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn float_gauge(&mut self, name: &str, help: &str, value: f64) {
        self.float_gauge_family(name, help, []).series([], value);
    }

    /// Opens a labelled `u64` counter family.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Sent;
    /// impl bareprom::Collect for Sent {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         let mut sent = out.counter_family("mails_sent_total", "Mails sent.", ["relay"]);
    ///         sent.series(["a"], 10);
    ///         sent.series(["b"], 7);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("mail", Sent)?;
    /// assert!(registry.render().contains("mails_sent_total{relay=\"b\"} 7\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn counter_family<const N: usize>(
        &mut self,
        name: &str,
        help: &str,
        labels: [&str; N],
    ) -> FamilyWriter<'_, u64, N> {
        self.open(name, help, Kind::Counter, &labels, Vec::new(), true)
    }

    /// Opens a labelled `f64` counter family; a negative or NaN value is
    /// rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Busy;
    /// impl bareprom::Collect for Busy {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         out.float_counter_family("busy_seconds_total", "Busy time.", ["worker"]).series(["w1"], 0.5);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("busy", Busy)?;
    /// assert!(registry.render().contains("busy_seconds_total{worker=\"w1\"} 0.5\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn float_counter_family<const N: usize>(
        &mut self,
        name: &str,
        help: &str,
        labels: [&str; N],
    ) -> FamilyWriter<'_, f64, N> {
        self.open(name, help, Kind::Counter, &labels, Vec::new(), true)
    }

    /// Opens a labelled `i64` gauge family.
    ///
    /// # Examples
    ///
    /// See [`Collect`].
    pub fn gauge_family<const N: usize>(
        &mut self,
        name: &str,
        help: &str,
        labels: [&str; N],
    ) -> FamilyWriter<'_, i64, N> {
        self.open(name, help, Kind::Gauge, &labels, Vec::new(), true)
    }

    /// Opens a labelled `f64` gauge family.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Temp;
    /// impl bareprom::Collect for Temp {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         out.float_gauge_family("temp_celsius", "Temperature.", ["room"]).series(["lab"], 21.5);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("temp", Temp)?;
    /// assert!(registry.render().contains("temp_celsius{room=\"lab\"} 21.5\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn float_gauge_family<const N: usize>(
        &mut self,
        name: &str,
        help: &str,
        labels: [&str; N],
    ) -> FamilyWriter<'_, f64, N> {
        self.open(name, help, Kind::Gauge, &labels, Vec::new(), true)
    }

    /// Opens a labelled histogram family with these bucket bounds
    /// (ascending; a trailing `+Inf` is optional). Invalid bounds reject
    /// the family.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Batches;
    /// impl bareprom::Collect for Batches {
    ///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
    ///         let mut sizes = out.histogram_family("batch_size", "Batch sizes.", ["queue"], &[10.0, 100.0]);
    ///         // Cumulative counts at each bound, then the total count and the sum.
    ///         sizes.series(["mail"], &[3, 5], 6, 420.0);
    ///     }
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("batches", Batches)?;
    /// let text = registry.render();
    /// assert!(text.contains("batch_size_bucket{queue=\"mail\",le=\"100\"} 5\n"));
    /// assert!(text.contains("batch_size_bucket{queue=\"mail\",le=\"+Inf\"} 6\n"));
    /// assert!(text.contains("batch_size_count{queue=\"mail\"} 6\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn histogram_family<const N: usize>(
        &mut self,
        name: &str,
        help: &str,
        labels: [&str; N],
        bounds: &[f64],
    ) -> HistogramWriter<'_, N> {
        let valid = name::buckets(bounds).is_ok();
        let bounds = if valid {
            bounds[..name::finite_len(bounds)].to_vec()
        } else {
            Vec::new()
        };
        HistogramWriter {
            inner: self.open(name, help, Kind::Histogram, &labels, bounds, valid),
        }
    }

    fn open<V, const N: usize>(
        &mut self,
        name: &str,
        help: &str,
        kind: Kind,
        labels: &[&str; N],
        bounds: Vec<f64>,
        valid: bool,
    ) -> FamilyWriter<'_, V, N> {
        let histogram = matches!(kind, Kind::Histogram);
        let legacy = name::metric_name(name).is_ok() && name::label_names(labels, histogram).is_ok();
        // Names outside the legacy charset only where the registry took
        // them; a legacy family costs nothing more to check.
        let utf8 = !legacy
            && self.utf8
            && name::check_metric_name_utf8(name).is_ok()
            && name::check_label_names_utf8(labels, histogram).is_ok();
        let valid = valid && (legacy || utf8);
        if valid {
            self.families.push(Collected {
                name: name.to_owned(),
                help: help.to_owned(),
                kind,
                labels: labels.iter().map(|l| (*l).to_owned()).collect(),
                utf8,
                bounds,
                series: Vec::new(),
            });
        } else {
            self.rejected += 1;
        }
        FamilyWriter {
            family: if valid { self.families.last_mut() } else { None },
            rejected: &mut self.rejected,
            seen: HashSet::new(),
            value: std::marker::PhantomData,
        }
    }
}

impl fmt::Debug for Scrape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrape")
            .field("families", &self.families.len())
            .field("rejected", &self.rejected)
            .finish()
    }
}

/// A labelled counter or gauge family a collector is writing, from
/// [`Scrape::counter_family`], [`Scrape::gauge_family`] and their float
/// twins; `V` is the value type (`u64`, `i64` or `f64`).
///
/// # Examples
///
/// ```
/// struct Pools;
/// impl bareprom::Collect for Pools {
///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
///         let mut idle: bareprom::FamilyWriter<'_, i64, 1> =
///             out.gauge_family("pool_idle", "Idle connections.", ["pool"]);
///         idle.series(["db"], 4);
///         idle.series(["db"], 5); // a repeated series: rejected and counted
///     }
/// }
/// let registry = bareprom::Registry::new();
/// registry.register_collector("pools", Pools)?;
/// let text = registry.render();
/// assert!(text.contains("pool_idle{pool=\"db\"} 4\n"));
/// assert!(text.contains("bareprom_collector_rejected_total{collector=\"pools\"} 1\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub struct FamilyWriter<'s, V, const N: usize> {
    /// `None` once the family was rejected.
    family: Option<&'s mut Collected>,
    rejected: &'s mut u64,
    /// The label sets written so far.
    seen: HashSet<[String; N]>,
    value: std::marker::PhantomData<V>,
}

impl<V, const N: usize> FamilyWriter<'_, V, N> {
    fn push(&mut self, values: [&str; N], point: Point) {
        let Some(family) = self.family.as_deref_mut() else {
            return;
        };
        let owned = values.map(str::to_owned);
        if !self.seen.insert(owned.clone()) {
            *self.rejected += 1;
            return;
        }
        family.series.push((owned.into(), point));
    }

    fn reject(&mut self) {
        if self.family.is_some() {
            *self.rejected += 1;
        }
    }
}

impl<const N: usize> FamilyWriter<'_, u64, N> {
    /// Writes one series. Label values that repeat an earlier series of the
    /// family are rejected.
    ///
    /// # Examples
    ///
    /// See [`Scrape::counter_family`].
    pub fn series(&mut self, values: [&str; N], value: u64) {
        self.push(values, Point::Value(Value::U64(value)));
    }
}

impl<const N: usize> FamilyWriter<'_, i64, N> {
    /// Writes one series. Label values that repeat an earlier series of the
    /// family are rejected.
    ///
    /// # Examples
    ///
    /// See [`Collect`].
    pub fn series(&mut self, values: [&str; N], value: i64) {
        self.push(values, Point::Value(Value::I64(value)));
    }
}

impl<const N: usize> FamilyWriter<'_, f64, N> {
    /// Writes one series. Label values that repeat an earlier series of the
    /// family are rejected, and so is a negative or NaN counter value.
    ///
    /// # Examples
    ///
    /// See [`Scrape::float_gauge_family`].
    pub fn series(&mut self, values: [&str; N], value: f64) {
        let counter = self.family.as_ref().is_some_and(|f| f.kind == Kind::Counter);
        if counter && (value.is_nan() || value < 0.0) {
            self.reject();
            return;
        }
        self.push(values, Point::Value(Value::F64(value)));
    }
}

impl<V, const N: usize> fmt::Debug for FamilyWriter<'_, V, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FamilyWriter")
            .field("name", &self.family.as_ref().map(|c| c.name.as_str()))
            .field("series", &self.seen.len())
            .finish()
    }
}

/// A labelled histogram family a collector is writing, from
/// [`Scrape::histogram_family`].
///
/// # Examples
///
/// ```
/// struct Sizes;
/// impl bareprom::Collect for Sizes {
///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
///         let mut sizes: bareprom::HistogramWriter<'_, 1> =
///             out.histogram_family("reply_bytes", "Reply sizes.", ["route"], &[100.0]);
///         sizes.series(["/a"], &[2], 3, 450.0);
///     }
/// }
/// let registry = bareprom::Registry::new();
/// registry.register_collector("sizes", Sizes)?;
/// assert!(registry.render().contains("reply_bytes_count{route=\"/a\"} 3\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub struct HistogramWriter<'s, const N: usize> {
    inner: FamilyWriter<'s, (), N>,
}

impl<const N: usize> HistogramWriter<'_, N> {
    /// Writes one series: the cumulative count at each finite bound (as
    /// many as the family has bounds, never decreasing), the total count
    /// (at least the last of them) and the sum. Counts that do not fit, and
    /// label values that repeat an earlier series, are rejected.
    ///
    /// # Examples
    ///
    /// See [`Scrape::histogram_family`].
    pub fn series(&mut self, values: [&str; N], cumulative: &[u64], count: u64, sum: f64) {
        let Some(bounds) = self.inner.family.as_ref().map(|f| f.bounds.len()) else {
            return;
        };
        let fits = cumulative.len() == bounds
            && cumulative.windows(2).all(|w| w[0] <= w[1])
            && cumulative.last().is_none_or(|last| *last <= count);
        if !fits {
            self.inner.reject();
            return;
        }
        let mut all = Vec::with_capacity(bounds + 1);
        all.extend_from_slice(cumulative);
        all.push(count);
        self.inner.push(values, Point::Histogram { cumulative: all, sum });
    }
}

impl<const N: usize> fmt::Debug for HistogramWriter<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
