//! The framework-agnostic handler: statuses, headers and bodies.

use bareprom::{CONTENT_TYPE, Counter, MetricsRequest, Registry};

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
    assert_eq!((get.status, get.content_type, get.allow), (200, CONTENT_TYPE, None));
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
