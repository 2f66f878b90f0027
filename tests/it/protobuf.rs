//! The protobuf exposition: byte-exact output per kind, checked against
//! bytes written out by hand from `metrics.proto` and read back by the
//! test-only decoder (`protobuf_decode.rs`), and its negotiation by the
//! handler.

use bareprom::{Counter, CounterVec, Gauge, Histogram, MetricsRequest, Registry};

use crate::protobuf_decode::{PbHistogram, decode};

fn protobuf(registry: &Registry) -> Vec<u8> {
    let mut body = Vec::new();
    registry.encode_protobuf(&mut body);
    body
}

/// A length-delimited field: tag, length, bytes.
fn len_field(field: u8, bytes: &[u8]) -> Vec<u8> {
    assert!(bytes.len() < 128, "the tests keep every message short");
    let mut out = vec![(field << 3) | 2, u8::try_from(bytes.len()).unwrap()];
    out.extend_from_slice(bytes);
    out
}

fn double_field(field: u8, v: f64) -> Vec<u8> {
    let mut out = vec![(field << 3) | 1];
    out.extend_from_slice(&v.to_le_bytes());
    out
}

fn varint_field(field: u8, v: u8) -> Vec<u8> {
    assert!(v < 128);
    vec![field << 3, v]
}

fn label(name: &str, value: &str) -> Vec<u8> {
    len_field(
        1,
        &[len_field(1, name.as_bytes()), len_field(2, value.as_bytes())].concat(),
    )
}

fn delimited(family: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::try_from(family.len()).unwrap()];
    out.extend_from_slice(family);
    out
}

#[test]
fn counter_with_constant_and_escaped_labels_is_byte_exact() {
    let registry = Registry::with_const_labels(&[("backend", "a\"b")]).unwrap();
    let requests = CounterVec::<1>::new("req_total", "Requests.", ["path"]);
    let requests = std::sync::Arc::new(requests);
    registry.register_arc(std::sync::Arc::clone(&requests)).unwrap();
    // Kept escaped for the text formats; protobuf carries the raw value.
    requests.with(["/a\\b\n"]).inc_by(3);
    let metric = [
        label("backend", "a\"b"),
        label("path", "/a\\b\n"),
        len_field(3, &double_field(1, 3.0)),
    ]
    .concat();
    let family = [
        len_field(1, b"req_total"),
        len_field(2, b"Requests."),
        varint_field(3, 0),
        len_field(4, &metric),
    ]
    .concat();
    // The registry's health family follows (its series dropped counter).
    let body = protobuf(&registry);
    assert_eq!(body[..=family.len()], delimited(&family)[..]);
    let families = decode(&body).unwrap();
    assert_eq!(
        families[0].metrics[0].labels[1],
        ("path".to_owned(), "/a\\b\n".to_owned())
    );
    assert_eq!(families[1].name, "bareprom_series_dropped_total");
}

#[test]
fn gauge_and_counter_are_byte_exact() {
    static UP: Gauge = Gauge::new("up_g", "Up.");
    static N: Counter = Counter::new("n_total", "N.");
    let registry = Registry::new();
    registry.register(&UP).unwrap();
    registry.register(&N).unwrap();
    UP.set(-2);
    N.inc_by(u64::MAX);
    let gauge = [
        len_field(1, b"up_g"),
        len_field(2, b"Up."),
        varint_field(3, 1),
        len_field(4, &len_field(2, &double_field(1, -2.0))),
    ]
    .concat();
    // u64::MAX as a double: 2^64, the nearest one.
    let counter = [
        len_field(1, b"n_total"),
        len_field(2, b"N."),
        varint_field(3, 0),
        len_field(4, &len_field(3, &double_field(1, 18_446_744_073_709_551_616.0))),
    ]
    .concat();
    assert_eq!(protobuf(&registry), [delimited(&gauge), delimited(&counter)].concat());
}

#[test]
fn classic_histogram_is_byte_exact_without_the_inf_bucket() {
    static H: Histogram = Histogram::with_buckets("lat_seconds", "Latency.", &[0.5, 1.0]);
    let registry = Registry::new();
    registry.register(&H).unwrap();
    for v in [0.25, 0.75, 0.75, 7.0] {
        H.observe(v);
    }
    let bucket = |count: u8, bound: f64| len_field(3, &[varint_field(1, count), double_field(2, bound)].concat());
    let histogram = [
        varint_field(1, 4),
        double_field(2, 8.75),
        bucket(1, 0.5),
        bucket(3, 1.0),
    ]
    .concat();
    let family = [
        len_field(1, b"lat_seconds"),
        len_field(2, b"Latency."),
        varint_field(3, 4),
        len_field(4, &len_field(7, &histogram)),
    ]
    .concat();
    let body = protobuf(&registry);
    assert_eq!(body, delimited(&family));
    let decoded = decode(&body).unwrap();
    assert_eq!(
        decoded[0].metrics[0].histogram,
        Some(PbHistogram {
            sample_count: Some(4),
            sample_sum: Some(8.75),
            buckets: vec![(1, 0.5), (3, 1.0)],
            ..PbHistogram::default()
        })
    );
}

#[test]
fn decoder_rejects_truncated_and_trailing_bytes() {
    static G: Gauge = Gauge::new("trunc_g", "G.");
    let registry = Registry::new();
    registry.register(&G).unwrap();
    let body = protobuf(&registry);
    assert!(decode(&body).is_ok());
    for cut in 1..body.len() {
        assert!(decode(&body[..cut]).is_err(), "cut at {cut} decodes");
    }
    assert!(decode(&[body.clone(), vec![5]].concat()).is_err());
}

#[test]
fn handler_serves_protobuf_to_a_scraper_that_asks_for_it_first() {
    static G: Gauge = Gauge::new("neg_g", "G.");
    let registry = Registry::new();
    registry.register(&G).unwrap();
    // What Prometheus 2.42 sends with --enable-feature=native-histograms.
    let accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,\
                  application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,\
                  text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let request = MetricsRequest {
        accept: Some(accept),
        ..MetricsRequest::new("GET", "/metrics")
    };
    let response = registry.handle(&request);
    assert_eq!(response.content_type, crate::PROTOBUF_SCRAPE);
    assert_eq!(response.body, protobuf(&registry));
    // Without protobuf first, or with wildcards only, text.
    for accept in [
        None,
        Some("*/*"),
        Some("text/plain;version=0.0.4,application/vnd.google.protobuf;q=0.5"),
    ] {
        let request = MetricsRequest {
            accept,
            ..MetricsRequest::new("GET", "/metrics")
        };
        let response = registry.handle(&request);
        assert_eq!(response.content_type, crate::TEXT_SCRAPE, "{accept:?}");
        assert_eq!(response.body, registry.render().into_bytes());
    }
}

#[test]
fn an_info_metric_is_a_gauge_of_one() {
    let registry = Registry::new();
    registry
        .register_arc(std::sync::Arc::new(
            bareprom::Info::build("app", "1.2.3", "4f2a9c1").unwrap(),
        ))
        .unwrap();
    let families = decode(&protobuf(&registry)).expect("decodes");
    assert_eq!(families.len(), 1);
    let family = &families[0];
    // GAUGE (1): the protobuf format has no info type.
    assert_eq!((family.name.as_str(), family.kind), ("app_build_info", 1));
    assert_eq!(family.metrics.len(), 1);
    let metric = &family.metrics[0];
    assert_eq!(
        metric.labels,
        [
            ("version".to_owned(), "1.2.3".to_owned()),
            ("revision".to_owned(), "4f2a9c1".to_owned())
        ]
    );
    assert_eq!((metric.gauge, metric.counter), (Some(1.0), None));
}
