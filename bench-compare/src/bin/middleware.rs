//! The added latency per request of bareprom's instrumenting wrapper,
//! against the bare service and against `axum-prometheus`'s layer, in one
//! process with the variants interleaved inside every round; medians.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/target-bench-compare cargo run --release
//! --manifest-path bench-compare/Cargo.toml --bin middleware`
//! (`BENCH_ROUNDS=n` to change the number of rounds).
//!
//! Each request is served in process, without sockets, so the table shows
//! the middleware's own cost rather than the kernel's: build a
//! `GET /users/42` request, call the service, poll its future (it is ready
//! at once: the handler does no I/O), and collect the response body, since
//! `axum-prometheus` records when the body ends. The same work with no
//! middleware is the baseline; "added" is a variant's median minus the
//! baseline's median in the same run.
//!
//! - bareprom (axum): `InstrumentLayer` with a `MatchedPath` classifier
//!   returning an owned `String` (one allocation per request, as its docs
//!   show), recording method, route, status and latency into a
//!   `RouteTable` (requests, latency histogram, in flight, panics), with
//!   panic isolation around `call` and every poll.
//! - axum-prometheus 0.9: `PrometheusMetricLayer::pair()`, its documented
//!   setup (requests, latency histogram, pending), recording through the
//!   `metrics` facade into `metrics-exporter-prometheus`; as in the main
//!   bench-compare table, its deferred histogram work (`run_upkeep`) runs
//!   once at the end of each sample, inside the timing.
//! - hyper: a `service_fn` alone, and wrapped in `Instrument` with a
//!   classifier returning `&'static str`.

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::Request;
use axum::routing::get;
use bareprom::{Instrument, InstrumentLayer, RouteTable, UNMATCHED_ROUTE};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use tower_service::Service;

#[path = "../../../benches/support/timing.rs"]
mod timing;

use timing::{Job, Timed, median, rounds, run_rounds};

static AXUM_ROUTES: RouteTable = RouteTable::new("axum_");
static HYPER_ROUTES: RouteTable = RouteTable::new("hyper_");

/// Polls a future that needs no I/O to completion.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn request() -> Request<Body> {
    Request::get("/users/42").body(Body::empty()).unwrap()
}

fn router() -> Router {
    Router::new().route("/users/{id}", get(|| async { "hi" }))
}

fn matched_route(request: &Request<Body>) -> String {
    let matched = request.extensions().get::<MatchedPath>();
    matched.map_or(UNMATCHED_ROUTE, MatchedPath::as_str).to_owned()
}

/// A job serving `n` requests through `router`.
fn axum_job<'a>(mut router: Router, mut after_sample: impl FnMut() + 'a) -> Job<'a> {
    Box::new(move |n| {
        for _ in 0..n {
            let response = ready(router.call(request())).unwrap();
            assert_eq!(response.status(), 200);
            black_box(ready(response.into_body().collect()).unwrap());
        }
        after_sample();
    })
}

type HyperBody = Full<Bytes>;

async fn hello(_: hyper::Request<Empty<Bytes>>) -> Result<hyper::Response<HyperBody>, Infallible> {
    Ok(hyper::Response::new(Full::new(Bytes::from_static(b"hi"))))
}

fn hyper_job<'a, S>(service: S) -> Job<'a>
where
    S: hyper::service::Service<hyper::Request<Empty<Bytes>>, Response = hyper::Response<HyperBody>, Error = Infallible>
        + 'a,
{
    Box::new(move |n| {
        for _ in 0..n {
            let request = hyper::Request::get("/users/42").body(Empty::new()).unwrap();
            let response = ready(service.call(request)).unwrap();
            assert_eq!(response.status(), 200);
            black_box(ready(response.into_body().collect()).unwrap());
        }
    })
}

fn main() {
    // axum-prometheus's default handle spawns its upkeep task on a tokio
    // runtime; a current-thread one that is never driven keeps that task
    // from running, so its upkeep happens only where the job calls it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _context = runtime.enter();
    let (prometheus_layer, prometheus_handle) = axum_prometheus::PrometheusMetricLayer::pair();
    // One row holding every variant, so they interleave within each round.
    let mut all = vec![
        Timed::new("axum, no middleware", axum_job(router(), || ())),
        Timed::new(
            "axum + bareprom InstrumentLayer",
            axum_job(
                router().layer(InstrumentLayer::new(&AXUM_ROUTES).classify(matched_route)),
                || (),
            ),
        ),
        Timed::new(
            "axum + axum-prometheus layer",
            axum_job(router().layer(prometheus_layer), move || prometheus_handle.run_upkeep()),
        ),
        Timed::new(
            "hyper service_fn, no middleware",
            hyper_job(hyper::service::service_fn(hello)),
        ),
        Timed::new(
            "hyper + bareprom Instrument",
            hyper_job(
                Instrument::new(hyper::service::service_fn(hello), &HYPER_ROUTES)
                    .classify(|_: &hyper::Request<Empty<Bytes>>| "/users/{id}"),
            ),
        ),
    ]
    .into_iter()
    .map(Some)
    .collect::<Vec<_>>();
    let rounds = rounds(31);
    let mut rows = [&mut all];
    run_rounds(&mut rows, rounds, |row| row.as_mut_slice());
    let m: Vec<f64> = all.iter().flatten().map(|t| median(&t.samples)).collect();
    let labels: Vec<&str> = all.iter().flatten().map(|t| t.label).collect();

    println!("{rounds} rounds, median ns per request (in process, no sockets)\n");
    println!("| variant | ns/request | added vs bare |");
    println!("|---|---:|---:|");
    let base = |i: usize| if i < 3 { m[0] } else { m[3] };
    for (i, label) in labels.iter().enumerate() {
        let added = if i == 0 || i == 3 {
            "—".to_owned()
        } else {
            format!("{:.0} ns", m[i] - base(i))
        };
        println!("| {label} | {:.0} | {added} |", m[i]);
    }
    let ours = m[1] - m[0];
    let theirs = m[2] - m[0];
    println!(
        "\nbareprom's added latency on axum: {:.2}x axum-prometheus's (target <= 0.5)",
        ours / theirs
    );
    assert_eq!(AXUM_ROUTES.in_flight("GET", "/users/{id}"), 0);
    assert!(AXUM_ROUTES.requests("GET", "/users/{id}", 200) > 0);
}
