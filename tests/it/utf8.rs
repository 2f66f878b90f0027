//! Prometheus 3 UTF-8 names: opt-in constructors, their validation, the
//! quoted renderings (`escaping=allow-utf-8`) and the escaped ones
//! (`underscores`, `dots`, `values`) in every format, byte for byte, the
//! strict oracles and the Python parsers on them, the unescaping
//! direction, and the claim rule on escaped names.

use std::sync::Arc;

use bareprom::{
    Collect, CounterVec, ErrorKind, Escaping, Format, Gauge, HistogramVec, MetricsRequest, Negotiated, Registry, Scrape,
};

use crate::names_decode::{unescape_dots, unescape_values};
use crate::oracle_utf8;

pub(crate) const TEXT: Format = Format::Text0_0_4;
pub(crate) const OM: Format = Format::OpenMetrics1_0_0;

/// A counter, a gauge and a histogram with UTF-8 names, and a legacy gauge.
pub(crate) fn registry() -> Registry {
    let registry = Registry::new().without_health();
    let requests = CounterVec::try_new_utf8(
        "http.server.requests_total",
        "Requests.",
        ["http.request.method", "code"],
    )
    .unwrap();
    requests.with(["GET", "200"]).inc_by(3);
    registry.register_owned(requests).unwrap();
    registry
        .register_owned(Gauge::try_new_utf8("http.server.active", "Active.").unwrap())
        .unwrap()
        .set(2);
    let duration = registry
        .register_owned(
            HistogramVec::try_with_buckets_utf8(
                "http.server.request.duration",
                "Time.",
                ["http.route"],
                vec![0.1, 1.0],
            )
            .unwrap(),
        )
        .unwrap();
    duration.with(["/"]).observe(0.05);
    registry
        .register_owned(Gauge::try_new("legacy_up", "Up.").unwrap())
        .unwrap()
        .set(1);
    registry
}

pub(crate) fn encode(registry: &Registry, format: Format, escaping: Escaping) -> String {
    let mut body = Vec::new();
    registry.encode_negotiated(Negotiated { format, escaping }, &mut body);
    String::from_utf8(body).unwrap()
}

#[track_caller]
pub(crate) fn check(registry: &Registry, format: Format, escaping: Escaping, expected: &str) {
    let text = encode(registry, format, escaping);
    assert_eq!(text, expected, "{format:?} {escaping:?}\n--- got ---\n{text}");
    let openmetrics = format == OM;
    if let Err(e) = oracle_utf8::parse(&text, openmetrics) {
        panic!("the oracle refuses {format:?} {escaping:?}: {e}\n{text}");
    }
    crate::gzip::round_trip(text.as_bytes());
}

#[test]
fn allow_utf8_quotes_names_outside_the_legacy_charset_in_the_text_format() {
    check(
        &registry(),
        TEXT,
        Escaping::AllowUtf8,
        "# HELP \"http.server.requests_total\" Requests.\n\
         # TYPE \"http.server.requests_total\" counter\n\
         {\"http.server.requests_total\",\"http.request.method\"=\"GET\",code=\"200\"} 3\n\
         # HELP \"http.server.active\" Active.\n\
         # TYPE \"http.server.active\" gauge\n\
         {\"http.server.active\"} 2\n\
         # HELP \"http.server.request.duration\" Time.\n\
         # TYPE \"http.server.request.duration\" histogram\n\
         {\"http.server.request.duration_bucket\",\"http.route\"=\"/\",le=\"0.1\"} 1\n\
         {\"http.server.request.duration_bucket\",\"http.route\"=\"/\",le=\"1\"} 1\n\
         {\"http.server.request.duration_bucket\",\"http.route\"=\"/\",le=\"+Inf\"} 1\n\
         {\"http.server.request.duration_sum\",\"http.route\"=\"/\"} 0.05\n\
         {\"http.server.request.duration_count\",\"http.route\"=\"/\"} 1\n\
         # HELP legacy_up Up.\n\
         # TYPE legacy_up gauge\n\
         legacy_up 1\n",
    );
}

#[test]
fn allow_utf8_quotes_names_in_openmetrics() {
    check(
        &registry(),
        OM,
        Escaping::AllowUtf8,
        "# HELP \"http.server.requests\" Requests.\n\
         # TYPE \"http.server.requests\" counter\n\
         {\"http.server.requests_total\",\"http.request.method\"=\"GET\",code=\"200\"} 3\n\
         # HELP \"http.server.active\" Active.\n\
         # TYPE \"http.server.active\" gauge\n\
         {\"http.server.active\"} 2\n\
         # HELP \"http.server.request.duration\" Time.\n\
         # TYPE \"http.server.request.duration\" histogram\n\
         {\"http.server.request.duration_bucket\",\"http.route\"=\"/\",le=\"0.1\"} 1\n\
         {\"http.server.request.duration_bucket\",\"http.route\"=\"/\",le=\"1.0\"} 1\n\
         {\"http.server.request.duration_bucket\",\"http.route\"=\"/\",le=\"+Inf\"} 1\n\
         {\"http.server.request.duration_sum\",\"http.route\"=\"/\"} 0.05\n\
         {\"http.server.request.duration_count\",\"http.route\"=\"/\"} 1\n\
         # HELP legacy_up Up.\n\
         # TYPE legacy_up gauge\n\
         legacy_up 1\n\
         # EOF\n",
    );
}

/// The same registry escaped: `(escaping, requests stem, method label,
/// active, duration stem, route label)`.
pub(crate) const ESCAPED: [(Escaping, &str, &str, &str, &str, &str); 3] = [
    (
        Escaping::Underscores,
        "http_server_requests",
        "http_request_method",
        "http_server_active",
        "http_server_request_duration",
        "http_route",
    ),
    (
        Escaping::Dots,
        "http_dot_server_dot_requests",
        "http_dot_request_dot_method",
        "http_dot_server_dot_active",
        "http_dot_server_dot_request_dot_duration",
        "http_dot_route",
    ),
    (
        Escaping::Values,
        "U__http_2e_server_2e_requests",
        "U__http_2e_request_2e_method",
        "U__http_2e_server_2e_active",
        "U__http_2e_server_2e_request_2e_duration",
        "U__http_2e_route",
    ),
];

#[test]
fn every_other_escaping_writes_legacy_names_in_both_text_formats() {
    let registry = registry();
    for (escaping, requests, method, active, duration, route) in ESCAPED {
        let text = format!(
            "# HELP {requests}_total Requests.\n\
             # TYPE {requests}_total counter\n\
             {requests}_total{{{method}=\"GET\",code=\"200\"}} 3\n\
             # HELP {active} Active.\n\
             # TYPE {active} gauge\n\
             {active} 2\n\
             # HELP {duration} Time.\n\
             # TYPE {duration} histogram\n\
             {duration}_bucket{{{route}=\"/\",le=\"0.1\"}} 1\n\
             {duration}_bucket{{{route}=\"/\",le=\"1\"}} 1\n\
             {duration}_bucket{{{route}=\"/\",le=\"+Inf\"}} 1\n\
             {duration}_sum{{{route}=\"/\"}} 0.05\n\
             {duration}_count{{{route}=\"/\"}} 1\n\
             # HELP legacy_up Up.\n\
             # TYPE legacy_up gauge\n\
             legacy_up 1\n"
        );
        check(&registry, TEXT, escaping, &text);
        // Strictly legacy: the plain 0.0.4 oracle takes it too.
        crate::parse(&text);
        let om = format!(
            "# HELP {requests} Requests.\n\
             # TYPE {requests} counter\n\
             {requests}_total{{{method}=\"GET\",code=\"200\"}} 3\n\
             # HELP {active} Active.\n\
             # TYPE {active} gauge\n\
             {active} 2\n\
             # HELP {duration} Time.\n\
             # TYPE {duration} histogram\n\
             {duration}_bucket{{{route}=\"/\",le=\"0.1\"}} 1\n\
             {duration}_bucket{{{route}=\"/\",le=\"1.0\"}} 1\n\
             {duration}_bucket{{{route}=\"/\",le=\"+Inf\"}} 1\n\
             {duration}_sum{{{route}=\"/\"}} 0.05\n\
             {duration}_count{{{route}=\"/\"}} 1\n\
             # HELP legacy_up Up.\n\
             # TYPE legacy_up gauge\n\
             legacy_up 1\n\
             # EOF\n"
        );
        check(&registry, OM, escaping, &om);
        crate::oracle_om::parse(&om).unwrap();
    }
    // Not negotiated: `underscores`, as `client_golang` defaults to.
    assert_eq!(registry.render(), encode(&registry, TEXT, Escaping::Underscores));
    let mut om = Vec::new();
    registry.encode_openmetrics(&mut om);
    assert_eq!(
        String::from_utf8(om).unwrap(),
        encode(&registry, OM, Escaping::Underscores)
    );
}

#[test]
fn escaped_names_unescape_to_the_originals() {
    let originals = [
        "http.server.requests",
        "http.request.method",
        "http.server.active",
        "http.server.request.duration",
        "http.route",
    ];
    for (escaping, a, b, c, d, e) in ESCAPED {
        for (escaped, original) in [a, b, c, d, e].into_iter().zip(originals) {
            match escaping {
                Escaping::Values => assert_eq!(unescape_values(escaped).as_deref(), Some(original)),
                Escaping::Dots => assert_eq!(unescape_dots(escaped), original),
                _ => assert_eq!(escaped, original.replace('.', "_")),
            }
        }
    }
}

#[test]
fn protobuf_carries_names_raw_with_allow_utf8_and_escaped_otherwise() {
    let registry = registry();
    let mut body = Vec::new();
    let utf8 = Negotiated {
        format: Format::ProtobufDelimited,
        escaping: Escaping::AllowUtf8,
    };
    registry.encode_negotiated(utf8, &mut body);
    let families = crate::protobuf_decode::decode(&body).unwrap();
    let names: Vec<&str> = families.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "http.server.requests_total",
            "http.server.active",
            "http.server.request.duration",
            "legacy_up"
        ]
    );
    let label_names = |f: &crate::protobuf_decode::PbFamily| -> Vec<String> {
        f.metrics[0].labels.iter().map(|(n, _)| n.clone()).collect()
    };
    assert_eq!(label_names(&families[0]), ["http.request.method", "code"]);
    body.clear();
    registry.encode_negotiated(
        Negotiated {
            escaping: Escaping::Values,
            ..utf8
        },
        &mut body,
    );
    let families = crate::protobuf_decode::decode(&body).unwrap();
    assert_eq!(families[0].name, "U__http_2e_server_2e_requests_total");
    assert_eq!(label_names(&families[0]), ["U__http_2e_request_2e_method", "code"]);
    assert_eq!(families[2].name, "U__http_2e_server_2e_request_2e_duration");
    // The default encoder: underscores.
    body.clear();
    registry.encode_protobuf(&mut body);
    let families = crate::protobuf_decode::decode(&body).unwrap();
    assert_eq!(families[1].name, "http_server_active");
}

pub(crate) struct Queues;

impl Collect for Queues {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.gauge_family("queue.depth", "Depth.", ["queue.name"])
            .series(["a"], 5);
    }
}

#[test]
fn constant_labels_and_collectors_of_a_utf8_registry() {
    let registry = Registry::with_const_labels_utf8(&[("service.name", "checkout")])
        .unwrap()
        .without_health();
    registry
        .register_owned(Gauge::try_new("jobs", "Jobs.").unwrap())
        .unwrap();
    registry.register_collector("queues", Queues).unwrap();
    check(
        &registry,
        TEXT,
        Escaping::AllowUtf8,
        "# HELP jobs Jobs.\n\
         # TYPE jobs gauge\n\
         jobs{\"service.name\"=\"checkout\"} 0\n\
         # HELP \"queue.depth\" Depth.\n\
         # TYPE \"queue.depth\" gauge\n\
         {\"queue.depth\",\"service.name\"=\"checkout\",\"queue.name\"=\"a\"} 5\n",
    );
    check(
        &registry,
        TEXT,
        Escaping::Dots,
        "# HELP jobs Jobs.\n\
         # TYPE jobs gauge\n\
         jobs{service_dot_name=\"checkout\"} 0\n\
         # HELP queue_dot_depth Depth.\n\
         # TYPE queue_dot_depth gauge\n\
         queue_dot_depth{service_dot_name=\"checkout\",queue_dot_name=\"a\"} 5\n",
    );
    // A registry that did not opt in leaves the collector's family out.
    let legacy = Registry::new().without_health();
    legacy.register_collector("queues", Queues).unwrap();
    assert_eq!(legacy.render(), "");
    // Nor does it take UTF-8 constant labels, from `include` either.
    assert_eq!(
        Registry::with_const_labels(&[("service.name", "x")])
            .err()
            .map(|e| e.kind()),
        Some(ErrorKind::InvalidLabelName)
    );
    let part = Arc::new(Registry::new());
    assert_eq!(
        legacy
            .include(Arc::clone(&part), "", &[("k.8s", "x")])
            .err()
            .map(|e| e.kind()),
        Some(ErrorKind::InvalidLabelName)
    );
    let app = Registry::new().with_utf8_names().without_health();
    app.include(part, "", &[("k8s.pod", "p1")]).unwrap();
    let sub = app.sub_registry("", &[("k8s.node", "n1")]).unwrap();
    sub.register_collector("queues", Queues).unwrap();
    assert!(
        app.render()
            .contains("queue_depth{k8s_node=\"n1\",queue_name=\"a\"} 5\n"),
        "{}",
        app.render()
    );
}

#[test]
fn construction_refuses_what_no_escaping_could_write() {
    assert!(Gauge::try_new_utf8("", "h").is_err());
    assert_eq!(
        Gauge::try_new("a.b", "h").err().map(|e| e.kind()),
        Some(ErrorKind::InvalidMetricName),
        "the legacy constructor keeps the legacy rule"
    );
    for (labels, kind) in [
        (["a.b", "a_b"], ErrorKind::DuplicateLabelName),
        (["a.b", "a-b"], ErrorKind::DuplicateLabelName),
        (["_x.y", "z"], ErrorKind::ReservedLabelName),
        (["__x", "z"], ErrorKind::ReservedLabelName),
        (["1.x", "z"], ErrorKind::ReservedLabelName),
        (["", "z"], ErrorKind::InvalidLabelName),
    ] {
        let got = CounterVec::try_new_utf8("x", "h", labels).err().map(|e| e.kind());
        assert_eq!(got, Some(kind), "{labels:?}");
    }
    let le = HistogramVec::try_with_buckets_utf8("h", "h", ["le"], vec![1.0]).err();
    assert_eq!(le.map(|e| e.kind()), Some(ErrorKind::ReservedLabelName));
    // Any other UTF-8, NUL and newlines included, is a name.
    let odd = Gauge::try_new_utf8("zero\0and\nnewline \u{1F631}", "h").unwrap();
    let registry = Registry::new().without_health();
    registry.register_owned(odd).unwrap();
    let quoted = encode(&registry, TEXT, Escaping::AllowUtf8);
    assert_eq!(
        quoted,
        "# HELP \"zero\0and\\nnewline \u{1F631}\" h\n# TYPE \"zero\0and\\nnewline \u{1F631}\" gauge\n{\"zero\0and\\nnewline \u{1F631}\"} 0\n"
    );
    let got = oracle_utf8::parse(&quoted, false).unwrap();
    assert_eq!(got.families[0].name, "zero\0and\nnewline \u{1F631}");
    let values = encode(&registry, TEXT, Escaping::Values);
    assert!(values.ends_with("\nU__zero_0_and_a_newline_20__1f631_ 0\n"), "{values}");
    assert_eq!(
        unescape_values("U__zero_0_and_a_newline_20__1f631_").as_deref(),
        Some("zero\0and\nnewline \u{1F631}")
    );
}

#[test]
fn families_written_alike_in_some_escaping_are_refused() {
    let registry = Registry::new();
    registry
        .register_owned(Gauge::try_new_utf8("a.b", "h").unwrap())
        .unwrap();
    for (name, why) in [
        ("a_b", "underscores"),
        ("a-b", "underscores"),
        ("a_dot_b", "dots"),
        ("U__a_2e_b", "values"),
    ] {
        let err = registry
            .register_owned(Gauge::try_new_utf8(name, "h").unwrap())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DuplicateMetric, "{name}: {why}");
    }
    // A histogram's escaped sample names claim too, and a counter's stem.
    registry
        .register_owned(HistogramVec::try_with_buckets_utf8("h.x", "h", ["l"], vec![1.0]).unwrap())
        .unwrap();
    let err = registry
        .register_owned(Gauge::try_new("h_x_count", "h").unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DuplicateMetric);
    registry
        .register_owned(CounterVec::try_new_utf8("c.x_total", "h", ["l"]).unwrap())
        .unwrap();
    let err = registry
        .register_owned(Gauge::try_new("c_x", "h").unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DuplicateMetric);
    // Across included registries the same holds (and a scrape leaves the
    // late one out).
    let app = Registry::new();
    let part = Arc::new(Registry::new());
    part.register_owned(Gauge::try_new("svc_up", "h").unwrap()).unwrap();
    app.register_owned(Gauge::try_new_utf8("svc.up", "h").unwrap()).unwrap();
    let err = app.include(Arc::clone(&part), "", &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FamilyClash);
    // A constant label written like a family label.
    let labelled = Registry::with_const_labels_utf8(&[("my.label", "v")]).unwrap();
    let err = labelled
        .register_owned(CounterVec::try_new_utf8("x_total", "h", ["my_label"]).unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LabelClash);
}

#[test]
fn families_written_alike_are_left_out_of_a_scrape_when_registered_late() {
    let app = Registry::new();
    let part = Arc::new(Registry::new());
    app.include(Arc::clone(&part), "", &[]).unwrap();
    app.register_owned(Gauge::try_new_utf8("svc.up", "h").unwrap())
        .unwrap()
        .set(1);
    part.register_owned(Gauge::try_new("svc_up", "h").unwrap())
        .unwrap()
        .set(2);
    // The included registry comes first: its `svc_up` is written, the
    // later `svc.up` left out and counted, whatever the escaping.
    for escaping in [Escaping::AllowUtf8, Escaping::Underscores] {
        let text = encode(&app, TEXT, escaping);
        assert!(
            text.starts_with("# HELP svc_up h\n# TYPE svc_up gauge\nsvc_up 2\n"),
            "{text}"
        );
        assert!(!text.contains("{\"svc.up\"}") && !text.contains("\nsvc_up 1"), "{text}");
        oracle_utf8::parse(&text, false).unwrap();
    }
    assert!(
        app.render()
            .contains("bareprom_families_rejected_total{family=\"svc.up\"} 3\n")
    );
}

#[test]
fn the_handler_quotes_for_prometheus_3_and_escapes_for_prometheus_2() {
    let registry = registry();
    let prometheus_2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let prometheus_3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    for (accept, content_type, format, escaping) in [
        (
            Some(prometheus_3),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
            OM,
            Escaping::AllowUtf8,
        ),
        (Some(prometheus_2), crate::OPENMETRICS_SCRAPE, OM, Escaping::Underscores),
        (
            Some("text/plain;version=1.0.0;escaping=allow-utf-8"),
            "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
            TEXT,
            Escaping::AllowUtf8,
        ),
        (
            Some("text/plain;version=0.0.4;escaping=values"),
            "text/plain; version=0.0.4; charset=utf-8; escaping=values",
            TEXT,
            Escaping::Values,
        ),
        (
            Some("text/plain;version=0.0.4;escaping=bogus"),
            crate::TEXT_SCRAPE,
            TEXT,
            Escaping::Underscores,
        ),
        (None, crate::TEXT_SCRAPE, TEXT, Escaping::Underscores),
    ] {
        let response = registry.handle(&MetricsRequest {
            accept,
            ..MetricsRequest::new("GET", "/metrics")
        });
        assert_eq!(response.content_type, content_type, "{accept:?}");
        assert_eq!(
            String::from_utf8(response.body).unwrap(),
            encode(&registry, format, escaping),
            "{accept:?}"
        );
    }
}

#[test]
fn native_histogram_families_take_utf8_names_too() {
    let registry = Registry::new().without_health();
    let rpc = registry
        .register_owned(
            bareprom::NativeHistogramVec::try_new_utf8("rpc.duration", "RPC time.", ["rpc.method"]).unwrap(),
        )
        .unwrap();
    rpc.with(["Get"]).observe(0.25);
    let mut body = Vec::new();
    let utf8 = Negotiated {
        format: Format::ProtobufDelimited,
        escaping: Escaping::AllowUtf8,
    };
    registry.encode_negotiated(utf8, &mut body);
    let families = crate::protobuf_decode::decode(&body).unwrap();
    assert_eq!(families[0].name, "rpc.duration");
    assert_eq!(families[0].metrics[0].labels[0].0, "rpc.method");
    let text = encode(&registry, TEXT, Escaping::Underscores);
    assert!(text.contains("\nrpc_duration_count{rpc_method=\"Get\"} 1\n"), "{text}");
    crate::parse(&text);
    let quoted = encode(&registry, TEXT, Escaping::AllowUtf8);
    assert!(
        quoted.contains("\n{\"rpc.duration_count\",\"rpc.method\"=\"Get\"} 1\n"),
        "{quoted}"
    );
    oracle_utf8::parse(&quoted, false).unwrap();
}
