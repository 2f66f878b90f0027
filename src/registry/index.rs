//! The claim index: every name claimed by a family of a registry's tree,
//! kept across registrations, so that a registration looks up the names
//! its families claim instead of comparing them with every family before
//! (registering `n` metrics costs `n` lookups of `O(log n)`, not `n²/2`
//! comparisons).
//!
//! The index only filters. A registration whose families meet no claimed
//! name of another family (and no health family, and no constant label)
//! is admitted on the index's word; one that meets anything that would be
//! refused is checked again by the whole-tree check
//! ([`plan::check_new`](super::plan::check_new)), which gives the error,
//! so errors are exactly what they were before the index. The index must
//! therefore never miss a family of the tree: it holds
//!
//! - the registry's own metrics' families, added and removed with them;
//! - per included registry (a part), the families of its whole subtree,
//!   with their prefixes and constant labels, and the generation of each
//!   registry of that subtree when it was walked. A registry does not
//!   know who includes it, so what is registered into it later changes
//!   its generation, and the part is walked again at the next check of
//!   the including registry.
//!
//! Each family is filed under the base of its claim as written (tag 0)
//! and, when that base lies outside the legacy charset, under the base
//! escaped by each scheme of [`name::SCHEMES`] (tag `1 + i`): the two ways
//! two families can clash ([`claim::clash`]). Every claimed name is a base
//! followed by one of [`claim::SUFFIXES`], so the families that may claim
//! a name are found by looking up the name minus each suffix it ends with
//! (one key per family, not one per claimed name). A candidate found is
//! then checked by the same rules as the whole-tree check. Collectors declare
//! no families (theirs are known at scrape time only); only their names
//! are indexed, for the duplicate-name check.
//!
//! The index is read and written with `CHANGES` held; it holds no
//! collector and no strong reference to a metric or registry it does not
//! own through the registry's entries (weak ones for included subtrees),
//! so that unregistering from a sub-registry drops the metric as before.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry as Slot;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};

use super::claim::{self, Claim};
use super::include::Included;
use super::plan::Tree;
use super::{Entry, Registry, health};
use crate::expose::{FamilyDesc, Kind};
use crate::metric::Metric;
use crate::name;

#[cfg(test)]
pub(super) mod tests;

/// Where a family's description is read again for a candidate check.
enum Source {
    Static(&'static dyn Metric),
    Shared(Weak<dyn Metric>),
}

/// The constant labels of the registry a family is in; shared by the
/// families of one context, whose identity is the `Arc`'s.
struct Context {
    pairs: Vec<(String, String)>,
}

/// One family of the tree.
struct Record {
    source: Source,
    /// Which family of the metric.
    family: usize,
    /// The name as written (prefixes applied).
    name: String,
    context: Arc<Context>,
    /// Its type: with `name`, what gives the keys it is filed under.
    kind: Kind,
}

/// The families of one included registry's subtree.
struct Part {
    include: Weak<Included>,
    records: Vec<usize>,
    /// Each include walked (the part's own first) and its registry's
    /// generation then.
    generations: Vec<(Weak<Included>, u64)>,
}

/// Families staged by a check, to be committed or rolled back.
pub(super) struct Staged {
    records: Vec<usize>,
    /// Whether something may be refused (the whole-tree check decides).
    pub(super) suspect: bool,
    generations: Vec<(Weak<Included>, u64)>,
}

/// The records filed under one key: almost always one, kept without a
/// heap block of its own.
struct Ids {
    first: usize,
    more: Vec<usize>,
}

/// Name tags: names as written, then one per escaping scheme.
const TAGS: usize = 1 + name::SCHEMES.len();

/// The claim index of one registry's tree (see the module docs).
pub(super) struct ClaimIndex {
    records: Vec<Option<Record>>,
    free: Vec<usize>,
    names: [BTreeMap<String, Ids>; TAGS],
    /// The registry's own metrics' records, by the metric's address.
    own: BTreeMap<usize, Ids>,
    parts: Vec<Part>,
    /// The registry's own collectors' names, with how many (at most one
    /// unless a refused duplicate slipped in, which the check prevents).
    collectors: BTreeMap<String, usize>,
    /// The registry's own context, made at the first registration.
    root: Option<Arc<Context>>,
}

/// What a claim is filed under: its base as written (tag 0) and, when
/// that is not legacy, its base escaped by each scheme (tag `1 + i`). One
/// key per family: a name claimed by it is found by taking each of
/// [`claim::SUFFIXES`] off the name.
fn keys(claim: &Claim<'_>) -> Vec<(usize, String)> {
    let mut keys = vec![(0, claim.base().to_owned())];
    if !claim.legacy_base() {
        for (tag, &scheme) in (1..).zip(name::SCHEMES.iter()) {
            keys.push((tag, claim.escaped(scheme).base().to_owned()));
        }
    }
    keys
}

/// The address of the metric an entry holds (its identity while it is
/// registered: the entry keeps it alive).
fn address(entry: &Entry) -> Option<usize> {
    match entry {
        Entry::Static(m) => Some(std::ptr::from_ref::<dyn Metric>(*m).cast::<()>().addr()),
        Entry::Shared(m) => Some(Arc::as_ptr(m).cast::<()>().addr()),
        Entry::Collector(_) | Entry::Include(_) => None,
    }
}

impl ClaimIndex {
    pub(super) const fn new() -> Self {
        ClaimIndex {
            records: Vec::new(),
            free: Vec::new(),
            names: [const { BTreeMap::new() }; TAGS],
            own: BTreeMap::new(),
            parts: Vec::new(),
            collectors: BTreeMap::new(),
            root: None,
        }
    }

    /// Whether one of the registry's own collectors is named `name`.
    pub(super) fn has_collector(&self, name: &str) -> bool {
        self.collectors.contains_key(name)
    }

    /// Walks again every part whose subtree changed since it was walked.
    /// Included registries upgraded here go to `graveyard`.
    pub(super) fn refresh(&mut self, registry: &Registry, graveyard: &mut Vec<Entry>) {
        for at in 0..self.parts.len() {
            let mut stale = false;
            for (include, generation) in &self.parts[at].generations {
                match include.upgrade() {
                    Some(include) => {
                        stale |= include.registry().generation.load(Relaxed) != *generation;
                        graveyard.push(Entry::Include(include));
                    }
                    None => stale = true,
                }
            }
            if !stale {
                continue;
            }
            let part = &mut self.parts[at];
            let old = std::mem::take(&mut part.records);
            let include = part.include.upgrade();
            for id in old {
                self.remove_record(id);
            }
            let Some(include) = include else {
                continue;
            };
            let entry = Entry::Include(include);
            let staged = self.stage(registry, &entry, false, graveyard);
            let part = &mut self.parts[at];
            part.records = staged.records;
            part.generations = staged.generations;
            graveyard.push(entry);
        }
    }

    /// Files the families `entry` adds; with `check`, says whether one of
    /// them may be refused (`suspect`). Whatever the walk copied out goes
    /// to `graveyard`.
    pub(super) fn stage(
        &mut self,
        registry: &Registry,
        entry: &Entry,
        check: bool,
        graveyard: &mut Vec<Entry>,
    ) -> Staged {
        let root = Arc::clone(self.root.get_or_insert_with(|| {
            Arc::new(Context {
                pairs: registry.const_labels.clone(),
            })
        }));
        let tree = registry.tree(vec![entry.clone()]);
        let mut staged = Staged {
            records: Vec::new(),
            suspect: false,
            generations: Vec::new(),
        };
        let mut contexts: Vec<Option<Arc<Context>>> = Vec::new();
        for (ctx, source) in tree.sources() {
            let (metric, source) = match source {
                Entry::Static(m) => (*m, Source::Static(*m)),
                Entry::Shared(m) => (&**m, Source::Shared(Arc::downgrade(m))),
                Entry::Collector(_) | Entry::Include(_) => continue,
            };
            let context = if ctx == 0 {
                Arc::clone(&root)
            } else {
                if contexts.len() < ctx {
                    contexts.resize(ctx, None);
                }
                Arc::clone(contexts[ctx - 1].get_or_insert_with(|| {
                    Arc::new(Context {
                        pairs: tree.ctx(ctx).pairs.to_vec(),
                    })
                }))
            };
            let prefix: &str = &tree.ctx(ctx).prefix;
            for (family, desc) in (0..).map_while(|i| Some((i, metric.describe(i)?))) {
                let mut name = String::with_capacity(prefix.len() + desc.name.len());
                name.push_str(prefix);
                name.push_str(desc.name);
                let kind = desc.kind;
                let record = Record {
                    source: match &source {
                        Source::Static(m) => Source::Static(*m),
                        Source::Shared(m) => Source::Shared(Weak::clone(m)),
                    },
                    family,
                    name,
                    context: Arc::clone(&context),
                    kind,
                };
                let claim = Claim::of(&record.name, kind);
                let keys = keys(&claim);
                if check && !staged.suspect {
                    staged.suspect = self.refused(&tree, ctx, &record, &desc, &claim);
                }
                staged.records.push(self.insert(record, keys));
            }
        }
        for walked in tree.into_sources() {
            if let Entry::Include(include) = &walked {
                let generation = include.registry().generation.load(Relaxed);
                staged.generations.push((Arc::downgrade(include), generation));
            }
            graveyard.push(walked);
        }
        staged
    }

    /// Keeps what [`stage`](ClaimIndex::stage) filed for `entry`, now added.
    pub(super) fn commit(&mut self, entry: &Entry, staged: Staged) {
        match entry {
            Entry::Static(_) | Entry::Shared(_) => {
                if let Some(address) = address(entry) {
                    let mut records = staged.records.into_iter();
                    if let Some(first) = records.next() {
                        match self.own.entry(address) {
                            Slot::Vacant(vacant) => {
                                vacant.insert(Ids {
                                    first,
                                    more: records.collect(),
                                });
                            }
                            Slot::Occupied(mut ids) => ids.get_mut().more.extend(std::iter::once(first).chain(records)),
                        }
                    }
                }
            }
            Entry::Include(include) => self.parts.push(Part {
                include: Arc::downgrade(include),
                records: staged.records,
                generations: staged.generations,
            }),
            Entry::Collector(c) => *self.collectors.entry(c.name.clone()).or_default() += 1,
        }
    }

    /// Drops what [`stage`](ClaimIndex::stage) filed: the entry was refused.
    pub(super) fn roll_back(&mut self, staged: Staged) {
        for id in staged.records {
            self.remove_record(id);
        }
    }

    /// Forgets the families of entries removed from the registry.
    pub(super) fn remove(&mut self, removed: &[Entry]) {
        for entry in removed {
            match entry {
                Entry::Static(_) | Entry::Shared(_) => {
                    let Some(ids) = address(entry).and_then(|a| self.own.remove(&a)) else {
                        continue;
                    };
                    for id in std::iter::once(ids.first).chain(ids.more) {
                        self.remove_record(id);
                    }
                }
                Entry::Include(include) => {
                    let (gone, kept) = std::mem::take(&mut self.parts)
                        .into_iter()
                        .partition(|p| std::ptr::eq(p.include.as_ptr(), Arc::as_ptr(include)));
                    self.parts = kept;
                    for id in gone.into_iter().flat_map(|p: Part| p.records) {
                        self.remove_record(id);
                    }
                }
                Entry::Collector(c) => {
                    if let Some(count) = self.collectors.get_mut(&c.name) {
                        *count -= 1;
                        if *count == 0 {
                            self.collectors.remove(&c.name);
                        }
                    }
                }
            }
        }
    }

    /// Files `record` under `keys` (see [`keys`]); returns its id.
    fn insert(&mut self, record: Record, keys: Vec<(usize, String)>) -> usize {
        let id = self.free.pop().unwrap_or(self.records.len());
        for (tag, key) in keys {
            match self.names[tag].entry(key) {
                Slot::Vacant(vacant) => {
                    vacant.insert(Ids {
                        first: id,
                        more: Vec::new(),
                    });
                }
                Slot::Occupied(mut ids) => ids.get_mut().more.push(id),
            }
        }
        if id == self.records.len() {
            self.records.push(Some(record));
        } else {
            self.records[id] = Some(record);
        }
        id
    }

    fn remove_record(&mut self, id: usize) {
        let Some(record) = self.records.get_mut(id).and_then(Option::take) else {
            return;
        };
        for (tag, key) in keys(&Claim::of(&record.name, record.kind)) {
            let Some(ids) = self.names[tag].get_mut(&key) else {
                continue;
            };
            if ids.first == id {
                match ids.more.pop() {
                    Some(last) => ids.first = last,
                    None => {
                        self.names[tag].remove(&key);
                    }
                }
            } else {
                ids.more.retain(|&i| i != id);
            }
        }
        self.free.push(id);
    }

    /// Adds to `out` every record filed under tag `tag` whose claim may
    /// hold `name`: those whose base is `name` minus a suffix.
    fn find(&self, tag: usize, name: &str, out: &mut Vec<usize>) {
        if self.names[tag].is_empty() {
            return;
        }
        for suffix in claim::SUFFIXES {
            if let Some(ids) = name.strip_suffix(suffix).and_then(|base| self.names[tag].get(base)) {
                out.push(ids.first);
                out.extend(&ids.more);
            }
        }
    }

    /// Whether `new` (of context `ctx` in `tree`) may be refused: a
    /// constant label clash, a health family's name, or a filed family
    /// that the whole-tree check's rule refuses beside it.
    fn refused(&self, tree: &Tree<'_>, ctx: usize, new: &Record, desc: &FamilyDesc<'_>, claim: &Claim<'_>) -> bool {
        let scope = tree.ctx(ctx);
        if scope.repeats || desc.labels.iter().any(|l| scope.has_label(l, desc.utf8)) {
            return true;
        }
        let me = (new.name.as_str(), desc.kind, desc.utf8);
        if health::NAMES
            .iter()
            .any(|h| claim::clash(me, (h, Kind::Counter, false)))
        {
            return true;
        }
        let mut candidates: Vec<usize> = Vec::new();
        // The names as written meet every family's names as written; the
        // escaped names (when the base is not legacy) meet both the names
        // as written and the escaped names of that scheme. A legacy base
        // is its own escaping: its names meet the escaped names too.
        let legacy = claim.legacy_base();
        for n in claim.built() {
            self.find(0, &n, &mut candidates);
            if legacy {
                for tag in 1..TAGS {
                    self.find(tag, &n, &mut candidates);
                }
            }
        }
        if !legacy {
            for (tag, &scheme) in (1..).zip(name::SCHEMES.iter()) {
                for n in claim.escaped(scheme).built() {
                    self.find(0, &n, &mut candidates);
                    self.find(tag, &n, &mut candidates);
                }
            }
        }
        candidates.into_iter().any(|id| {
            let Some(old) = self.records.get(id).and_then(Option::as_ref) else {
                return true;
            };
            let metric: Option<Arc<dyn Metric>>;
            let describe = match &old.source {
                Source::Static(m) => m.describe(old.family),
                Source::Shared(m) => {
                    metric = m.upgrade();
                    metric.as_deref().and_then(|m| m.describe(old.family))
                }
            };
            let Some(old_desc) = describe else {
                return true;
            };
            let same_registry = Arc::ptr_eq(&old.context, &new.context);
            if old.name == new.name {
                let same_shape = old_desc.kind == desc.kind
                    && old_desc.help == desc.help
                    && old_desc.labels.same(desc.labels)
                    && (old.context.pairs.iter().map(|(n, _)| n)).eq(new.context.pairs.iter().map(|(n, _)| n));
                !same_shape || same_registry || old.context.pairs == new.context.pairs
            } else {
                claim::clash((&old.name, old_desc.kind, old_desc.utf8), me)
            }
        })
    }
}
