//! The registry: which metrics, collectors and included registries a
//! scrape renders, in what order, with which constant labels.
//!
//! Registration and inclusion validate (names, clashes between families,
//! constant label clashes) against the whole tree of included registries;
//! a scrape copies each entry list out under its read lock, runs the
//! collectors and formats with no lock held. A collector that panics is cut
//! out of that scrape and counted.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::error::Error;
use crate::expose::{Scope, Sink};
use crate::metric::Metric;
use crate::negotiate::{Escaping, Format};
use crate::openmetrics::OpenMetricsEncoder;
use crate::protobuf::ProtobufEncoder;
use crate::text::{self, NameEscaper, TextEncoder};

mod claim;
mod collect;
mod health;
mod include;
mod index;
mod plan;
mod register;
mod utf8;

pub use collect::{Collect, FamilyWriter, HistogramWriter, Scrape};

use collect::Collected;
use include::{Included, check_const_labels};
use index::ClaimIndex;
use plan::{Source, Tree};

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
    Include(Arc<Included>),
}

impl Entry {
    fn metric(&self) -> Option<&dyn Metric> {
        match self {
            Entry::Static(m) => Some(*m),
            Entry::Shared(m) => Some(&**m),
            Entry::Collector(_) | Entry::Include(_) => None,
        }
    }

    /// Whether this entry is the metric or collector registered as `name`.
    fn is_named(&self, name: &str) -> bool {
        match self {
            Entry::Collector(c) => c.name == name,
            Entry::Include(_) => false,
            other => other
                .metric()
                .is_some_and(|m| (0..).map_while(|i| m.describe(i)).any(|d| d.name == name)),
        }
    }
}

/// Registrations and inclusions, one at a time process-wide: a check reads
/// the entry lists of a whole tree, and two inclusions racing could
/// otherwise make a cycle. Never held while user code runs.
static CHANGES: Mutex<()> = Mutex::new(());

/// A set of metrics, collectors and included registries rendered together,
/// optionally with constant labels added to every series.
///
/// Families are rendered in registration order, series of a family in
/// first-seen order. Then, unless turned off with
/// [`set_health`](Registry::set_health), the registry's own health
/// families: one `bareprom_series_dropped_total{family}` series per
/// labelled family and one `bareprom_collector_panics_total{collector}`
/// series per collector, each present from zero on so that `rate()` and
/// `increase()` see the first event, and, once non-zero,
/// `bareprom_collector_rejected_total{collector}` and
/// `bareprom_families_rejected_total{family}` (families left out of a
/// scrape for a clash, see [`include`](Registry::include)).
///
/// # Composition
///
/// A registry can [`include`](Registry::include) other registries, each
/// with a name prefix and constant labels, as `client_golang`'s
/// `WrapRegistererWith` and `prometheus-client`'s `sub_registry_with_label`
/// do: a component takes a `Registry` of its own, and the application
/// includes one per instance. Same-named families of different included
/// registries are written as one family.
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
    const_labels: Vec<(String, String)>,
    /// `const_labels` rendered for the text formats.
    const_escaped: String,
    health: AtomicBool,
    entries: RwLock<Vec<Entry>>,
    /// Families left out of scrapes for a clash, by name.
    clashes: Mutex<Vec<(String, u64)>>,
    /// Whether `clashes` may be non-empty (a scrape without skips the lock).
    clashed: AtomicBool,
    /// Whether constant label names and collectors' names may lie outside
    /// the legacy charset ([`Registry::with_utf8_names`]).
    utf8: bool,
    /// Bumped at every change of `entries`: how a registry that includes
    /// this one sees that its claim index's part for it is stale.
    generation: AtomicU64,
    /// Every name the tree's families claim (`index.rs`).
    claims: Mutex<ClaimIndex>,
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
            const_labels: Vec::new(),
            const_escaped: String::new(),
            health: AtomicBool::new(true),
            entries: RwLock::new(Vec::new()),
            clashes: Mutex::new(Vec::new()),
            clashed: AtomicBool::new(false),
            utf8: false,
            generation: AtomicU64::new(0),
            claims: Mutex::new(ClaimIndex::new()),
        }
    }

    /// An empty registry that adds these labels to every series it renders
    /// (before the series' own labels).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidLabelName`](crate::ErrorKind::InvalidLabelName),
    /// [`ErrorKind::ReservedLabelName`](crate::ErrorKind::ReservedLabelName)
    /// (`__` prefixes, and `le`, `family` and `collector`, which the
    /// registry's histograms and health families use) or
    /// [`ErrorKind::DuplicateLabelName`](crate::ErrorKind::DuplicateLabelName).
    ///
    /// # Examples
    ///
    /// ```
    /// let registry = bareprom::Registry::with_const_labels(&[("region", "eu-west")])?;
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn with_const_labels(labels: &[(&str, &str)]) -> Result<Self, Error> {
        check_const_labels(labels, &[], false)?;
        let const_labels: Vec<(String, String)> =
            labels.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
        Ok(Registry {
            const_escaped: text::render_labels(labels.iter().copied()),
            const_labels,
            ..Registry::new()
        })
    }

    /// The same registry without its health families (they are on by
    /// default); for a `static`, where [`set_health`](Registry::set_health)
    /// cannot be called first.
    ///
    /// # Examples
    ///
    /// ```
    /// static REGISTRY: bareprom::Registry = bareprom::Registry::new().without_health();
    /// static HITS: bareprom::CounterVec<1> = bareprom::CounterVec::new("hits_total", "Hits.", ["path"]);
    /// REGISTRY.register(&HITS)?;
    /// assert_eq!(REGISTRY.render(), "# HELP hits_total Hits.\n# TYPE hits_total counter\n");
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub const fn without_health(mut self) -> Self {
        self.health = AtomicBool::new(false);
        self
    }

    /// Turns the registry's health families on or off. Only the registry
    /// scraped writes them, for its whole tree: an included registry's
    /// setting does not matter.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Nothing;
    /// impl bareprom::Collect for Nothing {
    ///     fn collect(&self, _: &mut bareprom::Scrape<'_>) {}
    /// }
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("nothing", Nothing)?;
    /// assert!(registry.render().contains("bareprom_collector_panics_total{collector=\"nothing\"} 0\n"));
    /// registry.set_health(false);
    /// assert_eq!(registry.render(), "");
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn set_health(&self, on: bool) {
        self.health.store(on, Relaxed);
    }

    /// Whether the registry writes its health families.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(bareprom::Registry::new().health());
    /// ```
    pub fn health(&self) -> bool {
        self.health.load(Relaxed)
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
        self.encode_as(Format::Text0_0_4, Escaping::Underscores, out);
    }

    /// Appends the `OpenMetrics` 1.0 text exposition (see
    /// [`OPENMETRICS_CONTENT_TYPE`](crate::OPENMETRICS_CONTENT_TYPE)) of
    /// everything registered to `out`, ending with `# EOF`.
    ///
    /// Counters are family `x` with samples `x_total`, info metrics family
    /// `x` with sample `x_info`, a unit set with `with_unit` is a `# UNIT`
    /// line; no `_created` samples (the crate keeps no creation times).
    ///
    /// # Examples
    ///
    /// ```
    /// static SENT: bareprom::Counter =
    ///     bareprom::Counter::new("app_sent_bytes_total", "Bytes sent.").with_unit("bytes");
    /// let registry = bareprom::Registry::new();
    /// registry.register(&SENT)?;
    /// SENT.inc_by(512);
    /// let mut body = Vec::new();
    /// registry.encode_openmetrics(&mut body);
    /// assert_eq!(
    ///     String::from_utf8(body).unwrap(),
    ///     "# HELP app_sent_bytes Bytes sent.\n\
    ///      ## TYPE app_sent_bytes counter\n\
    ///      ## UNIT app_sent_bytes bytes\n\
    ///      app_sent_bytes_total 512\n\
    ///      ## EOF\n"
    /// );
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn encode_openmetrics(&self, out: &mut Vec<u8>) {
        self.encode_as(Format::OpenMetrics1_0_0, Escaping::Underscores, out);
    }

    /// Appends the protobuf exposition of everything registered to `out`:
    /// length-delimited `io.prometheus.client.MetricFamily` messages, each
    /// prefixed by its length as a varint, the format Prometheus asks for
    /// first when it scrapes native histograms
    /// ([`Format::ProtobufDelimited`](crate::Format::ProtobufDelimited)
    /// names its content type). The same families, series and values as
    /// [`encode`](Registry::encode) writes in text.
    ///
    /// # Examples
    ///
    /// ```
    /// static UP: bareprom::Gauge = bareprom::Gauge::new("up_", "U");
    /// let registry = bareprom::Registry::new();
    /// registry.register(&UP)?;
    /// let mut body = Vec::new();
    /// registry.encode_protobuf(&mut body);
    /// // length 23; name "up_", help "U", type GAUGE (1); one metric whose
    /// // gauge has the value 0.0.
    /// assert_eq!(body, [
    ///     23, 0x0A, 3, b'u', b'p', b'_', 0x12, 1, b'U', 0x18, 1,
    ///     0x22, 11, 0x12, 9, 0x09, 0, 0, 0, 0, 0, 0, 0, 0,
    /// ]);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn encode_protobuf(&self, out: &mut Vec<u8>) {
        self.encode_as(Format::ProtobufDelimited, Escaping::Underscores, out);
    }

    /// Appends the exposition in `format`, names escaped as `escaping`
    /// says, to `out`: each format's encoder run over [`expose`](Registry::expose).
    pub(crate) fn encode_as(&self, format: Format, escaping: Escaping, out: &mut Vec<u8>) {
        match format {
            Format::OpenMetrics1_0_0 | Format::OpenMetrics0_0_1 => {
                OpenMetricsEncoder::run(out, |encoder| self.expose(encoder, escaping));
            }
            Format::ProtobufDelimited => ProtobufEncoder::run(out, |encoder| self.expose(encoder, escaping)),
            Format::Text0_0_4 | Format::Text1_0_0 => TextEncoder::run(out, |encoder| self.expose(encoder, escaping)),
        }
    }

    /// Hands everything registered to `sink`, whatever its format: the one
    /// way every encoder is fed. Names outside the legacy charset are
    /// escaped by `escaping` on the way (or, with `allow-utf-8`, left for
    /// the sink to quote).
    pub(crate) fn expose(&self, sink: &mut dyn Sink, escaping: Escaping) {
        let mut names = NameEscaper::new(escaping);
        let entries = self.scrape_snapshot();
        if self.expose_flat(sink, &mut names, &entries) {
            register::keep_scrape_entries(entries);
            return;
        }
        let tree = self.tree(entries);
        let has_collectors = tree.sources().any(|(_, e)| matches!(e, Entry::Collector(_)));
        if !tree.is_nested() && !has_collectors {
            // One registry, no collectors: every family is unique by
            // registration, so it is written as it is walked.
            let scope = tree.ctx(0).scope();
            for (_, entry) in tree.sources() {
                if let Some(metric) = entry.metric() {
                    expose_metric(metric, scope, &mut names, sink);
                }
            }
        } else {
            let collected = run_collectors(&tree);
            let plan = plan::plan(&tree, &collected);
            for group in &plan.groups {
                let Some(first) = group.members.first() else { continue };
                let (name, desc) = names.family(&group.name, &first.desc);
                sink.family(name, &desc);
                for member in &group.members {
                    sink.scope(names.scope(tree.ctx(member.ctx).scope()));
                    match member.from {
                        Source::Metric(metric, i) => metric.expose(i, sink),
                        Source::Collected(family) => family.expose(sink),
                    }
                }
            }
            self.count_rejections(&tree, &plan.rejections);
        }
        if self.health() {
            let clashes = if self.clashed.load(Relaxed) {
                self.clashes.lock().unwrap_or_else(PoisonError::into_inner).clone()
            } else {
                Vec::new()
            };
            health::expose(sink, names.scope(tree.ctx(0).scope()), &tree, &clashes);
        }
    }

    /// [`expose`](Registry::expose) of one registry that includes nothing
    /// and has no collectors, whose health families (if on) have nothing
    /// to say: the usual small registry, written without building a tree.
    /// False (and nothing written) for any other.
    fn expose_flat(&self, sink: &mut dyn Sink, names: &mut NameEscaper, entries: &[Entry]) -> bool {
        let health = self.health();
        let plain = entries.iter().all(|e| match e {
            Entry::Include(_) | Entry::Collector(_) => false,
            Entry::Static(_) | Entry::Shared(_) => !health || e.metric().is_none_or(health::flat_dropped),
        });
        if !plain || (health && self.clashed.load(Relaxed)) {
            return false;
        }
        let scope = Scope {
            pairs: &self.const_labels,
            escaped: &self.const_escaped,
            utf8: self.utf8 && plan::utf8_pairs(&self.const_labels),
        };
        for metric in entries.iter().filter_map(Entry::metric) {
            expose_metric(metric, scope, names, sink);
        }
        if health {
            health::expose_flat(sink, || names.scope(scope), entries);
        }
        true
    }

    fn count_rejections(&self, tree: &Tree<'_>, rejections: &[plan::Rejection]) {
        if rejections.is_empty() {
            return;
        }
        let mut clashes = self.clashes.lock().unwrap_or_else(PoisonError::into_inner);
        self.clashed.store(true, Relaxed);
        for rejection in rejections {
            match tree.source(rejection.source) {
                Some(Entry::Collector(c)) => {
                    c.rejected.fetch_add(1, Relaxed);
                }
                _ => match clashes.iter_mut().find(|(n, _)| *n == rejection.name) {
                    Some((_, count)) => *count += 1,
                    None => clashes.push((rejection.name.clone(), 1)),
                },
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

/// Hands each family of `metric` to `sink` under `scope`. Legacy names
/// (the usual case) need no escaper: no copies of the description and
/// scope.
#[inline]
fn expose_metric(metric: &dyn Metric, scope: Scope<'_>, names: &mut NameEscaper, sink: &mut dyn Sink) {
    for (i, desc) in (0..).map_while(|i| Some((i, metric.describe(i)?))) {
        if desc.utf8 {
            let (name, desc) = names.family(desc.name, &desc);
            sink.family(name, &desc);
        } else {
            sink.family(desc.name, &desc);
        }
        sink.scope(if scope.utf8 { names.scope(scope) } else { scope });
        metric.expose(i, sink);
    }
}

/// Runs every collector of the tree, with no lock held; `None` for the
/// other sources and for a collector that panicked (counted).
fn run_collectors(tree: &Tree<'_>) -> Vec<Option<Vec<Collected>>> {
    tree.sources()
        .map(|(ctx, entry)| {
            let Entry::Collector(c) = entry else { return None };
            let mut families = Vec::new();
            let mut scrape = Scrape {
                families: &mut families,
                rejected: 0,
                utf8: tree.ctx(ctx).allows_utf8,
            };
            let outcome = catch_unwind(AssertUnwindSafe(|| c.collector.collect(&mut scrape)));
            c.rejected.fetch_add(scrape.rejected, Relaxed);
            if outcome.is_err() {
                c.panics.fetch_add(1, Relaxed);
                return None;
            }
            Some(families)
        })
        .collect()
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
