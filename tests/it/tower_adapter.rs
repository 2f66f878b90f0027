//! Feature `tower`: `InstrumentLayer` and `MetricsService` in a real axum
//! router on 127.0.0.1:0, routes named by `axum::extract::MatchedPath`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, RawQuery};
use axum::http::Request;
use axum::routing::get;
use bareprom::{DeadlineTimer, InstrumentLayer, MetricsService, Registry, RouteTable, UNMATCHED_ROUTE};

use crate::web::{Client, fetch, int, millis, runtime, scrape, wait_until};

struct Tokio;

impl DeadlineTimer for Tokio {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

fn matched_route(request: &Request<Body>) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned()
}

async fn panics() -> &'static str {
    panic!("handler bug")
}

fn router(registry: &Arc<Registry>, table: &Arc<RouteTable>, deadline: Option<Duration>) -> Router {
    let mut layer = InstrumentLayer::new(Arc::clone(table)).classify(matched_route);
    if let Some(after) = deadline {
        layer = layer.deadline(after, Tokio);
    }
    Router::new()
        .route("/hello", get(|| async { "hello\n" }))
        .route("/users/{id}", get(|| async { "user\n" }))
        .route("/panic", get(panics))
        .route(
            "/slow",
            get(|RawQuery(query): RawQuery| async move {
                tokio::time::sleep(Duration::from_millis(millis(query.as_deref()))).await;
                "slept\n"
            }),
        )
        .layer(layer)
        .route_service("/metrics", MetricsService::<Body, _>::new(Arc::clone(registry)))
}

fn serve(runtime: &tokio::runtime::Runtime, router: Router) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        drop(axum::serve(listener, router).await);
    });
    addr
}

fn setup(prefix: &str) -> (Arc<Registry>, Arc<RouteTable>) {
    let registry = Arc::new(Registry::new());
    let table = Arc::new(RouteTable::try_new(prefix.to_owned(), bareprom::HTTP_BUCKETS.to_vec()).unwrap());
    registry.register_arc(Arc::clone(&table)).unwrap();
    (registry, table)
}

#[test]
fn axum_routes_are_named_by_their_matched_pattern() {
    let runtime = runtime();
    let (registry, table) = setup("as_");
    let addr = serve(&runtime, router(&registry, &table, None));
    let mut client = Client::connect(addr);
    for target in ["/users/7", "/users/8", "/users/7?x=1", "/hello"] {
        assert_eq!(client.send("GET", target).status, 200, "{target}");
    }
    assert_eq!(client.send("GET", "/nope/42").status, 404);
    assert_eq!(client.send("POST", "/hello").status, 405);
    let get = client.send("GET", "/metrics");
    let head = client.send("HEAD", "/metrics");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some(get.body.len().to_string().as_str()));
    let post = client.send("POST", "/metrics");
    assert_eq!((post.status, post.header("allow")), (405, Some("GET, HEAD")));

    let exposition = scrape(addr);
    let requests = |method: &str, route: &str, status: &str| {
        int(exposition.value(
            "as_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        ))
    };
    assert_eq!(requests("GET", "/users/{id}", "200"), 3);
    assert_eq!(requests("GET", "/hello", "200"), 1);
    assert_eq!(
        requests("GET", "unmatched", "404"),
        1,
        "the fallback has no matched path"
    );
    assert_eq!(requests("POST", "/hello", "405"), 1);
    let family = exposition.family("as_http_requests_total").unwrap();
    assert_eq!(
        family.samples.len(),
        4,
        "/metrics is mounted outside the layer: {family:?}"
    );
}

#[test]
fn axum_panics_are_answered_counted_and_leave_every_route_working() {
    let runtime = runtime();
    let (registry, table) = setup("ap_");
    let addr = serve(&runtime, router(&registry, &table, None));
    let mut client = Client::connect(addr);
    for i in 0..100 {
        assert_eq!(client.send("GET", "/panic").status, 500, "request {i}");
    }
    assert_eq!(table.panics("GET", "/panic"), 100);
    assert_eq!(table.requests("GET", "/panic", 500), 100);
    assert_eq!(client.send("GET", "/hello").status, 200);
    assert_eq!(fetch(addr, "GET", "/users/1").status, 200);
    assert_eq!(fetch(addr, "GET", "/slow?ms=1").status, 200);
    let exposition = scrape(addr);
    assert_eq!(
        int(exposition.value(
            "ap_http_request_panics_total",
            &[("method", "GET"), ("route", "/panic")]
        )),
        100
    );
    assert_eq!(table.in_flight("GET", "/panic"), 0);
}

#[test]
fn axum_deadline_and_disconnect_are_recorded() {
    let runtime = runtime();
    let (registry, table) = setup("at_");
    let addr = serve(&runtime, router(&registry, &table, Some(Duration::from_millis(100))));
    assert_eq!(fetch(addr, "GET", "/slow?ms=8000").status, 504);
    assert_eq!(table.requests("GET", "/slow", 504), 1);

    let (registry, table) = setup("ad_");
    let addr = serve(&runtime, router(&registry, &table, None));
    let mut client = Client::connect(addr);
    client.start("GET", "/slow?ms=8000");
    wait_until("the slow request is in flight", || table.in_flight("GET", "/slow") == 1);
    drop(client);
    wait_until("the dropped request is recorded", || {
        table.requests("GET", "/slow", bareprom::CANCELLED_STATUS) == 1
    });
    assert_eq!(table.in_flight("GET", "/slow"), 0);
    assert_eq!(fetch(addr, "GET", "/hello").status, 200);
}
