//! Issue 17: the four real services' metrics, each driven through the very
//! code its example runs (the examples' `ports/` modules, included by
//! `#[path]`), then checked series by series, by the strict oracle and by
//! promtool.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bareprom::Registry;

#[cfg(feature = "hyper")]
use crate::oracle::Value;

#[path = "../../examples/ports/breaker.rs"]
mod breaker;
#[cfg(feature = "hyper")]
#[path = "../../examples/ports/isolation.rs"]
mod isolation;
#[cfg(feature = "hyper")]
#[path = "../../examples/ports/molecule.rs"]
mod molecule;
#[path = "../../examples/ports/wireframe.rs"]
mod wireframe;

/// The sample lines of `family` (its `_bucket`, `_sum`, `_count` too), in order.
fn samples<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(family).is_some_and(|rest| {
                rest.starts_with(['{', ' ']) || ["_bucket{", "_sum", "_count"].iter().any(|s| rest.starts_with(s))
            })
        })
        .collect()
}

/// The family names in order, those of the process collector left out.
fn families(text: &str) -> Vec<String> {
    let exposition = crate::parse(text);
    exposition
        .families
        .iter()
        .map(|f| f.name.clone())
        .filter(|name| !name.starts_with("process_"))
        .collect()
}

/// The oracle and promtool both accept `text`.
#[track_caller]
fn strict(text: &str) {
    crate::parse(text);
    crate::promtool::promtool_check(text);
}

/// The value of one sample, which must be there.
#[cfg(feature = "hyper")]
#[track_caller]
fn value_of(exposition: &crate::oracle::Exposition, name: &str, labels: &[(&str, &str)]) -> Value {
    exposition
        .value(name, labels)
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

#[track_caller]
fn assert_samples(text: &str, family: &str, expected: &[&str]) {
    assert_eq!(samples(text, family), expected, "family {family} in\n{text}");
}

#[test]
fn connection_panics_port_counts_three_panicked_tasks_and_keeps_accepting() {
    // A server of ours: the exclusive load tests measure with it idle.
    let _serial = crate::serve::shared();
    let registry = Registry::new().without_health();
    wireframe::register::<{ wireframe::METRICS }>(&registry).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || wireframe::accept_loop::<{ wireframe::METRICS }>(&listener, Some(5)));
    let mut answers = Vec::new();
    for line in ["panic\n", "hello\n", "panic\n", "panic\n", "still here\n"] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(line.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answers.push(answer);
    }
    server.join().unwrap().unwrap();
    assert_eq!(answers, ["", "hello\n", "", "", "still here\n"]);
    let text = registry.render();
    assert_eq!(
        text,
        "# HELP wireframe_connection_panics_total Connection tasks that panicked; the server kept accepting.\n\
         # TYPE wireframe_connection_panics_total counter\n\
         wireframe_connection_panics_total 3\n"
    );
    strict(&text);
}

#[test]
fn connection_panics_port_built_without_metrics_registers_and_counts_nothing() {
    // A server of ours: the exclusive load tests measure with it idle.
    let _serial = crate::serve::shared();
    let registry = Registry::new().without_health();
    wireframe::register::<false>(&registry).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || wireframe::accept_loop::<false>(&listener, Some(2)));
    for line in ["panic\n", "hello\n"] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(line.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, if line == "panic\n" { "" } else { line });
    }
    server.join().unwrap().unwrap();
    assert_eq!(registry.render(), "");
}

#[test]
fn circuit_breaker_port_drives_two_breakers_through_a_cycle_into_one_family_each() {
    let app = Registry::new();
    let cooldown = Duration::from_secs(30);
    let openai =
        breaker::Breaker::with_metrics(3, cooldown, &app.sub_registry("", &[("backend", "openai")]).unwrap()).unwrap();
    let anthropic =
        breaker::Breaker::with_metrics(3, cooldown, &app.sub_registry("", &[("backend", "anthropic")]).unwrap())
            .unwrap();
    let start = Instant::now();
    breaker::trip_and_recover(&openai, cooldown, start);
    // anthropic trips and recovers too, by another path: its probe fails
    // once (HALF_OPEN → OPEN) before one succeeds.
    for _ in 0..3 {
        anthropic
            .admit(start)
            .unwrap()
            .finish(false, Duration::from_secs(125), start);
    }
    assert_eq!(anthropic.state(), breaker::State::Open);
    let probe = start + cooldown;
    anthropic
        .admit(probe)
        .unwrap()
        .finish(false, Duration::from_millis(50), probe);
    assert_eq!(anthropic.state(), breaker::State::Open);
    let retry = probe + cooldown;
    anthropic
        .admit(retry)
        .unwrap()
        .finish(true, Duration::from_millis(300), retry);
    assert_eq!(anthropic.call(|| Ok::<_, ()>(7)), Ok(7));
    assert_eq!(anthropic.state(), breaker::State::Closed);

    let text = app.render();
    let want: Vec<String> = [
        "cb_state_transitions_total",
        "cb_requests_total",
        "cb_request_latency_seconds",
        "cb_current_state",
        "bareprom_series_dropped_total",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(families(&text)[..5], want[..], "{text}");
    assert_eq!(text.matches("# TYPE cb_requests_total counter\n").count(), 1);
    assert_samples(
        &text,
        "cb_state_transitions_total",
        &[
            r#"cb_state_transitions_total{backend="openai",from="closed",to="open"} 1"#,
            r#"cb_state_transitions_total{backend="openai",from="open",to="half_open"} 1"#,
            r#"cb_state_transitions_total{backend="openai",from="half_open",to="closed"} 1"#,
            r#"cb_state_transitions_total{backend="anthropic",from="closed",to="open"} 1"#,
            r#"cb_state_transitions_total{backend="anthropic",from="open",to="half_open"} 2"#,
            r#"cb_state_transitions_total{backend="anthropic",from="half_open",to="open"} 1"#,
            r#"cb_state_transitions_total{backend="anthropic",from="half_open",to="closed"} 1"#,
        ],
    );
    assert_samples(
        &text,
        "cb_requests_total",
        &[
            r#"cb_requests_total{backend="openai",outcome="success"} 1"#,
            r#"cb_requests_total{backend="openai",outcome="failure"} 3"#,
            r#"cb_requests_total{backend="openai",outcome="rejected_open"} 1"#,
            r#"cb_requests_total{backend="openai",outcome="rejected_half_open"} 1"#,
            r#"cb_requests_total{backend="anthropic",outcome="success"} 2"#,
            r#"cb_requests_total{backend="anthropic",outcome="failure"} 4"#,
            r#"cb_requests_total{backend="anthropic",outcome="rejected_open"} 0"#,
            r#"cb_requests_total{backend="anthropic",outcome="rejected_half_open"} 0"#,
        ],
    );
    assert_breaker_latency(&text);
    assert_samples(
        &text,
        "cb_current_state",
        &[
            r#"cb_current_state{backend="openai"} 0"#,
            r#"cb_current_state{backend="anthropic"} 0"#,
        ],
    );
    strict(&text);
}

#[test]
fn a_breaker_built_without_metrics_touches_no_registry() {
    let before = bareprom::render();
    let quiet = breaker::Breaker::new(3, Duration::from_secs(30));
    breaker::trip_and_recover(&quiet, Duration::from_secs(30), Instant::now());
    assert_eq!(quiet.call(|| Err::<(), _>("boom")), Err(Some("boom")));
    let after = bareprom::render();
    assert!(!before.contains("cb_") && !after.contains("cb_"), "{after}");
}

#[cfg(feature = "hyper")]
#[test]
fn gin_style_port_records_every_family_after_a_scripted_run() {
    use std::sync::Arc;

    use crate::web::fetch;

    let registry = Arc::new(Registry::new());
    molecule::register(&registry).unwrap();
    let runtime = crate::web::runtime();
    let addr = crate::hyper_adapter::serve(&runtime, molecule::service(Arc::clone(&registry)));

    // Before any sweep, every outcome is there at 0.
    let first = fetch(addr, "GET", "/metrics");
    assert_eq!(first.status, 200);
    let text = first.text();
    assert_samples(
        &text,
        "molecule_pending_uploads_swept_total",
        &[
            r#"molecule_pending_uploads_swept_total{outcome="acked"} 0"#,
            r#"molecule_pending_uploads_swept_total{outcome="expired"} 0"#,
            r#"molecule_pending_uploads_swept_total{outcome="error"} 0"#,
        ],
    );
    assert_samples(&text, "molecule_http_requests_total", &[]);
    strict(&text);

    let script = [
        ("GET", "/api/molecules/42", 200),
        ("GET", "/api/molecules/7", 200),
        ("POST", "/api/uploads", 201),
        ("GET", "/api/molecules/7/atoms", 404),
        ("GET", "/ws", 200),
        ("GET", "/ws", 200),
        ("GET", "/ws/close", 200),
        ("POST", "/admin/phantom-reset", 200),
        ("POST", "/admin/sweep", 200),
    ];
    for (method, target, status) in script {
        assert_eq!(fetch(addr, method, target).status, status, "{method} {target}");
    }
    let text = fetch(addr, "GET", "/metrics").text();
    let want = [
        "molecule_http_requests_total",
        "molecule_http_request_latency_seconds",
        "molecule_http_request_duration_seconds_total",
        "molecule_http_requests_in_flight",
        "molecule_http_request_panics_total",
        "molecule_websocket_connections_active",
        "molecule_phantom_busy_resets_total",
        "molecule_pending_uploads_swept_total",
        "bareprom_allocations_total",
        "bareprom_series_dropped_total",
        "bareprom_collector_panics_total",
    ]
    .map(String::from);
    assert_eq!(families(&text), want, "{text}");

    assert_gin_routes(&text);
    let exposition = crate::parse(&text);
    // The runtime block: heap, allocations, and on Linux the process
    // metrics with the thread count.
    let heap = exposition.value("process_heap_bytes", &[]).unwrap().as_f64();
    let allocations = exposition.value("bareprom_allocations_total", &[]).unwrap().as_f64();
    assert!(heap > 0.0 && allocations > 0.0, "{text}");
    #[cfg(target_os = "linux")]
    {
        let threads = exposition.value("process_threads", &[]).unwrap().as_f64();
        assert!(threads >= 3.0, "the test thread and two tokio workers: {threads}");
        for family in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
        ] {
            assert!(exposition.family(family).is_some(), "{family} in\n{text}");
        }
    }
    strict(&text);
}

#[cfg(feature = "hyper")]
#[test]
fn panic_isolation_port_survives_fifty_panics_with_exact_counts() {
    use std::sync::{Arc, PoisonError};

    use crate::web::fetch;

    let registry = Arc::new(Registry::new());
    isolation::register(&registry).unwrap();
    let shared = Arc::new(isolation::Shared::default());
    let runtime = crate::web::runtime();
    let service = isolation::service(
        Arc::clone(&registry),
        &shared,
        Duration::from_millis(100),
        Duration::from_secs(30),
    );
    let addr = crate::hyper_adapter::serve(&runtime, service);

    // Two rounds of five clients panicking the handler five times each,
    // all at once; after each round `/metrics` answers.
    for round in 1..=2 {
        let clients: Vec<_> = (0..5)
            .map(|_| {
                std::thread::spawn(move || {
                    (0..5)
                        .map(|_| fetch(addr, "POST", "/orders").status)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for client in clients {
            assert_eq!(client.join().unwrap(), [500; 5]);
        }
        let scrape = fetch(addr, "GET", "/metrics");
        assert_eq!(scrape.status, 200);
        let line = format!(
            r#"shop_http_request_panics_total{{method="POST",route="/orders"}} {}"#,
            round * 25
        );
        assert_samples(&scrape.text(), "shop_http_request_panics_total", &[line.as_str()]);
    }
    assert!(shared.orders.is_poisoned(), "the handler panicked holding the lock");

    // Every route still answers: the shared state, the slow route at its
    // deadline, an unknown path, and the metrics.
    let orders = fetch(addr, "GET", "/orders");
    assert_eq!((orders.status, orders.text().as_str()), (200, "50\n"));
    let started = Instant::now();
    assert_eq!(fetch(addr, "GET", "/report").status, 504);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered at the deadline, not after the 30 s handler"
    );
    assert_eq!(fetch(addr, "GET", "/nope").status, 404);
    let scrape = fetch(addr, "GET", "/metrics");
    assert_eq!(scrape.status, 200);
    let text = scrape.text();

    assert_isolation_metrics(&text);
    let log = shared.panic_log.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(
        log,
        vec!["POST /orders: order handler bug, with the orders lock held"; 50]
    );
    strict(&text);
}

/// The two breakers' latency histograms after their scripted runs.
#[track_caller]
fn assert_breaker_latency(text: &str) {
    let latency = samples(text, "cb_request_latency_seconds");
    let openai_buckets = [0, 0, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4];
    let anthropic_buckets = [2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 6];
    let bounds = [
        "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "20", "30", "60", "120", "+Inf",
    ];
    let mut want = Vec::new();
    for (backend, counts, sum, count) in [
        ("openai", openai_buckets, "6.5", 4),
        ("anthropic", anthropic_buckets, "", 6),
    ] {
        for (le, n) in bounds.iter().zip(counts) {
            want.push(format!(
                r#"cb_request_latency_seconds_bucket{{backend="{backend}",le="{le}"}} {n}"#
            ));
        }
        want.push(format!(
            r#"cb_request_latency_seconds_sum{{backend="{backend}"}} {sum}"#
        ));
        want.push(format!(
            r#"cb_request_latency_seconds_count{{backend="{backend}"}} {count}"#
        ));
    }
    // anthropic's last call was timed for real: its sum is 375.35 s plus
    // that call's few nanoseconds.
    let anthropic_sum = latency[26].rsplit(' ').next().unwrap().parse::<f64>().unwrap();
    assert!((375.35..375.36).contains(&anthropic_sum), "{}", latency[26]);
    latency[26].clone_into(&mut want[26]);
    assert_eq!(latency, want, "{text}");
}

/// The route families of the gin-style port after its scripted run.
#[cfg(feature = "hyper")]
#[track_caller]
fn assert_gin_routes(text: &str) {
    let series = [
        (r#"method="GET",path="/api/molecules/:id",status="200""#, 2),
        (r#"method="POST",path="/api/uploads",status="201""#, 1),
        (r#"method="GET",path="unmatched",status="404""#, 1),
        (r#"method="GET",path="/ws",status="200""#, 2),
        (r#"method="GET",path="/ws/close",status="200""#, 1),
        (r#"method="POST",path="/admin/phantom-reset",status="200""#, 1),
        (r#"method="POST",path="/admin/sweep",status="200""#, 1),
    ];
    let requests: Vec<String> = series
        .iter()
        .map(|(labels, n)| format!("molecule_http_requests_total{{{labels}}} {n}"))
        .collect();
    assert_eq!(samples(text, "molecule_http_requests_total"), requests, "{text}");
    // The summed seconds equal the recommended histogram's sum, series by
    // series, and its count is the request count.
    let exposition = crate::parse(text);
    let seconds = samples(text, "molecule_http_request_duration_seconds_total");
    assert_eq!(seconds.len(), series.len(), "{text}");
    for (labels, n) in series {
        let pairs: Vec<(&str, &str)> = labels
            .split(',')
            .map(|kv| kv.split_once('=').map(|(k, v)| (k, v.trim_matches('"'))).unwrap())
            .collect();
        let value = |name: &str| {
            exposition
                .value(name, &pairs)
                .unwrap_or_else(|| panic!("{name}{{{labels}}}"))
        };
        let sum = value("molecule_http_request_latency_seconds_sum");
        assert_eq!(value("molecule_http_request_duration_seconds_total"), sum);
        assert!(sum.as_f64() > 0.0 && sum.as_f64() < 10.0, "{labels}: {sum:?}");
        assert_eq!(value("molecule_http_request_latency_seconds_count"), Value::Int(n));
        let mut inf = pairs.clone();
        inf.push(("le", "+Inf"));
        assert_eq!(
            value_of(&exposition, "molecule_http_request_latency_seconds_bucket", &inf),
            Value::Int(n)
        );
    }
    assert_eq!(
        samples(text, "molecule_http_request_latency_seconds").len(),
        series.len() * 17
    );
    let idle = [
        r#"method="GET",path="/api/molecules/:id""#,
        r#"method="POST",path="/api/uploads""#,
        r#"method="GET",path="unmatched""#,
        r#"method="GET",path="/ws""#,
        r#"method="GET",path="/ws/close""#,
        r#"method="POST",path="/admin/phantom-reset""#,
        r#"method="POST",path="/admin/sweep""#,
    ]
    .map(|labels| format!("molecule_http_requests_in_flight{{{labels}}} 0"));
    assert_eq!(samples(text, "molecule_http_requests_in_flight"), idle, "{text}");
    assert_samples(text, "molecule_http_request_panics_total", &[]);
    assert_samples(
        text,
        "molecule_websocket_connections_active",
        &["molecule_websocket_connections_active 1"],
    );
    assert_samples(
        text,
        "molecule_phantom_busy_resets_total",
        &["molecule_phantom_busy_resets_total 1"],
    );
    assert_samples(
        text,
        "molecule_pending_uploads_swept_total",
        &[
            r#"molecule_pending_uploads_swept_total{outcome="acked"} 2"#,
            r#"molecule_pending_uploads_swept_total{outcome="expired"} 1"#,
            r#"molecule_pending_uploads_swept_total{outcome="error"} 1"#,
        ],
    );
}

/// The panic-isolation port's families after 50 panics and one request
/// to each other route.
#[cfg(feature = "hyper")]
#[track_caller]
fn assert_isolation_metrics(text: &str) {
    let want = [
        "shop_http_requests_total",
        "shop_http_request_duration_seconds",
        "shop_http_requests_in_flight",
        "shop_http_request_panics_total",
        "bareprom_series_dropped_total",
    ]
    .map(String::from);
    assert_eq!(families(text), want, "{text}");
    let series = [
        (("POST", "/orders", "500"), 50),
        (("GET", "/orders", "200"), 1),
        (("GET", "/report", "504"), 1),
        (("GET", "unmatched", "404"), 1),
    ];
    let requests: Vec<String> = series
        .iter()
        .map(|((method, route, status), n)| {
            format!(r#"shop_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}"#)
        })
        .collect();
    assert_eq!(samples(text, "shop_http_requests_total"), requests, "{text}");
    let exposition = crate::parse(text);
    for ((method, route, status), n) in series {
        let labels = [("method", method), ("route", route), ("status", status)];
        let count = value_of(&exposition, "shop_http_request_duration_seconds_count", &labels);
        assert_eq!(count, Value::Int(n), "{labels:?}");
    }
    let idle: Vec<String> = [
        ("POST", "/orders"),
        ("GET", "/orders"),
        ("GET", "/report"),
        ("GET", "unmatched"),
    ]
    .iter()
    .map(|(method, route)| format!(r#"shop_http_requests_in_flight{{method="{method}",route="{route}"}} 0"#))
    .collect();
    assert_eq!(samples(text, "shop_http_requests_in_flight"), idle, "{text}");
    assert_samples(
        text,
        "shop_http_request_panics_total",
        &[r#"shop_http_request_panics_total{method="POST",route="/orders"} 50"#],
    );
    assert_samples(
        text,
        "bareprom_series_dropped_total",
        &[r#"bareprom_series_dropped_total{family="shop_http_requests_total"} 0"#],
    );
}
