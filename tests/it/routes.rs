//! The route table: exact exposition, concurrency, in-flight, panics.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use bareprom::{Registry, RouteTable, UNMATCHED_ROUTE};

use crate::oracle::Value;
use crate::{check, parse};

#[test]
fn scripted_requests_render_exactly() {
    static ROUTES: RouteTable = RouteTable::with_buckets("molecule_", &[0.01, 0.1]);
    let r = Registry::new();
    r.register(&ROUTES).unwrap();
    ROUTES.record("GET", "/users/:id", 200, Duration::from_millis(5));
    ROUTES.record("GET", "/users/:id", 200, Duration::from_millis(50));
    ROUTES.record("get", "", 404, Duration::from_millis(500)); // lowercase: not a standard method
    let request = ROUTES.start("POST", "/orders");
    check(
        &r,
        r#"# HELP molecule_http_requests_total HTTP requests served, by method, route and status.
# TYPE molecule_http_requests_total counter
molecule_http_requests_total{method="GET",route="/users/:id",status="200"} 2
molecule_http_requests_total{method="other",route="unmatched",status="404"} 1
# HELP molecule_http_request_duration_seconds HTTP request latency, by method, route and status.
# TYPE molecule_http_request_duration_seconds histogram
molecule_http_request_duration_seconds_bucket{method="GET",route="/users/:id",status="200",le="0.01"} 1
molecule_http_request_duration_seconds_bucket{method="GET",route="/users/:id",status="200",le="0.1"} 2
molecule_http_request_duration_seconds_bucket{method="GET",route="/users/:id",status="200",le="+Inf"} 2
molecule_http_request_duration_seconds_sum{method="GET",route="/users/:id",status="200"} 0.055
molecule_http_request_duration_seconds_count{method="GET",route="/users/:id",status="200"} 2
molecule_http_request_duration_seconds_bucket{method="other",route="unmatched",status="404",le="0.01"} 0
molecule_http_request_duration_seconds_bucket{method="other",route="unmatched",status="404",le="0.1"} 0
molecule_http_request_duration_seconds_bucket{method="other",route="unmatched",status="404",le="+Inf"} 1
molecule_http_request_duration_seconds_sum{method="other",route="unmatched",status="404"} 0.5
molecule_http_request_duration_seconds_count{method="other",route="unmatched",status="404"} 1
# HELP molecule_http_requests_in_flight HTTP requests being handled, by method and route.
# TYPE molecule_http_requests_in_flight gauge
molecule_http_requests_in_flight{method="POST",route="/orders"} 1
# HELP molecule_http_request_panics_total HTTP handlers that panicked, by method and route.
# TYPE molecule_http_request_panics_total counter
# HELP bareprom_series_dropped_total Lookups of new label sets sent to the overflow series by the series limit.
# TYPE bareprom_series_dropped_total counter
bareprom_series_dropped_total{family="molecule_http_requests_total"} 0
"#,
    );
    request.finish(201);
    assert_eq!(ROUTES.in_flight("POST", "/orders"), 0);
    assert_eq!(ROUTES.requests("POST", "/orders", 201), 1);
    assert_eq!(ROUTES.requests("GET", UNMATCHED_ROUTE, 404), 0);
    assert_eq!(
        ROUTES.requests("BREW", UNMATCHED_ROUTE, 404),
        1,
        "BREW is `other`, like `get`"
    );
}

#[test]
fn statuses_outside_100_to_999_are_other() {
    static ROUTES: RouteTable = RouteTable::new("st_");
    for status in [0, 99, 1000, u16::MAX] {
        ROUTES.record("GET", "/", status, Duration::ZERO);
    }
    ROUTES.record("GET", "/", 100, Duration::ZERO);
    ROUTES.record("GET", "/", 999, Duration::ZERO);
    let r = Registry::new();
    r.register(&ROUTES).unwrap();
    let exposition = parse(&r.render());
    let requests = |status: &str| {
        exposition.value(
            "st_http_requests_total",
            &[("method", "GET"), ("route", "/"), ("status", status)],
        )
    };
    assert!(matches!(requests("other"), Some(Value::Int(4))));
    assert!(matches!(requests("100"), Some(Value::Int(1))));
    assert!(matches!(requests("999"), Some(Value::Int(1))));
}

#[test]
fn a_panicking_handler_is_counted_and_later_scrapes_work() {
    static ROUTES: RouteTable = RouteTable::new("pn_");
    let r = Arc::new(Registry::new());
    r.register(&ROUTES).unwrap();
    let handler = thread::spawn(|| {
        let _request = ROUTES.start("GET", "/boom");
        panic!("handler bug");
    });
    assert!(handler.join().is_err());
    assert_eq!(ROUTES.panics("GET", "/boom"), 1);
    assert_eq!(
        ROUTES.in_flight("GET", "/boom"),
        0,
        "the guard left in-flight on unwind"
    );
    // An unfinished but not panicking request is not a panic.
    drop(ROUTES.start("GET", "/early-return"));
    assert_eq!(ROUTES.panics("GET", "/early-return"), 0);
    ROUTES.record("GET", "/boom", 200, Duration::from_millis(1));
    let text = r.render();
    parse(&text);
    assert!(
        text.contains("pn_http_request_panics_total{method=\"GET\",route=\"/boom\"} 1\n"),
        "{text}"
    );
}

#[test]
fn concurrent_recording_while_scraping_is_exact() {
    static ROUTES: RouteTable = RouteTable::new("cr_");
    const PER_THREAD: u64 = 50_000;
    let r = Arc::new(Registry::new());
    r.register(&ROUTES).unwrap();
    let routes = ["/a", "/b/:id", "/c"];
    let writers: Vec<_> = (0..3)
        .map(|t| {
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let route = routes[(i % 3) as usize];
                    if t == 0 {
                        ROUTES.start("GET", route).finish(200);
                    } else {
                        ROUTES.record("GET", route, 200, Duration::from_micros(i % 1000));
                    }
                }
            })
        })
        .collect();
    let scraper = {
        let r = Arc::clone(&r);
        thread::spawn(move || {
            let mut scrapes = 0;
            while scrapes < 50 {
                parse(&r.render());
                scrapes += 1;
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    scraper.join().unwrap();
    let total: u64 = routes.iter().map(|route| ROUTES.requests("GET", route, 200)).sum();
    assert_eq!(total, 3 * PER_THREAD);
    assert!(routes.iter().all(|route| ROUTES.in_flight("GET", route) == 0));
    parse(&r.render());
}

#[test]
fn route_tables_clash_like_any_family() {
    static A: RouteTable = RouteTable::new("x_");
    static B: RouteTable = RouteTable::new("x_");
    static C: bareprom::Counter = bareprom::Counter::new("x_http_requests_total", "Clash.");
    let r = Registry::new();
    r.register(&A).unwrap();
    assert_eq!(r.register(&B).unwrap_err().kind(), bareprom::ErrorKind::DuplicateMetric);
    assert_eq!(r.register(&C).unwrap_err().kind(), bareprom::ErrorKind::DuplicateMetric);
    assert_eq!(
        RouteTable::try_new("1bad", vec![1.0]).unwrap_err().kind(),
        bareprom::ErrorKind::InvalidMetricName
    );
    assert_eq!(
        RouteTable::try_new("ok_", vec![]).unwrap_err().kind(),
        bareprom::ErrorKind::InvalidBuckets
    );
}

#[test]
fn a_schema_renames_the_labels_and_adds_the_seconds_counter() {
    use bareprom::{CANCELLED_STATUS, RouteSchema};
    static GIN: RouteTable = RouteTable::with_schema(
        "gin_",
        &[0.1],
        RouteSchema::new()
            .route_label("path")
            .status_label("code")
            .seconds_total(true),
    );
    let r = Registry::new();
    r.register(&GIN).unwrap();
    GIN.record("GET", "/users/:id", 200, Duration::from_millis(250));
    GIN.record("GET", "/users/:id", 200, Duration::from_millis(500));
    GIN.start("GET", "/export").cancel();
    GIN.record_panic("POST", "/orders");
    GIN.record("POST", "/orders", 500, Duration::ZERO);
    assert_eq!(GIN.requests("GET", "/export", CANCELLED_STATUS), 1);
    let text = r.render();
    // The cancelled request's time is measured, so its two lines are
    // compared with each other instead of with a literal.
    let export = |name: &str| {
        let head = format!("{name}{{method=\"GET\",path=\"/export\",code=\"499\"}} ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("{head}\n{text}"));
        line[head.len()..].to_owned()
    };
    assert_eq!(
        export("gin_http_request_duration_seconds_sum"),
        export("gin_http_request_seconds_total"),
        "the seconds counter is the histogram's sum"
    );
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("_bucket") && !l.starts_with('#') && !l.contains("/export\",code"))
        .collect();
    assert_eq!(
        lines,
        [
            "gin_http_requests_total{method=\"GET\",path=\"/users/:id\",code=\"200\"} 2",
            "gin_http_requests_total{method=\"POST\",path=\"/orders\",code=\"500\"} 1",
            "gin_http_request_duration_seconds_sum{method=\"GET\",path=\"/users/:id\",code=\"200\"} 0.75",
            "gin_http_request_duration_seconds_count{method=\"GET\",path=\"/users/:id\",code=\"200\"} 2",
            "gin_http_request_duration_seconds_sum{method=\"POST\",path=\"/orders\",code=\"500\"} 0",
            "gin_http_request_duration_seconds_count{method=\"POST\",path=\"/orders\",code=\"500\"} 1",
            "gin_http_request_seconds_total{method=\"GET\",path=\"/users/:id\",code=\"200\"} 0.75",
            "gin_http_request_seconds_total{method=\"POST\",path=\"/orders\",code=\"500\"} 0",
            "gin_http_requests_in_flight{method=\"GET\",path=\"/export\"} 0",
            "gin_http_request_panics_total{method=\"POST\",path=\"/orders\"} 1",
            "bareprom_series_dropped_total{family=\"gin_http_requests_total\"} 0",
        ],
        "{text}"
    );
    assert!(
        text.contains("# TYPE gin_http_request_seconds_total counter\n"),
        "{text}"
    );
    parse(&text);
    if let Some(findings) = crate::web::promtool(&text) {
        assert!(findings.trim().is_empty(), "promtool: {findings}\n{text}");
    }
}

#[test]
fn a_schema_renames_the_histogram_and_the_seconds_counter() {
    use bareprom::{ErrorKind, HTTP_BUCKETS, RouteSchema};

    let schema = RouteSchema::new()
        .histogram_name("http_request_latency_seconds")
        .seconds_total_name("http_request_duration_seconds_total");
    let table = Arc::new(RouteTable::try_with_schema("m_", &[0.5][..], schema).unwrap());
    let registry = Registry::new().without_health();
    registry.register_arc(Arc::clone(&table)).unwrap();
    table.record("GET", "/", 200, Duration::from_millis(250));
    check(
        &registry,
        "# HELP m_http_requests_total HTTP requests served, by method, route and status.\n\
         # TYPE m_http_requests_total counter\n\
         m_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 1\n\
         # HELP m_http_request_latency_seconds HTTP request latency, by method, route and status.\n\
         # TYPE m_http_request_latency_seconds histogram\n\
         m_http_request_latency_seconds_bucket{method=\"GET\",route=\"/\",status=\"200\",le=\"0.5\"} 1\n\
         m_http_request_latency_seconds_bucket{method=\"GET\",route=\"/\",status=\"200\",le=\"+Inf\"} 1\n\
         m_http_request_latency_seconds_sum{method=\"GET\",route=\"/\",status=\"200\"} 0.25\n\
         m_http_request_latency_seconds_count{method=\"GET\",route=\"/\",status=\"200\"} 1\n\
         # HELP m_http_request_duration_seconds_total Seconds spent handling HTTP requests, by method, route and status.\n\
         # TYPE m_http_request_duration_seconds_total counter\n\
         m_http_request_duration_seconds_total{method=\"GET\",route=\"/\",status=\"200\"} 0.25\n\
         # HELP m_http_requests_in_flight HTTP requests being handled, by method and route.\n\
         # TYPE m_http_requests_in_flight gauge\n\
         # HELP m_http_request_panics_total HTTP handlers that panicked, by method and route.\n\
         # TYPE m_http_request_panics_total counter\n",
    );

    // The seconds counter claims its base name: next to a histogram of
    // that name the table is refused, as two families would be.
    let clash = RouteSchema::new().seconds_total_name("http_request_duration_seconds_total");
    let clashing = RouteTable::try_with_schema("m_", &HTTP_BUCKETS[..], clash).unwrap();
    assert!(Registry::new().register_arc(Arc::new(clashing)).is_err());

    let bad = RouteSchema::new().histogram_name("0bad");
    let err = RouteTable::try_with_schema("m_", &HTTP_BUCKETS[..], bad).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidMetricName);
    let bad = RouteSchema::new().seconds_total_name("bad-name_total");
    let err = RouteTable::try_with_schema("m_", &HTTP_BUCKETS[..], bad).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidMetricName);
}
