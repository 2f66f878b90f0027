//! Registration: validation errors with their kinds, clashes, order.

use std::sync::Arc;

use bareprom::{Counter, CounterVec, ErrorKind, Gauge, GaugeVec, Histogram, HistogramVec, Registry};

#[test]
fn invalid_names_are_errors_with_kinds() {
    let cases: [(Result<(), bareprom::Error>, ErrorKind); 10] = [
        (Counter::try_new("", "x").map(drop), ErrorKind::InvalidMetricName),
        (Counter::try_new("1abc", "x").map(drop), ErrorKind::InvalidMetricName),
        (Counter::try_new("a-b", "x").map(drop), ErrorKind::InvalidMetricName),
        (Gauge::try_new("é", "x").map(drop), ErrorKind::InvalidMetricName),
        (
            CounterVec::try_new("a", "x", ["1x"]).map(drop),
            ErrorKind::InvalidLabelName,
        ),
        (
            CounterVec::try_new("a", "x", ["__x"]).map(drop),
            ErrorKind::ReservedLabelName,
        ),
        (
            CounterVec::try_new("a", "x", ["x", "x"]).map(drop),
            ErrorKind::DuplicateLabelName,
        ),
        (
            HistogramVec::try_new("a", "x", ["le"]).map(drop),
            ErrorKind::ReservedLabelName,
        ),
        (
            Histogram::try_new("a", "x", vec![1.0, 0.5]).map(drop),
            ErrorKind::InvalidBuckets,
        ),
        (
            Histogram::try_new("a", "x", vec![]).map(drop),
            ErrorKind::InvalidBuckets,
        ),
    ];
    for (i, (result, kind)) in cases.into_iter().enumerate() {
        let err = result.expect_err(&format!("case {i} should fail"));
        assert_eq!(err.kind(), kind, "case {i}: {err}");
        let msg = err.to_string();
        assert!(
            msg.chars().next().unwrap().is_lowercase() && !msg.ends_with('.'),
            "{msg}"
        );
    }
    for bad in [
        vec![f64::NAN],
        vec![1.0, 1.0],
        vec![f64::INFINITY, 1.0],
        vec![1.0; 65].iter().enumerate().map(|(i, _)| i as f64).collect(),
    ] {
        assert_eq!(
            Histogram::try_new("h", "h", bad).unwrap_err().kind(),
            ErrorKind::InvalidBuckets
        );
    }
    assert_eq!(
        bareprom::exponential_buckets(0.0, 2.0, 3).unwrap_err().kind(),
        ErrorKind::InvalidBuckets
    );
    assert_eq!(
        bareprom::linear_buckets(1.0, 0.0, 3).unwrap_err().kind(),
        ErrorKind::InvalidBuckets
    );
    assert_eq!(
        bareprom::exponential_buckets(1.0, 1e300, 3).unwrap_err().kind(),
        ErrorKind::InvalidBuckets
    );
}

#[test]
fn duplicates_and_sample_name_collisions_are_rejected() {
    static A: Counter = Counter::new("dup_total", "A.");
    static B: GaugeVec<1> = GaugeVec::new("dup_total", "B.", ["x"]);
    static H: Histogram = Histogram::new("lat", "H.");
    static COUNT: Gauge = Gauge::new("lat_count", "Clashes with the histogram's _count.");
    let r = Registry::new();
    r.register(&A).unwrap();
    assert_eq!(r.register(&A).unwrap_err().kind(), ErrorKind::DuplicateMetric);
    assert_eq!(r.register(&B).unwrap_err().kind(), ErrorKind::DuplicateMetric);
    r.register(&H).unwrap();
    assert_eq!(r.register(&COUNT).unwrap_err().kind(), ErrorKind::DuplicateMetric);
    let own = Arc::new(Counter::try_new("bareprom_series_dropped_total", "Ours.").unwrap());
    assert_eq!(r.register_arc(own).unwrap_err().kind(), ErrorKind::DuplicateMetric);
    // The failed registrations left nothing behind.
    crate::check(
        &r,
        &format!(
            "# HELP dup_total A.\n# TYPE dup_total counter\ndup_total 0\n# HELP lat H.\n# TYPE lat histogram\n{}",
            [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
                .iter()
                .map(|b| format!("lat_bucket{{le=\"{b}\"}} 0\n"))
                .collect::<String>()
                + "lat_bucket{le=\"+Inf\"} 0\nlat_sum 0\nlat_count 0\n"
        ),
    );
}

#[test]
fn const_labels_clash_and_validate() {
    static V: CounterVec<1> = CounterVec::new("cl_total", "V.", ["backend"]);
    static H: Histogram = Histogram::new("cl_seconds", "H.");
    let r = Registry::with_const_labels(&[("backend", "openai")]).unwrap();
    assert_eq!(r.register(&V).unwrap_err().kind(), ErrorKind::LabelClash);
    let le = Registry::with_const_labels(&[("le", "1")]);
    assert_eq!(le.unwrap_err().kind(), ErrorKind::ReservedLabelName);
    r.register(&H).unwrap();
    assert_eq!(
        Registry::with_const_labels(&[("a", "1"), ("a", "2")])
            .unwrap_err()
            .kind(),
        ErrorKind::DuplicateLabelName
    );
    assert_eq!(
        Registry::with_const_labels(&[("__a", "1")]).unwrap_err().kind(),
        ErrorKind::ReservedLabelName
    );
    // The health families label by these.
    for health in ["family", "collector"] {
        let err = Registry::with_const_labels(&[(health, "x")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReservedLabelName, "{health}");
    }
}

#[test]
fn unregister_removes_and_allows_reregistering() {
    static A: Counter = Counter::new("un_total", "A.");
    let r = Registry::new();
    r.register(&A).unwrap();
    assert!(r.unregister("un_total"));
    assert!(!r.unregister("un_total"));
    r.register(&A).unwrap();
    assert!(r.render().contains("un_total 0\n"));
}

#[test]
fn families_render_in_registration_order_and_series_in_first_seen_order() {
    static Z: Counter = Counter::new("order_z_total", "Z.");
    static A: CounterVec<1> = CounterVec::new("order_a_total", "A.", ["k"]);
    let r = Registry::new();
    r.register(&Z).unwrap();
    r.register(&A).unwrap();
    for k in ["c", "a", "b"] {
        A.with([k]).inc();
    }
    let text = r.render();
    let names: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        names[..4],
        [
            "order_z_total",
            "order_a_total{k=\"c\"}",
            "order_a_total{k=\"a\"}",
            "order_a_total{k=\"b\"}"
        ]
    );
    assert_eq!(text, r.render(), "rendering is deterministic");
}

#[test]
fn try_new_errors_name_the_character_and_its_position() {
    let message = |r: Result<(), bareprom::Error>| r.unwrap_err().to_string();
    assert_eq!(
        message(Counter::try_new("http-requests", "x").map(drop)),
        "invalid metric name: \"http-requests\" (character '-' at position 4)"
    );
    assert_eq!(
        message(Gauge::try_new("caf\u{e9}_open", "x").map(drop)),
        "invalid metric name: \"caf\u{e9}_open\" (character '\u{e9}' at position 3)"
    );
    assert_eq!(
        message(Gauge::try_new("", "x").map(drop)),
        "invalid metric name: \"\" (empty)"
    );
    assert_eq!(
        message(CounterVec::try_new("ok_total", "x", ["fine", "bad label"]).map(drop)),
        "invalid label name: \"bad label\" (character ' ' at position 3)"
    );
    assert_eq!(
        message(CounterVec::try_new("ok_total", "x", ["9lives"]).map(drop)),
        "invalid label name: \"9lives\" (character '9' at position 0)"
    );
    assert_eq!(
        message(CounterVec::try_new("ok_total", "x", ["a", "a"]).map(drop)),
        "duplicate label name: \"a\""
    );
}

#[test]
fn a_timer_started_on_a_temporary_handle_observes_into_its_series() {
    static LATENCY: HistogramVec<1> = HistogramVec::with_buckets("timer_seconds", "T.", ["method"], &[60.0]);
    let timer = LATENCY.with(["GET"]).start_timer();
    let other = LATENCY.with(["PUT"]).start_timer();
    drop(other);
    assert!(timer.stop() < 60.0);
    assert_eq!(LATENCY.with(["GET"]).count(), 1);
    assert_eq!(LATENCY.with(["PUT"]).count(), 1);
}

#[test]
fn init_series_creates_label_sets_at_zero_once_and_within_the_cap() {
    let swept = Arc::new(CounterVec::<1>::new("swept_total", "Swept.", ["outcome"]).with_series_limit(2));
    let registry = Registry::new().without_health();
    registry.register_arc(Arc::clone(&swept)).unwrap();
    swept.with(["acked"]).inc_by(4);
    swept.init_series([["acked"], ["expired"]]);
    swept.init_series([["acked"], ["expired"]]);
    assert_eq!(swept.len(), 2);
    assert_eq!(swept.with(["acked"]).get(), 4, "an existing series keeps its value");
    // Past the cap, a label set goes where `with` would send it.
    swept.init_series([["error"]]);
    assert_eq!(swept.dropped(), 1);
    let text = registry.render();
    assert!(
        text.contains("swept_total{outcome=\"acked\"} 4\nswept_total{outcome=\"expired\"} 0\n"),
        "{text}"
    );
    crate::parse(&text);
}

#[test]
fn register_owned_hands_back_the_registered_metric() {
    let registry = Registry::new().without_health();
    let hits = registry
        .register_owned(Counter::new("owned_hits_total", "Hits."))
        .unwrap();
    hits.inc_by(2);
    assert_eq!(
        registry.render(),
        "# HELP owned_hits_total Hits.\n# TYPE owned_hits_total counter\nowned_hits_total 2\n"
    );
    let again = registry.register_owned(Counter::new("owned_hits_total", "Hits."));
    assert_eq!(again.unwrap_err().kind(), ErrorKind::DuplicateMetric);
    assert_eq!(Arc::strong_count(&hits), 2, "the registry holds the other handle");
}
