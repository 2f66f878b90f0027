//! Composition: a registry including others, each with a name prefix and
//! constant labels (see `plan.rs` for how a scrape merges their families).

use std::sync::Arc;

use super::{Entry, Registry, health};
use crate::error::{Error, ErrorKind};
use crate::metric::Metric;
use crate::name;

/// A registry included in another, with what the including one adds.
pub(super) struct Included {
    registry: Sub,
    pub(super) prefix: String,
    pub(super) labels: Vec<(String, String)>,
}

pub(super) enum Sub {
    Static(&'static Registry),
    Shared(Arc<Registry>),
}

impl Included {
    pub(super) fn registry(&self) -> &Registry {
        match &self.registry {
            Sub::Static(r) => r,
            Sub::Shared(r) => r,
        }
    }
}

impl Registry {
    /// Registers a metric the caller builds in place and gives back a
    /// shared handle to it: what a component that takes the registry it
    /// reports to needs (as `client_golang`'s `promauto.With(registry)`),
    /// without an `Arc::new` and an `Arc::clone` per metric. Equivalent to
    /// [`Registry::register_arc`] with a clone of the returned `Arc`.
    ///
    /// # Errors
    ///
    /// As [`Registry::register`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use bareprom::{Counter, Registry};
    ///
    /// struct Breaker { trips: Arc<Counter> }
    ///
    /// impl Breaker {
    ///     fn new(registry: &Registry) -> Result<Breaker, bareprom::Error> {
    ///         Ok(Breaker { trips: registry.register_owned(Counter::new("breaker_trips_total", "Times the breaker opened."))? })
    ///     }
    /// }
    ///
    /// let registry = Registry::new().without_health();
    /// let breaker = Breaker::new(&registry)?;
    /// breaker.trips.inc();
    /// assert!(registry.render().contains("breaker_trips_total 1\n"));
    /// assert!(Breaker::new(&registry).is_err()); // the same family twice
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn register_owned<M: Metric + 'static>(&self, metric: M) -> Result<Arc<M>, Error> {
        let metric = Arc::new(metric);
        self.register_arc(Arc::clone(&metric))?;
        Ok(metric)
    }

    /// Includes `registry`: a scrape of this registry renders everything
    /// `registry` holds (and includes), each family's name prefixed with
    /// `prefix` and each series given `labels` as constant labels (after
    /// this registry's own, before `registry`'s).
    ///
    /// Same-named families of included registries are written as one
    /// family (one `# HELP`/`# TYPE`, the series of each), provided they
    /// agree on type, help text and label names and differ in constant
    /// label values: two instances of one component, each with a registry
    /// of its own, included with `backend="openai"` and
    /// `backend="anthropic"`, give one family with a series per backend.
    ///
    /// What is registered into `registry` after it is included cannot be
    /// checked here; a family that clashes at scrape time is left out of
    /// the scrape (the first one of the name stays) and counted in
    /// `bareprom_families_rejected_total{family}`. The included registry's
    /// own health families are not written: the including registry writes
    /// one set for the whole tree.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`] for a bad prefix;
    /// [`ErrorKind::InvalidLabelName`], [`ErrorKind::ReservedLabelName`] or
    /// [`ErrorKind::DuplicateLabelName`] for bad labels (or labels that
    /// repeat constant labels above or below);
    /// [`ErrorKind::IncludeCycle`] if `registry` is this registry or
    /// includes it; [`ErrorKind::FamilyClash`], [`ErrorKind::DuplicateMetric`]
    /// or [`ErrorKind::LabelClash`] if one of its families clashes with a
    /// family already in this registry's tree.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use bareprom::{Counter, Registry};
    ///
    /// /// A component that takes the registry it reports to.
    /// struct Breaker {
    ///     trips: Arc<Counter>,
    /// }
    /// impl Breaker {
    ///     fn new(registry: &Registry) -> Result<Self, bareprom::Error> {
    ///         let trips = Arc::new(Counter::try_new("breaker_trips_total", "Times the breaker opened.")?);
    ///         registry.register_arc(Arc::clone(&trips))?;
    ///         Ok(Breaker { trips })
    ///     }
    /// }
    ///
    /// let app = Registry::new();
    /// let openai = Arc::new(Registry::new());
    /// let anthropic = Arc::new(Registry::new());
    /// let a = Breaker::new(&openai)?;
    /// let b = Breaker::new(&anthropic)?;
    /// app.include(Arc::clone(&openai), "llm_", &[("backend", "openai")])?;
    /// app.include(Arc::clone(&anthropic), "llm_", &[("backend", "anthropic")])?;
    /// a.trips.inc();
    /// assert_eq!(
    ///     app.render(),
    ///     "# HELP llm_breaker_trips_total Times the breaker opened.\n\
    ///      ## TYPE llm_breaker_trips_total counter\n\
    ///      llm_breaker_trips_total{backend=\"openai\"} 1\n\
    ///      llm_breaker_trips_total{backend=\"anthropic\"} 0\n"
    /// );
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn include(&self, registry: Arc<Registry>, prefix: &str, labels: &[(&str, &str)]) -> Result<(), Error> {
        self.include_sub(Sub::Shared(registry), prefix, labels)
    }

    /// As [`include`](Registry::include), for a registry in a `static`.
    ///
    /// # Errors
    ///
    /// As [`include`](Registry::include).
    ///
    /// # Examples
    ///
    /// ```
    /// static JOBS: bareprom::Registry = bareprom::Registry::new();
    /// static RUNS: bareprom::Counter = bareprom::Counter::new("runs_total", "Runs.");
    /// JOBS.register(&RUNS)?;
    /// let app = bareprom::Registry::new();
    /// app.include_static(&JOBS, "jobs_", &[])?;
    /// assert!(app.render().contains("jobs_runs_total 0\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn include_static(
        &self,
        registry: &'static Registry,
        prefix: &str,
        labels: &[(&str, &str)],
    ) -> Result<(), Error> {
        self.include_sub(Sub::Static(registry), prefix, labels)
    }

    /// A new, empty registry included in this one with `prefix` and
    /// `labels` (see [`include`](Registry::include)), for a component to
    /// register into.
    ///
    /// # Errors
    ///
    /// As [`include`](Registry::include).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let app = bareprom::Registry::new();
    /// let db = app.sub_registry("", &[("db", "users")])?;
    /// let queries = Arc::new(bareprom::Counter::try_new("db_queries_total", "Queries.")?);
    /// db.register_arc(Arc::clone(&queries))?;
    /// queries.inc();
    /// assert!(app.render().contains("db_queries_total{db=\"users\"} 1\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn sub_registry(&self, prefix: &str, labels: &[(&str, &str)]) -> Result<Arc<Registry>, Error> {
        let sub = Arc::new(Registry {
            utf8: self.utf8,
            ..Registry::new()
        });
        self.include(Arc::clone(&sub), prefix, labels)?;
        Ok(sub)
    }

    fn include_sub(&self, registry: Sub, prefix: &str, labels: &[(&str, &str)]) -> Result<(), Error> {
        name::prefix(prefix).map_err(|kind| Error::new(kind, prefix))?;
        let included = Entry::Include(Arc::new(Included {
            registry,
            prefix: prefix.to_owned(),
            labels: labels.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        }));
        self.change(included, |entry, graveyard| {
            let Entry::Include(include) = entry else {
                return Ok(());
            };
            let sub = include.registry();
            if std::ptr::eq(sub, self) || sub.reaches(self, graveyard) {
                return Err(Error::new(ErrorKind::IncludeCycle, prefix));
            }
            let taken: Vec<&str> = self
                .const_labels
                .iter()
                .chain(&sub.const_labels)
                .map(|(n, _)| n.as_str())
                .collect();
            check_const_labels(labels, &taken, self.utf8)
        })
    }

    /// Whether `target` is in the tree under this registry; the entry lists
    /// read go to `graveyard`.
    fn reaches(&self, target: &Registry, graveyard: &mut Vec<Entry>) -> bool {
        let entries = self.snapshot();
        let found = entries.iter().any(|e| match e {
            Entry::Include(inc) => std::ptr::eq(inc.registry(), target) || inc.registry().reaches(target, graveyard),
            _ => false,
        });
        graveyard.extend(entries);
        found
    }

    /// Removes an included registry; returns whether it was included.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let app = bareprom::Registry::new();
    /// let part = app.sub_registry("part_", &[])?;
    /// assert!(app.exclude(&part));
    /// assert!(!app.exclude(&part));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn exclude(&self, registry: &Registry) -> bool {
        self.remove_where(|e| matches!(e, Entry::Include(inc) if std::ptr::eq(inc.registry(), registry)))
    }
}

/// Checks constant label names: valid (legacy, or with `utf8` any that
/// [`name::check_label_names_utf8`] takes), not reserved (`__`, `le`, the
/// health families' labels), none repeated, none in `taken` (or, for
/// names outside the legacy charset, escaped like one of them).
pub(super) fn check_const_labels(labels: &[(&str, &str)], taken: &[&str], utf8: bool) -> Result<(), Error> {
    let names: Vec<&str> = labels.iter().map(|(n, _)| *n).collect();
    if utf8 {
        name::check_label_names_utf8(&names, true)?;
    } else {
        name::check_label_names(&names, true)?;
    }
    // The registry's own health families label by these; a constant
    // label of the same name would write it twice on their series.
    if let Some(reserved) = names
        .iter()
        .find(|n| health::LABELS.iter().any(|h| name::same_label_name(h, n)))
    {
        return Err(Error::new(ErrorKind::ReservedLabelName, reserved));
    }
    if let Some(repeated) = names.iter().find(|n| taken.iter().any(|t| name::same_label_name(t, n))) {
        return Err(Error::new(ErrorKind::DuplicateLabelName, repeated));
    }
    Ok(())
}
