//! The panic-isolation review's server on bareprom: one route panics while
//! holding a `Mutex`, another shares that state, a third is slow; the
//! instrumenting wrapper catches the panic at the request boundary (500,
//! logged with method and path, counted per route), answers the slow one
//! 504 at its deadline, and `/metrics` always answers. Shared by
//! `examples/panic_isolation.rs` and its test (`tests/it/ports.rs`)
//! through `#[path]`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bareprom::{Error, HyperTimer, Instrument, MetricsService, Registry, RouteTable, UNMATCHED_ROUTE};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioTimer;

// ---- the metrics code ----

pub(crate) static ROUTES: RouteTable = RouteTable::new("shop_");

pub(crate) fn register(registry: &Registry) -> Result<(), Error> {
    registry.register(&ROUTES)
}

fn route_of(request: &Request<Incoming>) -> &'static str {
    match request.uri().path() {
        "/orders" => "/orders",
        "/report" => "/report",
        _ => UNMATCHED_ROUTE,
    }
}

/// What the handlers share, and the panic log.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) orders: Mutex<Vec<String>>,
    pub(crate) panic_log: Mutex<Vec<String>>,
}

/// The application, wrapped: panics caught, logged and counted, a
/// `deadline` on every request, `/metrics` from `registry` beside it.
pub(crate) fn service(
    registry: Arc<Registry>,
    shared: &Arc<Shared>,
    deadline: Duration,
    slow: Duration,
) -> impl hyper::service::Service<Request<Incoming>, Response = Response<Full<Bytes>>, Error = Infallible, Future: Send>
+ Clone
+ Send
+ 'static {
    let state = Arc::clone(shared);
    let app = service_fn(move |request| handle(request, Arc::clone(&state), slow));
    let log = Arc::clone(shared);
    let app = Instrument::new(app, &ROUTES)
        .classify(route_of)
        .deadline(deadline, HyperTimer(TokioTimer::new()))
        .on_panic(move |report| {
            let line = format!("{} {}: {}", report.method(), report.route(), report.message());
            eprintln!("handler panicked: {line}");
            log.panic_log.lock().unwrap_or_else(PoisonError::into_inner).push(line);
        });
    MetricsService::<Full<Bytes>, _>::new(registry).beside(app)
}

// ---- the application (stands in for the reviewed server's handlers) ----

async fn handle(
    request: Request<Incoming>,
    state: Arc<Shared>,
    slow: Duration,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, body: String| {
        let mut response = Response::new(Full::from(body));
        *response.status_mut() = status;
        Ok(response)
    };
    match (request.method(), route_of(&request)) {
        (&Method::POST, "/orders") => {
            // The bug under review: it panics while holding the lock,
            // which poisons it.
            let mut orders = state.orders.lock().unwrap_or_else(PoisonError::into_inner);
            orders.push("order".to_owned());
            panic!("order handler bug, with the orders lock held")
        }
        (&Method::GET, "/orders") => {
            // Shares the state: a poisoned lock still holds good data.
            let orders = state.orders.lock().unwrap_or_else(PoisonError::into_inner);
            reply(StatusCode::OK, format!("{}\n", orders.len()))
        }
        (&Method::GET, "/report") => {
            tokio::time::sleep(slow).await;
            reply(StatusCode::OK, "report\n".to_owned())
        }
        _ => reply(StatusCode::NOT_FOUND, "not found\n".to_owned()),
    }
}
