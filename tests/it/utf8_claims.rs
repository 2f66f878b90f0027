//! The name-claim rule on UTF-8 names, checked two ways that must agree:
//! a registration refuses a family exactly when a scrape, seeing the same
//! two families only then (the second registered into an included
//! registry after its inclusion), leaves the second out.

use std::sync::Arc;

use bareprom::{CounterVec, ErrorKind, Gauge, HistogramVec, Registry};

const NAMES: [&str; 10] = [
    "a.b",
    "a_b",
    "a-b",
    "a_dot_b",
    "U__a_2e_b",
    "a.b_total",
    "a_b_total",
    "a.b_count",
    "a_b_bucket",
    "a.c",
];

#[derive(Clone, Copy, Debug)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

fn register(registry: &Registry, kind: Kind, name: &str) -> Result<(), bareprom::Error> {
    let name = name.to_owned();
    match kind {
        Kind::Counter => registry
            .register_owned(CounterVec::try_new_utf8(name, "c", ["l"])?)
            .map(drop),
        Kind::Gauge => registry.register_owned(Gauge::try_new_utf8(name, "g")?).map(drop),
        Kind::Histogram => registry
            .register_owned(HistogramVec::try_with_buckets_utf8(name, "h", ["l"], vec![1.0])?)
            .map(drop),
    }
}

#[test]
fn registration_and_scrape_agree_on_names_written_alike() {
    let kinds = [Kind::Counter, Kind::Gauge, Kind::Histogram];
    let (mut clashes, mut pairs) = (0, 0);
    for a in NAMES {
        for b in NAMES {
            if a == b {
                continue;
            }
            for ka in kinds {
                for kb in kinds {
                    let case = format!("{ka:?} {a} then {kb:?} {b}");
                    let registry = Registry::new();
                    register(&registry, ka, a).unwrap();
                    let refused = match register(&registry, kb, b) {
                        Ok(()) => false,
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::DuplicateMetric, "{case}");
                            true
                        }
                    };
                    // The same two families, met only by a scrape.
                    let app = Registry::new();
                    register(&app, ka, a).unwrap();
                    let part = Arc::new(Registry::new());
                    app.include(Arc::clone(&part), "", &[]).unwrap();
                    register(&part, kb, b).unwrap();
                    let text = app.render();
                    let left_out = text.contains(&format!("bareprom_families_rejected_total{{family=\"{b}\"}}"));
                    assert_eq!(left_out, refused, "{case}\n{text}");
                    // Whatever was written reads back strictly, quoted.
                    let mut body = Vec::new();
                    app.encode_negotiated(
                        bareprom::Negotiated {
                            format: bareprom::Format::Text0_0_4,
                            escaping: bareprom::Escaping::AllowUtf8,
                        },
                        &mut body,
                    );
                    let quoted = String::from_utf8(body).unwrap();
                    crate::oracle_utf8::parse(&quoted, false).unwrap_or_else(|e| panic!("{case}: {e}\n{quoted}"));
                    crate::parse(&text);
                    clashes += usize::from(refused);
                    pairs += 1;
                }
            }
        }
    }
    assert_eq!(pairs, 10 * 9 * 9);
    // Facts that hold whatever the kinds: `a.b` and `a_b` (underscores),
    // `a_dot_b` (dots), `U__a_2e_b` (values) are each written like `a.b`
    // by some scraper; `a.c` like none of the others.
    for other in ["a_b", "a-b", "a_dot_b", "U__a_2e_b"] {
        let registry = Registry::new();
        register(&registry, Kind::Gauge, "a.b").unwrap();
        assert!(register(&registry, Kind::Gauge, other).is_err(), "{other}");
    }
    for other in NAMES.iter().filter(|n| **n != "a.c") {
        let registry = Registry::new();
        register(&registry, Kind::Gauge, "a.c").unwrap();
        assert!(register(&registry, Kind::Gauge, other).is_ok(), "{other}");
    }
    assert!(clashes > 0 && clashes < pairs, "{clashes} of {pairs}");
}
