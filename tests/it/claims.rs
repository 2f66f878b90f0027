//! The name-claim rule (see `Registry::register`): families whose claimed
//! names intersect are refused, whatever the order, at registration, in
//! collector output, for route tables and against the registry's own
//! health families.

use std::sync::Arc;

use bareprom::{
    Collect, Counter, CounterVec, ErrorKind, Gauge, GaugeVec, Histogram, HistogramVec, Registry, RouteTable, Scrape,
};

/// The exposition kinds, in the order of the rows and columns of
/// [`EXPECTED`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum Base {
    Counter,
    Gauge,
    Histogram,
}

/// A metric type a registry holds.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Counter,
    CounterVec,
    Gauge,
    GaugeVec,
    Histogram,
    HistogramVec,
}

const KINDS: [Kind; 6] = [
    Kind::Counter,
    Kind::CounterVec,
    Kind::Gauge,
    Kind::GaugeVec,
    Kind::Histogram,
    Kind::HistogramVec,
];

impl Kind {
    fn base(self) -> Base {
        match self {
            Kind::Counter | Kind::CounterVec => Base::Counter,
            Kind::Gauge | Kind::GaugeVec => Base::Gauge,
            Kind::Histogram | Kind::HistogramVec => Base::Histogram,
        }
    }

    fn register(self, registry: &Registry, name: &str) -> Result<(), bareprom::Error> {
        let name = name.to_owned();
        match self {
            Kind::Counter => registry.register_arc(Arc::new(Counter::try_new(name, "c")?)),
            Kind::CounterVec => registry.register_arc(Arc::new(CounterVec::<1>::try_new(name, "cv", ["l"])?)),
            Kind::Gauge => registry.register_arc(Arc::new(Gauge::try_new(name, "g")?)),
            Kind::GaugeVec => registry.register_arc(Arc::new(GaugeVec::<1>::try_new(name, "gv", ["l"])?)),
            Kind::Histogram => registry.register_arc(Arc::new(Histogram::try_new(name, "h", vec![1.0])?)),
            Kind::HistogramVec => registry.register_arc(Arc::new(HistogramVec::<1>::try_with_buckets(
                name,
                "hv",
                ["l"],
                vec![1.0],
            )?)),
        }
    }
}

const T: bool = true;
const F: bool = false;

/// For a family `x` of kind A and a family `x<suffix>` of kind B, whether
/// they clash; rows A, columns B, each in the order counter, gauge,
/// histogram. Read off the formats, not the crate: the Go text parser
/// folds `x_bucket`, `x_sum`, `x_count` into histogram `x`; OpenMetrics
/// writes counter `x` as `x_total` and `x_created`, histogram `x` with
/// `x_created` too, and reads a counter `x_total` as family `x`; `_info`
/// and the gauge-histogram suffixes belong to kinds nobody here writes.
const EXPECTED: [(&str, [[bool; 3]; 3]); 10] = [
    ("", [[T, T, T], [T, T, T], [T, T, T]]),
    ("_total", [[T, T, T], [T, F, F], [T, F, F]]),
    ("_created", [[T, T, T], [F, F, F], [T, T, T]]),
    ("_bucket", [[F, F, F], [F, F, F], [T, T, T]]),
    ("_sum", [[F, F, F], [F, F, F], [T, T, T]]),
    ("_count", [[F, F, F], [F, F, F], [T, T, T]]),
    ("_info", [[F, F, F], [F, F, F], [F, F, F]]),
    ("_gsum", [[F, F, F], [F, F, F], [F, F, F]]),
    ("_gcount", [[F, F, F], [F, F, F], [F, F, F]]),
    ("_gbucket", [[F, F, F], [F, F, F], [F, F, F]]),
];

fn expected(suffix: &str, a: Base, b: Base) -> bool {
    let index = |k: Base| match k {
        Base::Counter => 0,
        Base::Gauge => 1,
        Base::Histogram => 2,
    };
    EXPECTED.iter().find(|(s, _)| *s == suffix).expect("listed suffix").1[index(a)][index(b)]
}

#[test]
fn every_pair_of_kinds_and_suffix_clashes_as_the_formats_read_them_in_both_orders() {
    let mut checked = 0;
    for (suffix, _) in EXPECTED {
        for a in KINDS {
            for b in KINDS {
                let clash = expected(suffix, a.base(), b.base());
                let (parent, child) = ("x".to_owned(), format!("x{suffix}"));
                for (first, second) in [((a, &parent), (b, &child)), ((b, &child), (a, &parent))] {
                    let case = format!("{:?} {} then {:?} {}", first.0, first.1, second.0, second.1);
                    let registry = Registry::new();
                    first
                        .0
                        .register(&registry, first.1)
                        .unwrap_or_else(|e| panic!("{case}: {e}"));
                    let result = second.0.register(&registry, second.1);
                    let text = registry.render();
                    if clash {
                        assert_eq!(
                            result.map_err(|e| e.kind()),
                            Err(ErrorKind::DuplicateMetric),
                            "{case} must clash"
                        );
                        let left = text.matches(&format!("# TYPE {} ", second.1)).count();
                        assert_eq!(left, usize::from(first.1 == second.1), "{case}: left behind\n{text}");
                    } else {
                        result.unwrap_or_else(|e| panic!("{case} must not clash: {e}"));
                        crate::parse(&text);
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 10 * 6 * 6 * 2);
}

/// Writes the listed families, in order, on every scrape.
struct Writes(Vec<(Base, String)>);

impl Collect for Writes {
    fn collect(&self, out: &mut Scrape<'_>) {
        for (kind, name) in &self.0 {
            match kind {
                Base::Counter => out.counter(name, "written", 1),
                Base::Gauge => out.gauge(name, "written", 1),
                Base::Histogram => unreachable!("collectors write counters and gauges"),
            }
        }
    }
}

fn rejected(text: &str, collector: &str) -> u64 {
    let prefix = format!("bareprom_collector_rejected_total{{collector=\"{collector}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.parse().expect("a count"))
}

#[test]
fn collector_families_clash_with_registered_and_earlier_ones_in_both_orders() {
    let written = [Base::Counter, Base::Gauge];
    for (suffix, _) in EXPECTED {
        let (parent, child) = ("x".to_owned(), format!("x{suffix}"));
        // A registered family, and a collector writing the other name.
        for registered in KINDS {
            for w in written {
                for (own, writes, a, b) in [
                    (&parent, &child, registered.base(), w),
                    (&child, &parent, w, registered.base()),
                ] {
                    let clash = expected(suffix, a, b);
                    let case = format!("{registered:?} {own} registered, collector writes {w:?} {writes}");
                    let registry = Registry::new();
                    registered.register(&registry, own).unwrap();
                    registry
                        .register_collector("c", Writes(vec![(w, writes.clone())]))
                        .unwrap();
                    let text = registry.render();
                    assert_eq!(rejected(&text, "c"), u64::from(clash), "{case}\n{text}");
                    let types = text.matches(&format!("# TYPE {writes} ")).count();
                    assert_eq!(types, usize::from(!clash || own == writes), "{case}\n{text}");
                    crate::parse(&text);
                }
            }
        }
        // Two families of one collector, and of two collectors, either
        // written first: the first stays.
        for first in written {
            for second in written {
                for ((k1, n1), (k2, n2)) in [
                    ((first, &parent), (second, &child)),
                    ((second, &child), (first, &parent)),
                ] {
                    let clash = expected(suffix, first, second);
                    let case = format!("{k1:?} {n1} then {k2:?} {n2}");
                    let one = Registry::new();
                    one.register_collector("c", Writes(vec![(k1, n1.clone()), (k2, n2.clone())]))
                        .unwrap();
                    let two = Registry::new();
                    two.register_collector("c1", Writes(vec![(k1, n1.clone())])).unwrap();
                    two.register_collector("c2", Writes(vec![(k2, n2.clone())])).unwrap();
                    for (registry, collector) in [(one, "c"), (two, "c2")] {
                        let text = registry.render();
                        assert_eq!(rejected(&text, collector), u64::from(clash), "{case}\n{text}");
                        assert!(text.contains(&format!("# TYPE {n1} ")), "{case}\n{text}");
                        if n1 != n2 {
                            assert_eq!(text.contains(&format!("# TYPE {n2} ")), !clash, "{case}\n{text}");
                        }
                        crate::parse(&text);
                    }
                }
            }
        }
    }
}

/// The health families' names, and names their claims include, are the
/// registry's: a collector writing one is rejected and counted, so the
/// family never appears twice (issue 11's first defect).
#[test]
fn collectors_cannot_write_the_registrys_health_families() {
    struct C;
    impl Collect for C {
        fn collect(&self, out: &mut Scrape<'_>) {
            out.counter("bareprom_collector_panics_total", "mine", 5);
        }
    }
    let r = Registry::new();
    r.register_collector("c", C).unwrap();
    let text = r.render();
    assert_eq!(
        text.matches("# HELP bareprom_collector_panics_total").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("bareprom_collector_panics_total{collector=\"c\"} 0\n"),
        "{text}"
    );
    assert_eq!(rejected(&text, "c"), 1, "{text}");
    crate::parse(&text);

    let own = [
        (Base::Counter, "bareprom_series_dropped_total"),
        (Base::Gauge, "bareprom_series_dropped_total"),
        (Base::Counter, "bareprom_collector_panics_total"),
        (Base::Counter, "bareprom_collector_rejected_total"),
        (Base::Gauge, "bareprom_collector_rejected_total"),
        (Base::Gauge, "bareprom_collector_panics"),
        (Base::Gauge, "bareprom_series_dropped_created"),
        (Base::Counter, "bareprom_collector_rejected"),
    ];
    let dropping = Arc::new(CounterVec::<1>::try_new("dropping_total", "Drops.", ["v"]).unwrap());
    dropping.set_series_limit(1);
    dropping.with(["a"]).inc();
    dropping.with(["b"]).inc();
    let r = Registry::new();
    r.register_arc(dropping).unwrap();
    r.register_collector("own", Writes(own.iter().map(|(k, n)| (*k, (*n).to_owned())).collect()))
        .unwrap();
    let text = r.render();
    assert_eq!(rejected(&text, "own"), own.len() as u64, "{text}");
    for family in [
        "bareprom_series_dropped_total",
        "bareprom_collector_panics_total",
        "bareprom_collector_rejected_total",
    ] {
        assert_eq!(text.matches(&format!("# HELP {family} ")).count(), 1, "{text}");
    }
    for (_, name) in own {
        assert!(!text.contains(&format!("{name} 1\n")), "{name} written:\n{text}");
    }
    crate::parse(&text);
    // Registering them is refused alike.
    for kind in KINDS {
        for (_, name) in own {
            assert_eq!(
                kind.register(&r, name).map_err(|e| e.kind()),
                Err(ErrorKind::DuplicateMetric),
                "{kind:?} {name}"
            );
        }
    }
}

/// A route table's families claim like any other: its histogram's
/// `_count` and its counters' OpenMetrics family names are taken, in
/// either order, and by collectors.
#[test]
fn route_tables_claim_their_families_names() {
    let clashing: [(Kind, &str); 5] = [
        (Kind::Histogram, "http_request_duration_seconds_count"),
        (Kind::Gauge, "http_request_duration_seconds_bucket"),
        (Kind::HistogramVec, "http_request_duration_seconds_created"),
        (Kind::Gauge, "http_requests"),
        (Kind::Counter, "http_request_panics"),
    ];
    for (kind, name) in clashing {
        let routes_first = Registry::new();
        routes_first
            .register_arc(Arc::new(RouteTable::try_new("", vec![1.0]).unwrap()))
            .unwrap();
        assert_eq!(
            kind.register(&routes_first, name).map_err(|e| e.kind()),
            Err(ErrorKind::DuplicateMetric),
            "{kind:?} {name} after the routes"
        );
        let routes_last = Registry::new();
        kind.register(&routes_last, name).unwrap();
        assert_eq!(
            routes_last
                .register_arc(Arc::new(RouteTable::try_new("", vec![1.0]).unwrap()))
                .map_err(|e| e.kind()),
            Err(ErrorKind::DuplicateMetric),
            "the routes after {kind:?} {name}"
        );
    }
    let r = Registry::new();
    r.register_arc(Arc::new(RouteTable::try_new("", vec![1.0]).unwrap()))
        .unwrap();
    r.register_collector(
        "c",
        Writes(vec![
            (Base::Gauge, "http_request_duration_seconds_sum".to_owned()),
            (Base::Counter, "http_requests_in_flight_total".to_owned()),
            (Base::Gauge, "http_requests_created".to_owned()),
            (Base::Gauge, "http_requests_in_flight_created".to_owned()),
        ]),
    )
    .unwrap();
    let text = r.render();
    // The last is free: a gauge claims no `_created`.
    assert_eq!(rejected(&text, "c"), 3, "{text}");
    assert!(text.contains("http_requests_in_flight_created 1\n"), "{text}");
    crate::parse(&text);
}
