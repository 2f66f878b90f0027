//! Validation of metric names, label names and bucket layouts.
//!
//! Every check is a `const fn` so that constructors of `static` metrics can
//! call it in const context: an invalid literal then fails to compile. The
//! same functions serve the `try_new` twins at run time.

use crate::error::{Error, ErrorKind};

/// Most finite bucket bounds a static [`Histogram`](crate::Histogram) holds
/// inline; its counts live in the static itself so that observing never
/// allocates.
pub(crate) const MAX_BUCKETS: usize = 64;

/// Checks a metric name against `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) const fn metric_name(name: &str) -> Result<(), ErrorKind> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err(ErrorKind::InvalidMetricName);
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ok = b.is_ascii_alphabetic() || b == b'_' || b == b':' || (i > 0 && b.is_ascii_digit());
        if !ok {
            return Err(ErrorKind::InvalidMetricName);
        }
        i += 1;
    }
    Ok(())
}

/// Checks a metric name prefix: empty, or a valid metric name itself (so
/// that any valid suffix keeps the whole name valid).
pub(crate) const fn prefix(prefix: &str) -> Result<(), ErrorKind> {
    if prefix.is_empty() { Ok(()) } else { metric_name(prefix) }
}

/// Checks a label name against `[a-zA-Z_][a-zA-Z0-9_]*` and rejects the
/// `__` prefix, which Prometheus reserves for its own labels.
pub(crate) const fn label_name(name: &str) -> Result<(), ErrorKind> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err(ErrorKind::InvalidLabelName);
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphabetic() || b == b'_' || (i > 0 && b.is_ascii_digit())) {
            return Err(ErrorKind::InvalidLabelName);
        }
        i += 1;
    }
    if bytes.len() >= 2 && bytes[0] == b'_' && bytes[1] == b'_' {
        return Err(ErrorKind::ReservedLabelName);
    }
    Ok(())
}

/// Checks a family's label names: each valid, none repeated, and `le` not
/// used by a histogram (it carries the bucket bound).
pub(crate) const fn label_names(names: &[&str], histogram: bool) -> Result<(), ErrorKind> {
    let mut i = 0;
    while i < names.len() {
        if let Err(kind) = label_name(names[i]) {
            return Err(kind);
        }
        if histogram && str_eq(names[i], "le") {
            return Err(ErrorKind::ReservedLabelName);
        }
        let mut j = 0;
        while j < i {
            if str_eq(names[i], names[j]) {
                return Err(ErrorKind::DuplicateLabelName);
            }
            j += 1;
        }
        i += 1;
    }
    Ok(())
}

/// Checks histogram bucket bounds: at least one, no NaN, strictly
/// ascending. A trailing `+Inf` is allowed (and ignored: the `+Inf` bucket is
/// always implied); `+Inf` anywhere else is not.
pub(crate) const fn buckets(bounds: &[f64]) -> Result<(), ErrorKind> {
    let finite = finite_len(bounds);
    if finite == 0 {
        return Err(ErrorKind::InvalidBuckets);
    }
    let mut i = 0;
    while i < finite {
        let b = bounds[i];
        if b.is_nan() || b == f64::INFINITY {
            return Err(ErrorKind::InvalidBuckets);
        }
        if i > 0 && bounds[i - 1] >= b {
            return Err(ErrorKind::InvalidBuckets);
        }
        i += 1;
    }
    Ok(())
}

/// The number of bounds before an optional trailing `+Inf`.
pub(crate) const fn finite_len(bounds: &[f64]) -> usize {
    match bounds.last() {
        Some(last) if *last == f64::INFINITY => bounds.len() - 1,
        _ => bounds.len(),
    }
}

/// Checks a unit against the metric's name: `[a-zA-Z0-9_:]+`, and the
/// family name (for a counter the name without a `_total` suffix, as
/// `OpenMetrics` names its family) ends with `_` and the unit.
pub(crate) const fn unit(name: &str, unit: &str, counter: bool) -> Result<(), ErrorKind> {
    let (unit, mut family) = (unit.as_bytes(), name.as_bytes());
    if unit.is_empty() {
        return Err(ErrorKind::InvalidUnit);
    }
    let mut i = 0;
    while i < unit.len() {
        let b = unit[i];
        if !(b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
            return Err(ErrorKind::InvalidUnit);
        }
        i += 1;
    }
    if counter && ends_with(family, b"_total") {
        family = family.split_at(family.len() - 6).0;
    }
    if family.len() <= unit.len() || !ends_with(family, unit) || family[family.len() - unit.len() - 1] != b'_' {
        return Err(ErrorKind::InvalidUnit);
    }
    Ok(())
}

/// Whether `s` ends with `suffix`, in const context.
const fn ends_with(s: &[u8], suffix: &[u8]) -> bool {
    if s.len() < suffix.len() {
        return false;
    }
    let mut i = 0;
    while i < suffix.len() {
        if s[s.len() - suffix.len() + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `&str` equality usable in const context.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Panics with the kind's message; in const context this is a compile error.
pub(crate) const fn unwrap(result: Result<(), ErrorKind>) {
    if let Err(kind) = result {
        panic!("{}", kind.message());
    }
}

/// [`metric_name`] at run time, with an error that names the offending
/// character and its position.
pub(crate) fn check_metric_name(name: &str) -> Result<(), Error> {
    metric_name(name).map_err(|kind| {
        explained(kind, name, |i, c| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
        })
    })
}

/// [`unit`] at run time, with an error that names the unit and the name.
pub(crate) fn check_unit(name: &str, unit_text: &str, counter: bool) -> Result<(), Error> {
    unit(name, unit_text, counter).map_err(|kind| {
        Error::new(kind, unit_text).with_detail(format!(
            "a unit is [a-zA-Z0-9_:]+ and the family name {name:?} must end in \"_{unit_text}\""
        ))
    })
}

/// [`label_names`] at run time, with an error that names the offending
/// label, and for an invalid one the character and its position.
pub(crate) fn check_label_names(names: &[&str], histogram: bool) -> Result<(), Error> {
    label_names(names, histogram).map_err(|kind| {
        let culprit = names
            .iter()
            .enumerate()
            .find(|(i, n)| label_name(n).is_err() || (histogram && **n == "le") || names[..*i].contains(n))
            .map_or("", |(_, n)| *n);
        match kind {
            ErrorKind::InvalidLabelName => explained(kind, culprit, |i, c| {
                c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit())
            }),
            _ => Error::new(kind, culprit),
        }
    })
}

/// An error of `kind` about `subject`, naming the first character `ok`
/// refuses (by its position in characters, from 0), or saying it is empty.
fn explained(kind: ErrorKind, subject: &str, ok: impl Fn(usize, char) -> bool) -> Error {
    let error = Error::new(kind, subject);
    if subject.is_empty() {
        return error.with_detail("empty".to_owned());
    }
    match subject.chars().enumerate().find(|(i, c)| !ok(*i, *c)) {
        Some((i, c)) => error.with_detail(format!("character {c:?} at position {i}")),
        None => error,
    }
}

mod escape;

pub(crate) use escape::{
    SCHEMES, check_label_names_utf8, check_metric_name_utf8, escape_label_name, escape_metric_name,
    is_legacy_label_name, is_legacy_metric_name, same_label_name,
};
