//! Names outside the legacy charset on their way to a sink: escaped by the
//! negotiated scheme before the sink sees them, or left for the text sinks
//! to quote (`escaping=allow-utf-8`).
//!
//! Only families and scopes flagged `utf8` (built by the `_utf8`
//! constructors, or a registry made `with_utf8_names`) are looked at: the
//! flag is decided once, at construction, so a legacy family passes
//! through untouched and costs one branch per family and scrape.
//!
//! A name is escaped as its family's stem and the format's suffix: a
//! counter `a.b_total` is the stem `a.b` and `_total`, an info `a.b_info`
//! the stem `a.b` and `_info`, a histogram's stem is its name; the stem is
//! escaped and the suffix appended as it is, as both text formats name
//! samples after their family (`a_dot_b_total`, `a_dot_b_bucket`), so a
//! 0.0.4 scrape and an `OpenMetrics` one give a scraper the same series
//! names, and the unescaping direction is: strip the suffix, unescape the
//! stem. (`client_golang` escapes a 0.0.4 name whole, suffix included:
//! `a_dot_b__total`; the two agree for `underscores`, the default.)

use super::{escape, render_labels};
use crate::expose::{FamilyDesc, Kind, Names, Scope};
use crate::name::{escape_label_name, escape_metric_name, is_legacy_label_name};
use crate::negotiate::Escaping;

/// Escapes the names of flagged families and scopes for one scrape,
/// reusing its buffers.
pub(crate) struct NameEscaper {
    escaping: Escaping,
    name: String,
    labels: Vec<String>,
    pairs: Vec<(String, String)>,
    scope: String,
}

impl NameEscaper {
    /// An escaper for a scraper that asked for `escaping`.
    pub(crate) fn new(escaping: Escaping) -> Self {
        NameEscaper {
            escaping,
            name: String::new(),
            labels: Vec::new(),
            pairs: Vec::new(),
            scope: String::new(),
        }
    }

    /// The name and description to open family `name` (`desc`) with.
    pub(crate) fn family<'s>(&'s mut self, name: &'s str, desc: &FamilyDesc<'s>) -> (&'s str, FamilyDesc<'s>) {
        if !desc.utf8 || self.escaping == Escaping::AllowUtf8 {
            return (name, *desc);
        }
        let suffix = match desc.kind {
            Kind::Counter => "_total",
            Kind::Info => "_info",
            Kind::Gauge | Kind::Histogram => "",
        };
        let stem = name
            .strip_suffix(suffix)
            .filter(|stem| !stem.is_empty() && !suffix.is_empty())
            .unwrap_or(name);
        self.name.clear();
        escape_metric_name(&mut self.name, stem, self.escaping);
        self.name.push_str(&name[stem.len()..]);
        self.labels.clear();
        for label in desc.labels.iter() {
            let mut escaped = String::with_capacity(label.len());
            escape_label_name(&mut escaped, label, self.escaping);
            self.labels.push(escaped);
        }
        let escaped = FamilyDesc {
            name: &self.name,
            labels: Names::Strings(&self.labels),
            utf8: false,
            ..*desc
        };
        (&self.name, escaped)
    }

    /// The scope to hand the sink for `scope`: its label names escaped, or
    /// with `allow-utf-8` its text with the names outside the legacy
    /// charset quoted (the pairs stay raw, for a binary sink).
    pub(crate) fn scope<'s>(&'s mut self, scope: Scope<'s>) -> Scope<'s> {
        if !scope.utf8 {
            return scope;
        }
        if self.escaping == Escaping::AllowUtf8 {
            let mut text = Vec::new();
            for (i, (name, value)) in scope.pairs.iter().enumerate() {
                if i > 0 {
                    text.push(b',');
                }
                write_label_name(&mut text, name, true);
                text.extend_from_slice(b"=\"");
                escape(&mut text, value, true);
                text.push(b'"');
            }
            // Whole strings and ASCII only, so this cannot fail.
            self.scope = String::from_utf8(text).unwrap_or_default();
            return Scope {
                pairs: scope.pairs,
                escaped: &self.scope,
                utf8: true,
            };
        }
        self.pairs.clear();
        for (name, value) in scope.pairs {
            let mut escaped = String::with_capacity(name.len());
            escape_label_name(&mut escaped, name, self.escaping);
            self.pairs.push((escaped, value.clone()));
        }
        self.scope = render_labels(self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        Scope {
            pairs: &self.pairs,
            escaped: &self.scope,
            utf8: false,
        }
    }
}

/// Appends a name quoted, as the Prometheus 3 text formats write a name
/// outside the legacy charset: `"`, the name escaped as a label value
/// (`\`, `"`, newline), `"`.
pub(crate) fn write_quoted(out: &mut Vec<u8>, name: &str) {
    out.push(b'"');
    escape(out, name, true);
    out.push(b'"');
}

/// Appends a label name: as it is, or quoted when `utf8` says it may be
/// outside the legacy charset and it is.
pub(crate) fn write_label_name(out: &mut Vec<u8>, name: &str, utf8: bool) {
    if utf8 && !is_legacy_label_name(name) {
        write_quoted(out, name);
    } else {
        out.extend_from_slice(name.as_bytes());
    }
}
