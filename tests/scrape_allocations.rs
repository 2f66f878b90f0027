//! A scrape into a reused buffer allocates nothing once it has run on its
//! thread (README, "Performance"; `src/text/kept.rs` says why that
//! matters). Its own binary, without the test harness, so that no other
//! thread allocates while this one counts.

use std::alloc::System;
use std::sync::Arc;

use bareprom::{Counter, CounterVec, CountingAlloc, Format, Gauge, GaugeVec, Histogram, HistogramVec, Registry};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new(System);

static REQUESTS: Counter = Counter::new("app_requests_total", "Requests.");
static UP: Gauge = Gauge::new("app_up", "Up.");
static LATENCY: Histogram = Histogram::new("app_latency_seconds", "Latency.");
static TRACED: Counter = Counter::new("app_traced_total", "Traced.");
static TRACED_SECONDS: Histogram = Histogram::new("app_traced_seconds", "Traced latency.");

/// A registry with every kind of metric, labelled families among them (so
/// that the health family `bareprom_series_dropped_total` is written, with
/// a drop counted), constant labels and values that need escaping.
fn registry() -> Registry {
    let registry = Registry::with_const_labels(&[("region", "eu \"west\"")]).expect("valid");
    registry.register(&REQUESTS).expect("registers");
    registry.register(&UP).expect("registers");
    registry.register(&LATENCY).expect("registers");
    let routes = CounterVec::<3>::try_new("http_requests_total", "HTTP requests.", ["method", "route", "status"])
        .expect("valid")
        .with_series_limit(1500);
    for i in 0..2000 {
        let route = format!("/api/v2/service{}/items/:id\\{i}", i % 97);
        routes
            .with(["GET", &route, if i % 3 == 0 { "500" } else { "200" }])
            .inc_by(i);
    }
    registry.register_arc(Arc::new(routes)).expect("registers");
    let queues = GaugeVec::<1>::try_new("app_queue_depth", "Queue depth.", ["queue"]).expect("valid");
    queues.with(["line\nbreak"]).set(3);
    registry.register_arc(Arc::new(queues)).expect("registers");
    let sizes = HistogramVec::<2>::try_new("app_size_bytes", "Sizes.", ["kind", "tier"]).expect("valid");
    for i in 0..50 {
        sizes.with(["upload", &format!("tier{i}")]).observe(f64::from(i) * 1.5);
    }
    registry.register_arc(Arc::new(sizes)).expect("registers");
    REQUESTS.inc();
    LATENCY.observe(0.25);
    registry
}

/// Allocations of the second of two `encode` calls into one buffer, and
/// the output of both.
fn second_call(encode: impl Fn(&mut Vec<u8>)) -> (u64, Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    encode(&mut out);
    let first = out.clone();
    out.clear();
    let before = ALLOC.allocations();
    encode(&mut out);
    (ALLOC.allocations() - before, first, out)
}

/// One of the registry's encode methods.
type Encode<'a> = dyn Fn(&mut Vec<u8>) + 'a;

fn main() {
    let registry = registry();
    let offered = [Format::Text0_0_4, Format::Text1_0_0, Format::OpenMetrics1_0_0];
    let negotiated = |accept: &str| bareprom::negotiate(Some(accept), &offered);
    let om = negotiated("application/openmetrics-text;version=1.0.0;escaping=dots");
    let utf8 = negotiated("text/plain;version=1.0.0;escaping=allow-utf-8");
    assert_eq!((om.format, utf8.format), (Format::OpenMetrics1_0_0, Format::Text1_0_0));
    // Exemplars, which only OpenMetrics and protobuf write: the text
    // scrape leaves them alone (those two formats still allocate for
    // them, see README).
    let traced = Registry::new();
    traced.register(&TRACED).expect("registers");
    traced.register(&TRACED_SECONDS).expect("registers");
    let spans = CounterVec::<1>::try_new("app_spans_total", "Spans.", ["op"]).expect("valid");
    spans
        .with(["read"])
        .inc_with_exemplar(&[("trace_id", "4bf92f35")])
        .expect("valid");
    traced.register_arc(Arc::new(spans)).expect("registers");
    TRACED.inc_with_exemplar(&[("trace_id", "4bf92f35")]).expect("valid");
    TRACED_SECONDS
        .observe_with_exemplar(0.2, &[("trace_id", "4bf92f35")])
        .expect("valid");
    // UTF-8 names, written quoted to a scraper that allows them.
    let dotted = Registry::new().with_utf8_names();
    let requests =
        CounterVec::<1>::try_new_utf8("http.server.requests_total", "Requests.", ["http.method"]).expect("valid");
    requests.with(["GET"]).inc();
    dotted.register_arc(Arc::new(requests)).expect("registers");
    let om_utf8 = negotiated("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8");
    let formats: [(&str, &Encode); 8] = [
        ("exemplars recorded, text 0.0.4", &|out| traced.encode(out)),
        ("UTF-8 names, negotiated text 1.0.0, allow-utf-8", &|out| {
            dotted.encode_negotiated(utf8, out);
        }),
        ("UTF-8 names, negotiated OpenMetrics, allow-utf-8", &|out| {
            dotted.encode_negotiated(om_utf8, out);
        }),
        ("text 0.0.4", &|out| registry.encode(out)),
        ("OpenMetrics 1.0", &|out| registry.encode_openmetrics(out)),
        ("protobuf", &|out| registry.encode_protobuf(out)),
        ("negotiated OpenMetrics, escaping=dots", &|out| {
            registry.encode_negotiated(om, out);
        }),
        ("negotiated text 1.0.0, allow-utf-8", &|out| {
            registry.encode_negotiated(utf8, out);
        }),
    ];
    for (format, encode) in formats {
        let (allocations, first, second) = second_call(encode);
        assert_eq!(first, second, "{format}: two scrapes of unchanged metrics differ");
        assert_eq!(
            allocations, 0,
            "{format}: a second scrape into a reused buffer allocated"
        );
        println!(
            "scrape_allocations: {format}: {} bytes, 0 allocations on the second scrape: ok",
            second.len()
        );
        if format == "protobuf" {
            assert!(second.len() > 100_000, "protobuf: {} bytes", second.len());
            continue;
        }
        let text = String::from_utf8(second).expect("UTF-8");
        if format.starts_with("exemplars") {
            continue;
        }
        if format.starts_with("UTF-8") {
            assert!(text.contains("{\"http.server.requests_total"), "{format}: {text}");
            continue;
        }
        for expected in [
            "bareprom_series_dropped_total{region=\"eu \\\"west\\\"\",family=\"http_requests_total\"} 500\n",
            "route=\"/api/v2/service1/items/:id\\\\1\"",
            "queue=\"line\\nbreak\"",
            "app_size_bytes_bucket{region=\"eu \\\"west\\\"\",kind=\"upload\",tier=\"tier49\",le=\"+Inf\"} 1",
        ] {
            assert!(text.contains(expected), "{format}: no {expected:?} in the scrape");
        }
    }
}
