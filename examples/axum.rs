//! An axum router with every route recorded in a route table under its
//! matched pattern, and `/metrics` mounted outside the layer.
//!
//! Run: `cargo run --example axum --features tower` (`-- --port N` for
//! another port than 9186), then try `GET /hello`, `GET /panic` (the
//! handler panics: answered 500, counted, the server goes on),
//! `GET /slow?ms=N` (sleeps N ms; past 10 s the deadline answers 504) and
//! `GET /metrics`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, RawQuery};
use axum::http::Request;
use axum::routing::get;
use bareprom::{DeadlineTimer, InstrumentLayer, MetricsService, ProcessCollector, RouteTable, UNMATCHED_ROUTE};

static ROUTES: RouteTable = RouteTable::new("example_");

/// Deadlines timed by tokio.
struct Tokio;

impl DeadlineTimer for Tokio {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

fn matched_route(request: &Request<Body>) -> String {
    let matched = request.extensions().get::<MatchedPath>();
    matched.map_or(UNMATCHED_ROUTE, MatchedPath::as_str).to_owned()
}

async fn panics() -> &'static str {
    panic!("the /panic handler panics, as asked")
}

async fn slow(RawQuery(query): RawQuery) -> String {
    let ms: u64 = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ms=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("slept {ms} ms\n")
}

fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = 9186;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
            }
            _ => return Err(format!("unknown argument {arg:?}; usage: axum [--port N]")),
        }
    }
    Ok(port)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port()?;
    bareprom::register(&ROUTES)?;
    bareprom::register_collector("process", ProcessCollector::new())?;

    let app = Router::new()
        .route("/hello", get(|| async { "hello\n" }))
        .route("/panic", get(panics))
        .route("/slow", get(slow))
        .layer(
            InstrumentLayer::new(&ROUTES)
                .classify(matched_route)
                .deadline(Duration::from_secs(10), Tokio),
        )
        .route_service("/metrics", MetricsService::<Body>::new(bareprom::default_registry()));

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("serving on http://127.0.0.1:{port}/ (GET /hello, /panic, /slow?ms=N, /metrics)");
        axum::serve(listener, app).await
    })?;
    Ok(())
}
