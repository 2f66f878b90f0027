//! molecule's metrics on bareprom: the port of its Gin middleware and
//! hand-written exporter. Shared by `examples/gin_style.rs` and its test
//! (`tests/it/ports.rs`) through `#[path]`.

use std::convert::Infallible;
use std::sync::Arc;

use bareprom::{
    Counter, CounterVec, CountingAlloc, Error, Gauge, HTTP_BUCKETS, Instrument, MetricsService, ProcessCollector,
    Registry, RouteSchema, RouteTable, UNMATCHED_ROUTE,
};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};

// ---- the metrics code (what the Go exporter's ~130 lines did) ----

/// The dashboards' schema: the route pattern under `path`, the summed
/// seconds under their old name, and next to them the histogram we
/// recommend (its own name: `x_total` claims `x`).
const SCHEMA: RouteSchema = RouteSchema::new()
    .route_label("path")
    .histogram_name("http_request_latency_seconds")
    .seconds_total_name("http_request_duration_seconds_total");

/// `molecule_http_requests_total`, `..._duration_seconds_total`, the
/// latency histogram, in-flight and handler panics, by method and path.
pub(crate) static ROUTES: RouteTable = RouteTable::with_schema("molecule_", &HTTP_BUCKETS, SCHEMA);
static WEBSOCKETS: Gauge = Gauge::new("molecule_websocket_connections_active", "WebSocket connections open.");
static PHANTOM_RESETS: Counter = Counter::new(
    "molecule_phantom_busy_resets_total",
    "Workers found busy with no job and reset.",
);
static SWEPT: CounterVec<1> = CounterVec::new(
    "molecule_pending_uploads_swept_total",
    "Pending uploads swept, by outcome.",
    ["outcome"],
);

/// What became of a pending upload the sweeper looked at.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Swept {
    Acked,
    Expired,
    Error,
}

/// Registers molecule's families and the runtime block (process metrics,
/// threads, and the heap as counted by a `CountingAlloc` global allocator).
pub(crate) fn register(registry: &Registry) -> Result<(), Error> {
    registry.register(&ROUTES)?;
    registry.register(&WEBSOCKETS)?;
    registry.register(&PHANTOM_RESETS)?;
    registry.register(&SWEPT)?;
    SWEPT.init_series([["acked"], ["expired"], ["error"]]);
    registry.register_collector("process", ProcessCollector::new())?;
    registry.register_collector("heap", CountingAlloc::new(std::alloc::System))
}

pub(crate) fn websocket_connected() {
    WEBSOCKETS.inc();
}

pub(crate) fn websocket_disconnected() {
    WEBSOCKETS.dec();
}

pub(crate) fn phantom_busy_reset() {
    PHANTOM_RESETS.inc();
}

pub(crate) fn upload_swept(outcome: Swept) {
    let outcome = match outcome {
        Swept::Acked => "acked",
        Swept::Expired => "expired",
        Swept::Error => "error",
    };
    SWEPT.with([outcome]).inc();
}

/// The matched route pattern, as Gin's `c.FullPath()`; `unmatched` else.
fn path_of(request: &Request<Incoming>) -> &'static str {
    let path = request.uri().path();
    if let Some(route) = ROUTE_PATTERNS.into_iter().find(|p| *p == path) {
        return route;
    }
    match path.strip_prefix("/api/molecules/") {
        Some(id) if !id.is_empty() && !id.contains('/') => "/api/molecules/:id",
        _ => UNMATCHED_ROUTE,
    }
}

// ---- the application (stands in for molecule's handlers) ----

/// The routes without parameters (and `/api/molecules/:id`).
const ROUTE_PATTERNS: [&str; 5] = [
    "/api/uploads",
    "/ws",
    "/ws/close",
    "/admin/sweep",
    "/admin/phantom-reset",
];

/// The uploads a sweep finds pending, and what becomes of each.
pub(crate) const PENDING: [Swept; 4] = [Swept::Acked, Swept::Expired, Swept::Acked, Swept::Error];

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match path_of(&request) {
        "/api/molecules/:id" => StatusCode::OK,
        "/api/uploads" => StatusCode::CREATED,
        "/ws" => {
            websocket_connected();
            StatusCode::OK
        }
        "/ws/close" => {
            websocket_disconnected();
            StatusCode::OK
        }
        "/admin/sweep" => {
            PENDING.into_iter().for_each(upload_swept);
            StatusCode::OK
        }
        "/admin/phantom-reset" => {
            phantom_busy_reset();
            StatusCode::OK
        }
        _ => StatusCode::NOT_FOUND,
    };
    let mut response = Response::new(Full::from(format!("{}\n", status.as_u16())));
    *response.status_mut() = status;
    Ok(response)
}

/// The application with every request recorded (Gin's middleware), and
/// `/metrics` from `registry` beside it.
pub(crate) fn service(
    registry: Arc<Registry>,
) -> impl hyper::service::Service<Request<Incoming>, Response = Response<Full<Bytes>>, Error = Infallible, Future: Send>
+ Clone
+ Send
+ 'static {
    let app = Instrument::new(service_fn(handle), &ROUTES).classify(path_of);
    MetricsService::<Full<Bytes>, _>::new(registry).beside(app)
}
