//! `Unlabelled<C>`: a metric with a name, help text and exactly one series.
//! [`Counter`](crate::Counter), [`FloatCounter`](crate::FloatCounter),
//! [`Gauge`](crate::Gauge), [`FloatGauge`](crate::FloatGauge) and
//! [`ShardedCounter`](crate::ShardedCounter) are this type over their cells,
//! so they share one implementation; their aliases live here, with the
//! container they name (a cell module names nothing above its layer).

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use crate::counter::{CounterCell, FloatCounterCell};
use crate::error::Error;
use crate::exemplar::Exemplar;
use crate::exemplar::store::Slot;
use crate::expose::{FamilyDesc, Names, SeriesLabels, Sink};
use crate::family::Cell;
use crate::gauge::{FloatGaugeCell, GaugeCell};
use crate::metric::{Meta, Metric, seal};
use crate::sharded::ShardedCounterCell;

/// An unlabelled `u64` counter that can live in a plain `static`.
///
/// The methods are those of [`CounterCell`], reached through `Deref`.
///
/// # Examples
///
/// ```
/// use bareprom::{Counter, Registry};
///
/// static REQUESTS: Counter = Counter::new("app_requests_total", "Requests served.");
///
/// let registry = Registry::new();
/// registry.register(&REQUESTS)?;
/// REQUESTS.inc();
/// assert_eq!(
///     registry.render(),
///     "# HELP app_requests_total Requests served.\n\
///      ## TYPE app_requests_total counter\n\
///      app_requests_total 1\n"
/// );
/// # Ok::<(), bareprom::Error>(())
/// ```
///
/// An invalid name in a `static` does not compile:
///
/// ```compile_fail
/// static BAD: bareprom::Counter = bareprom::Counter::new("app-requests", "Dashes are invalid.");
/// ```
pub type Counter = Unlabelled<CounterCell>;

/// An unlabelled `f64` counter, for sums such as seconds spent.
///
/// The methods are those of [`FloatCounterCell`], reached through `Deref`.
///
/// # Examples
///
/// ```
/// use bareprom::{FloatCounter, Registry};
///
/// static BUSY: FloatCounter = FloatCounter::new("worker_busy_seconds_total", "Time spent working.");
///
/// let registry = Registry::new();
/// registry.register(&BUSY)?;
/// BUSY.inc_by(0.5);
/// BUSY.inc_by(0.25);
/// assert!(registry.render().ends_with("worker_busy_seconds_total 0.75\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub type FloatCounter = Unlabelled<FloatCounterCell>;

/// An unlabelled `i64` gauge that can live in a plain `static`.
///
/// The methods are those of [`GaugeCell`], reached through `Deref`.
///
/// # Examples
///
/// ```
/// use bareprom::{Gauge, Registry};
///
/// static QUEUED: Gauge = Gauge::new("app_jobs_queued", "Jobs waiting to run.");
///
/// let registry = Registry::new();
/// registry.register(&QUEUED)?;
/// QUEUED.add(5);
/// QUEUED.dec();
/// assert!(registry.render().ends_with("app_jobs_queued 4\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub type Gauge = Unlabelled<GaugeCell>;

/// An unlabelled `f64` gauge.
///
/// The methods are those of [`FloatGaugeCell`], reached through `Deref`.
///
/// # Examples
///
/// ```
/// use bareprom::{FloatGauge, Registry};
///
/// static LOAD: FloatGauge = FloatGauge::new("app_load_ratio", "Share of capacity in use.");
///
/// let registry = Registry::new();
/// registry.register(&LOAD)?;
/// LOAD.set(0.75);
/// assert!(registry.render().ends_with("app_load_ratio 0.75\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub type FloatGauge = Unlabelled<FloatGaugeCell>;

/// A counter spread over [`SHARDS`](crate::SHARDS) cache lines, so that threads adding at
/// the same time do not contend (see the module docs of `sharded.rs` in the
/// repository for the measurements). Same API and exposition as
/// [`Counter`](crate::Counter).
///
/// # Examples
///
/// ```
/// static SERVED: bareprom::ShardedCounter = bareprom::ShardedCounter::new("app_served_total", "Requests served.");
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| (0..1000).for_each(|_| SERVED.inc()));
///     }
/// });
/// assert_eq!(SERVED.get(), 4000);
/// ```
pub type ShardedCounter = Unlabelled<ShardedCounterCell>;

/// A named metric with a single series whose value is a `C`
/// ([`CounterCell`](crate::CounterCell), [`GaugeCell`](crate::GaugeCell), …).
///
/// Usually named through its aliases [`Counter`](crate::Counter),
/// [`FloatCounter`](crate::FloatCounter), [`Gauge`](crate::Gauge) and
/// [`FloatGauge`](crate::FloatGauge). It dereferences to its cell, so the
/// cell's methods (`inc`, `set`, …) are called on the metric directly.
///
/// # Examples
///
/// ```
/// use bareprom::Gauge;
///
/// static CONNECTIONS: Gauge = Gauge::new("app_connections", "Open connections.");
/// CONNECTIONS.inc();
/// assert_eq!(CONNECTIONS.get(), 1);
/// ```
pub struct Unlabelled<C: Cell> {
    meta: Meta,
    cell: C,
    /// The exemplar of a counter, empty (no allocation) until the first
    /// `…_with_exemplar` call: the cell, and so `inc`, is untouched.
    exemplar: Slot,
}

impl<C: Cell> Unlabelled<C> {
    /// A metric at zero.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`); in a
    /// `static` or `const` that is a compile error. Use
    /// [`Unlabelled::try_new`] for names built at run time.
    ///
    /// # Examples
    ///
    /// ```
    /// static JOBS: bareprom::Counter = bareprom::Counter::new("jobs_total", "Jobs run.");
    /// JOBS.inc_by(2);
    /// assert_eq!(JOBS.get(), 2);
    /// ```
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Unlabelled {
            meta: Meta::new(name, help),
            cell: C::ZERO,
            exemplar: Slot::new(),
        }
    }

    /// A metric at zero, for a name built at run time.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`](crate::ErrorKind::InvalidMetricName)
    /// if `name` is not a valid metric name.
    ///
    /// # Examples
    ///
    /// ```
    /// let shard = 7;
    /// let jobs = bareprom::Counter::try_new(format!("shard{shard}_jobs_total"), "Jobs run.")?;
    /// jobs.inc();
    /// assert_eq!(jobs.get(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_new(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Result<Self, Error> {
        Ok(Unlabelled {
            meta: Meta::try_new(name.into(), help.into())?,
            cell: C::ZERO,
            exemplar: Slot::new(),
        })
    }

    /// A metric at zero whose name may lie outside the legacy charset
    /// (Prometheus 3 UTF-8 names, e.g. `http.server.active_requests`):
    /// any non-empty name. It is written quoted to a scraper that accepts
    /// UTF-8 names (`escaping=allow-utf-8`) and escaped for any other (see
    /// [`Escaping`](crate::Escaping)); a legacy name is written as it is.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`](crate::ErrorKind::InvalidMetricName)
    /// if `name` is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let active = bareprom::Gauge::try_new_utf8("http.server.active_requests", "In flight.")?;
    /// let registry = bareprom::Registry::new();
    /// registry.register_owned(active)?.set(3);
    /// // Not negotiated: escaped with underscores, `client_golang`'s default.
    /// assert!(registry.render().ends_with("http_server_active_requests 3\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_new_utf8(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Result<Self, Error> {
        Ok(Unlabelled {
            meta: Meta::try_new_utf8(name.into(), help.into(), &[])?,
            cell: C::ZERO,
            exemplar: Slot::new(),
        })
    }

    /// The same metric with a unit, written as `# UNIT` in `OpenMetrics`
    /// (the text format 0.0.4 has no unit line). The unit must be the
    /// suffix `_<unit>` of the family name (for a counter, the name without
    /// `_total`), as `OpenMetrics` requires; nothing is added to the name.
    ///
    /// # Panics
    ///
    /// If the unit is not `[a-zA-Z0-9_:]+` or not that suffix; in a
    /// `static` that is a compile error. [`try_with_unit`](Self::try_with_unit)
    /// returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// static SENT: bareprom::Counter = bareprom::Counter::new("app_sent_bytes_total", "Bytes sent.").with_unit("bytes");
    /// assert_eq!(SENT.unit(), "bytes");
    /// ```
    #[must_use]
    pub const fn with_unit(mut self, unit: &'static str) -> Self {
        self.meta.set_unit(unit, C::KIND);
        self
    }

    /// As [`with_unit`](Self::with_unit), returning an error for a bad unit.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidUnit`](crate::ErrorKind::InvalidUnit).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = bareprom::Gauge::try_new("app_heap_bytes", "Heap.")?.try_with_unit("seconds").unwrap_err();
    /// assert_eq!(err.kind(), bareprom::ErrorKind::InvalidUnit);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_with_unit(mut self, unit: &'static str) -> Result<Self, Error> {
        self.meta.try_set_unit(unit, C::KIND)?;
        Ok(self)
    }

    /// The unit; empty for none.
    ///
    /// # Examples
    ///
    /// ```
    /// static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
    /// assert_eq!(UP.unit(), "");
    /// ```
    pub fn unit(&self) -> &str {
        self.meta.unit
    }

    /// The metric's name.
    ///
    /// # Examples
    ///
    /// ```
    /// static C: bareprom::Counter = bareprom::Counter::new("c_total", "C.");
    /// assert_eq!(C.name(), "c_total");
    /// ```
    pub fn name(&self) -> &str {
        &self.meta.name
    }
}

impl Unlabelled<CounterCell> {
    /// Adds one and records an exemplar with these labels (typically a
    /// trace id), value 1 and the current wall-clock time: the latest
    /// exemplar of the counter, written by `OpenMetrics` and protobuf
    /// scrapes after the value (`x_total 5 # {trace_id="abc"} 1
    /// 1700000000.123`), left out of the text format 0.0.4, which cannot
    /// carry it. This is `client_golang`'s `AddWithExemplar(1, labels)`.
    ///
    /// Not for the hot path: it allocates the exemplar and takes a small
    /// lock; [`inc`](CounterCell::inc) stays one atomic add whether or not
    /// this is ever called.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; the counter is incremented all the same (the
    /// count stays true), only the exemplar is not recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// static REQUESTS: bareprom::Counter = bareprom::Counter::new("app_requests_total", "Requests.");
    /// REQUESTS.inc_with_exemplar(&[("trace_id", "4bf92f3577b34da6")])?;
    /// assert_eq!(REQUESTS.get(), 1);
    /// let err = REQUESTS.inc_with_exemplar(&[("trace-id", "x")]).unwrap_err();
    /// assert_eq!(err.kind(), bareprom::ErrorKind::InvalidLabelName);
    /// assert_eq!(REQUESTS.get(), 2);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn inc_with_exemplar(&self, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.inc_by_with_exemplar(1, labels)
    }

    /// Adds `n` and records an exemplar of value `n`, as
    /// [`inc_with_exemplar`](Self::inc_with_exemplar).
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; `n` is added all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static SENT: bareprom::Counter = bareprom::Counter::new("app_sent_bytes_total", "Bytes sent.");
    /// SENT.inc_by_with_exemplar(512, &[("trace_id", "abc")])?;
    /// assert_eq!(SENT.get(), 512);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[allow(
        clippy::cast_precision_loss,
        reason = "an exemplar value is a double in every format"
    )]
    pub fn inc_by_with_exemplar(&self, n: u64, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.cell.inc_by(n);
        self.exemplar.set(1, 0, Exemplar::new(labels, n as f64)?);
        Ok(())
    }
}

impl Unlabelled<FloatCounterCell> {
    /// Adds `v` and records an exemplar of value `v`, as
    /// [`Counter::inc_with_exemplar`](Unlabelled::inc_with_exemplar). A
    /// negative, NaN or infinite `v` is ignored as by
    /// [`inc_by`](FloatCounterCell::inc_by), and records nothing.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`]; `v` is added all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// static BUSY: bareprom::FloatCounter = bareprom::FloatCounter::new("busy_seconds_total", "Busy time.");
    /// BUSY.inc_by_with_exemplar(0.5, &[("trace_id", "abc")])?;
    /// assert_eq!(BUSY.get(), 0.5);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn inc_by_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), Error> {
        if !(v.is_finite() && v >= 0.0) {
            return Ok(());
        }
        self.cell.inc_by(v);
        self.exemplar.set(1, 0, Exemplar::new(labels, v)?);
        Ok(())
    }
}

impl<C: Cell> Deref for Unlabelled<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.cell
    }
}

impl<C: Cell + fmt::Debug> fmt::Debug for Unlabelled<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unlabelled")
            .field("name", &self.meta.name)
            .field("value", &self.cell)
            .finish()
    }
}

impl<C: Cell> Metric for Unlabelled<C> {}
impl<C: Cell> seal::Encode for Unlabelled<C> {
    fn describe(&self, i: usize) -> Option<FamilyDesc<'_>> {
        (i == 0).then(|| self.meta.desc(C::KIND, Names::NONE))
    }
    fn expose(&self, _: usize, sink: &mut dyn Sink) {
        let mut exemplars = Vec::new();
        // Copied only for a format that writes them: the text 0.0.4 scrape
        // of a metric with an exemplar allocates nothing.
        if sink.carries_exemplars() && self.exemplar.copy(&mut exemplars) {
            seal::Series::expose_with_exemplars(&self.cell, sink, SeriesLabels::None, &exemplars);
        } else {
            seal::Series::expose(&self.cell, sink, SeriesLabels::None);
        }
    }
}
