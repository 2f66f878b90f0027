//! Collectors: metrics computed at scrape time, and where they write.

use std::fmt;

use super::{Claim, Describe, claims_health_name};
use crate::name;
use crate::text::{Encoder, Kind, Labels, Value};

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
/// ```
/// use std::sync::{Arc, Mutex};
/// use bareprom::{Collect, Registry, Scrape};
///
/// struct QueueDepth(Arc<Mutex<Vec<u32>>>);
///
/// impl Collect for QueueDepth {
///     fn collect(&self, out: &mut Scrape<'_>) {
///         let depth = self.0.lock().map_or(0, |q| q.len());
///         out.gauge("jobs_queued", "Jobs waiting.", depth as i64);
///     }
/// }
///
/// let queue = Arc::new(Mutex::new(vec![1, 2, 3]));
/// let registry = Registry::new();
/// registry.register_collector("queue", QueueDepth(Arc::clone(&queue)))?;
/// assert!(registry.render().contains("jobs_queued 3\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub trait Collect: Send + Sync {
    /// Writes the collector's current values into `out`.
    fn collect(&self, out: &mut Scrape<'_>);
}

/// Where a [`Collect`] writes during a scrape.
///
/// Each call writes one whole unlabelled family. A family whose name is
/// invalid, clashes with a registered metric, with one of the registry's
/// own health families (`bareprom_series_dropped_total`,
/// `bareprom_collector_panics_total`, `bareprom_collector_rejected_total`)
/// or with another family of this scrape, or whose counter value is
/// negative or NaN, is left out and counted in
/// `bareprom_collector_rejected_total{collector="<name>"}` (rendered once
/// non-zero): a collector bug never produces an exposition a scraper would
/// reject.
///
/// Clashes follow the rule of [`Registry::register`](crate::Registry::register):
/// a family claims every name that a parser we serve maps back to it (its
/// own name; for a histogram `x` also `x_bucket`, `x_sum`, `x_count` and
/// `x_created`; for a counter `x_total`, or `x`, also `x`, `x_total` and
/// `x_created`; a gauge only its name), and two families clash when their
/// claims intersect, whichever is written first. A collector writing gauge
/// `jobs` and then counter `jobs_total` gets the gauge only.
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
    pub(super) out: &'a mut Vec<u8>,
    pub(super) const_labels: &'a str,
    pub(super) registered: &'a [Describe<'a>],
    pub(super) emitted: &'a mut Vec<(String, Kind)>,
    pub(super) rejected: u64,
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
        self.single(name, help, Kind::Counter, Value::U64(value));
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
            self.rejected += 1;
            return;
        }
        self.single(name, help, Kind::Counter, Value::F64(value));
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
        self.single(name, help, Kind::Gauge, Value::I64(value));
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
        self.single(name, help, Kind::Gauge, Value::F64(value));
    }

    fn single(&mut self, name: &str, help: &str, kind: Kind, value: Value) {
        if name::metric_name(name).is_err() || self.taken(Claim::of(name, kind)) {
            self.rejected += 1;
            return;
        }
        self.emitted.push((name.to_owned(), kind));
        let mut enc = Encoder::new(self.out, self.const_labels);
        enc.header(name, help, kind);
        enc.sample(name, "", Labels::NONE, None, value);
    }

    /// Whether a family clashes with a registered one, a health family or
    /// one written earlier in this scrape.
    fn taken(&self, claim: Claim<'_>) -> bool {
        claims_health_name(claim)
            || self.registered.iter().any(|d| d.claim().intersects(claim))
            || self
                .emitted
                .iter()
                .any(|(name, kind)| Claim::of(name, *kind).intersects(claim))
    }
}

impl fmt::Debug for Scrape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrape")
            .field("bytes", &self.out.len())
            .finish_non_exhaustive()
    }
}
