//! The name-claim rule: which names a family owns, so that no two families
//! of one exposition can be mistaken for each other by a parser.
//!
//! A family claims every name that a parser we serve maps back to it:
//!
//! - its own name;
//! - a histogram `x` also `x_bucket`, `x_sum` and `x_count` (text format
//!   0.0.4: the Go `expfmt` parser folds those samples, and their `# HELP`
//!   and `# TYPE` lines, into `x`) and `x_created` (OpenMetrics 1.0);
//! - a counter `x_total`, or `x`, also `x`, `x_total` and `x_created`
//!   (OpenMetrics 1.0 names that counter's family `x` and writes samples
//!   `x_total` and `x_created`).
//!
//! - an info `x_info` also `x` (`OpenMetrics` names its family `x`).
//!
//! A gauge claims its own name only. Kinds this crate does not write yet
//! would claim as OpenMetrics maps them: a summary as a histogram without
//! `_bucket`, a gauge histogram `x_bucket`,
//! `x_gsum` and `x_gcount`.
//!
//! Two families clash when their claims intersect, whatever the order they
//! are registered or written in. The registry's plan (`plan.rs`) builds
//! every claimed name into one lookup table per scrape, so a scrape checks
//! each family once, not against every other; a registration looks the new
//! family's claimed names up in the registry's claim index (`index.rs`),
//! and only when that finds something in the way compares claims pairwise
//! ([`Claim::intersects`]) to say what.
//!
//! A family whose names lie outside the legacy charset claims its names
//! as every scraper sees them: as they are (quoted, `allow-utf-8`), and
//! escaped by each scheme (`underscores`, `dots`, `values`): its base
//! escaped, the suffixes appended as they are (how both text formats name
//! samples after their family). So `a.b` clashes with `a_b`, `a-b` and
//! `a_dot_b` (`client_golang` plans the same check at registration, its
//! issue 1638: two families written as one would be a broken exposition
//! for every scraper without UTF-8 names).

use std::borrow::Cow;

use crate::expose::Kind;
use crate::name;
use crate::negotiate::Escaping;

/// Every suffix a claim of any kind appends to its base (a test holds
/// [`Claim::of`] to it): a claimed name minus one of these is the base of
/// every claim that can hold it.
pub(crate) const SUFFIXES: [&str; 7] = ["", "_total", "_created", "_bucket", "_sum", "_count", "_info"];

/// The names a family claims: `base` followed by each of `suffixes`.
#[derive(Clone)]
pub(crate) struct Claim<'a> {
    base: Cow<'a, str>,
    suffixes: &'static [&'static str],
}

/// Whether families `a` and `b` (name, kind, whether a name may be
/// outside the legacy charset) clash for some scraper: as written, or in
/// one of the escapings.
pub(crate) fn clash(a: (&str, Kind, bool), b: (&str, Kind, bool)) -> bool {
    let (ca, cb) = (Claim::of(a.0, a.1), Claim::of(b.0, b.1));
    if ca.intersects(&cb) {
        return true;
    }
    (a.2 || b.2)
        && name::SCHEMES
            .iter()
            .any(|&scheme| ca.escaped(scheme).intersects(&cb.escaped(scheme)))
}

impl<'a> Claim<'a> {
    /// What every claimed name starts with.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Whether the base lies in the legacy charset: then the claim is the
    /// same in every escaping.
    pub(crate) fn legacy_base(&self) -> bool {
        name::is_legacy_metric_name(&self.base)
    }

    /// The same claim as a scraper sees it in `scheme`: the base escaped
    /// (unchanged when legacy), the suffixes as they are.
    pub(crate) fn escaped(&self, scheme: Escaping) -> Claim<'a> {
        if self.legacy_base() {
            return self.clone();
        }
        let mut base = String::new();
        name::escape_metric_name(&mut base, &self.base, scheme);
        Claim {
            base: Cow::Owned(base),
            suffixes: self.suffixes,
        }
    }

    /// What a family of this name and kind claims.
    pub(crate) fn of(name: &'a str, kind: Kind) -> Claim<'a> {
        let (base, suffixes): (&str, &'static [&'static str]) = match kind {
            Kind::Counter => (name.strip_suffix("_total").unwrap_or(name), &["", "_total", "_created"]),
            Kind::Gauge => (name, &[""]),
            Kind::Histogram => (name, &["", "_bucket", "_sum", "_count", "_created"]),
            Kind::Info => (name.strip_suffix("_info").unwrap_or(name), &["", "_info"]),
        };
        Claim {
            base: Cow::Borrowed(base),
            suffixes,
        }
    }

    /// Every name claimed, built (for a lookup table of claims).
    pub(crate) fn built(&self) -> impl Iterator<Item = String> + '_ {
        self.suffixes.iter().map(move |s| {
            // Not `format!`: this runs for every family registered.
            let mut name = String::with_capacity(self.base.len() + s.len());
            name.push_str(&self.base);
            name.push_str(s);
            name
        })
    }

    /// Whether some name is claimed by both.
    pub(crate) fn intersects(&self, other: &Claim<'_>) -> bool {
        // Every claimed name starts with its base (escaped claims with
        // their escaped base), so two claims can share a name only if one
        // base starts with the other: one comparison rules out most pairs
        // before the suffixes are tried.
        let (a, b) = (self.base.as_bytes(), other.base.as_bytes());
        if !(a.starts_with(b) || b.starts_with(a)) {
            return false;
        }
        self.suffixes
            .iter()
            .any(|a| other.suffixes.iter().any(|b| concat_eq(&self.base, a, &other.base, b)))
    }
}

/// `a + a_suffix == b + b_suffix`, without building either: three slice
/// comparisons (`memcmp`), not a byte-by-byte walk over chained iterators,
/// which was most of a registration's cost (callgrind, 500 counters
/// registered into one registry: 130.5 M instructions with the walk, 86.0
/// M without).
fn concat_eq(a: &str, a_suffix: &str, b: &str, b_suffix: &str) -> bool {
    let (a, x, b, y) = (a.as_bytes(), a_suffix.as_bytes(), b.as_bytes(), b_suffix.as_bytes());
    if a.len() + x.len() != b.len() + y.len() {
        return false;
    }
    let (short, short_suffix, long, long_suffix) = if a.len() <= b.len() { (a, x, b, y) } else { (b, y, a, x) };
    // `long` is `short`, then the start of `short_suffix`; the rest of
    // `short_suffix` is `long_suffix`.
    let (head, mid) = long.split_at(short.len());
    short == head && short_suffix.get(..mid.len()) == Some(mid) && short_suffix.get(mid.len()..) == Some(long_suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name a claim holds, built, for checking the pairwise test.
    fn names(claim: &Claim<'_>) -> Vec<String> {
        claim.suffixes.iter().map(|s| format!("{}{s}", claim.base)).collect()
    }

    #[test]
    fn intersection_is_symmetric_and_agrees_with_the_built_names() {
        let kinds = [Kind::Counter, Kind::Gauge, Kind::Histogram, Kind::Info];
        let names_tried = [
            "x",
            "x_total",
            "x_count",
            "x_created",
            "x_total_total",
            "y",
            "x_bucket",
            "x_info",
        ];
        for a_kind in kinds {
            for b_kind in kinds {
                for a in names_tried {
                    for b in names_tried {
                        let (ca, cb) = (Claim::of(a, a_kind), Claim::of(b, b_kind));
                        let built = names(&ca).iter().any(|n| names(&cb).contains(n));
                        assert_eq!(ca.intersects(&cb), built, "{a} {a_kind:?} / {b} {b_kind:?}");
                        assert_eq!(cb.intersects(&ca), built, "{b} {b_kind:?} / {a} {a_kind:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_suffix_claimed_is_listed() {
        for kind in [Kind::Counter, Kind::Gauge, Kind::Histogram, Kind::Info] {
            for suffix in Claim::of("x", kind).suffixes {
                assert!(SUFFIXES.contains(suffix), "{kind:?} {suffix}");
            }
        }
    }

    #[test]
    fn utf8_names_clash_with_what_they_escape_to() {
        for (a, b) in [
            ("a.b", "a_b"),
            ("a.b", "a-b"),
            ("a.b", "a_dot_b"),
            ("a.b", "U__a_2e_b"),
            ("a.b_total", "a_b"),
        ] {
            assert!(clash((a, Kind::Counter, true), (b, Kind::Gauge, false)), "{a} {b}");
            assert!(clash((b, Kind::Gauge, false), (a, Kind::Counter, true)), "{b} {a}");
        }
        assert!(clash(("h.x", Kind::Histogram, true), ("h_x_count", Kind::Gauge, false)));
        assert!(!clash(("a.b", Kind::Gauge, true), ("a.c", Kind::Gauge, true)));
        assert!(!clash(("a.b", Kind::Gauge, true), ("a__b", Kind::Gauge, false)));
    }
}
