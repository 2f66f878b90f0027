//! Composable registries: included registries with prefixes and constant
//! labels, same-named families merged, clashes refused or counted.

use std::sync::Arc;

use bareprom::{Collect, Counter, CounterVec, ErrorKind, Gauge, GaugeVec, Histogram, HistogramVec, Registry, Scrape};

/// A component that reports to the registry it is given, as a library
/// would: a labelled counter, a gauge, a histogram and a collector.
struct Breaker {
    calls: Arc<CounterVec<1>>,
    open: Arc<Gauge>,
    latency: Arc<Histogram>,
}

struct Waiting(i64);

impl Collect for Waiting {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.gauge_family("breaker_waiting", "Calls waiting, by priority.", ["priority"])
            .series(["high"], self.0);
    }
}

impl Breaker {
    fn new(registry: &Registry, waiting: i64) -> Breaker {
        let calls = Arc::new(CounterVec::try_new("breaker_calls_total", "Calls, by outcome.", ["outcome"]).unwrap());
        let open = Arc::new(Gauge::try_new("breaker_open", "Whether the breaker is open.").unwrap());
        let latency = Arc::new(Histogram::try_new("breaker_call_seconds", "Call latency.", vec![0.1, 1.0]).unwrap());
        registry.register_arc(Arc::clone(&calls)).unwrap();
        registry.register_arc(Arc::clone(&open)).unwrap();
        registry.register_arc(Arc::clone(&latency)).unwrap();
        registry.register_collector("waiting", Waiting(waiting)).unwrap();
        Breaker { calls, open, latency }
    }
}

fn two_backends() -> (Registry, Breaker, Breaker) {
    let app = Registry::new();
    let openai = app.sub_registry("llm_", &[("backend", "openai")]).unwrap();
    let anthropic = app.sub_registry("llm_", &[("backend", "anthropic")]).unwrap();
    let a = Breaker::new(&openai, 2);
    let b = Breaker::new(&anthropic, 0);
    a.calls.with(["ok"]).inc_by(3);
    b.calls.with(["error"]).inc();
    a.open.set(0);
    b.open.set(1);
    a.latency.observe(0.05);
    b.latency.observe(2.0);
    (app, a, b)
}

#[test]
fn two_instances_with_different_constant_labels_render_one_family_each() {
    let (app, _a, _b) = two_backends();
    let expected = "\
# HELP llm_breaker_calls_total Calls, by outcome.
# TYPE llm_breaker_calls_total counter
llm_breaker_calls_total{backend=\"openai\",outcome=\"ok\"} 3
llm_breaker_calls_total{backend=\"anthropic\",outcome=\"error\"} 1
# HELP llm_breaker_open Whether the breaker is open.
# TYPE llm_breaker_open gauge
llm_breaker_open{backend=\"openai\"} 0
llm_breaker_open{backend=\"anthropic\"} 1
# HELP llm_breaker_call_seconds Call latency.
# TYPE llm_breaker_call_seconds histogram
llm_breaker_call_seconds_bucket{backend=\"openai\",le=\"0.1\"} 1
llm_breaker_call_seconds_bucket{backend=\"openai\",le=\"1\"} 1
llm_breaker_call_seconds_bucket{backend=\"openai\",le=\"+Inf\"} 1
llm_breaker_call_seconds_sum{backend=\"openai\"} 0.05
llm_breaker_call_seconds_count{backend=\"openai\"} 1
llm_breaker_call_seconds_bucket{backend=\"anthropic\",le=\"0.1\"} 0
llm_breaker_call_seconds_bucket{backend=\"anthropic\",le=\"1\"} 0
llm_breaker_call_seconds_bucket{backend=\"anthropic\",le=\"+Inf\"} 1
llm_breaker_call_seconds_sum{backend=\"anthropic\"} 2
llm_breaker_call_seconds_count{backend=\"anthropic\"} 1
# HELP llm_breaker_waiting Calls waiting, by priority.
# TYPE llm_breaker_waiting gauge
llm_breaker_waiting{backend=\"openai\",priority=\"high\"} 2
llm_breaker_waiting{backend=\"anthropic\",priority=\"high\"} 0
# HELP bareprom_series_dropped_total Lookups of new label sets sent to the overflow series by the series limit.
# TYPE bareprom_series_dropped_total counter
bareprom_series_dropped_total{family=\"llm_breaker_calls_total\"} 0
# HELP bareprom_collector_panics_total Scrapes in which a collector panicked and was left out.
# TYPE bareprom_collector_panics_total counter
bareprom_collector_panics_total{collector=\"waiting\"} 0
";
    crate::check(&app, expected);
    let exposition = crate::parse(&app.render());
    let calls = exposition.family("llm_breaker_calls_total").unwrap();
    assert_eq!(calls.samples.len(), 2);
    crate::promtool::promtool_check(&app.render());
}

#[test]
fn an_included_registry_keeps_its_own_constant_labels_and_prefixes_stack() {
    static UP: Gauge = Gauge::new("up_now", "Up.");
    let inner = Arc::new(Registry::with_const_labels(&[("zone", "b")]).unwrap());
    inner.register(&UP).unwrap();
    let middle = Arc::new(Registry::new());
    middle.include(Arc::clone(&inner), "db_", &[("shard", "7")]).unwrap();
    let app = Registry::with_const_labels(&[("region", "eu")]).unwrap();
    app.include(Arc::clone(&middle), "svc_", &[]).unwrap();
    UP.set(1);
    crate::check(
        &app,
        "# HELP svc_db_up_now Up.\n# TYPE svc_db_up_now gauge\nsvc_db_up_now{region=\"eu\",shard=\"7\",zone=\"b\"} 1\n",
    );
    // Rendered on its own, the inner registry is what it was.
    crate::check(&inner, "# HELP up_now Up.\n# TYPE up_now gauge\nup_now{zone=\"b\"} 1\n");
}

#[test]
fn clashing_inclusions_are_refused() {
    static A: Counter = Counter::new("x_total", "X.");
    static B: Gauge = Gauge::new("x_total", "X.");
    static C: Counter = Counter::new("x_total", "Another help.");
    static D: CounterVec<1> = CounterVec::new("x_total", "X.", ["k"]);
    static H: Histogram = Histogram::new("lat", "Lat.");
    static COUNT: Gauge = Gauge::new("lat_count", "Clashes with a histogram's _count.");
    let sub = |metric: fn(&Registry)| {
        let r = Arc::new(Registry::new());
        metric(&r);
        r
    };
    let app = Registry::new();
    app.include(sub(|r| r.register(&A).unwrap()), "", &[("i", "a")])
        .unwrap();
    let kind = |r: Arc<Registry>, value: &str| app.include(r, "", &[("i", value)]).unwrap_err().kind();
    // Same name, another type.
    assert_eq!(kind(sub(|r| r.register(&B).unwrap()), "b"), ErrorKind::FamilyClash);
    // Same name and type, other help text.
    assert_eq!(kind(sub(|r| r.register(&C).unwrap()), "c"), ErrorKind::FamilyClash);
    // Same name and type, other label names.
    assert_eq!(kind(sub(|r| r.register(&D).unwrap()), "d"), ErrorKind::FamilyClash);
    // The same constant label values: every series would appear twice.
    assert_eq!(kind(sub(|r| r.register(&A).unwrap()), "a"), ErrorKind::FamilyClash);
    // Other constant label names: one family with series of two shapes.
    let other = sub(|r| r.register(&A).unwrap());
    assert_eq!(
        app.include(other, "", &[("j", "a")]).unwrap_err().kind(),
        ErrorKind::FamilyClash
    );
    // A sample name of another family.
    app.include(sub(|r| r.register(&H).unwrap()), "", &[("i", "h")])
        .unwrap();
    assert_eq!(kind(sub(|r| r.register(&COUNT).unwrap()), "g"), ErrorKind::FamilyClash);
    // A constant label that is one of the family's own labels.
    let own = sub(|r| r.register(&D).unwrap());
    let err = Registry::new().include(own, "", &[("k", "1")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LabelClash);
    // Registering into the including registry is checked against the tree.
    assert_eq!(app.register(&B).unwrap_err().kind(), ErrorKind::FamilyClash);
    // Nothing refused was added.
    let text = app.render();
    crate::parse(&text);
    assert_eq!(text.matches("# TYPE").count(), 2, "{text}");
}

#[test]
fn bad_prefixes_labels_and_cycles_are_refused() {
    let app = Arc::new(Registry::with_const_labels(&[("region", "eu")]).unwrap());
    let part = Arc::new(Registry::new());
    let err =
        |prefix: &str, labels: &[(&str, &str)]| app.include(Arc::clone(&part), prefix, labels).unwrap_err().kind();
    assert_eq!(err("1x_", &[]), ErrorKind::InvalidMetricName);
    assert_eq!(err("", &[("__x", "1")]), ErrorKind::ReservedLabelName);
    assert_eq!(err("", &[("le", "1")]), ErrorKind::ReservedLabelName);
    assert_eq!(err("", &[("family", "1")]), ErrorKind::ReservedLabelName);
    assert_eq!(err("", &[("region", "us")]), ErrorKind::DuplicateLabelName);
    assert_eq!(err("", &[("a-b", "1")]), ErrorKind::InvalidLabelName);
    assert_eq!(
        app.include(Arc::clone(&app), "", &[]).unwrap_err().kind(),
        ErrorKind::IncludeCycle
    );
    part.include(Arc::clone(&app), "", &[]).unwrap();
    assert_eq!(
        app.include(Arc::clone(&part), "", &[]).unwrap_err().kind(),
        ErrorKind::IncludeCycle
    );
    assert!(part.exclude(&app));
    app.include(Arc::clone(&part), "", &[]).unwrap();
}

#[test]
fn a_clash_registered_after_inclusion_is_left_out_and_counted() {
    static FIRST: CounterVec<1> = CounterVec::new("late_total", "Late.", ["k"]);
    static SECOND: GaugeVec<1> = GaugeVec::new("late_total", "Late.", ["k"]);
    let app = Registry::new();
    let a = app.sub_registry("", &[("i", "a")]).unwrap();
    let b = app.sub_registry("", &[("i", "b")]).unwrap();
    a.register(&FIRST).unwrap();
    // `b` does not know it is included: the clash shows at scrape time.
    b.register(&SECOND).unwrap();
    FIRST.with(["x"]).inc();
    SECOND.with(["x"]).set(5);
    for scrape in 1..=2 {
        let text = app.render();
        let exposition = crate::parse(&text);
        let late = exposition.family("late_total").unwrap();
        assert_eq!(late.samples.len(), 1, "{text}");
        assert_eq!(
            exposition
                .value("bareprom_families_rejected_total", &[("family", "late_total")])
                .unwrap(),
            crate::oracle::Value::Int(scrape),
            "{text}"
        );
        crate::promtool::promtool_check(&text);
    }
}

#[test]
fn health_families_are_written_once_for_the_tree_and_can_be_turned_off() {
    struct Quiet;
    impl Collect for Quiet {
        fn collect(&self, _: &mut Scrape<'_>) {}
    }
    static RPC: HistogramVec<1> = HistogramVec::new("hf_rpc_seconds", "RPC.", ["op"]);
    let app = Registry::new();
    let part = Arc::new(Registry::new());
    part.register(&RPC).unwrap();
    part.register_collector("quiet", Quiet).unwrap();
    app.include(Arc::clone(&part), "", &[("i", "1")]).unwrap();
    let other = app.sub_registry("", &[("i", "2")]).unwrap();
    other.register_collector("quiet", Quiet).unwrap();
    let text = app.render();
    crate::parse(&text);
    assert_eq!(
        text.matches("# TYPE bareprom_collector_panics_total").count(),
        1,
        "{text}"
    );
    // Both `quiet` collectors are one series.
    assert_eq!(text.matches("bareprom_collector_panics_total{").count(), 1, "{text}");
    assert!(
        text.contains("bareprom_series_dropped_total{family=\"hf_rpc_seconds\"} 0\n"),
        "{text}"
    );
    app.set_health(false);
    assert!(!app.render().contains("bareprom_"), "{}", app.render());
    // The included registry's own setting only matters when it is scraped.
    part.set_health(false);
    app.set_health(true);
    assert!(app.render().contains("bareprom_collector_panics_total"));
    assert!(!part.render().contains("bareprom_"));
}

#[test]
fn a_refused_collector_is_dropped_with_no_lock_of_ours_held() {
    struct Quiet;
    impl Collect for Quiet {
        fn collect(&self, _: &mut Scrape<'_>) {}
    }
    /// Registers into another registry when dropped: under a lock of ours
    /// that would deadlock.
    struct Reentrant(Arc<Registry>);
    impl Collect for Reentrant {
        fn collect(&self, _: &mut Scrape<'_>) {}
    }
    impl Drop for Reentrant {
        fn drop(&mut self) {
            self.0.register_collector("from_drop", Quiet).unwrap();
        }
    }
    let registry = Registry::new();
    registry.register_collector("taken", Quiet).unwrap();
    let other = Arc::new(Registry::new());
    let refused = registry.register_collector("taken", Reentrant(Arc::clone(&other)));
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::DuplicateMetric);
    assert!(other.render().contains("collector=\"from_drop\""), "{}", other.render());
}

#[test]
fn the_name_claim_rule_holds_across_included_registries_and_prefixes() {
    static JOBS: Gauge = Gauge::new("jobs", "Jobs.");
    static JOBS_TOTAL: Counter = Counter::new("jobs_total", "Jobs done.");
    static LAT: Histogram = Histogram::new("lat", "Latency.");
    static LAT_COUNT: Gauge = Gauge::new("svc_lat_count", "Read as svc_lat's count.");
    let app = Registry::new();
    let a = Arc::new(Registry::new());
    a.register(&JOBS).unwrap();
    app.include(a, "", &[("i", "a")]).unwrap();
    let b = Arc::new(Registry::new());
    b.register(&JOBS_TOTAL).unwrap();
    // OpenMetrics names counter `jobs_total` `jobs`: it clashes with the gauge.
    assert_eq!(
        app.include(b, "", &[("i", "b")]).unwrap_err().kind(),
        ErrorKind::FamilyClash
    );
    let c = Arc::new(Registry::new());
    c.register(&LAT).unwrap();
    app.include(c, "svc_", &[]).unwrap();
    // The prefix is part of the name the rule sees.
    assert_eq!(app.register(&LAT_COUNT).unwrap_err().kind(), ErrorKind::FamilyClash);
    let text = app.render();
    crate::parse(&text);
    assert!(text.contains("# TYPE svc_lat histogram\n"), "{text}");
}

/// Registers one metric, saying whether it was admitted.
type Register = Box<dyn Fn(&Registry) -> bool>;

/// The registration check and the scrape-time grouping apply one rule: what
/// the checks let in (metrics registered before inclusion, inclusions,
/// registrations into the including registry) is never left out at a
/// scrape, and the exposition passes the oracle.
#[test]
fn what_registration_admits_the_scrape_never_rejects() {
    const NAMES: [&str; 7] = ["x", "x_total", "x_count", "x_sum", "x_bucket", "y", "x_created"];
    const LABELS: [(&str, &str); 3] = [("i", "a"), ("i", "b"), ("j", "a")];
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..200 {
        let mut metrics: Vec<Register> = Vec::new();
        for _ in 0..6 {
            let name = NAMES[next(NAMES.len())];
            let help = ["H.", "G."][next(2)];
            let labelled = next(2) == 0;
            let register: Register = match (next(3), labelled) {
                (0, false) => {
                    let m = Arc::new(Counter::try_new(name, help).unwrap());
                    Box::new(move |r| r.register_arc(Arc::clone(&m)).is_ok())
                }
                (0, true) => {
                    let m = Arc::new(CounterVec::try_new(name, help, ["k"]).unwrap());
                    Box::new(move |r| r.register_arc(Arc::clone(&m)).is_ok())
                }
                (1, false) => {
                    let m = Arc::new(Gauge::try_new(name, help).unwrap());
                    Box::new(move |r| r.register_arc(Arc::clone(&m)).is_ok())
                }
                (1, true) => {
                    let m = Arc::new(GaugeVec::try_new(name, help, ["k"]).unwrap());
                    Box::new(move |r| r.register_arc(Arc::clone(&m)).is_ok())
                }
                (_, false) => {
                    let m = Arc::new(Histogram::try_new(name, help, vec![1.0]).unwrap());
                    Box::new(move |r| r.register_arc(Arc::clone(&m)).is_ok())
                }
                (_, true) => {
                    let m = Arc::new(HistogramVec::try_with_buckets(name, help, ["k"], vec![1.0]).unwrap());
                    Box::new(move |r| r.register_arc(Arc::clone(&m)).is_ok())
                }
            };
            metrics.push(register);
        }
        let app = Registry::new();
        let mut admitted = 0;
        for register in &metrics {
            if next(3) == 0 {
                admitted += usize::from(register(&app));
            } else {
                let sub = Arc::new(Registry::new());
                let ok = register(&sub);
                let prefix = ["", "x_"][next(2)];
                if ok && app.include(sub, prefix, &[LABELS[next(LABELS.len())]]).is_ok() {
                    admitted += 1;
                }
            }
        }
        let text = app.render();
        let exposition = crate::parse(&text);
        assert!(
            !text.contains("bareprom_families_rejected_total"),
            "round {round}: {text}"
        );
        let families = exposition
            .families
            .iter()
            .filter(|f| !f.name.starts_with("bareprom_"))
            .count();
        assert!(
            families <= admitted,
            "round {round}: {families} families of {admitted} admitted\n{text}"
        );
    }
}

/// One registry alone is written without building a tree (its health
/// series straight from its entries, with no allocation); included in
/// another without prefix or labels it goes through the tree. Both must
/// write the same bytes, in every format.
#[test]
fn a_flat_registry_writes_what_the_tree_writes_for_it() {
    let inner = Arc::new(Registry::new());
    let calls = Arc::new(
        CounterVec::<2>::try_new("calls_total", "Calls.", ["route", "outcome"])
            .unwrap()
            .with_series_limit(3),
    );
    for route in ["/a", "/b\"q\"", "/c\\d", "/e\nf", "/g"] {
        calls.with([route, "ok"]).inc();
    }
    inner.register_arc(Arc::clone(&calls)).unwrap();
    let depth = Arc::new(GaugeVec::<1>::try_new("queue_depth", "Depth.", ["queue"]).unwrap());
    depth.with(["q1"]).set(4);
    inner.register_arc(depth).unwrap();
    let sizes = Arc::new(HistogramVec::<1>::try_new("size_bytes", "Sizes.", ["kind"]).unwrap());
    sizes.with(["up"]).observe(3.0);
    inner.register_arc(sizes).unwrap();
    let plain = Arc::new(Gauge::try_new("plain_gauge", "Plain.").unwrap());
    inner.register_arc(plain).unwrap();
    let outer = Registry::new();
    outer.include(Arc::clone(&inner), "", &[]).unwrap();
    let flat = inner.render();
    assert!(
        flat.contains("bareprom_series_dropped_total{family=\"calls_total\"} 2\n"),
        "{flat}"
    );
    assert!(
        flat.contains("bareprom_series_dropped_total{family=\"queue_depth\"} 0\n"),
        "{flat}"
    );
    assert_eq!(flat, outer.render());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    inner.encode_openmetrics(&mut a);
    outer.encode_openmetrics(&mut b);
    assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    inner.encode_protobuf(&mut a);
    outer.encode_protobuf(&mut b);
    assert_eq!(a, b);
}

/// A family whose name would need escaping as a `family` label value (a
/// UTF-8 name with a quote) is written through the tree, escaped there.
#[test]
fn a_flat_registry_with_a_name_to_escape_writes_it_escaped() {
    let registry = Registry::new().with_utf8_names();
    let odd = Arc::new(
        CounterVec::<1>::try_new_utf8("say \"hi\"_total", "Odd.", ["k"])
            .unwrap()
            .with_series_limit(1),
    );
    odd.with(["a"]).inc();
    odd.with(["b"]).inc();
    registry.register_arc(odd).unwrap();
    let text = registry.render();
    assert!(
        text.contains("bareprom_series_dropped_total{family=\"say \\\"hi\\\"_total\"} 1\n"),
        "{text}"
    );
}
