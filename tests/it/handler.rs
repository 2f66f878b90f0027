//! The framework-agnostic handler: statuses, headers and bodies.

use bareprom::{Counter, MetricsRequest, Registry};

fn registry() -> Registry {
    static SERVED: Counter = Counter::new("h_served_total", "Served.");
    let r = Registry::new();
    r.register(&SERVED).unwrap();
    r
}

#[test]
fn get_and_head_on_the_metrics_path() {
    let r = registry();
    let get = r.handle(&MetricsRequest::new("GET", "/metrics"));
    assert_eq!(
        (get.status, get.content_type, get.allow),
        (200, crate::TEXT_SCRAPE, None)
    );
    assert_eq!(get.body, r.render().into_bytes());
    let with_query = r.handle(&MetricsRequest::new("GET", "/metrics?name[]=x"));
    assert_eq!(with_query.status, 200);
    let head = r.handle(&MetricsRequest::new("HEAD", "/metrics"));
    assert_eq!((head.status, head.body.len()), (200, 0));
}

#[test]
fn other_paths_and_methods() {
    let r = registry();
    for path in ["/", "/metrics/", "/Metrics", "metrics", "/metricsx", ""] {
        assert_eq!(r.handle(&MetricsRequest::new("GET", path)).status, 404, "{path:?}");
    }
    for method in ["POST", "PUT", "DELETE", "get", "OPTIONS", ""] {
        let response = r.handle(&MetricsRequest::new(method, "/metrics"));
        assert_eq!(
            (response.status, response.allow),
            (405, Some("GET, HEAD")),
            "{method:?}"
        );
    }
    let custom = r.handle_at("/internal/m", &MetricsRequest::new("GET", "/internal/m"));
    assert_eq!(custom.status, 200);
}

#[test]
fn gzip_when_accept_encoding_allows_it() {
    static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
    let registry = Registry::new();
    registry.register(&UP).unwrap();
    let with = |method, accept_encoding| MetricsRequest {
        accept_encoding,
        ..MetricsRequest::new(method, "/metrics")
    };
    let response = registry.handle(&with("GET", Some("gzip")));
    assert_eq!((response.status, response.content_encoding), (200, Some("gzip")));
    let body = crate::inflate::gunzip(&response.body).unwrap();
    assert_eq!(body, registry.render().as_bytes());

    // A HEAD gets the headers of a GET, without the body.
    let response = registry.handle(&with("HEAD", Some("gzip")));
    assert_eq!((response.content_encoding, response.body.len()), (Some("gzip"), 0));

    for refused in [None, Some(""), Some("identity"), Some("gzip;q=0"), Some("br")] {
        let response = registry.handle(&with("GET", refused));
        assert_eq!(response.content_encoding, None, "{refused:?}");
        assert_eq!(response.body, registry.render().as_bytes());
    }
    // Errors are never compressed.
    let response = registry.handle(&MetricsRequest {
        accept_encoding: Some("gzip"),
        ..MetricsRequest::new("GET", "/other")
    });
    assert_eq!((response.status, response.content_encoding), (404, None));
}

#[test]
fn accept_headers_without_openmetrics_get_the_text_format() {
    let registry = Registry::new();
    for accept in [
        None,
        Some("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
        // Protobuf alone gets protobuf (see `protobuf.rs`); refused, text.
        Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0"),
        Some("image/png"),
        Some("\"garbage"),
    ] {
        let response = registry.handle(&MetricsRequest {
            accept,
            ..MetricsRequest::new("GET", "/metrics")
        });
        assert_eq!(
            (response.status, response.content_type),
            (200, crate::TEXT_SCRAPE),
            "{accept:?}"
        );
    }
}
