//! The registry: which metrics and collectors a scrape renders, in what
//! order, with which constant labels.
//!
//! Registration validates (names, clashes between families, constant label
//! clashes); encoding copies the entry list out under the read lock and
//! formats with no lock held. Collectors run with no lock held; one that
//! panics is cut out of that scrape and counted.

use std::borrow::Cow;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::{Error, ErrorKind};
use crate::name;
use crate::text::{self, Buffers, Encoder, Kind, Labels, Value};

mod claim;
mod collect;

use claim::Claim;
pub use collect::{Collect, Scrape};

/// The sealed parts of [`Metric`] and [`Cell`](crate::Cell): what the
/// registry and families call on a metric, invisible to users.
pub(crate) mod seal {
    use super::Describe;
    use crate::family::Layout;
    use crate::text::{Encoder, Kind, Labels};

    /// What the registry needs of a metric.
    pub trait Encode {
        /// Name, type and label names of every family it writes, for clash
        /// checks at registration; the first names it in health families.
        fn describe(&self) -> Vec<Describe<'_>>;
        /// Writes the whole family: HELP, TYPE and every sample.
        fn encode(&self, enc: &mut Encoder<'_>);
        /// For labelled families, how many lookups went to overflow.
        fn dropped(&self) -> Option<u64> {
            None
        }
    }

    /// What a family needs of its series type.
    pub trait Series: Send + Sync + Sized + 'static {
        /// The family's `# TYPE`.
        const KIND: Kind;
        /// A fresh value for const construction; for a type that needs a
        /// layout it is a panic, so using it fails to compile.
        #[allow(clippy::declare_interior_mutable_const)] // a fresh copy at every use is the point
        const ZERO: Self;
        /// A fresh value for a new series.
        fn create(layout: &Layout) -> Self;
        /// Writes this series' sample lines.
        fn encode_series(&self, enc: &mut Encoder<'_>, name: &str, labels: Labels<'_>);
        /// This thread's cache of label lookups in families of this type
        /// (made by `family::cache::lookups!`).
        fn lookups() -> &'static std::thread::LocalKey<crate::family::cache::Lookups<Self>>;
    }
}

/// A metric a [`Registry`] can hold: every metric type of this crate
/// ([`Counter`](crate::Counter), [`CounterVec`](crate::CounterVec),
/// [`Histogram`](crate::Histogram), …). Sealed; for values computed at
/// scrape time implement [`Collect`] instead.
pub trait Metric: seal::Encode + Send + Sync {}

/// What registration checks a family against.
pub struct Describe<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) kind: Kind,
    pub(crate) labels: Vec<&'a str>,
}

impl Describe<'_> {
    /// A family whose name is built at run time (a prefix plus a suffix).
    pub(crate) fn owned(name: String, kind: Kind, labels: Vec<&str>) -> Describe<'_> {
        Describe {
            name: Cow::Owned(name),
            kind,
            labels,
        }
    }

    /// What this family claims (see [`Claim`]).
    pub(super) fn claim(&self) -> Claim<'_> {
        Claim::of(&self.name, self.kind)
    }

    /// Whether the two families clash: their claims intersect.
    fn collides(&self, other: &Describe<'_>) -> bool {
        self.claim().intersects(other.claim())
    }
}

/// Whether a family of this name and kind clashes with one of the
/// registry's own health families.
fn claims_health_name(claim: Claim<'_>) -> bool {
    SELF_FAMILIES
        .iter()
        .any(|name| claim.intersects(Claim::of(name, Kind::Counter)))
}

/// A metric's validated name and help text.
pub(crate) struct Meta {
    pub(crate) name: Cow<'static, str>,
    help: Cow<'static, str>,
}

impl Meta {
    pub(crate) const fn new(name: &'static str, help: &'static str) -> Meta {
        name::unwrap(name::metric_name(name));
        Meta {
            name: Cow::Borrowed(name),
            help: Cow::Borrowed(help),
        }
    }

    pub(crate) fn try_new(name: Cow<'static, str>, help: Cow<'static, str>) -> Result<Meta, Error> {
        name::metric_name(&name).map_err(|kind| Error::new(kind, &name))?;
        Ok(Meta { name, help })
    }

    pub(crate) fn describe<'a>(&'a self, kind: Kind, labels: Vec<&'a str>) -> Vec<Describe<'a>> {
        vec![Describe {
            name: Cow::Borrowed(&self.name),
            kind,
            labels,
        }]
    }

    pub(crate) fn header(&self, enc: &mut Encoder<'_>, kind: Kind) {
        enc.header(&self.name, &self.help, kind);
    }
}

/// A registered collector and its own health counters.
struct CollectorEntry {
    name: String,
    panics: AtomicU64,
    rejected: AtomicU64,
    collector: Box<dyn Collect>,
}

#[derive(Clone)]
enum Entry {
    Static(&'static dyn Metric),
    Shared(Arc<dyn Metric>),
    Collector(Arc<CollectorEntry>),
}

impl Entry {
    fn metric(&self) -> Option<&dyn Metric> {
        match self {
            Entry::Static(m) => Some(*m),
            Entry::Shared(m) => Some(&**m),
            Entry::Collector(_) => None,
        }
    }

    /// Whether any family this entry writes satisfies `f`.
    fn any_family(&self, f: impl Fn(&Describe<'_>) -> bool) -> bool {
        self.metric().is_some_and(|m| m.describe().iter().any(f))
    }
}

/// Families the registry writes about itself; user metrics may not take
/// these names.
const SELF_FAMILIES: [&str; 3] = [
    "bareprom_series_dropped_total",
    "bareprom_collector_panics_total",
    "bareprom_collector_rejected_total",
];

/// The labels of [`SELF_FAMILIES`], which constant labels may not use.
const HEALTH_LABELS: [&str; 2] = ["family", "collector"];

/// A set of metrics and collectors rendered together, optionally with
/// constant labels added to every series.
///
/// Families are rendered in registration order, series of a family in
/// first-seen order, then the registry's own health families: one
/// `bareprom_series_dropped_total{family}` series per labelled family and
/// one `bareprom_collector_panics_total{collector}` series per collector,
/// each present from zero on so that `rate()` and `increase()` see the
/// first event.
///
/// # Examples
///
/// ```
/// use bareprom::{Counter, Registry};
///
/// static CALLS: Counter = Counter::new("llm_calls_total", "Calls made.");
///
/// let registry = Registry::with_const_labels(&[("backend", "openai")])?;
/// registry.register(&CALLS)?;
/// CALLS.inc();
/// assert!(registry.render().contains("llm_calls_total{backend=\"openai\"} 1\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub struct Registry {
    const_labels: String,
    const_names: Vec<String>,
    entries: RwLock<Vec<Entry>>,
}

static DEFAULT: Registry = Registry::new();

impl Registry {
    /// An empty registry without constant labels.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::Registry::new().render(), "");
    /// ```
    pub const fn new() -> Self {
        Registry {
            const_labels: String::new(),
            const_names: Vec::new(),
            entries: RwLock::new(Vec::new()),
        }
    }

    /// An empty registry that adds these labels to every series it renders
    /// (before the series' own labels).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidLabelName`], [`ErrorKind::ReservedLabelName`]
    /// (`__` prefixes, and `le`, `family` and `collector`, which the
    /// registry's histograms and health families use) or
    /// [`ErrorKind::DuplicateLabelName`].
    ///
    /// # Examples
    ///
    /// ```
    /// let registry = bareprom::Registry::with_const_labels(&[("region", "eu-west")])?;
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn with_const_labels(labels: &[(&str, &str)]) -> Result<Self, Error> {
        let names: Vec<&str> = labels.iter().map(|(n, _)| *n).collect();
        name::label_names(&names, true).map_err(|kind| Error::new(kind, &names.join(",")))?;
        // The registry's own health families label by these; a constant
        // label of the same name would write it twice on their series.
        if let Some(reserved) = names.iter().find(|n| HEALTH_LABELS.contains(n)) {
            return Err(Error::new(ErrorKind::ReservedLabelName, reserved));
        }
        Ok(Registry {
            const_labels: text::render_labels(labels.iter().copied()),
            const_names: names.iter().map(|n| (*n).to_owned()).collect(),
            entries: RwLock::new(Vec::new()),
        })
    }

    /// Registers a metric that lives in a `static`.
    ///
    /// Families must not clash, so that no parser can mistake one for
    /// another. A family claims every name that a parser we serve maps back
    /// to it: its own name; for a histogram `x` also `x_bucket`, `x_sum`
    /// and `x_count` (text format 0.0.4, whose Go `expfmt` parser folds
    /// those samples and their `# HELP` and `# TYPE` lines into `x`) and
    /// `x_created` (OpenMetrics 1.0); for a counter `x_total`, or `x`, also
    /// `x`, `x_total` and `x_created` (OpenMetrics 1.0 names that counter's
    /// family `x`). A gauge claims its own name only. Two families clash
    /// when their claims intersect, whatever the order they are registered
    /// in; the registry's own health families (`bareprom_series_dropped_total`,
    /// `bareprom_collector_panics_total`, `bareprom_collector_rejected_total`)
    /// take part as counters. So histogram `hsp` clashes with `hsp_count` of
    /// any kind, gauge `jobs` with counter `jobs_total`; gauges `jobs` and
    /// `jobs_total` do not clash.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::DuplicateMetric`] if one of its families clashes with a
    /// registered family or a health family; [`ErrorKind::LabelClash`] if
    /// one of its labels is also a constant label of this registry.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{ErrorKind, Gauge, Histogram, Registry};
    ///
    /// static UP: Gauge = Gauge::new("app_up", "Whether the app is up.");
    /// static LATENCY: Histogram = Histogram::new("rpc_seconds", "Latency.");
    /// static CHILD: Gauge = Gauge::new("rpc_seconds_count", "Read as LATENCY's count.");
    /// let registry = Registry::new();
    /// registry.register(&UP)?;
    /// registry.register(&LATENCY)?;
    /// assert_eq!(registry.register(&CHILD).unwrap_err().kind(), ErrorKind::DuplicateMetric);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn register<M: Metric + 'static>(&self, metric: &'static M) -> Result<(), Error> {
        self.add(&Entry::Static(metric))
    }

    /// Registers a metric shared through an `Arc`, such as one built at run
    /// time by a library for this registry.
    ///
    /// # Errors
    ///
    /// As [`Registry::register`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let hits = Arc::new(bareprom::Counter::try_new("cache_hits_total", "Hits.")?);
    /// let registry = bareprom::Registry::new();
    /// registry.register_arc(Arc::clone(&hits))?;
    /// hits.inc();
    /// assert!(registry.render().contains("cache_hits_total 1\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn register_arc<M: Metric + 'static>(&self, metric: Arc<M>) -> Result<(), Error> {
        self.add(&Entry::Shared(metric))
    }

    /// Registers a collector under `name` (the `collector` label of its
    /// health counters).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::DuplicateMetric`] if a collector of that name is
    /// registered already.
    ///
    /// # Examples
    ///
    /// See [`Collect`].
    pub fn register_collector(&self, name: &str, collector: impl Collect + 'static) -> Result<(), Error> {
        self.add(&Entry::Collector(Arc::new(CollectorEntry {
            name: name.to_owned(),
            panics: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            collector: Box::new(collector),
        })))
    }

    fn add(&self, entry: &Entry) -> Result<(), Error> {
        if let Some(metric) = entry.metric() {
            let families = metric.describe();
            for new in &families {
                let clash = self
                    .const_names
                    .iter()
                    .find(|c| new.labels.contains(&c.as_str()) || (new.kind == Kind::Histogram && *c == "le"));
                if let Some(clash) = clash {
                    return Err(Error::new(ErrorKind::LabelClash, clash));
                }
            }
            let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
            for new in &families {
                if claims_health_name(new.claim()) || entries.iter().any(|e| e.any_family(|old| old.collides(new))) {
                    return Err(Error::new(ErrorKind::DuplicateMetric, &new.name));
                }
            }
            entries.push(entry.clone());
        } else if let Entry::Collector(new) = entry {
            let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
            if entries
                .iter()
                .any(|e| matches!(e, Entry::Collector(old) if old.name == new.name))
            {
                return Err(Error::new(ErrorKind::DuplicateMetric, &new.name));
            }
            entries.push(entry.clone());
        }
        Ok(())
    }

    /// Removes the metric or collector registered under `name`; returns
    /// whether there was one.
    ///
    /// # Examples
    ///
    /// ```
    /// static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
    /// let registry = bareprom::Registry::new();
    /// registry.register(&UP)?;
    /// assert!(registry.unregister("app_up"));
    /// assert_eq!(registry.render(), "");
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn unregister(&self, name: &str) -> bool {
        let removed: Vec<Entry> = {
            let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
            let (gone, kept) = entries.drain(..).partition(|e| match e {
                Entry::Collector(c) => c.name == name,
                other => other.any_family(|d| d.name == name),
            });
            *entries = kept;
            gone
        };
        // Dropped here, after the lock: a collector's `Drop` is user code.
        !removed.is_empty()
    }

    /// Appends the text exposition (format 0.0.4, see [`CONTENT_TYPE`](crate::CONTENT_TYPE))
    /// of everything registered to `out`.
    ///
    /// # Examples
    ///
    /// ```
    /// static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
    /// let registry = bareprom::Registry::new();
    /// registry.register(&UP)?;
    /// UP.set(1);
    /// let mut body = Vec::new();
    /// registry.encode(&mut body);
    /// assert_eq!(body, b"# HELP app_up Up.\n# TYPE app_up gauge\napp_up 1\n");
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn encode(&self, out: &mut Vec<u8>) {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner).clone();
        // What collectors must not clash with, described once per scrape and
        // only when there is a collector to check.
        let registered: Vec<Describe<'_>> = if entries.iter().any(|e| matches!(e, Entry::Collector(_))) {
            entries
                .iter()
                .filter_map(Entry::metric)
                .flat_map(seal::Encode::describe)
                .collect()
        } else {
            Vec::new()
        };
        let mut emitted = Vec::new();
        let mut buffers = Buffers::default();
        for entry in &entries {
            match entry {
                Entry::Static(_) | Entry::Shared(_) => {
                    if let Some(metric) = entry.metric() {
                        let mut enc = Encoder::reusing(out, &self.const_labels, std::mem::take(&mut buffers));
                        metric.encode(&mut enc);
                        buffers = enc.into_buffers();
                    }
                }
                Entry::Collector(c) => self.run_collector(c, out, &registered, &mut emitted),
            }
        }
        self.encode_health(out, &entries);
    }

    fn run_collector(
        &self,
        c: &CollectorEntry,
        out: &mut Vec<u8>,
        registered: &[Describe<'_>],
        emitted: &mut Vec<(String, Kind)>,
    ) {
        let (start, names) = (out.len(), emitted.len());
        let mut scrape = Scrape {
            out,
            const_labels: &self.const_labels,
            registered,
            emitted,
            rejected: 0,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| c.collector.collect(&mut scrape)));
        c.rejected.fetch_add(scrape.rejected, Relaxed);
        if outcome.is_err() {
            out.truncate(start);
            emitted.truncate(names);
            c.panics.fetch_add(1, Relaxed);
        }
    }

    fn encode_health(&self, out: &mut Vec<u8>, entries: &[Entry]) {
        let mut enc = Encoder::new(out, &self.const_labels);
        let families: Vec<(String, u64)> = entries
            .iter()
            .filter_map(|e| {
                let metric = e.metric()?;
                let dropped = metric.dropped()?;
                Some((metric.describe().first()?.name.to_string(), dropped))
            })
            .collect();
        let collectors: Vec<&CollectorEntry> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Collector(c) => Some(&**c),
                _ => None,
            })
            .collect();
        let rejected: Vec<(&str, u64)> = collectors
            .iter()
            .map(|c| (c.name.as_str(), c.rejected.load(Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let panics: Vec<(&str, u64)> = collectors
            .iter()
            .map(|c| (c.name.as_str(), c.panics.load(Relaxed)))
            .collect();
        let dropped: Vec<(&str, u64)> = families.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let health = [
            (
                SELF_FAMILIES[0],
                "Lookups of new label sets sent to the overflow series by the series limit.",
                "family",
                dropped,
            ),
            (
                SELF_FAMILIES[1],
                "Scrapes in which a collector panicked and was left out.",
                "collector",
                panics,
            ),
            (
                SELF_FAMILIES[2],
                "Families a collector wrote that were invalid or clashed, and were left out.",
                "collector",
                rejected,
            ),
        ];
        for (family, help, label, series) in health {
            if series.is_empty() {
                continue;
            }
            enc.header(family, help, Kind::Counter);
            for (value, count) in series {
                let labels = text::render_labels([(label, value)]);
                enc.sample(family, "", Labels::Block(labels.as_bytes()), None, Value::U64(count));
            }
        }
    }

    /// The text exposition of everything registered, as a `String`.
    ///
    /// # Examples
    ///
    /// ```
    /// static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
    /// let registry = bareprom::Registry::new();
    /// registry.register(&UP)?;
    /// assert_eq!(registry.render(), "# HELP app_up Up.\n# TYPE app_up gauge\napp_up 0\n");
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        self.encode(&mut out);
        // Every byte written is a whole `&str` or ASCII, so this never fails;
        // the lossy fallback keeps the function free of panics regardless.
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Writes the text exposition to `w`, e.g. a socket or a file.
    ///
    /// # Errors
    ///
    /// Whatever `w` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let registry = bareprom::Registry::new();
    /// let mut file = Vec::new();
    /// registry.encode_to(&mut file)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn encode_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut out = Vec::new();
        self.encode(&mut out);
        w.write_all(&out)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("Registry")
            .field("const_labels", &self.const_labels)
            .field("entries", &entries)
            .finish()
    }
}

/// The process-wide default registry, which [`register`] and [`render`]
/// use.
///
/// # Examples
///
/// ```
/// let text = bareprom::default_registry().render();
/// assert_eq!(text, bareprom::render());
/// ```
pub fn default_registry() -> &'static Registry {
    &DEFAULT
}

/// Registers a `static` metric in the default registry.
///
/// # Errors
///
/// As [`Registry::register`].
///
/// # Examples
///
/// ```
/// static REQUESTS: bareprom::Counter = bareprom::Counter::new("doc_requests_total", "Requests.");
/// bareprom::register(&REQUESTS)?;
/// REQUESTS.inc();
/// assert!(bareprom::render().contains("doc_requests_total 1\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub fn register<M: Metric + 'static>(metric: &'static M) -> Result<(), Error> {
    DEFAULT.register(metric)
}

/// Registers a collector in the default registry.
///
/// # Errors
///
/// As [`Registry::register_collector`].
///
/// # Examples
///
/// ```
/// struct Answer;
/// impl bareprom::Collect for Answer {
///     fn collect(&self, out: &mut bareprom::Scrape<'_>) {
///         out.gauge("doc_answer", "The answer.", 42);
///     }
/// }
/// bareprom::register_collector("answer", Answer)?;
/// assert!(bareprom::render().contains("doc_answer 42\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub fn register_collector(name: &str, collector: impl Collect + 'static) -> Result<(), Error> {
    DEFAULT.register_collector(name, collector)
}

/// Renders the default registry.
///
/// # Examples
///
/// ```
/// let text: String = bareprom::render();
/// ```
pub fn render() -> String {
    DEFAULT.render()
}
