// The `names` fuzz check, and the naive grammar the other checks share.
// Part of `fuzz_checks.rs` (included from there with `#[path]`).

use super::*;

/// Checks that `Counter::try_new`, `CounterVec::<1>::try_new`,
/// `HistogramVec::<1>::try_new` and `Registry::with_const_labels` accept
/// exactly the names the grammar allows, with the documented error kind,
/// never panic, and that what they accept renders to an exposition the
/// oracle reads back with the same name.
///
/// The whole input, read as UTF-8 (lossily), is the metric name and the
/// label name.
///
/// # Panics
///
/// When a property does not hold.
pub(crate) fn check_names(data: &[u8]) {
    let name = String::from_utf8_lossy(data).into_owned();
    let metric = bareprom::Counter::try_new(name.clone(), "h");
    let want = (!metric_name_ok(&name)).then_some(ErrorKind::InvalidMetricName);
    assert_eq!(
        metric.as_ref().err().map(bareprom::Error::kind),
        want,
        "Counter::try_new({name:?})"
    );
    if let Ok(metric) = metric {
        // Alone in a registry, a counter clashes only with the health
        // families, by the claim rule (`bareprom_series_dropped` claims
        // `bareprom_series_dropped_total`).
        let registry = Registry::new();
        let registered = registry.register_arc(Arc::new(metric));
        let want = (!registration_ok(&name, Kind::Counter, &[], &[], &[])).then_some(ErrorKind::DuplicateMetric);
        assert_eq!(registered.err().map(|e| e.kind()), want, "registering {name:?}");
        let got = parse_or_panic(&registry.render());
        if want.is_none() {
            assert_eq!(got.families[0].name, name);
        }
    }

    let label_kind = if !label_grammar_ok(&name) {
        Some(ErrorKind::InvalidLabelName)
    } else if name.starts_with("__") {
        Some(ErrorKind::ReservedLabelName)
    } else {
        None
    };
    let family = bareprom::CounterVec::<1>::try_new("x", "h", [name.as_str()]);
    assert_eq!(
        family.as_ref().err().map(bareprom::Error::kind),
        label_kind,
        "CounterVec label {name:?}"
    );
    let histogram_kind = label_kind.or((name == "le").then_some(ErrorKind::ReservedLabelName));
    let histogram = bareprom::HistogramVec::<1>::try_new("x", "h", [name.as_str()]);
    assert_eq!(
        histogram.as_ref().err().map(bareprom::Error::kind),
        histogram_kind,
        "HistogramVec label {name:?}"
    );
    let const_kind = histogram_kind.or(HEALTH_LABELS
        .contains(&name.as_str())
        .then_some(ErrorKind::ReservedLabelName));
    let registry = Registry::with_const_labels(&[(name.as_str(), "v")]);
    assert_eq!(
        registry.as_ref().err().map(bareprom::Error::kind),
        const_kind,
        "const label {name:?}"
    );

    if let Ok(family) = family {
        family.with(["v"]).inc();
        let registry = Registry::new();
        registry
            .register_arc(Arc::new(family))
            .expect("a lone valid family registers");
        let got = parse_or_panic(&registry.render());
        assert_eq!(got.families[0].samples[0].labels, [(name.clone(), "v".to_owned())]);
    }
    super::names_utf8::check_names_utf8(&name);
}

/// The metric name grammar, `[a-zA-Z_:][a-zA-Z0-9_:]*`, matched naively.
pub(super) fn metric_name_ok(s: &str) -> bool {
    grammar(s, "a-zA-Z_:", "a-zA-Z0-9_:")
}

/// The label name grammar, `[a-zA-Z_][a-zA-Z0-9_]*`, matched naively.
pub(super) fn label_grammar_ok(s: &str) -> bool {
    grammar(s, "a-zA-Z_", "a-zA-Z0-9_")
}

/// Labels of the registry's health families, refused as constant labels.
pub(super) const HEALTH_LABELS: [&str; 2] = ["family", "collector"];

/// Whether label names are each valid and not reserved (`__` prefix), are
/// distinct, and for a histogram (or constant labels) are not `le`.
pub(super) fn label_names_ok(names: &[&str], histogram: bool) -> bool {
    let distinct = names.iter().enumerate().all(|(i, n)| !names[..i].contains(n));
    distinct
        && names
            .iter()
            .all(|n| label_grammar_ok(n) && !n.starts_with("__") && !(histogram && *n == "le"))
}

/// `s` is one character of `first`, then any number of characters of
/// `rest`; classes are written as in a regular expression (`a-z_`).
pub(super) fn grammar(s: &str, first: &str, rest: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| in_class(c, first)) && chars.all(|c| in_class(c, rest))
}

pub(super) fn in_class(c: char, class: &str) -> bool {
    let class: Vec<char> = class.chars().collect();
    let mut i = 0;
    while i < class.len() {
        if i + 2 < class.len() && class[i + 1] == '-' {
            if (class[i]..=class[i + 2]).contains(&c) {
                return true;
            }
            i += 3;
        } else {
            if class[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}

/// Bucket bounds as documented: after dropping one trailing `+Inf`, at least
/// one and at most `max` bounds, none NaN or `+Inf`, strictly ascending.
pub(super) fn buckets_ok(bounds: &[f64], max: usize) -> bool {
    let finite = finite_bounds(bounds);
    (1..=max).contains(&finite.len())
        && finite.iter().all(|b| *b < f64::INFINITY) // neither NaN nor +Inf
        && finite.windows(2).all(|w| w[0] < w[1])
}

pub(super) fn finite_bounds(bounds: &[f64]) -> &[f64] {
    match bounds.split_last() {
        Some((last, rest)) if last.is_infinite() && *last > 0.0 => rest,
        _ => bounds,
    }
}

#[track_caller]
pub(super) fn parse_or_panic(text: &str) -> oracle::Exposition {
    oracle::parse(text).unwrap_or_else(|e| panic!("oracle rejects the exposition: {e}\n{}", excerpt(text)))
}
