//! Feature `hyper`: the metrics service and the instrumenting wrapper in a
//! real hyper 1.x server on 127.0.0.1:0, driven by a blocking std client.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use bareprom::{
    Collect, CounterVec, DeadlineTimer, HyperTimer, Instrument, MetricsService, Registry, RouteTable, Scrape,
    UNMATCHED_ROUTE,
};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::web::{Client, fetch, int, millis, runtime, scrape, wait_until};

type Body = Full<Bytes>;

/// What the handlers share: a lock a panicking handler may hold, and a
/// family the handlers bump.
#[derive(Default)]
struct State {
    hits: Mutex<u64>,
}

static HANDLED: CounterVec<1> = CounterVec::new("hyper_test_handled_total", "Handled, by route.", ["route"]);

fn route_of(request: &Request<Incoming>) -> &'static str {
    match request.uri().path() {
        "/hello" => "/hello",
        "/panic" => "/panic",
        "/panic-call" => "/panic-call",
        "/slow" => "/slow",
        "/lock" => "/lock",
        "/hits" => "/hits",
        _ => UNMATCHED_ROUTE,
    }
}

async fn handle(request: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, Infallible> {
    let reply = |status: u16, body: String| {
        let mut response = Response::new(Full::from(body));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        Ok(response)
    };
    match request.uri().path() {
        "/hello" => {
            HANDLED.with(["/hello"]).inc();
            reply(200, "hello\n".into())
        }
        "/panic" => {
            let _held = HANDLED.with(["/panic"]);
            panic!("handler bug")
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(millis(request.uri().query()))).await;
            reply(200, "slept\n".into())
        }
        "/lock" => {
            // Poisons the application's own lock, and panics while holding
            // a bareprom handle.
            let mut hits = state.hits.lock().unwrap_or_else(PoisonError::into_inner);
            *hits += 1;
            HANDLED.with(["/lock"]).inc();
            panic!("panics while holding the lock")
        }
        "/hits" => {
            let hits = *state.hits.lock().unwrap_or_else(PoisonError::into_inner);
            reply(200, format!("{hits}\n"))
        }
        _ => reply(404, "not found\n".into()),
    }
}

/// The application service, panicking in `call` itself on `/panic-call`.
fn app(
    state: &Arc<State>,
) -> impl hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ 'static {
    let state = Arc::clone(state);
    service_fn(move |request: Request<Incoming>| {
        assert!(request.uri().path() != "/panic-call", "panic in call");
        handle(request, Arc::clone(&state))
    })
}

/// Serves `service` on 127.0.0.1:0 from `runtime`, one task per connection.
pub(crate) fn serve<S>(runtime: &tokio::runtime::Runtime, service: S) -> std::net::SocketAddr
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let connection = hyper::server::conn::http1::Builder::new();
                drop(connection.serve_connection(TokioIo::new(stream), service).await);
            });
        }
    });
    addr
}

struct Setup {
    registry: Arc<Registry>,
    table: Arc<RouteTable>,
    state: Arc<State>,
    hook_calls: Arc<AtomicUsize>,
    /// Every panic report, as `method route: message`.
    reports: Arc<Mutex<Vec<String>>>,
}

fn setup(prefix: &str, bounds: &[f64]) -> Setup {
    let registry = Arc::new(Registry::new());
    let table = Arc::new(RouteTable::try_new(prefix.to_owned(), bounds.to_vec()).unwrap());
    registry.register_arc(Arc::clone(&table)).unwrap();
    Setup {
        registry,
        table,
        state: Arc::new(State::default()),
        hook_calls: Arc::new(AtomicUsize::new(0)),
        reports: Arc::default(),
    }
}

impl Setup {
    /// The instrumented application with `/metrics` beside it.
    fn service(
        &self,
        deadline: Option<Duration>,
    ) -> impl hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible, Future: Send>
    + Clone
    + Send
    + 'static {
        self.service_timed(deadline.map(|after| (after, HyperTimer(TokioTimer::new()))))
    }

    fn service_timed(
        &self,
        deadline: Option<(Duration, impl DeadlineTimer + 'static)>,
    ) -> impl hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible, Future: Send>
    + Clone
    + Send
    + 'static {
        let calls = Arc::clone(&self.hook_calls);
        let reports = Arc::clone(&self.reports);
        let mut app = Instrument::new(app(&self.state), Arc::clone(&self.table))
            .classify(route_of)
            .on_panic(move |report| {
                calls.fetch_add(1, Ordering::Relaxed);
                let line = format!("{} {}: {}", report.method(), report.route(), report.message());
                reports.lock().unwrap_or_else(PoisonError::into_inner).push(line);
            });
        if let Some((after, timer)) = deadline {
            app = app.deadline(after, timer);
        }
        MetricsService::<Body, _>::new(Arc::clone(&self.registry)).beside(app)
    }

    fn requests(&self, method: &str, route: &str, status: u16) -> u64 {
        self.table.requests(method, route, status)
    }
}

#[test]
fn scripted_requests_give_exact_counts_and_labels() {
    let runtime = runtime();
    let s = setup("hs_", &bareprom::HTTP_BUCKETS);
    let addr = serve(&runtime, s.service(None));
    let mut client = Client::connect(addr);
    for _ in 0..3 {
        let reply = client.send("GET", "/hello");
        assert_eq!((reply.status, reply.text().as_str()), (200, "hello\n"));
    }
    assert_eq!(client.send("POST", "/hello").status, 200);
    assert_eq!(client.send("GET", "/users/42?x=1").status, 404);
    assert_eq!(client.send("DELETE", "/nope").status, 404);
    assert_eq!(client.send("BREW", "/coffee").status, 404);

    // The metrics service: GET, HEAD with the GET's length, 405 with Allow.
    let get = client.send("GET", "/metrics");
    let head = client.send("HEAD", "/metrics");
    assert_eq!((get.status, head.status), (200, 200));
    assert_eq!(head.header("content-type"), Some(crate::TEXT_SCRAPE));
    assert_eq!(head.header("content-length"), Some(get.body.len().to_string().as_str()));
    let post = client.send("POST", "/metrics?x=1");
    assert_eq!((post.status, post.header("allow")), (405, Some("GET, HEAD")));
    assert_eq!(get.header("content-encoding"), None);
    assert_eq!(get.header("vary"), Some("accept-encoding"));

    // Accept-Encoding reaches the handler: a gzip body that inflates to the
    // plain one, and a HEAD with the gzip body's length.
    let gzip = client.send_with("GET", "/metrics", "Accept-Encoding: gzip\r\n");
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(gzip.header("vary"), Some("accept-encoding"));
    assert_eq!(crate::inflate::gunzip(&gzip.body).unwrap(), get.body);
    let gzip_head = client.send_with("HEAD", "/metrics", "Accept-Encoding: gzip\r\n");
    assert_eq!(
        gzip_head.header("content-length"),
        Some(gzip.body.len().to_string().as_str())
    );

    let exposition = scrape(addr);
    let requests = |method: &str, route: &str, status: &str| {
        int(exposition.value(
            "hs_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        ))
    };
    assert_eq!(requests("GET", "/hello", "200"), 3);
    assert_eq!(requests("POST", "/hello", "200"), 1);
    assert_eq!(
        requests("GET", "unmatched", "404"),
        1,
        "the raw path never becomes a label"
    );
    assert_eq!(requests("DELETE", "unmatched", "404"), 1);
    assert_eq!(requests("other", "unmatched", "404"), 1);
    let family = exposition.family("hs_http_requests_total").unwrap();
    assert_eq!(family.samples.len(), 5, "nothing else, /metrics included: {family:?}");
    assert_eq!(
        int(exposition.value("hs_http_requests_in_flight", &[("method", "GET"), ("route", "/hello")])),
        0
    );
    assert_eq!(s.hook_calls.load(Ordering::Relaxed), 0);
}

#[test]
fn a_slow_route_lands_in_its_bucket() {
    let runtime = runtime();
    let s = setup("hb_", &[0.1, 30.0]);
    let addr = serve(&runtime, s.service(None));
    assert_eq!(fetch(addr, "GET", "/slow?ms=150").status, 200);
    let exposition = scrape(addr);
    let bucket = |le: &str| {
        int(exposition.value(
            "hb_http_request_duration_seconds_bucket",
            &[("method", "GET"), ("route", "/slow"), ("status", "200"), ("le", le)],
        ))
    };
    assert_eq!((bucket("0.1"), bucket("30"), bucket("+Inf")), (0, 1, 1));
    let sum = exposition
        .value(
            "hb_http_request_duration_seconds_sum",
            &[("method", "GET"), ("route", "/slow"), ("status", "200")],
        )
        .unwrap()
        .as_f64();
    assert!((0.15..30.0).contains(&sum), "{sum}");
}

#[test]
fn a_hundred_panics_are_answered_counted_and_leave_every_route_working() {
    let runtime = runtime();
    let s = setup("hp_", &bareprom::HTTP_BUCKETS);
    let addr = serve(&runtime, s.service(None));
    let mut client = Client::connect(addr);
    for i in 0..100 {
        let reply = client.send("GET", "/panic");
        assert_eq!(reply.status, 500, "request {i}");
        assert!(reply.body.is_empty());
    }
    assert_eq!(s.table.panics("GET", "/panic"), 100);
    assert_eq!(s.requests("GET", "/panic", 500), 100);
    assert_eq!(s.hook_calls.load(Ordering::Relaxed), 100);
    let reports = s.reports.lock().unwrap().clone();
    assert!(reports.iter().all(|r| r == "GET /panic: handler bug"), "{reports:?}");

    // The same connection and fresh ones keep answering every route.
    assert_eq!(client.send("GET", "/hello").status, 200);
    assert_eq!(fetch(addr, "GET", "/hello").status, 200);
    assert_eq!(fetch(addr, "GET", "/slow?ms=1").status, 200);
    assert_eq!(fetch(addr, "GET", "/nope").status, 404);
    let exposition = scrape(addr);
    assert_eq!(
        int(exposition.value(
            "hp_http_request_panics_total",
            &[("method", "GET"), ("route", "/panic")]
        )),
        100
    );
    assert_eq!(
        int(exposition.value("hp_http_requests_in_flight", &[("method", "GET"), ("route", "/panic")])),
        0
    );
    assert_eq!(s.requests("GET", "/hello", 200), 2);
}

#[test]
fn a_panic_in_call_is_answered_and_counted() {
    let runtime = runtime();
    let s = setup("hc_", &bareprom::HTTP_BUCKETS);
    let addr = serve(&runtime, s.service(None));
    for _ in 0..3 {
        assert_eq!(fetch(addr, "GET", "/panic-call").status, 500);
    }
    assert_eq!(s.table.panics("GET", "/panic-call"), 3);
    assert_eq!(s.requests("GET", "/panic-call", 500), 3);
    assert_eq!(s.table.in_flight("GET", "/panic-call"), 0);
    assert_eq!(s.hook_calls.load(Ordering::Relaxed), 3);
    assert_eq!(s.reports.lock().unwrap()[0], "GET /panic-call: panic in call");
    assert_eq!(fetch(addr, "GET", "/hello").status, 200);
}

#[test]
fn a_client_gone_mid_request_is_recorded_as_499_and_leaves_in_flight_at_zero() {
    let runtime = runtime();
    let s = setup("hd_", &bareprom::HTTP_BUCKETS);
    let addr = serve(&runtime, s.service(None));
    let mut client = Client::connect(addr);
    client.start("GET", "/slow?ms=8000");
    wait_until("the slow request is in flight", || {
        s.table.in_flight("GET", "/slow") == 1
    });
    drop(client);
    wait_until("the dropped request is recorded", || {
        s.requests("GET", "/slow", bareprom::CANCELLED_STATUS) == 1
    });
    assert_eq!(s.table.in_flight("GET", "/slow"), 0);
    assert_eq!(s.requests("GET", "/slow", 200), 0);
    assert_eq!(s.table.panics("GET", "/slow"), 0);
    let exposition = scrape(addr);
    assert_eq!(
        int(exposition.value(
            "hd_http_requests_total",
            &[("method", "GET"), ("route", "/slow"), ("status", "499")]
        )),
        1
    );
}

#[test]
fn a_request_past_the_deadline_is_answered_504_and_counted() {
    let runtime = runtime();
    let s = setup("ht_", &bareprom::HTTP_BUCKETS);
    let addr = serve(&runtime, s.service(Some(Duration::from_millis(100))));
    let reply = fetch(addr, "GET", "/slow?ms=8000");
    assert_eq!(reply.status, 504);
    assert_eq!(s.requests("GET", "/slow", 504), 1);
    assert_eq!(s.table.in_flight("GET", "/slow"), 0);
    // Within the deadline nothing changes.
    assert_eq!(fetch(addr, "GET", "/slow?ms=1").status, 200);
    assert_eq!(fetch(addr, "GET", "/hello").status, 200);
    assert_eq!(s.requests("GET", "/slow", 200), 1);
    let exposition = scrape(addr);
    assert_eq!(
        int(exposition.value(
            "ht_http_requests_total",
            &[("method", "GET"), ("route", "/slow"), ("status", "504")]
        )),
        1
    );
}

#[test]
fn two_thousand_requests_from_sixteen_clients_give_exact_totals() {
    let runtime = runtime();
    let s = setup("hx_", &bareprom::HTTP_BUCKETS);
    let addr = serve(&runtime, s.service(None));
    let clients: Vec<_> = (0..16)
        .map(|c| {
            thread::spawn(move || {
                let mut client = Client::connect(addr);
                for i in 0..125 {
                    let (target, want) = if (c + i) % 5 == 0 {
                        ("/nope", 404)
                    } else {
                        ("/hello", 200)
                    };
                    assert_eq!(client.send("GET", target).status, want);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let hello = (0..16)
        .map(|c| (0..125).filter(|i| (c + i) % 5 != 0).count() as u64)
        .sum::<u64>();
    assert_eq!(s.requests("GET", "/hello", 200), hello);
    assert_eq!(s.requests("GET", UNMATCHED_ROUTE, 404), 2000 - hello);
    let exposition = scrape(addr);
    let count = |route: &str, status: &str| {
        int(exposition.value(
            "hx_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", route), ("status", status)],
        ))
    };
    assert_eq!(count("/hello", "200") + count("unmatched", "404"), 2000);
    assert_eq!(s.table.in_flight("GET", "/hello"), 0);
}

/// A scrape-time collector reading the lock the handler poisons, the way
/// application code does (`unwrap`): its panic is caught by the registry.
struct Hits(Arc<State>);

impl Collect for Hits {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.gauge(
            "hyper_test_hits",
            "Lock holders so far.",
            *self.0.hits.lock().unwrap() as i64,
        );
    }
}

#[test]
fn a_lock_poisoned_by_a_panicking_handler_reaches_no_bareprom_path() {
    let runtime = runtime();
    let s = setup("hl_", &bareprom::HTTP_BUCKETS);
    s.registry.register(&HANDLED).unwrap();
    s.registry
        .register_collector("hits", Hits(Arc::clone(&s.state)))
        .unwrap();
    let addr = serve(&runtime, s.service(None));
    for _ in 0..3 {
        assert_eq!(fetch(addr, "GET", "/lock").status, 500);
    }
    assert!(s.state.hits.is_poisoned());
    // The application reads its poisoned lock through into_inner...
    assert_eq!(fetch(addr, "GET", "/hits").text(), "3\n");
    // ...and every bareprom path keeps working: the table, the family the
    // handler held, the registry (its collector's panic is left out and
    // counted), the metrics endpoint.
    assert_eq!(s.table.panics("GET", "/lock"), 3);
    assert_eq!(fetch(addr, "GET", "/hello").status, 200);
    for scrape_number in 1..=2 {
        let exposition = scrape(addr);
        assert!(exposition.family("hyper_test_hits").is_none());
        assert_eq!(
            int(exposition.value("bareprom_collector_panics_total", &[("collector", "hits")])),
            scrape_number
        );
        assert_eq!(
            int(exposition.value("hyper_test_handled_total", &[("route", "/lock")])),
            3
        );
        assert_eq!(
            int(exposition.value("hl_http_request_panics_total", &[("method", "GET"), ("route", "/lock")])),
            3
        );
    }
}

/// A timer that panics making its sleep for 1 ms, and while polling it
/// otherwise.
struct BrokenTimer;

impl DeadlineTimer for BrokenTimer {
    fn sleep(&self, duration: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        assert!(duration != Duration::from_millis(1), "timer bug");
        Box::pin(async { panic!("sleep bug") })
    }
}

#[test]
fn a_panicking_timer_is_answered_like_a_panicking_handler() {
    let runtime = runtime();
    for (after, message) in [(1, "timer bug"), (2, "sleep bug")] {
        let s = setup("hz_", &bareprom::HTTP_BUCKETS);
        let addr = serve(
            &runtime,
            s.service_timed(Some((Duration::from_millis(after), BrokenTimer))),
        );
        assert_eq!(fetch(addr, "GET", "/slow?ms=50").status, 500, "{message}");
        assert_eq!(s.table.panics("GET", "/slow"), 1, "{message}");
        assert_eq!(s.requests("GET", "/slow", 500), 1, "{message}");
        assert_eq!(s.table.in_flight("GET", "/slow"), 0, "{message}");
        assert_eq!(s.reports.lock().unwrap().as_slice(), [format!("GET /slow: {message}")]);
        assert_eq!(fetch(addr, "GET", "/metrics").status, 200);
    }
}

/// Polls a future that needs no I/O to completion.
fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[test]
fn an_inner_error_is_passed_on_and_recorded_as_500_and_a_dropped_future_as_499() {
    use http_body_util::Empty;
    use hyper::service::Service;

    let table = Arc::new(RouteTable::try_new("he_", bareprom::HTTP_BUCKETS.to_vec()).unwrap());
    let failing = service_fn(|request: Request<Empty<Bytes>>| async move {
        if request.uri().path() == "/fail" {
            Err("backend down")
        } else {
            Ok(Response::new(Full::<Bytes>::from("ok")))
        }
    });
    let service =
        Instrument::new(failing, Arc::clone(&table)).classify(
            |r: &Request<Empty<Bytes>>| {
                if r.uri().path() == "/fail" { "/fail" } else { "/ok" }
            },
        );
    let request = |path: &str| Request::get(path).body(Empty::new()).unwrap();

    assert_eq!(ready(service.call(request("/fail"))).unwrap_err(), "backend down");
    assert_eq!(table.requests("GET", "/fail", 500), 1);
    assert_eq!(ready(service.call(request("/ok"))).unwrap().status(), 200);

    // Dropped before its first poll, as a server does when the client is
    // gone: recorded as cancelled, in flight back to zero.
    let pending = service.call(request("/ok"));
    assert_eq!(table.in_flight("GET", "/ok"), 1);
    drop(pending);
    assert_eq!(table.in_flight("GET", "/ok"), 0);
    assert_eq!(table.requests("GET", "/ok", bareprom::CANCELLED_STATUS), 1);
    assert_eq!(table.requests("GET", "/ok", 200), 1);
    assert_eq!(table.panics("GET", "/ok") + table.panics("GET", "/fail"), 0);
}

/// A real Prometheus scraping the hyper adapter: it negotiates `OpenMetrics`
/// and gzip on its own (as the std server's test shows, the handler is the
/// same), the target is up and the stored values are ours.
#[test]
fn real_prometheus_scrapes_the_hyper_adapter_in_openmetrics() {
    use std::io::{Read as _, Write as _};

    let setup = setup("hyper_prom_", &[0.1, 1.0]);
    let family = Arc::new(CounterVec::<1>::try_new("hyper_prom_jobs_total", "Jobs.", ["queue"]).unwrap());
    for (i, queue) in ["ä \"q\"", "b\\c", "plain"].iter().enumerate() {
        family.with([queue]).inc_by(1000 + i as u64);
    }
    setup.registry.register_arc(family).unwrap();
    let runtime = runtime();
    let addr = serve(&runtime, setup.service(None));
    // What Prometheus 2.42 asks for: the adapter answers in OpenMetrics.
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
        .write_all(
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\r\n",
        )
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-type: {}", crate::OPENMETRICS_SCRAPE)),
        "{head}"
    );
    crate::oracle_om::parse(body).unwrap();

    let Some(prometheus) = crate::prometheus::start_prometheus(addr) else {
        return crate::missing_program("prometheus");
    };
    let query =
        |q: &str| crate::prometheus::get(prometheus.port, &format!("/api/v1/query?query={q}")).unwrap_or_default();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !query("sum(hyper_prom_jobs_total)").contains("\"3003\"]") {
        assert!(
            std::time::Instant::now() < deadline,
            "prometheus never stored the sum 3003\ntargets: {}\nlog:\n{}",
            crate::prometheus::get(prometheus.port, "/api/v1/targets").unwrap_or_default(),
            crate::prometheus::log_tail(&prometheus.dir)
        );
        thread::sleep(Duration::from_millis(500));
    }
    let targets = crate::prometheus::get(prometheus.port, "/api/v1/targets").unwrap();
    assert!(
        targets.contains("\"health\":\"up\"") && targets.contains("\"lastError\":\"\""),
        "{targets}"
    );
    // One series by its exact label (`ä "q"`, URL-encoded).
    let one = query("hyper_prom_jobs_total%7Bqueue%3D%22%C3%A4%20%5C%22q%5C%22%22%7D");
    assert!(one.contains("\"1000\"]"), "{one}");
    // The scrapes themselves went through the instrumented service's
    // `/metrics` (not counted as a route) and were answered 200.
    assert_eq!(setup.requests("GET", UNMATCHED_ROUTE, 404), 0);
}
