//! The HTTP route table: per `(method, route, status)` request counts and
//! latency, per `(method, route)` requests in flight and handler panics.
//!
//! Labels are bounded by construction: the route is the pattern the
//! application routed by (`/users/:id`), never the raw path, and a request
//! that matched no route is recorded under [`UNMATCHED_ROUTE`]; a method
//! outside the standard set is recorded as `other`; a status outside
//! 100–999 as `other`. Request bodies, query strings and user ids never
//! become labels. Each table caps its series like any family.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::counter::CounterCell;
use crate::error::Error;
use crate::expose::{FamilyDesc, Kind, Names, Sink, Value};
use crate::family::{Child, Family};
use crate::gauge::GaugeCell;
use crate::histogram::HistogramCell;
use crate::layout;
use crate::metric::{Metric, seal};
use crate::name;

mod in_flight;
mod schema;

pub use in_flight::InFlight;
pub use schema::RouteSchema;

/// The route label of requests that matched no route.
///
/// # Examples
///
/// ```
/// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
/// ROUTES.record("GET", bareprom::UNMATCHED_ROUTE, 404, std::time::Duration::from_millis(1));
/// ```
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The status a request is recorded under when its client went away before
/// the response was ready: nginx's 499 ("client closed request"). No
/// response is sent with it.
///
/// # Examples
///
/// ```
/// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
/// ROUTES.record_cancelled("GET", "/slow", std::time::Duration::from_secs(3));
/// assert_eq!(ROUTES.requests("GET", "/slow", bareprom::CANCELLED_STATUS), 1);
/// assert_eq!(bareprom::CANCELLED_STATUS, 499);
/// ```
pub const CANCELLED_STATUS: u16 = 499;

/// Latency buckets of the OpenTelemetry HTTP server semantic conventions,
/// in seconds: 5 ms to 10 s.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::HTTP_BUCKETS.len(), 14);
/// ```
pub const HTTP_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The metrics of an HTTP server, by route.
///
/// With prefix `p`, it writes, in this order:
///
/// | family | type | labels |
/// |---|---|---|
/// | `p` `http_requests_total` | counter | `method`, `route`, `status` |
/// | `p` `http_request_duration_seconds` | histogram | `method`, `route`, `status` |
/// | `p` `http_requests_in_flight` | gauge | `method`, `route` |
/// | `p` `http_request_panics_total` | counter | `method`, `route` |
///
/// [`RouteTable::with_schema`] renames the `route` and `status` labels
/// (`path`, `code`, as many Gin exporters write them) and can add
/// `p` `http_request_seconds_total`, a counter of the seconds spent, next to
/// the histogram (see [`RouteSchema`]).
///
/// `http_requests_total` is the count of the latency histogram, so one
/// lookup records both and they always agree. The hit path takes one read
/// lock and then touches atomics; a new label set takes the write lock once.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use bareprom::{Registry, RouteTable};
///
/// static ROUTES: RouteTable = RouteTable::new("shop_");
///
/// let registry = Registry::new();
/// registry.register(&ROUTES)?;
/// ROUTES.record("GET", "/users/:id", 200, Duration::from_millis(3));
///
/// let request = ROUTES.start("POST", "/orders");
/// // ... handle it ...
/// request.finish(201);
///
/// let text = registry.render();
/// assert!(text.contains("shop_http_requests_total{method=\"GET\",route=\"/users/:id\",status=\"200\"} 1\n"));
/// assert!(text.contains("shop_http_requests_in_flight{method=\"POST\",route=\"/orders\"} 0\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub struct RouteTable {
    prefix: Cow<'static, str>,
    schema: RouteSchema,
    /// The label names of the families by method, route and status, and by
    /// method and route, from the schema.
    labels3: [&'static str; 3],
    labels2: [&'static str; 2],
    /// The five family names, prefix applied, made on first use (a
    /// `const fn` cannot concatenate).
    names: OnceLock<[String; 5]>,
    durations: Family<HistogramCell, 3>,
    in_flight: Family<GaugeCell, 2>,
    panics: Family<CounterCell, 2>,
}

impl RouteTable {
    /// A table whose families' names start with `prefix` (may be empty),
    /// with [`HTTP_BUCKETS`].
    ///
    /// # Panics
    ///
    /// If `prefix` cannot start a metric name; in a `static` that is a
    /// compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("molecule_");
    /// ```
    pub const fn new(prefix: &'static str) -> Self {
        Self::with_buckets(prefix, &HTTP_BUCKETS)
    }

    /// A table with the given latency bucket bounds.
    ///
    /// # Panics
    ///
    /// As [`RouteTable::new`], and if the bounds are empty, unsorted or
    /// contain NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::with_buckets("api_", &[0.01, 0.1, 1.0]);
    /// ```
    pub const fn with_buckets(prefix: &'static str, bounds: &'static [f64]) -> Self {
        Self::with_schema(prefix, bounds, RouteSchema::new())
    }

    /// A table with the given latency bucket bounds and label names, and
    /// optionally the seconds counter (see [`RouteSchema`]).
    ///
    /// # Panics
    ///
    /// As [`RouteTable::with_buckets`], if a label name of the schema is
    /// invalid, `le`, or the same as another, and if a family name of the
    /// schema is invalid; in a `static` that is a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{HTTP_BUCKETS, Registry, RouteSchema, RouteTable};
    ///
    /// static ROUTES: RouteTable = RouteTable::with_schema(
    ///     "gin_",
    ///     &HTTP_BUCKETS,
    ///     RouteSchema::new().route_label("path").status_label("code").seconds_total(true),
    /// );
    /// let registry = Registry::new();
    /// registry.register(&ROUTES)?;
    /// ROUTES.record("GET", "/users/:id", 200, std::time::Duration::from_millis(250));
    /// let text = registry.render();
    /// assert!(text.contains("gin_http_requests_total{method=\"GET\",path=\"/users/:id\",code=\"200\"} 1\n"));
    /// assert!(text.contains("gin_http_request_seconds_total{method=\"GET\",path=\"/users/:id\",code=\"200\"} 0.25\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub const fn with_schema(prefix: &'static str, bounds: &'static [f64], schema: RouteSchema) -> Self {
        name::unwrap(name::prefix(prefix));
        name::unwrap(name::metric_name(schema.histogram));
        name::unwrap(name::metric_name(schema.seconds));
        let (route, status) = (schema.route, schema.status);
        RouteTable {
            prefix: Cow::Borrowed(prefix),
            schema,
            labels3: ["method", route, status],
            labels2: ["method", route],
            names: OnceLock::new(),
            durations: Family::with_buckets("route_table", "", ["method", route, status], bounds),
            in_flight: Family::new("route_table", "", ["method", route]),
            panics: Family::new("route_table", "", ["method", route]),
        }
    }

    /// A table for a prefix or bounds built at run time.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`](crate::ErrorKind::InvalidMetricName)
    /// for a bad prefix,
    /// [`ErrorKind::InvalidBuckets`](crate::ErrorKind::InvalidBuckets) for bad
    /// bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// let service = "billing";
    /// let routes = bareprom::RouteTable::try_new(format!("{service}_"), bareprom::HTTP_BUCKETS.to_vec())?;
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_new(
        prefix: impl Into<Cow<'static, str>>,
        bounds: impl Into<Cow<'static, [f64]>>,
    ) -> Result<Self, Error> {
        Self::try_with_schema(prefix, bounds, RouteSchema::new())
    }

    /// As [`RouteTable::with_schema`], for a prefix or bounds built at run
    /// time.
    ///
    /// # Errors
    ///
    /// As [`RouteTable::try_new`], and
    /// [`ErrorKind::InvalidLabelName`](crate::ErrorKind::InvalidLabelName),
    /// [`ErrorKind::ReservedLabelName`](crate::ErrorKind::ReservedLabelName) or
    /// [`ErrorKind::DuplicateLabelName`](crate::ErrorKind::DuplicateLabelName)
    /// for the schema's label names,
    /// [`ErrorKind::InvalidMetricName`](crate::ErrorKind::InvalidMetricName)
    /// for its family names.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{ErrorKind, HTTP_BUCKETS, RouteSchema, RouteTable};
    /// let routes = RouteTable::try_with_schema("api_", &HTTP_BUCKETS[..], RouteSchema::new().route_label("path"))?;
    /// let clash = RouteTable::try_with_schema("api_", &HTTP_BUCKETS[..], RouteSchema::new().route_label("method"));
    /// assert_eq!(clash.unwrap_err().kind(), ErrorKind::DuplicateLabelName);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_with_schema(
        prefix: impl Into<Cow<'static, str>>,
        bounds: impl Into<Cow<'static, [f64]>>,
        schema: RouteSchema,
    ) -> Result<Self, Error> {
        let prefix = prefix.into();
        name::prefix(&prefix).map_err(|kind| Error::new(kind, &prefix))?;
        name::check_metric_name(schema.histogram)?;
        name::check_metric_name(schema.seconds)?;
        let (route, status) = (schema.route, schema.status);
        Ok(RouteTable {
            prefix,
            schema,
            labels3: ["method", route, status],
            labels2: ["method", route],
            names: OnceLock::new(),
            durations: Family::try_with_buckets(
                "route_table",
                "",
                ["method", route, status],
                layout::validated(bounds.into())?,
            )?,
            in_flight: Family::try_new("route_table", "", ["method", route])?,
            panics: Family::try_new("route_table", "", ["method", route])?,
        })
    }

    /// The same table with a different series limit for each of its
    /// families (see [`Family`]).
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("").with_series_limit(500);
    /// ```
    #[must_use]
    pub const fn with_series_limit(mut self, limit: usize) -> Self {
        self.durations.reset_limit(limit);
        self.in_flight.reset_limit(limit);
        self.panics.reset_limit(limit);
        self
    }

    /// Records a finished request.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// ROUTES.record("GET", "/health", 200, std::time::Duration::from_micros(80));
    /// assert_eq!(ROUTES.requests("GET", "/health", 200), 1);
    /// ```
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut buf = [0u8; 3];
        self.durations
            .with([method_label(method), route_label(route), status_label(status, &mut buf)])
            .observe(elapsed.as_secs_f64());
    }

    /// Starts a request: counts it in flight until the returned guard is
    /// finished or dropped. A guard dropped while its thread panics counts
    /// the panic, so a handler that panics is counted even when nothing
    /// catches it.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let request = ROUTES.start("GET", "/users/:id");
    /// assert_eq!(ROUTES.in_flight("GET", "/users/:id"), 1);
    /// request.finish(200);
    /// assert_eq!(ROUTES.in_flight("GET", "/users/:id"), 0);
    /// ```
    pub fn start<'a>(&'a self, method: &str, route: &'a str) -> InFlight<'a> {
        let method = method_label(method);
        let route = route_label(route);
        let gauge = self.in_flight.with([method, route]);
        gauge.inc();
        InFlight {
            table: self,
            method,
            route,
            gauge,
            start: Instant::now(),
            finished: false,
        }
    }

    /// Records a request whose client went away before the response was
    /// ready, under [`CANCELLED_STATUS`]: the explicit path for servers that
    /// learn of a disconnect themselves (the hyper and tower adapters call it
    /// when a response future is dropped unfinished).
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let request = ROUTES.start("GET", "/export");
    /// // ... the client hangs up ...
    /// request.cancel();
    /// ROUTES.record_cancelled("GET", "/export", std::time::Duration::from_millis(40));
    /// assert_eq!(ROUTES.requests("GET", "/export", 499), 2);
    /// assert_eq!(ROUTES.in_flight("GET", "/export"), 0);
    /// ```
    pub fn record_cancelled(&self, method: &str, route: &str, elapsed: Duration) {
        self.record(method, route, CANCELLED_STATUS, elapsed);
    }

    /// Counts one handler panic for this method and route: the explicit path
    /// for servers that catch panics themselves. It does not record the
    /// request; record the response the server sent for it (usually 500) as
    /// well, as [`InFlight::panicked`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let caught = std::panic::catch_unwind(|| panic!("handler bug"));
    /// if caught.is_err() {
    ///     ROUTES.record_panic("POST", "/orders");
    ///     ROUTES.record("POST", "/orders", 500, Duration::from_millis(2));
    /// }
    /// assert_eq!(ROUTES.panics("POST", "/orders"), 1);
    /// ```
    pub fn record_panic(&self, method: &str, route: &str) {
        self.panics.with([method_label(method), route_label(route)]).inc();
    }

    /// The in-flight gauge of a method and route, for a guard that must own
    /// what it holds (a response future): increment when the request starts,
    /// decrement when it ends, whatever way it ends.
    #[cfg_attr(not(any(feature = "hyper", feature = "tower")), allow(dead_code))]
    pub(crate) fn in_flight_gauge(&self, method: &str, route: &str) -> Child<GaugeCell> {
        self.in_flight.with([method_label(method), route_label(route)])
    }

    /// How many requests were recorded for this method, route and status.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// assert_eq!(ROUTES.requests("GET", "/", 200), 0);
    /// ```
    pub fn requests(&self, method: &str, route: &str, status: u16) -> u64 {
        let mut buf = [0u8; 3];
        self.durations
            .with([method_label(method), route_label(route), status_label(status, &mut buf)])
            .count()
    }

    /// How many requests for this method and route are in flight.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// assert_eq!(ROUTES.in_flight("GET", "/"), 0);
    /// ```
    pub fn in_flight(&self, method: &str, route: &str) -> i64 {
        self.in_flight.with([method_label(method), route_label(route)]).get()
    }

    /// How many handlers for this method and route panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// assert_eq!(ROUTES.panics("GET", "/"), 0);
    /// ```
    pub fn panics(&self, method: &str, route: &str) -> u64 {
        self.panics.with([method_label(method), route_label(route)]).get()
    }

    fn names(&self) -> &[String; 5] {
        self.names.get_or_init(|| {
            let mut which = 0;
            FAMILIES.map(|(suffix, ..)| {
                let suffix = match which {
                    1 => self.schema.histogram,
                    2 => self.schema.seconds,
                    _ => suffix,
                };
                which += 1;
                format!("{}{suffix}", self.prefix)
            })
        })
    }

    /// The `i`-th family this table writes: the seconds counter only when
    /// the schema asks for it.
    fn family(&self, i: usize) -> Option<Which> {
        let all = [
            Which::Requests,
            Which::Durations,
            Which::Seconds,
            Which::InFlight,
            Which::Panics,
        ];
        all.into_iter()
            .filter(|w| self.schema.seconds_total || *w != Which::Seconds)
            .nth(i)
    }
}

/// Standard methods are kept as written; anything else is `other`, so a
/// client cannot invent label values.
fn method_label(method: &str) -> &'static str {
    METHODS.iter().find(|m| **m == method).copied().unwrap_or("other")
}

fn route_label(route: &str) -> &str {
    if route.is_empty() { UNMATCHED_ROUTE } else { route }
}

/// Three ASCII digits for 100–999 without allocating; `other` otherwise.
fn status_label(status: u16, buf: &mut [u8; 3]) -> &str {
    if !(100..=999).contains(&status) {
        return "other";
    }
    let digits = [status / 100, status / 10 % 10, status % 10];
    for (b, d) in buf.iter_mut().zip(digits) {
        *b = b'0' + u8::try_from(d).unwrap_or(0);
    }
    std::str::from_utf8(buf).unwrap_or("other")
}

impl fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteTable")
            .field("prefix", &self.prefix)
            .field("series", &self.durations.len())
            .finish_non_exhaustive()
    }
}

impl Metric for RouteTable {}
impl seal::Encode for RouteTable {
    fn describe(&self, i: usize) -> Option<FamilyDesc<'_>> {
        let which = self.family(i)?;
        let (_, help, kind, by_status) = FAMILIES[which as usize];
        Some(FamilyDesc {
            name: &self.names()[which as usize],
            help,
            unit: "",
            kind,
            labels: Names::Strs(if by_status { &self.labels3 } else { &self.labels2 }),
            utf8: false,
        })
    }

    fn expose(&self, i: usize, sink: &mut dyn Sink) {
        match self.family(i) {
            Some(Which::Requests) => self
                .durations
                .for_each_series(|labels, h| sink.series(labels, Value::U64(h.count()))),
            Some(Which::Durations) => self
                .durations
                .for_each_series(|labels, h| seal::Series::expose(h, sink, labels)),
            // The histogram's own sum, so the two never disagree and a
            // request costs no second lookup.
            Some(Which::Seconds) => self
                .durations
                .for_each_series(|labels, h| sink.series(labels, Value::F64(h.sum()))),
            Some(Which::InFlight) => self
                .in_flight
                .for_each_series(|labels, g| seal::Series::expose(g, sink, labels)),
            Some(Which::Panics) => self
                .panics
                .for_each_series(|labels, c| seal::Series::expose(c, sink, labels)),
            None => {}
        }
    }

    fn dropped(&self) -> Option<u64> {
        Some(self.durations.dropped() + self.in_flight.dropped() + self.panics.dropped())
    }
}

/// The table's families, in the order written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Requests,
    Durations,
    Seconds,
    InFlight,
    Panics,
}

/// The table's families, by [`Which`]: name suffix, help, type, and whether
/// they are labelled by status too (else by method and route only).
const FAMILIES: [(&str, &str, Kind, bool); 5] = [
    (
        "http_requests_total",
        "HTTP requests served, by method, route and status.",
        Kind::Counter,
        true,
    ),
    (
        "http_request_duration_seconds",
        "HTTP request latency, by method, route and status.",
        Kind::Histogram,
        true,
    ),
    (
        "http_request_seconds_total",
        "Seconds spent handling HTTP requests, by method, route and status.",
        Kind::Counter,
        true,
    ),
    (
        "http_requests_in_flight",
        "HTTP requests being handled, by method and route.",
        Kind::Gauge,
        false,
    ),
    (
        "http_request_panics_total",
        "HTTP handlers that panicked, by method and route.",
        Kind::Counter,
        false,
    ),
];
