//! UTF-8 names end to end with real scrapers that do not take them: a
//! Prometheus 2.42 (it sends no `escaping=allow-utf-8`) and a
//! VictoriaMetrics scrape a registry with UTF-8 metric, label and constant
//! label names through the std server and `Registry::handle`; both must get
//! the names escaped with underscores, and store the escaped series with
//! the values we exposed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareprom::{CounterVec, Gauge, HistogramVec, Registry, ServeOptions};

use crate::prometheus::{get, log_tail, start_prometheus};
use crate::victoria::start_victoria;

/// A registry with UTF-8 names and what its series are worth.
fn registry() -> Arc<Registry> {
    let registry = Arc::new(Registry::with_const_labels_utf8(&[("service.name", "e2e")]).unwrap());
    let requests = registry
        .register_owned(CounterVec::try_new_utf8("e2e.utf8.requests_total", "Requests.", ["http.method"]).unwrap())
        .unwrap();
    requests.with(["GET"]).inc_by(12_345);
    requests.with(["POST"]).inc_by(67);
    registry
        .register_owned(Gauge::try_new_utf8("e2e.utf8.active", "Active.").unwrap())
        .unwrap()
        .set(-4);
    let seconds = registry
        .register_owned(
            HistogramVec::try_with_buckets_utf8("e2e.utf8.seconds", "Time.", ["http.route"], vec![0.5]).unwrap(),
        )
        .unwrap();
    for v in [0.25, 0.75, 2.0] {
        seconds.with(["/a.b"]).observe(v);
    }
    registry
}

/// The server, how many answers it gave, how many were not
/// `underscores`-escaped, and the `Accept` headers it saw.
type Served = (
    bareprom::Server,
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
    Arc<Mutex<Vec<String>>>,
);

/// Serves `registry`, counting the answers whose content type is not
/// `underscores`-escaped and remembering the `Accept` headers; with
/// `text`, every scrape is answered as if it asked for the text format
/// 0.0.4 only (the answer Prometheus gets from a server without
/// OpenMetrics), so its content type must be taken too.
fn serve(registry: Arc<Registry>, text: bool) -> Served {
    let (answered, not_escaped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let accepts = Arc::new(Mutex::new(Vec::new()));
    let (a, n, seen) = (Arc::clone(&answered), Arc::clone(&not_escaped), Arc::clone(&accepts));
    let server = ServeOptions::new()
        .serve("127.0.0.1:0", move |request| {
            let text_only = bareprom::MetricsRequest {
                accept: Some("text/plain;version=0.0.4"),
                ..*request
            };
            let response = registry.handle(if text { &text_only } else { request });
            if text {
                assert_eq!(response.content_type, crate::TEXT_SCRAPE);
            }
            a.fetch_add(1, Ordering::Relaxed);
            if !response.content_type.ends_with("; escaping=underscores") {
                n.fetch_add(1, Ordering::Relaxed);
            }
            if let Ok(mut seen) = seen.lock() {
                seen.push(request.accept.unwrap_or_default().to_owned());
            }
            response
        })
        .unwrap();
    (server, answered, not_escaped, accepts)
}

/// The queries and the values they must give, URL-encoded.
const EXPECTED: [(&str, &str); 5] = [
    (
        "e2e_utf8_requests_total%7Bhttp_method%3D%22GET%22%2Cservice_name%3D%22e2e%22%7D",
        "12345",
    ),
    ("e2e_utf8_requests_total%7Bhttp_method%3D%22POST%22%7D", "67"),
    ("e2e_utf8_active", "-4"),
    (
        "e2e_utf8_seconds_bucket%7Bhttp_route%3D%22%2Fa.b%22%2Cle%3D%22%2BInf%22%7D",
        "3",
    ),
    ("e2e_utf8_seconds_sum", "3"),
];

fn wait_for_values(port: u16, what: &str, log: impl Fn() -> String) {
    let query = |q: &str| get(port, &format!("/api/v1/query?query={q}")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let all = EXPECTED
            .iter()
            .all(|(q, value)| query(q).contains(&format!("\"{value}\"]")));
        if all {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never stored the escaped series with our values: {:?}\nlog:\n{}",
            EXPECTED.map(|(q, _)| query(q)),
            log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn real_prometheus_2_stores_utf8_names_escaped_with_underscores() {
    prometheus_scrape(false);
}

#[test]
fn real_prometheus_2_takes_the_text_format_content_type_with_its_escaping() {
    prometheus_scrape(true);
}

fn prometheus_scrape(text: bool) {
    let (server, answered, not_escaped, accepts) = serve(registry(), text);
    let Some(prometheus) = start_prometheus(server.local_addr()) else {
        return crate::missing_program("prometheus");
    };
    wait_for_values(prometheus.port, "prometheus", || log_tail(&prometheus.dir));
    let targets = get(prometheus.port, "/api/v1/targets").unwrap();
    assert!(
        targets.contains("\"health\":\"up\"") && targets.contains("\"lastError\":\"\""),
        "{targets}"
    );
    // No series under a quoted or otherwise mangled name.
    let names = get(prometheus.port, "/api/v1/label/__name__/values").unwrap();
    assert!(
        !names.contains("e2e.utf8") && names.contains("e2e_utf8_active"),
        "{names}"
    );
    assert!(answered.load(Ordering::Relaxed) > 0);
    assert_eq!(
        not_escaped.load(Ordering::Relaxed),
        0,
        "an answer was not underscores-escaped; Accept headers: {:?}",
        accepts.lock().map(|a| a.clone()).unwrap_or_default()
    );
    drop(prometheus);
    server.stop();
}

#[test]
fn real_victoria_metrics_stores_utf8_names_escaped_with_underscores() {
    let (server, answered, not_escaped, _) = serve(registry(), false);
    let Some(victoria) = start_victoria(server.local_addr()) else {
        return crate::missing_program("victoria-metrics");
    };
    wait_for_values(victoria.port, "victoria-metrics", || {
        std::fs::read_to_string(victoria.dir.join("log")).unwrap_or_default()
    });
    assert!(answered.load(Ordering::Relaxed) > 0);
    assert_eq!(not_escaped.load(Ordering::Relaxed), 0);
    drop(victoria);
    server.stop();
}
