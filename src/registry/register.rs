//! Registration: adding and removing metrics, collectors and included
//! registries, each checked against the whole tree with the claim index
//! (`index.rs`) before it is added.

use std::cell::Cell;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, MutexGuard, PoisonError};

use super::index::ClaimIndex;
use super::{CHANGES, Collect, CollectorEntry, Entry, Registry, plan};
use crate::error::{Error, ErrorKind};
use crate::metric::Metric;
use crate::text::kept::KEPT_MAX;

impl Registry {
    /// Registers a metric that lives in a `static`.
    ///
    /// Families must not clash, so that no parser can mistake one for
    /// another. A family claims every name that a parser we serve maps back
    /// to it: its own name; for a histogram `x` also `x_bucket`, `x_sum`
    /// and `x_count` (text format 0.0.4, whose Go `expfmt` parser folds
    /// those samples and their `# HELP` and `# TYPE` lines into `x`) and
    /// `x_created` (`OpenMetrics` 1.0); for a counter `x_total`, or `x`, also
    /// `x`, `x_total` and `x_created` (`OpenMetrics` 1.0 names that counter's
    /// family `x`). A gauge claims its own name only. Two families clash
    /// when their claims intersect, whatever the order they are registered
    /// in; the registry's own health families (`bareprom_series_dropped_total`,
    /// `bareprom_collector_panics_total`, `bareprom_collector_rejected_total`,
    /// `bareprom_families_rejected_total`) take part as counters. So
    /// histogram `hsp` clashes with `hsp_count` of any kind, gauge `jobs`
    /// with counter `jobs_total`; gauges `jobs` and `jobs_total` do not
    /// clash. The check covers every registry this one includes, with
    /// their prefixes (see [`include`](Registry::include)).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::DuplicateMetric`] if one of its families clashes with a
    /// family of this registry or a health family;
    /// [`ErrorKind::FamilyClash`] if it clashes with a family of an
    /// included registry; [`ErrorKind::LabelClash`] if one of its labels is
    /// also a constant label of this registry.
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
        self.add(Entry::Static(metric))
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
        self.add(Entry::Shared(metric))
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
        self.add(Entry::Collector(Arc::new(CollectorEntry {
            name: name.to_owned(),
            panics: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            collector: Box::new(collector),
        })))
    }

    fn add(&self, entry: Entry) -> Result<(), Error> {
        self.change(entry, |entry, _| match entry {
            Entry::Collector(new) if self.claims().has_collector(&new.name) => {
                Err(Error::new(ErrorKind::DuplicateMetric, &new.name))
            }
            _ => Ok(()),
        })
    }

    /// The claim index; only touched with [`CHANGES`] held.
    pub(super) fn claims(&self) -> MutexGuard<'_, ClaimIndex> {
        self.claims.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `entry` if `check` and the family checks against the whole tree
    /// pass, with [`CHANGES`] held. Whatever the checks copied out, and
    /// `entry` if it is refused, is dropped after [`CHANGES`] is released:
    /// it may hold the last reference to a collector, whose `Drop` is user
    /// code.
    pub(super) fn change(
        &self,
        entry: Entry,
        check: impl FnOnce(&Entry, &mut Vec<Entry>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut graveyard = Vec::new();
        let result = {
            let _changes = CHANGES.lock().unwrap_or_else(PoisonError::into_inner);
            let result = check(&entry, &mut graveyard).and_then(|()| self.check_families(&entry, &mut graveyard));
            if result.is_ok() {
                self.entries.write().unwrap_or_else(PoisonError::into_inner).push(entry);
                self.generation.fetch_add(1, Relaxed);
            } else {
                graveyard.push(entry);
            }
            result
        };
        drop(graveyard);
        result
    }

    /// Checks the families `entry` adds against the tree (collectors' are
    /// not known before a scrape) and, if they pass, files them in the
    /// claim index. The index answers when nothing is in the way; when
    /// something may be, the whole-tree check decides and gives the error.
    /// The entries read go to `graveyard`.
    fn check_families(&self, entry: &Entry, graveyard: &mut Vec<Entry>) -> Result<(), Error> {
        let mut claims = self.claims();
        claims.refresh(self, graveyard);
        let staged = claims.stage(self, entry, true, graveyard);
        if staged.suspect {
            if let Err(error) = self.check_whole_tree(entry, graveyard) {
                claims.roll_back(staged);
                return Err(error);
            }
        } else {
            #[cfg(test)]
            super::index::tests::cross_check(self, entry, graveyard);
        }
        claims.commit(entry, staged);
        Ok(())
    }

    /// The check against every family of the tree, pairwise (what a
    /// registration did before the claim index, and still the one that
    /// says why something is refused).
    pub(super) fn check_whole_tree(&self, entry: &Entry, graveyard: &mut Vec<Entry>) -> Result<(), Error> {
        let mut entries = self.snapshot();
        entries.push(entry.clone());
        let tree = self.tree(entries);
        let checked = plan::check_new(&tree, tree.last_start()).map_err(|(kind, name)| Error::new(kind, &name));
        graveyard.extend(tree.into_sources());
        checked
    }

    /// A copy of the entry list, taken under the read lock.
    pub(super) fn snapshot(&self) -> Vec<Entry> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// [`snapshot`](Registry::snapshot) for a scrape: into the buffer this
    /// thread keeps for it (see [`keep_scrape_entries`]).
    pub(super) fn scrape_snapshot(&self) -> Vec<Entry> {
        // `try_with` fails only while the thread's locals are destroyed.
        let mut copy = SCRAPE_ENTRIES.try_with(Cell::take).unwrap_or_default();
        copy.extend_from_slice(&self.entries.read().unwrap_or_else(PoisonError::into_inner));
        copy
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
        self.remove_where(|e| e.is_named(name))
    }

    /// Removes the entries `gone` picks, with [`CHANGES`] held (the claim
    /// index changes with them).
    pub(super) fn remove_where(&self, gone: impl Fn(&Entry) -> bool) -> bool {
        let removed: Vec<Entry> = {
            let _changes = CHANGES.lock().unwrap_or_else(PoisonError::into_inner);
            let removed: Vec<Entry> = {
                let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
                let (removed, kept) = entries.drain(..).partition(gone);
                *entries = kept;
                removed
            };
            if !removed.is_empty() {
                self.generation.fetch_add(1, Relaxed);
                self.claims().remove(&removed);
            }
            removed
        };
        // Dropped here, after the locks: a collector's `Drop` is user code.
        !removed.is_empty()
    }
}

thread_local! {
    /// The entry copy of the last scrape on this thread, emptied: a scrape
    /// allocates nothing for it once its thread has scraped (the encoders
    /// keep their buffers the same way, `text/kept.rs` says why). A scrape
    /// inside a scrape finds it taken and allocates its own.
    static SCRAPE_ENTRIES: Cell<Vec<Entry>> = const { Cell::new(Vec::new()) };
}

/// Keeps the buffer of a [`Registry::scrape_snapshot`] for the next scrape
/// on this thread, unless it passed [`KEPT_MAX`] bytes.
pub(super) fn keep_scrape_entries(mut copy: Vec<Entry>) {
    // Emptied first, with no lock held: a handle here may be the last one,
    // and a collector's `Drop` is user code.
    copy.clear();
    if copy.capacity() * size_of::<Entry>() <= KEPT_MAX {
        let _ = SCRAPE_ENTRIES.try_with(|kept| kept.set(copy));
    }
}
