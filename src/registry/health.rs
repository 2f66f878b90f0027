//! The registry's own families: what it dropped, caught and rejected.
//!
//! Written once per scrape, by the registry scraped, for its whole tree:
//! an included registry never adds a copy of its own. Series of the same
//! label value from different included registries (two instances of one
//! component, each with a collector named `queue`) are summed into one.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

use super::Entry;
use super::plan::Tree;
use crate::expose::{FamilyDesc, Kind, Names, Scope, SeriesLabels, Sink, Value};
use crate::metric::Metric;
use crate::text;

/// The health families, which no other family may take.
pub(super) const NAMES: [&str; 4] = [
    "bareprom_series_dropped_total",
    "bareprom_collector_panics_total",
    "bareprom_collector_rejected_total",
    "bareprom_families_rejected_total",
];

/// The labels of the health families, which constant labels may not use.
pub(super) const LABELS: [&str; 2] = ["family", "collector"];

/// Counts by label value, in first-seen order.
#[derive(Default)]
struct Tally {
    order: Vec<(String, u64)>,
    /// Where each key is in `order`, once there are enough keys for a
    /// linear search to cost more than hashing.
    at: Option<HashMap<String, usize>>,
}

impl Tally {
    fn add(&mut self, key: String, n: u64) {
        let found = match &self.at {
            Some(at) => at.get(&key).copied(),
            None => self.order.iter().position(|(k, _)| *k == key),
        };
        if let Some(i) = found {
            self.order[i].1 += n;
            return;
        }
        if let Some(at) = &mut self.at {
            at.insert(key.clone(), self.order.len());
        } else if self.order.len() >= 16 {
            let mut at: HashMap<String, usize> = self
                .order
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            at.insert(key.clone(), self.order.len());
            self.at = Some(at);
        }
        self.order.push((key, n));
    }
}

/// Whether a flat scrape (one registry, no includes, no collectors, no
/// clashes) can write `metric`'s health series: it has none, or its name
/// is its `family` label value as it stands (no `\\`, `"` or newline to
/// escape, true of every legacy name).
pub(super) fn flat_dropped(metric: &dyn Metric) -> bool {
    metric.dropped().is_none() || metric.describe(0).is_some_and(|desc| !text::needs_escaping(desc.name))
}

/// The health families of a flat scrape whose every metric passed
/// [`flat_dropped`]: only `bareprom_series_dropped_total`, one series per
/// labelled family in registration order, with no allocation (names are
/// unique in one registry, so there is nothing to sum). The same bytes as
/// [`expose`] writes for such a registry.
pub(super) fn expose_flat<'s>(sink: &mut dyn Sink, scope: impl FnOnce() -> Scope<'s>, entries: &[Entry]) {
    let mut dropped = entries
        .iter()
        .filter_map(Entry::metric)
        .filter_map(|m| Some((m.describe(0)?.name, m.dropped()?)))
        .peekable();
    if dropped.peek().is_none() {
        return;
    }
    let labels = [LABELS[0]];
    sink.family(NAMES[0], &dropped_desc(&labels));
    sink.scope(scope());
    for (name, n) in dropped {
        let Ok(end) = u32::try_from(name.len()) else { continue };
        sink.series(
            SeriesLabels::Escaped {
                text: name,
                start: 0,
                ends: &[end],
            },
            Value::U64(n),
        );
    }
}

/// The description of `bareprom_series_dropped_total`.
fn dropped_desc<'a>(labels: &'a [&'a str; 1]) -> FamilyDesc<'a> {
    FamilyDesc {
        name: NAMES[0],
        help: DROPPED_HELP,
        unit: "",
        kind: Kind::Counter,
        labels: Names::Strs(labels),
        utf8: false,
    }
}

const DROPPED_HELP: &str = "Lookups of new label sets sent to the overflow series by the series limit.";

/// Writes the health families of `tree` to `sink`, with the scraped
/// registry's constant labels; `clashes` are the families the registry
/// left out of scrapes, by name.
pub(super) fn expose(sink: &mut dyn Sink, scope: Scope<'_>, tree: &Tree<'_>, clashes: &[(String, u64)]) {
    // Most small registries have nothing to say: no labelled family, no
    // collector, no clash. Deciding that first keeps a scrape of them cheap.
    let anything = !clashes.is_empty()
        || tree
            .sources()
            .any(|(_, e)| matches!(e, Entry::Collector(_)) || e.metric().is_some_and(|m| m.dropped().is_some()));
    if !anything {
        return;
    }
    let (mut dropped, mut panics, mut rejected) = (Tally::default(), Tally::default(), Tally::default());
    for (ctx, entry) in tree.sources() {
        match entry {
            Entry::Collector(c) => {
                panics.add(c.name.clone(), c.panics.load(Relaxed));
                rejected.add(c.name.clone(), c.rejected.load(Relaxed));
            }
            _ => {
                if let Some(metric) = entry.metric()
                    && let Some(n) = metric.dropped()
                    && let Some(desc) = metric.describe(0)
                {
                    dropped.add(format!("{}{}", tree.ctx(ctx).prefix, desc.name), n);
                }
            }
        }
    }
    rejected.order.retain(|(_, n)| *n > 0);
    let clashes: Vec<(String, u64)> = clashes.iter().filter(|(_, n)| *n > 0).cloned().collect();
    let families = [
        (NAMES[0], DROPPED_HELP, LABELS[0], dropped.order),
        (
            NAMES[1],
            "Scrapes in which a collector panicked and was left out.",
            LABELS[1],
            panics.order,
        ),
        (
            NAMES[2],
            "Families a collector wrote that were invalid or clashed, and were left out.",
            LABELS[1],
            rejected.order,
        ),
        (
            NAMES[3],
            "Families left out of a scrape because they clashed with another family of the same name.",
            LABELS[0],
            clashes,
        ),
    ];
    for (name, help, label, series) in families {
        if series.is_empty() {
            continue;
        }
        let labels = [label];
        let desc = FamilyDesc {
            name,
            help,
            unit: "",
            kind: Kind::Counter,
            labels: Names::Strs(&labels),
            utf8: false,
        };
        sink.family(name, &desc);
        sink.scope(scope);
        for (value, count) in series {
            sink.series(SeriesLabels::Raw(std::slice::from_ref(&value)), Value::U64(count));
        }
    }
}
