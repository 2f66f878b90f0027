//! Labelled collectors: every kind, many series per family, the same
//! validation as registered metrics, rejections counted.

use std::sync::Arc;

use bareprom::{Collect, Counter, Registry, Scrape};

use crate::oracle::Value;

const VALUES: [&str; 3] = ["plain", "quote \" back \\ slash", "line\nbreak \u{1F600}"];

struct EveryKind;

impl Collect for EveryKind {
    fn collect(&self, out: &mut Scrape<'_>) {
        let mut counters = out.counter_family("lc_events_total", "Events.", ["source", "kind"]);
        for (i, v) in VALUES.iter().enumerate() {
            counters.series([v, "a"], u64::MAX - i as u64);
        }
        let mut secs = out.float_counter_family("lc_busy_seconds_total", "Busy time.", ["worker"]);
        for (i, v) in VALUES.iter().enumerate() {
            secs.series([v], 0.1 * i as f64);
        }
        let mut depth = out.gauge_family("lc_queue_depth", "Jobs waiting, per queue.", ["queue"]);
        for (i, v) in VALUES.iter().enumerate() {
            depth.series([v], -(i as i64) * 1000);
        }
        let mut ratio = out.float_gauge_family("lc_ratio", "A ratio.", ["part"]);
        ratio.series(["nan"], f64::NAN);
        ratio.series(["inf"], f64::NEG_INFINITY);
        ratio.series(["tiny"], 5e-324);
        let mut sizes = out.histogram_family("lc_batch_size", "Batch sizes.", ["queue"], &[1.0, 10.0, f64::INFINITY]);
        for (i, v) in VALUES.iter().enumerate() {
            let i = i as u64;
            sizes.series([v], &[i, 2 * i], 3 * i, 12.5 * i as f64);
        }
    }
}

#[test]
fn labelled_collector_output_of_every_kind_round_trips_through_the_oracle() {
    let registry = Registry::with_const_labels(&[("host", "h1")]).unwrap();
    registry.register_collector("every", EveryKind).unwrap();
    let text = registry.render();
    let exposition = crate::parse(&text);
    let value = |name: &str, labels: &[(&str, &str)]| {
        let mut all = vec![("host", "h1")];
        all.extend_from_slice(labels);
        exposition
            .value(name, &all)
            .unwrap_or_else(|| panic!("{name} {labels:?} missing\n{text}"))
    };
    for (i, v) in VALUES.iter().enumerate() {
        let i128 = i as i128;
        assert_eq!(
            value("lc_events_total", &[("source", v), ("kind", "a")]),
            Value::Int(i128::from(u64::MAX) - i128)
        );
        assert_eq!(
            value("lc_busy_seconds_total", &[("worker", v)]).as_f64().to_bits(),
            (0.1 * i as f64).to_bits()
        );
        assert_eq!(value("lc_queue_depth", &[("queue", v)]), Value::Int(-i128 * 1000));
        let le = |b: &str| value("lc_batch_size_bucket", &[("queue", v), ("le", b)]);
        assert_eq!(le("1"), Value::Int(i128));
        assert_eq!(le("10"), Value::Int(2 * i128));
        assert_eq!(le("+Inf"), Value::Int(3 * i128));
        assert_eq!(value("lc_batch_size_count", &[("queue", v)]), Value::Int(3 * i128));
        assert_eq!(
            value("lc_batch_size_sum", &[("queue", v)]).as_f64().to_bits(),
            (12.5 * i as f64).to_bits()
        );
    }
    assert!(value("lc_ratio", &[("part", "nan")]).as_f64().is_nan());
    assert_eq!(value("lc_ratio", &[("part", "inf")]), Value::Float(f64::NEG_INFINITY));
    assert_eq!(value("lc_ratio", &[("part", "tiny")]), Value::Float(5e-324));
    for family in [
        "lc_events_total",
        "lc_busy_seconds_total",
        "lc_queue_depth",
        "lc_ratio",
        "lc_batch_size",
    ] {
        assert!(exposition.family(family).is_some(), "{family}\n{text}");
    }
    assert!(!text.contains("bareprom_collector_rejected_total"), "{text}");
    crate::promtool::promtool_check(&text);
}

/// Writes one of each mistake a collector can make, next to valid output.
struct Mistakes;

impl Collect for Mistakes {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.gauge("bad-name", "Invalid name.", 1); // 1
        out.gauge_family("bad_label", "Invalid label.", ["a-b"])
            .series(["x"], 1); // 2
        out.histogram_family("bad_le", "le on a histogram.", ["le"], &[1.0])
            .series(["x"], &[0], 0, 0.0); // 3
        out.counter_family("bad_reserved", "Reserved label.", ["__x"])
            .series(["x"], 1); // 4
        out.histogram_family("bad_bounds", "Unsorted bounds.", [], &[2.0, 1.0])
            .series([], &[0, 0], 0, 0.0); // 5
        let mut dup = out.gauge_family("dup_series", "A repeated series.", ["k"]);
        dup.series(["x"], 1);
        dup.series(["x"], 2); // 6
        drop(dup);
        out.float_counter("neg_total", "Negative counter.", -1.0); // 7
        out.float_counter_family("nan_total", "NaN counter.", ["k"])
            .series(["x"], f64::NAN); // 8
        let mut counts = out.histogram_family("bad_counts", "Counts that do not fit.", ["k"], &[1.0, 2.0]);
        counts.series(["short"], &[1], 1, 1.0); // 9
        counts.series(["down"], &[2, 1], 2, 1.0); // 10
        counts.series(["total"], &[1, 2], 1, 1.0); // 11
        counts.series(["ok"], &[1, 2], 3, 1.0);
        drop(counts);
        out.counter("registered_total", "Clashes with a registered counter.", 1); // 12
        out.gauge("bareprom_series_dropped_total", "A health family's name.", 1); // 13
        out.gauge("twice", "Written twice.", 1);
        out.gauge("twice", "Written twice.", 2); // 14
        out.gauge("with_host", "A constant label as its own.", 1);
        out.gauge_family("own_host", "A constant label as its own.", ["host"])
            .series(["x"], 1); // 15
        out.gauge("fine", "Valid.", 7);
    }
}

#[test]
fn collector_rejections_are_counted_and_the_rest_is_served() {
    static REGISTERED: Counter = Counter::new("registered_total", "Registered.");
    let registry = Registry::with_const_labels(&[("host", "h1")]).unwrap();
    registry.register(&REGISTERED).unwrap();
    registry.register_collector("mistakes", Mistakes).unwrap();
    for scrape in 1..=2_u32 {
        let text = registry.render();
        let exposition = crate::parse(&text);
        let rejected = exposition
            .value(
                "bareprom_collector_rejected_total",
                &[("host", "h1"), ("collector", "mistakes")],
            )
            .unwrap_or_else(|| panic!("no rejections counted\n{text}"));
        assert_eq!(rejected, Value::Int(15 * i128::from(scrape)), "{text}");
        assert_eq!(exposition.value("fine", &[("host", "h1")]), Some(Value::Int(7)));
        assert_eq!(exposition.value("twice", &[("host", "h1")]), Some(Value::Int(1)));
        assert_eq!(
            exposition.value("dup_series", &[("host", "h1"), ("k", "x")]),
            Some(Value::Int(1))
        );
        assert_eq!(
            exposition.value("bad_counts_count", &[("host", "h1"), ("k", "ok")]),
            Some(Value::Int(3))
        );
        assert_eq!(
            exposition.value("registered_total", &[("host", "h1")]),
            Some(Value::Int(0))
        );
        assert!(exposition.family("bad_counts").unwrap().samples.len() == 5, "{text}");
        for gone in [
            "bad_label",
            "bad_le",
            "bad_reserved",
            "bad_bounds",
            "neg_total",
            "own_host",
        ] {
            assert!(exposition.family(gone).is_none(), "{gone}\n{text}");
        }
        crate::promtool::promtool_check(&text);
    }
}

#[test]
fn a_collector_that_panics_loses_only_its_own_output() {
    struct Half;
    impl Collect for Half {
        fn collect(&self, out: &mut Scrape<'_>) {
            out.gauge_family("half_written", "Never shown.", ["k"]).series(["x"], 1);
            panic!("collector bug");
        }
    }
    struct Fine;
    impl Collect for Fine {
        fn collect(&self, out: &mut Scrape<'_>) {
            out.gauge("fine_value", "Shown.", 1);
        }
    }
    let app = Registry::new();
    let part = Arc::new(Registry::new());
    part.register_collector("half", Half).unwrap();
    app.include(Arc::clone(&part), "", &[("i", "1")]).unwrap();
    app.register_collector("fine", Fine).unwrap();
    let text = app.render();
    let exposition = crate::parse(&text);
    assert!(exposition.family("half_written").is_none(), "{text}");
    assert_eq!(exposition.value("fine_value", &[]), Some(Value::Int(1)));
    assert_eq!(
        exposition.value("bareprom_collector_panics_total", &[("collector", "half")]),
        Some(Value::Int(1))
    );
}
