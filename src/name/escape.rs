//! Names outside the legacy charset (Prometheus 3 UTF-8 names): their
//! validation, and their escaping for a scraper that does not take them.
//!
//! A metric name is legacy when it matches `[a-zA-Z_:][a-zA-Z0-9_:]*`, a
//! label name when it matches `[a-zA-Z_][a-zA-Z0-9_]*`. A legacy name is
//! written as it is whatever the scraper asked for; any other name is
//! written quoted (`escaping=allow-utf-8`) or escaped by the negotiated
//! scheme, character by character, exactly as `prometheus/common`'s
//! `model.EscapeName` does (facts from its code and tests):
//!
//! - `underscores`: every character outside the legacy charset becomes `_`;
//! - `dots`: `_` becomes `__`, `.` becomes `_dot_`, every other character
//!   outside the legacy charset `__`;
//! - `values`: the name is prefixed `U__`, `_` becomes `__`, every other
//!   character outside the legacy charset `_<hex code point>_` (lowercase).
//!
//! A digit is outside the charset in first position. `dots` and `values`
//! can be undone (`model.UnescapeName`); `underscores` cannot.
//!
//! One deliberate difference: `model.EscapeName` judges a label name by
//! the metric-name charset, so a label `a:b` stays `a:b`, which the legacy
//! text format does not allow in a label name; here a label name is judged
//! by the label charset, so `a:b` is escaped like any other character
//! outside it (`a_b`, `a__b`, `U__a_3a_b`).

use crate::error::{Error, ErrorKind};
use crate::negotiate::Escaping;

/// The escapings that write legacy names only.
pub(crate) const SCHEMES: [Escaping; 3] = [Escaping::Underscores, Escaping::Dots, Escaping::Values];

/// Whether `c` at byte position `i` is in the legacy charset (`colon`:
/// the metric-name charset, which has `:`).
fn legacy_char(c: char, i: usize, colon: bool) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (colon && c == ':') || (i > 0 && c.is_ascii_digit())
}

fn legacy(name: &str, colon: bool) -> bool {
    !name.is_empty() && name.char_indices().all(|(i, c)| legacy_char(c, i, colon))
}

/// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn is_legacy_metric_name(name: &str) -> bool {
    legacy(name, true)
}

/// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_legacy_label_name(name: &str) -> bool {
    legacy(name, false)
}

/// Appends `name` escaped by `scheme` as a metric name (unchanged when it
/// is legacy, or for [`Escaping::AllowUtf8`]).
pub(crate) fn escape_metric_name(out: &mut String, name: &str, scheme: Escaping) {
    escape(out, name, scheme, true);
}

/// Appends `name` escaped by `scheme` as a label name (unchanged when it
/// is legacy, or for [`Escaping::AllowUtf8`]).
pub(crate) fn escape_label_name(out: &mut String, name: &str, scheme: Escaping) {
    escape(out, name, scheme, false);
}

fn escape(out: &mut String, name: &str, scheme: Escaping, colon: bool) {
    if scheme == Escaping::AllowUtf8 || name.is_empty() || legacy(name, colon) {
        out.push_str(name);
        return;
    }
    if scheme == Escaping::Values {
        out.push_str("U__");
    }
    for (i, c) in name.char_indices() {
        match scheme {
            Escaping::Underscores => out.push(if legacy_char(c, i, colon) { c } else { '_' }),
            Escaping::Dots => match c {
                '_' => out.push_str("__"),
                '.' => out.push_str("_dot_"),
                c if legacy_char(c, i, colon) => out.push(c),
                _ => out.push_str("__"),
            },
            _ => match c {
                '_' => out.push_str("__"),
                c if legacy_char(c, i, colon) => out.push(c),
                c => {
                    use std::fmt::Write;
                    // Writing to a `String` cannot fail.
                    let _ = write!(out, "_{:x}_", u32::from(c));
                }
            },
        }
    }
}

/// Whether two label names are written alike in some escaping (equal, or
/// escaped to the same legacy name): a series carrying both would repeat
/// a label for that scraper.
pub(crate) fn same_label_name(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if is_legacy_label_name(a) && is_legacy_label_name(b) {
        return false;
    }
    let (mut x, mut y) = (String::new(), String::new());
    SCHEMES.iter().any(|&scheme| {
        x.clear();
        y.clear();
        escape_label_name(&mut x, a, scheme);
        escape_label_name(&mut y, b, scheme);
        x == y
    })
}

/// Checks a metric name opted in to UTF-8: any non-empty string (a `&str`
/// is valid UTF-8; NUL and control characters are allowed, as in
/// Prometheus 3 and `client_golang`: quoted they are escaped like label
/// values, escaped they become `_`).
pub(crate) fn check_metric_name_utf8(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::new(ErrorKind::InvalidMetricName, name).with_detail("empty".to_owned()));
    }
    Ok(())
}

/// Checks a family's label names opted in to UTF-8: each non-empty; none
/// that is, or is escaped to, a name starting with `__` (reserved by
/// Prometheus; so a name outside the legacy charset may not start with `_`
/// or a digit, which `dots` escapes to `__`); `le` not used by a
/// histogram; no two written alike in any escaping ([`same_label_name`]).
pub(crate) fn check_label_names_utf8(names: &[&str], histogram: bool) -> Result<(), Error> {
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::new(ErrorKind::InvalidLabelName, name).with_detail("empty".to_owned()));
        }
        if reserved(name) || (histogram && same_label_name(name, "le")) {
            return Err(Error::new(ErrorKind::ReservedLabelName, name));
        }
        if let Some(other) = names[..i].iter().find(|other| same_label_name(other, name)) {
            let error = Error::new(ErrorKind::DuplicateLabelName, name);
            return Err(if other == name {
                error
            } else {
                error.with_detail(format!("escaped like {other:?}"))
            });
        }
    }
    Ok(())
}

/// Whether `name`, or its escaped form in some scheme, starts with `__`.
fn reserved(name: &str) -> bool {
    let mut escaped = String::new();
    name.starts_with("__")
        || SCHEMES.iter().any(|&scheme| {
            escaped.clear();
            escape_label_name(&mut escaped, name, scheme);
            escaped.starts_with("__")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(name: &str, scheme: Escaping) -> String {
        let mut out = String::new();
        escape_metric_name(&mut out, name, scheme);
        out
    }

    /// Examples from `prometheus/common` `model/metric_test.go`
    /// (`TestEscapeName`), as facts: name, underscores, dots, values. One
    /// difference: there `EscapeName` with `dots` doubles the `_` of a
    /// legacy name (`no:escaping__required`), while its exposition
    /// (`EscapeMetricFamily`) leaves legacy names alone, as this crate does.
    #[test]
    fn escaping_agrees_with_the_prometheus_examples() {
        for (name, underscores, dots, values) in [
            ("", "", "", ""),
            (
                "no:escaping_required",
                "no:escaping_required",
                "no:escaping_required",
                "no:escaping_required",
            ),
            (
                "mysystem.prod.west.cpu.load",
                "mysystem_prod_west_cpu_load",
                "mysystem_dot_prod_dot_west_dot_cpu_dot_load",
                "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load",
            ),
            (
                "mysystem.prod.west.cpu.load_total",
                "mysystem_prod_west_cpu_load_total",
                "mysystem_dot_prod_dot_west_dot_cpu_dot_load__total",
                "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load__total",
            ),
            (
                "http.status:sum",
                "http_status:sum",
                "http_dot_status:sum",
                "U__http_2e_status:sum",
            ),
            (
                "label with 😱",
                "label_with__",
                "label__with____",
                "U__label_20_with_20__1f631_",
            ),
            ("花火", "__", "____", "U___82b1__706b_"),
            (
                "label with \u{100}",
                "label_with__",
                "label__with____",
                "U__label_20_with_20__100_",
            ),
            // Not in that table; what its `EscapeName` code gives.
            ("1st", "_st", "__st", "U___31_st"),
            ("a_b.c", "a_b_c", "a__b_dot_c", "U__a__b_2e_c"),
        ] {
            assert_eq!(escaped(name, Escaping::Underscores), underscores, "{name} underscores");
            assert_eq!(escaped(name, Escaping::Dots), dots, "{name} dots");
            assert_eq!(escaped(name, Escaping::Values), values, "{name} values");
            assert_eq!(escaped(name, Escaping::AllowUtf8), name, "{name} allow-utf-8");
        }
    }

    #[test]
    fn label_names_escape_a_colon() {
        let mut out = String::new();
        escape_label_name(&mut out, "a:b", Escaping::Values);
        assert_eq!(out, "U__a_3a_b");
        assert!(is_legacy_metric_name("a:b") && !is_legacy_label_name("a:b"));
    }

    #[test]
    fn utf8_label_names_refuse_what_escapes_alike_or_to_reserved() {
        assert!(check_label_names_utf8(&["my.label", "other"], true).is_ok());
        for (names, kind) in [
            (&["a.b", "a_b"][..], ErrorKind::DuplicateLabelName),
            (&["a.b", "a-b"][..], ErrorKind::DuplicateLabelName),
            (&["x", "x"][..], ErrorKind::DuplicateLabelName),
            (&["U__a_2e_b", "a.b"][..], ErrorKind::DuplicateLabelName),
            (&["a_dot_b", "a.b"][..], ErrorKind::DuplicateLabelName),
            (&["_.x"][..], ErrorKind::ReservedLabelName),
            (&["__x"][..], ErrorKind::ReservedLabelName),
            (&["1.x"][..], ErrorKind::ReservedLabelName),
            (&["l.e"][..], ErrorKind::InvalidLabelName),
            (&[""][..], ErrorKind::InvalidLabelName),
        ] {
            let result = check_label_names_utf8(names, true);
            if names == ["l.e"] {
                assert!(result.is_ok(), "{names:?}");
                continue;
            }
            assert_eq!(result.map_err(|e| e.kind()), Err(kind), "{names:?}");
        }
        assert_eq!(
            check_label_names_utf8(&["le"], true).map_err(|e| e.kind()),
            Err(ErrorKind::ReservedLabelName)
        );
    }
}
