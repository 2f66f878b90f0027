//! A hyper 1.x server with every request recorded in a route table and
//! `/metrics` served beside it.
//!
//! Run: `cargo run --example hyper --features hyper` (`-- --port N` for
//! another port than 9185), then try `GET /hello`, `GET /panic` (the
//! handler panics: answered 500, counted, the server goes on),
//! `GET /slow?ms=N` (sleeps N ms; past 10 s the deadline answers 504) and
//! `GET /metrics`.

use std::convert::Infallible;
use std::time::Duration;

use bareprom::{HyperTimer, Instrument, MetricsService, ProcessCollector, RouteTable, UNMATCHED_ROUTE};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

static ROUTES: RouteTable = RouteTable::new("example_");

fn route_of(request: &Request<Incoming>) -> &'static str {
    match request.uri().path() {
        "/hello" => "/hello",
        "/panic" => "/panic",
        "/slow" => "/slow",
        _ => UNMATCHED_ROUTE,
    }
}

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::from("hello\n"));
    match request.uri().path() {
        "/hello" => {}
        "/panic" => panic!("the /panic handler panics, as asked"),
        "/slow" => {
            let ms = request
                .uri()
                .query()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ms=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            *response.body_mut() = Full::from(format!("slept {ms} ms\n"));
        }
        _ => {
            *response.status_mut() = StatusCode::NOT_FOUND;
            *response.body_mut() = Full::from("not found\n");
        }
    }
    Ok(response)
}

fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = 9185;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
            }
            _ => return Err(format!("unknown argument {arg:?}; usage: hyper [--port N]")),
        }
    }
    Ok(port)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port()?;
    bareprom::register(&ROUTES)?;
    bareprom::register_collector("process", ProcessCollector::new())?;

    let app = Instrument::new(service_fn(handle), &ROUTES)
        .classify(route_of)
        .deadline(Duration::from_secs(10), HyperTimer(TokioTimer::new()));
    let service = MetricsService::<Full<Bytes>>::new(bareprom::default_registry()).beside(app);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("serving on http://127.0.0.1:{port}/ (GET /hello, /panic, /slow?ms=N, /metrics)");
        loop {
            let (stream, _) = listener.accept().await?;
            let service = service.clone();
            tokio::spawn(async move {
                let connection = hyper::server::conn::http1::Builder::new();
                if let Err(e) = connection.serve_connection(TokioIo::new(stream), service).await {
                    eprintln!("connection: {e}");
                }
            });
        }
    })
}
