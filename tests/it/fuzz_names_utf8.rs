// The UTF-8 half of the `names` fuzz check: names opted in with
// `try_new_utf8`. Part of `fuzz_checks.rs` (included from there with
// `#[path]`).

use super::*;
use bareprom::{Escaping, Format, Negotiated};

use super::names::{grammar, label_grammar_ok, metric_name_ok};
use super::names_decode::{unescape_dots, unescape_values};
use super::oracle_utf8;

fn encode(registry: &Registry, format: Format, escaping: Escaping) -> String {
    let mut body = Vec::new();
    registry.encode_negotiated(Negotiated { format, escaping }, &mut body);
    String::from_utf8(body).expect("UTF-8 exposition")
}

/// Checks that `Gauge::try_new_utf8` takes exactly the non-empty names and
/// `CounterVec::<1>::try_new_utf8` the label names documented (non-empty,
/// no `__` prefix as written or as `underscores` or `dots` write it); that
/// what they take renders with `allow-utf-8` to expositions the oracle
/// reads back with the very names (text and OpenMetrics); and that the
/// escaped renderings hold legacy names that undo to the original with
/// `values` always and with `dots` for names of legacy characters and dots.
///
/// # Panics
///
/// When a property does not hold.
pub(crate) fn check_names_utf8(name: &str) {
    let gauge = Gauge::try_new_utf8(name.to_owned(), "h");
    assert_eq!(gauge.is_ok(), !name.is_empty(), "Gauge::try_new_utf8({name:?})");
    if let Ok(gauge) = gauge {
        let registry = Registry::new().without_health();
        // Refused only for a health family's name, written alike.
        if let Err(e) = registry.register_owned(gauge) {
            assert_eq!(e.kind(), ErrorKind::DuplicateMetric, "{name:?}");
            assert!(name.starts_with("bareprom"), "{name:?} refused: {e}");
            return;
        }
        for (format, openmetrics) in [(Format::Text0_0_4, false), (Format::OpenMetrics1_0_0, true)] {
            let text = encode(&registry, format, Escaping::AllowUtf8);
            let parsed = oracle_utf8::parse(&text, openmetrics)
                .unwrap_or_else(|e| panic!("oracle rejects {name:?}: {e}\n{}", excerpt(&text)));
            assert_eq!(parsed.families[0].name, name, "{format:?}");
        }
        let escaped = |escaping| {
            let text = encode(&registry, Format::Text0_0_4, escaping);
            parse_or_panic(&text).families[0].name.clone()
        };
        let legacy = metric_name_ok(name);
        let values = escaped(Escaping::Values);
        if legacy {
            assert_eq!(values, name);
        } else {
            assert_eq!(unescape_values(&values).as_deref(), Some(name), "values {values}");
        }
        let dots = escaped(Escaping::Dots);
        let dotted = grammar(name, "a-zA-Z_:.", "a-zA-Z0-9_:.");
        if legacy {
            assert_eq!(dots, name);
        } else if dotted {
            assert_eq!(unescape_dots(&dots), name, "dots {dots}");
        }
        let underscores = escaped(Escaping::Underscores);
        assert_eq!(underscores.chars().count(), name.chars().count(), "{underscores}");
    }

    let label = [name];
    let want = if name.is_empty() {
        Some(ErrorKind::InvalidLabelName)
    } else if escapes_to_reserved(name) {
        Some(ErrorKind::ReservedLabelName)
    } else {
        None
    };
    let family = CounterVec::<1>::try_new_utf8("x", "h", label);
    assert_eq!(family.as_ref().err().map(bareprom::Error::kind), want, "label {name:?}");
    if let Ok(family) = family {
        family.with(["v"]).inc();
        let registry = Registry::new().without_health();
        registry.register_owned(family).expect("a lone family registers");
        let text = encode(&registry, Format::Text0_0_4, Escaping::AllowUtf8);
        let parsed = oracle_utf8::parse(&text, false)
            .unwrap_or_else(|e| panic!("oracle rejects label {name:?}: {e}\n{}", excerpt(&text)));
        assert_eq!(
            parsed.families[0].samples[0].labels,
            [(name.to_owned(), "v".to_owned())]
        );
        let text = encode(&registry, Format::Text0_0_4, Escaping::Values);
        let parsed = parse_or_panic(&text);
        let escaped = &parsed.families[0].samples[0].labels[0].0;
        if label_grammar_ok(name) {
            assert_eq!(escaped, name);
        } else {
            assert_eq!(
                unescape_values(escaped).as_deref(),
                Some(name),
                "label values {escaped}"
            );
        }
    }
}

/// Whether a label name is, or is escaped to, a name starting with `__`,
/// read off the escaping rules: `underscores` writes every character
/// outside the label charset as `_`, `dots` writes `_` and every character
/// but `.` outside it as `__` (a digit is outside it first).
fn escapes_to_reserved(name: &str) -> bool {
    if name.starts_with("__") {
        return true;
    }
    if label_grammar_ok(name) {
        return false;
    }
    let mut chars = name.chars();
    let first = chars.next().unwrap_or('a');
    let outside = |c: char, i: usize| !(c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()));
    let underscore = |c: char, i: usize| c == '_' || outside(c, i);
    let by_underscores = underscore(first, 0) && chars.next().is_some_and(|c| underscore(c, 1));
    let by_dots = first == '_' || (outside(first, 0) && first != '.');
    by_underscores || by_dots
}
