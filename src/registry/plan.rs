//! A scrape's plan: the registry tree flattened, its families grouped by
//! name, clashes found before a byte is written.
//!
//! Flattening walks the registry and every registry it includes (each
//! entry list copied out under its read lock, the lock released before the
//! next), giving each source (metric or collector) a context: the name
//! prefix and constant labels of the registries above it. Grouping then
//! puts same-named families of different contexts into one group, written
//! as one family (one HELP/TYPE) whose members differ by constant label
//! values. A member that cannot join is rejected: another type, help text
//! or label names; the same constant label values as a member already in
//! (it would repeat series); a constant label that is also one of its own
//! labels; or a name another family claims (see `claim.rs`: `x_count` next
//! to a histogram `x`, gauge `jobs` next to counter `jobs_total`, a health
//! family's names).

use std::borrow::Cow;
use std::collections::HashMap;

use super::claim::{self, Claim};
use super::collect::Collected;
use super::{Entry, Registry, health};
use crate::error::ErrorKind;
use crate::expose::{FamilyDesc, Kind, Scope};
use crate::metric::Metric;
use crate::text;

/// How deep includes nest before the walk stops (includes are checked for
/// cycles; this bounds a cycle made by two racing includes all the same).
const MAX_DEPTH: usize = 32;

/// The name prefix and constant labels of the sources of one registry in
/// the tree.
pub(super) struct Ctx<'r> {
    pub(super) prefix: Cow<'r, str>,
    pub(super) pairs: Cow<'r, [(String, String)]>,
    pub(super) escaped: Cow<'r, str>,
    /// Whether a constant label name lies outside the legacy charset.
    pub(super) utf8: bool,
    /// Whether the registry of these sources takes UTF-8 names from its
    /// collectors ([`Registry::with_utf8_names`]).
    pub(super) allows_utf8: bool,
    /// Whether a constant label name repeats (two includes that add the
    /// same label at different depths): its families cannot be written.
    pub(super) repeats: bool,
}

impl Ctx<'_> {
    pub(super) fn scope(&self) -> Scope<'_> {
        Scope {
            pairs: &self.pairs,
            escaped: &self.escaped,
            utf8: self.utf8,
        }
    }

    /// Whether a constant label of this context is written like `label`
    /// for some scraper (the same name, or escaped alike).
    pub(super) fn has_label(&self, label: &str, utf8: bool) -> bool {
        if self.utf8 || utf8 {
            self.pairs.iter().any(|(n, _)| crate::name::same_label_name(n, label))
        } else {
            self.pairs.iter().any(|(n, _)| n == label)
        }
    }
}

/// A registry tree, flattened.
pub(super) struct Tree<'r> {
    /// The context of the registry scraped (context 0), then those of the
    /// included registries.
    root: Ctx<'r>,
    nested: Vec<Ctx<'r>>,
    /// Every metric and collector, in order.
    sources: Vec<Entry>,
    /// The context of each source; empty when nothing is included (all
    /// are the root's), so that a plain scrape allocates nothing for it.
    ctx_of: Vec<usize>,
    /// The include entries walked, kept so that they are dropped with the
    /// tree (never inside the walk).
    includes: Vec<Entry>,
    /// Where the sources of the last top-level entry start.
    last_start: usize,
}

impl<'r> Tree<'r> {
    /// Whether anything was included.
    pub(super) fn is_nested(&self) -> bool {
        !self.nested.is_empty()
    }

    pub(super) fn ctx(&self, i: usize) -> &Ctx<'r> {
        i.checked_sub(1).and_then(|i| self.nested.get(i)).unwrap_or(&self.root)
    }

    /// Every source with its context, in order.
    pub(super) fn sources(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.sources
            .iter()
            .enumerate()
            .map(|(i, e)| (self.ctx_of.get(i).copied().unwrap_or(0), e))
    }

    pub(super) fn source(&self, i: usize) -> Option<&Entry> {
        self.sources.get(i)
    }

    /// Where the sources of the last entry of the registry scraped start.
    pub(super) fn last_start(&self) -> usize {
        self.last_start
    }

    /// The sources (and include entries), to be dropped where no lock of
    /// ours is held.
    pub(super) fn into_sources(mut self) -> Vec<Entry> {
        self.sources.append(&mut self.includes);
        self.sources
    }
}

impl Registry {
    /// The tree under this registry, `entries` standing for its own.
    #[inline]
    pub(super) fn tree(&self, entries: Vec<Entry>) -> Tree<'_> {
        let mut tree = Tree {
            root: Ctx {
                prefix: Cow::Borrowed(""),
                pairs: Cow::Borrowed(&self.const_labels),
                escaped: Cow::Borrowed(&self.const_escaped),
                utf8: self.utf8 && utf8_pairs(&self.const_labels),
                allows_utf8: self.utf8,
                repeats: false,
            },
            nested: Vec::new(),
            sources: Vec::new(),
            ctx_of: Vec::new(),
            includes: Vec::new(),
            last_start: 0,
        };
        if entries.iter().any(|e| matches!(e, Entry::Include(_))) {
            walk(entries, 0, &mut tree, 0);
        } else {
            tree.last_start = entries.len().saturating_sub(1);
            tree.sources = entries;
        }
        tree
    }
}

/// Whether a label name of `pairs` lies outside the legacy charset.
pub(super) fn utf8_pairs(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(n, _)| !crate::name::is_legacy_label_name(n))
}

fn walk(entries: Vec<Entry>, ctx: usize, tree: &mut Tree<'_>, depth: usize) {
    for entry in entries {
        if depth == 0 {
            tree.last_start = tree.sources.len();
        }
        let Entry::Include(include) = &entry else {
            tree.sources.push(entry);
            tree.ctx_of.push(ctx);
            continue;
        };
        if depth >= MAX_DEPTH {
            continue;
        }
        let sub = include.registry();
        let parent = tree.ctx(ctx);
        let mut pairs = parent.pairs.to_vec();
        pairs.extend(include.labels.iter().cloned());
        pairs.extend(sub.const_labels.iter().cloned());
        let escaped = text::render_labels(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let prefix = format!("{}{}", parent.prefix, include.prefix);
        let utf8 = utf8_pairs(&pairs);
        let repeats = pairs.iter().enumerate().any(|(i, (n, _))| {
            pairs[..i].iter().any(|(m, _)| {
                if utf8 {
                    crate::name::same_label_name(m, n)
                } else {
                    m == n
                }
            })
        });
        tree.nested.push(Ctx {
            prefix: Cow::Owned(prefix),
            pairs: Cow::Owned(pairs),
            escaped: Cow::Owned(escaped),
            utf8,
            allows_utf8: sub.utf8,
            repeats,
        });
        let entries = sub.snapshot();
        walk(entries, tree.nested.len(), tree, depth + 1);
        tree.includes.push(entry);
    }
}

/// Where a member's series come from.
pub(super) enum Source<'t> {
    /// Family `i` of a metric.
    Metric(&'t dyn Metric, usize),
    /// A family a collector wrote.
    Collected(&'t Collected),
}

/// One source's share of a family.
pub(super) struct Member<'t> {
    pub(super) ctx: usize,
    pub(super) from: Source<'t>,
    pub(super) desc: FamilyDesc<'t>,
}

/// One family as written: its name (prefix applied) and members.
pub(super) struct Group<'t> {
    pub(super) name: String,
    pub(super) members: Vec<Member<'t>>,
}

/// A family left out, and why.
pub(super) struct Rejection {
    pub(super) source: usize,
    pub(super) name: String,
}

/// The groups in first-seen order, and what was left out.
pub(super) struct Plan<'t> {
    pub(super) groups: Vec<Group<'t>>,
    pub(super) rejections: Vec<Rejection>,
}

/// A claim on a sample name by the group with this index; `usize::MAX`
/// for the registry's own health families.
const RESERVED: usize = usize::MAX;

/// Claimed names, each under a tag: 0 for the names as written (every
/// family's), `1 + i` for those of families with UTF-8 names escaped by
/// scheme `i` of [`crate::name::SCHEMES`]. A family's names in a scheme
/// are looked up under tag 0 (legacy names are the same in every scheme;
/// an escaped name is always legacy, so it never meets a UTF-8 name
/// there) and under the scheme's tag.
struct Claims {
    names: HashMap<(u8, String), usize>,
    /// Whether a family with UTF-8 names claimed escaped names (then every
    /// later family looks its names up in each escaping too).
    escaped: bool,
}

/// Groups the tree's families; `collected[i]` holds what source `i` wrote
/// if it is a collector that ran.
pub(super) fn plan<'t>(tree: &'t Tree<'_>, collected: &'t [Option<Vec<Collected>>]) -> Plan<'t> {
    let mut plan = Plan {
        groups: Vec::new(),
        rejections: Vec::new(),
    };
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut claims = Claims {
        names: health::NAMES
            .iter()
            .flat_map(|n| Claim::of(n, Kind::Counter).built().collect::<Vec<_>>())
            .map(|n| ((0, n), RESERVED))
            .collect(),
        escaped: false,
    };
    for (source, (ctx, entry)) in tree.sources().enumerate() {
        let mut add = |from: Source<'t>, desc: FamilyDesc<'t>| {
            let member = Member { ctx, from, desc };
            if admit(tree, &mut plan.groups, &mut by_name, &mut claims, member).is_err() {
                plan.rejections.push(Rejection {
                    source,
                    name: format!("{}{}", tree.ctx(ctx).prefix, desc.name),
                });
            }
        };
        match entry {
            Entry::Static(_) | Entry::Shared(_) => {
                let Some(metric) = entry.metric() else { continue };
                for (i, desc) in (0..).map_while(|i| Some((i, metric.describe(i)?))) {
                    add(Source::Metric(metric, i), desc);
                }
            }
            Entry::Collector(_) => {
                for family in collected.get(source).and_then(Option::as_ref).into_iter().flatten() {
                    add(Source::Collected(family), family.desc());
                }
            }
            Entry::Include(_) => {}
        }
    }
    plan
}

/// Puts a member into its group, or says why it cannot join.
fn admit<'t>(
    tree: &Tree<'_>,
    groups: &mut Vec<Group<'t>>,
    by_name: &mut HashMap<String, usize>,
    claims: &mut Claims,
    member: Member<'t>,
) -> Result<(), ErrorKind> {
    let ctx = tree.ctx(member.ctx);
    if ctx.repeats || member.desc.labels.iter().any(|l| ctx.has_label(l, member.desc.utf8)) {
        return Err(ErrorKind::LabelClash);
    }
    let name = format!("{}{}", ctx.prefix, member.desc.name);
    if let Some(&at) = by_name.get(&name) {
        let group = &mut groups[at];
        let first = &group.members[0];
        let same_shape = first.desc.kind == member.desc.kind
            && first.desc.help == member.desc.help
            && first.desc.labels.same(member.desc.labels)
            && tree
                .ctx(first.ctx)
                .pairs
                .iter()
                .map(|(n, _)| n)
                .eq(ctx.pairs.iter().map(|(n, _)| n));
        let distinct = group
            .members
            .iter()
            .all(|m| m.ctx != member.ctx && tree.ctx(m.ctx).pairs != ctx.pairs);
        if same_shape && distinct {
            group.members.push(member);
            return Ok(());
        }
        return Err(clash(group.members.iter().any(|m| m.ctx == member.ctx)));
    }
    let claim = Claim::of(&name, member.desc.kind);
    let mut owner = claim.built().find_map(|n| claims.names.get(&(0, n)).copied());
    // Families with UTF-8 names, or any legacy family once one exists,
    // also look up their names in each escaping.
    let escaped: Vec<(u8, Claim<'_>)> = if member.desc.utf8 || claims.escaped {
        (1..)
            .zip(crate::name::SCHEMES.iter().map(|&s| claim.escaped(s)))
            .collect()
    } else {
        Vec::new()
    };
    for (tag, escaped) in &escaped {
        owner = owner.or_else(|| {
            escaped.built().find_map(|n| {
                let found = claims.names.get(&(*tag, n.clone()));
                found.or_else(|| claims.names.get(&(0, n))).copied()
            })
        });
    }
    if let Some(owner) = owner {
        let same_ctx = owner == RESERVED || groups[owner].members.iter().any(|m| m.ctx == member.ctx);
        return Err(clash(same_ctx));
    }
    let at = groups.len();
    claims.names.extend(claim.built().map(|n| ((0, n), at)));
    if member.desc.utf8 {
        for (tag, escaped) in &escaped {
            claims.names.extend(escaped.built().map(|n| ((*tag, n), at)));
            claims.escaped = true;
        }
    }
    by_name.insert(name.clone(), at);
    groups.push(Group {
        name,
        members: vec![member],
    });
    Ok(())
}

/// Within one registry a clash is a duplicate; across registries, a
/// clash between families.
fn clash(same_registry: bool) -> ErrorKind {
    if same_registry {
        ErrorKind::DuplicateMetric
    } else {
        ErrorKind::FamilyClash
    }
}

/// The check of a registration or inclusion: whether a family of the
/// sources from `mark` on is refused by the rules of [`plan`], checked
/// pairwise against every family before it, without building names (a
/// registration costs one pass over the tree, not a plan of it, so
/// registering `n` metrics stays `O(n²)` comparisons with no allocation,
/// as before composition; prefixed names are built once per check).
/// Collectors' families are not known before a scrape.
pub(super) fn check_new(tree: &Tree<'_>, mark: usize) -> Result<(), (ErrorKind, String)> {
    struct Family<'t> {
        ctx: usize,
        name: Cow<'t, str>,
        desc: FamilyDesc<'t>,
    }
    let families = |range: std::ops::Range<usize>| {
        tree.sources()
            .enumerate()
            .filter(move |(source, _)| range.contains(source))
            .filter_map(|(_, (ctx, entry))| Some((ctx, entry.metric()?)))
            .flat_map(|(ctx, metric)| {
                let prefix: &str = &tree.ctx(ctx).prefix;
                (0..).map_while(move |i| metric.describe(i)).map(move |desc| Family {
                    ctx,
                    name: if prefix.is_empty() {
                        Cow::Borrowed(desc.name)
                    } else {
                        Cow::Owned(format!("{prefix}{}", desc.name))
                    },
                    desc,
                })
            })
    };
    // Whether `new` may be written beside `old` (earlier in the tree).
    let refused = |old: &Family<'_>, new: &Family<'_>| {
        let (other, ctx) = (tree.ctx(old.ctx), tree.ctx(new.ctx));
        let same_registry = old.ctx == new.ctx;
        if old.name == new.name {
            let same_shape = old.desc.kind == new.desc.kind
                && old.desc.help == new.desc.help
                && old.desc.labels.same(new.desc.labels)
                && other.pairs.iter().map(|(n, _)| n).eq(ctx.pairs.iter().map(|(n, _)| n));
            (!same_shape || same_registry || other.pairs == ctx.pairs).then(|| clash(same_registry))
        } else {
            claim::clash(
                (&old.name, old.desc.kind, old.desc.utf8),
                (&new.name, new.desc.kind, new.desc.utf8),
            )
            .then(|| clash(same_registry))
        }
    };
    let new: Vec<Family<'_>> = families(mark..usize::MAX).collect();
    for (j, family) in new.iter().enumerate() {
        let refuse = |kind| Err((kind, family.name.to_string()));
        let ctx = tree.ctx(family.ctx);
        if ctx.repeats || family.desc.labels.iter().any(|l| ctx.has_label(l, family.desc.utf8)) {
            return refuse(ErrorKind::LabelClash);
        }
        if health::NAMES.iter().any(|h| {
            claim::clash(
                (&family.name, family.desc.kind, family.desc.utf8),
                (h, Kind::Counter, false),
            )
        }) {
            return refuse(ErrorKind::DuplicateMetric);
        }
        if let Some(kind) = new[..j].iter().find_map(|old| refused(old, family)) {
            return refuse(kind);
        }
    }
    for old in families(0..mark) {
        if let Some((kind, family)) = new.iter().find_map(|n| Some((refused(&old, n)?, n))) {
            return Err((kind, family.name.to_string()));
        }
    }
    Ok(())
}
