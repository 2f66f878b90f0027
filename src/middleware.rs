//! The request boundary shared by the hyper and tower adapters: the
//! `/metrics` service and the instrumenting wrapper, written once against
//! the `http` crate's request and response types. `hyper.rs` and `tower.rs`
//! only implement their crate's `Service` trait on these types (naming
//! `http`'s request and response in those impls); everything else about
//! requests is here.
//!
//! What the wrapper does around every request, in order:
//!
//! 1. classifies it (the user's classifier, or [`UNMATCHED_ROUTE`]) and
//!    counts it in flight;
//! 2. calls the inner service and polls its future, each under
//!    `catch_unwind`: a panic is answered 500, counted in the route table's
//!    panic counter and reported to the panic hook;
//! 3. on the response, records method, route, status and latency (up to the
//!    response head; a streamed body is not timed);
//! 4. if the deadline passes first, drops the inner future, answers 504 and
//!    records that;
//! 5. if its own future is dropped unfinished (hyper does that when the
//!    client goes away), records [`CANCELLED_STATUS`](crate::CANCELLED_STATUS).
//!
//! In-flight goes back down on every one of these paths.

use std::any::Any;
use std::borrow::Borrow;
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, Method, Request, Response, StatusCode, header};

use crate::handler::{METRICS_PATH, Request as MetricsRequest};
use crate::registry::Registry;
use crate::routes::{RouteTable, UNMATCHED_ROUTE};

mod future;

pub use future::{BesideFuture, Instrumented};
use future::{InProgress, State};

/// The `/metrics` endpoint as a service: answers `GET` with a registry's
/// exposition and its `Content-Type`, `HEAD` with the same headers
/// (including the `Content-Length` a `GET` would have) and no body, and any
/// other method with 405 and `Allow: GET, HEAD`. The request's `Accept` and
/// `Accept-Encoding` go to [`Registry::handle`]: with `Accept-Encoding:
/// gzip` the body is gzip-compressed and sent with `Content-Encoding:
/// gzip`, and every 200 carries `Vary: Accept-Encoding`.
///
/// It answers whatever path it is called for: mount it on the path you
/// want scraped. `ResBody` is the response body type of your server, built
/// from the exposition's bytes (`Full<Bytes>` for hyper, `axum::body::Body`
/// for axum); `R` is how the registry is held (`&'static Registry`, as
/// [`default_registry`](crate::default_registry) gives, or `Arc<Registry>`).
/// Its error type is [`Infallible`](std::convert::Infallible).
///
/// With feature `hyper` it is a `hyper::service::Service`, with feature
/// `tower` a `tower_service::Service`; [`MetricsService::respond`] serves
/// any other server built on the `http` crate.
///
/// # Examples
///
/// ```
/// use bareprom::{MetricsService, Registry};
///
/// static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
/// let registry = std::sync::Arc::new(Registry::new());
/// registry.register(&UP)?;
/// let metrics = MetricsService::<Vec<u8>, _>::new(registry);
///
/// let response = metrics.respond(&http::Request::get("/metrics").body(())?);
/// assert_eq!(response.headers()["content-type"], bareprom::CONTENT_TYPE);
/// assert_eq!(response.body(), b"# HELP app_up Up.\n# TYPE app_up gauge\napp_up 0\n");
///
/// let response = metrics.respond(&http::Request::head("/metrics").body(())?);
/// assert_eq!(response.headers()["content-length"], "47");
/// assert!(response.body().is_empty());
///
/// let response = metrics.respond(&http::Request::post("/metrics").body(())?);
/// assert_eq!((response.status().as_u16(), response.headers()["allow"].to_str()?), (405, "GET, HEAD"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MetricsService<ResBody, R = &'static Registry> {
    registry: R,
    body: PhantomData<fn() -> ResBody>,
}

impl<ResBody, R: Borrow<Registry>> MetricsService<ResBody, R> {
    /// A service answering from `registry`.
    ///
    /// # Examples
    ///
    /// ```
    /// let metrics = bareprom::MetricsService::<Vec<u8>>::new(bareprom::default_registry());
    /// ```
    pub fn new(registry: R) -> Self {
        MetricsService {
            registry,
            body: PhantomData,
        }
    }

    /// The response to `request` (its body is not read).
    ///
    /// # Examples
    ///
    /// ```
    /// let metrics = bareprom::MetricsService::<Vec<u8>>::new(bareprom::default_registry());
    /// let response = metrics.respond(&http::Request::get("/anything").body(())?);
    /// assert_eq!(response.status(), 200);
    /// # Ok::<(), http::Error>(())
    /// ```
    pub fn respond<B>(&self, request: &Request<B>) -> Response<ResBody>
    where
        ResBody: From<Vec<u8>>,
    {
        let head = request.method() == Method::HEAD;
        let path = request.uri().path();
        // HEAD is answered as GET without the body, so Content-Length is the
        // one a GET gets, as RFC 9110 asks.
        let mut query = MetricsRequest::new(if head { "GET" } else { request.method().as_str() }, path);
        let headers = request.headers();
        query.accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
        query.accept_encoding = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
        let answer = self.registry.borrow().handle_at(path, &query);
        let length = answer.body.len();
        let mut response = Response::new(ResBody::from(if head { Vec::new() } else { answer.body }));
        *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
        if let Some(coding) = answer.content_encoding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        if answer.status == 200 {
            // The body depends on Accept-Encoding: no cache may hand a gzip
            // body to a client that did not ask for one.
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if let Some(allow) = answer.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if head {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        response
    }
}

impl<ResBody, R> MetricsService<ResBody, R> {
    /// This service on [`METRICS_PATH`] in front of `app`, which gets every
    /// other request: a whole hyper server in one service, scrapes not
    /// recorded as application requests. `app`'s futures must be `Unpin`,
    /// as [`Instrument`]'s are.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let app = bareprom::Instrument::new((), &ROUTES);
    /// let service = bareprom::MetricsService::<Vec<u8>>::new(bareprom::default_registry()).beside(app);
    /// ```
    pub fn beside<S>(self, app: S) -> Beside<S, ResBody, R> {
        self.beside_at(METRICS_PATH, app)
    }

    /// As [`MetricsService::beside`], serving metrics on `path`.
    ///
    /// # Examples
    ///
    /// ```
    /// # static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// # let app = bareprom::Instrument::new((), &ROUTES);
    /// let service = bareprom::MetricsService::<Vec<u8>>::new(bareprom::default_registry()).beside_at("/internal/metrics", app);
    /// ```
    pub fn beside_at<S>(self, path: &'static str, app: S) -> Beside<S, ResBody, R> {
        Beside {
            metrics: self,
            path,
            app,
        }
    }
}

impl<ResBody, R: Clone> Clone for MetricsService<ResBody, R> {
    fn clone(&self) -> Self {
        MetricsService {
            registry: self.registry.clone(),
            body: PhantomData,
        }
    }
}

impl<ResBody, R> fmt::Debug for MetricsService<ResBody, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsService").finish_non_exhaustive()
    }
}

/// A [`MetricsService`] in front of an application service, from
/// [`MetricsService::beside`]: requests for its path are answered with the
/// exposition, all others go to the application.
///
/// # Examples
///
/// See [`MetricsService::beside`].
pub struct Beside<S, ResBody, R = &'static Registry> {
    pub(crate) metrics: MetricsService<ResBody, R>,
    pub(crate) path: &'static str,
    pub(crate) app: S,
}

impl<S, ResBody, R> Beside<S, ResBody, R> {
    /// Whether `request` is for the metrics path (a query string aside).
    pub(crate) fn is_metrics<B>(&self, request: &Request<B>) -> bool {
        request.uri().path() == self.path
    }
}

impl<S: Clone, ResBody, R: Clone> Clone for Beside<S, ResBody, R> {
    fn clone(&self) -> Self {
        Beside {
            metrics: self.metrics.clone(),
            path: self.path,
            app: self.app.clone(),
        }
    }
}

impl<S, ResBody, R> fmt::Debug for Beside<S, ResBody, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Beside")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// How the instrumenting wrapper names the route of a request: a bounded
/// pattern such as `/users/:id`, never the raw path.
///
/// Any `Fn(&Request<B>) -> R` with `R: AsRef<str>` (`&'static str`,
/// `String`, `Cow<'static, str>`) is a classifier; [`Unmatched`], the
/// default, puts every request under [`UNMATCHED_ROUTE`].
///
/// # Examples
///
/// ```
/// use bareprom::Classify;
///
/// let classify = |request: &http::Request<()>| match request.uri().path() {
///     "/hello" => "/hello",
///     p if p.starts_with("/users/") => "/users/:id",
///     _ => bareprom::UNMATCHED_ROUTE,
/// };
/// assert_eq!(classify.classify(&http::Request::get("/users/42").body(())?), "/users/:id");
/// # Ok::<(), http::Error>(())
/// ```
pub trait Classify<B> {
    /// The route's name; it is kept until the request is recorded.
    type Route: AsRef<str> + Send + 'static;

    /// The route of `request`.
    fn classify(&self, request: &Request<B>) -> Self::Route;
}

impl<B, F, R> Classify<B> for F
where
    F: Fn(&Request<B>) -> R,
    R: AsRef<str> + Send + 'static,
{
    type Route = R;

    fn classify(&self, request: &Request<B>) -> R {
        self(request)
    }
}

/// The classifier of a wrapper that was given none: every request is
/// [`UNMATCHED_ROUTE`], so a raw path can never become a label.
///
/// # Examples
///
/// ```
/// use bareprom::{Classify, Unmatched};
/// assert_eq!(Unmatched.classify(&http::Request::get("/users/42").body(())?), "unmatched");
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unmatched;

impl<B> Classify<B> for Unmatched {
    type Route = &'static str;

    fn classify(&self, _: &Request<B>) -> &'static str {
        UNMATCHED_ROUTE
    }
}

/// The timer behind a wrapper's deadline: a future that completes after
/// `duration`. Implement it for your runtime in three lines; with feature
/// `hyper`, [`HyperTimer`](crate::HyperTimer) adapts any `hyper::rt::Timer`
/// (such as `hyper_util::rt::TokioTimer`).
///
/// # Examples
///
/// ```
/// use std::{future::Future, pin::Pin, time::Duration};
///
/// struct Tokio;
/// impl bareprom::DeadlineTimer for Tokio {
///     fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
///         Box::pin(tokio::time::sleep(duration))
///     }
/// }
/// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
/// let service = bareprom::Instrument::new((), &ROUTES).deadline(Duration::from_secs(10), Tokio);
/// ```
pub trait DeadlineTimer: Send + Sync {
    /// A future that completes once `duration` has passed.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// What the panic hook is told about a handler that panicked.
///
/// # Examples
///
/// ```
/// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
/// let service = bareprom::Instrument::new((), &ROUTES).on_panic(|report| {
///     eprintln!("{} {} panicked: {}", report.method(), report.route(), report.message());
/// });
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PanicReport<'a> {
    method: &'a str,
    route: &'a str,
    message: &'a str,
}

impl<'a> PanicReport<'a> {
    /// The request's method.
    ///
    /// # Examples
    ///
    /// ```
    /// # static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let service = bareprom::Instrument::new((), &ROUTES).on_panic(|report| assert!(!report.method().is_empty()));
    /// ```
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The request's route, as classified.
    ///
    /// # Examples
    ///
    /// ```
    /// # static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let service = bareprom::Instrument::new((), &ROUTES).on_panic(|report| assert!(report.route().starts_with('/')));
    /// ```
    pub fn route(&self) -> &'a str {
        self.route
    }

    /// The panic's message (its `&str` or `String` payload), or
    /// `non-string panic payload`.
    ///
    /// # Examples
    ///
    /// ```
    /// # static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let service = bareprom::Instrument::new((), &ROUTES).on_panic(|report| println!("{}", report.message()));
    /// ```
    pub fn message(&self) -> &'a str {
        self.message
    }
}

type PanicHook = Arc<dyn Fn(&PanicReport<'_>) + Send + Sync>;

/// The wrapper's settings, shared by [`Instrument`] and the tower layer.
#[derive(Clone)]
pub(crate) struct Boundary<C, T> {
    table: T,
    classify: C,
    deadline: Option<(Duration, Arc<dyn DeadlineTimer>)>,
    hook: Option<PanicHook>,
}

impl<T> Boundary<Unmatched, T> {
    pub(crate) fn new(table: T) -> Self {
        Boundary {
            table,
            classify: Unmatched,
            deadline: None,
            hook: None,
        }
    }
}

impl<C, T> Boundary<C, T> {
    pub(crate) fn classify<D>(self, classify: D) -> Boundary<D, T> {
        Boundary {
            table: self.table,
            classify,
            deadline: self.deadline,
            hook: self.hook,
        }
    }

    pub(crate) fn deadline(mut self, after: Duration, timer: impl DeadlineTimer + 'static) -> Self {
        self.deadline = Some((after, Arc::new(timer)));
        self
    }

    pub(crate) fn on_panic(mut self, hook: impl Fn(&PanicReport<'_>) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Classifies `request`, counts it in flight and hands it to `call`
    /// under `catch_unwind`; the returned future does the rest.
    pub(crate) fn call<B, F, ResBody, E>(
        &self,
        request: Request<B>,
        call: impl FnOnce(Request<B>) -> F,
    ) -> Instrumented<F, C::Route, T>
    where
        C: Classify<B>,
        T: Borrow<RouteTable> + Clone,
        F: Future<Output = Result<Response<ResBody>, E>>,
        ResBody: Default,
    {
        let start = Instant::now();
        let method = request.method().clone();
        // A classifier is user code too: its panic is answered like the
        // handler's, under the route it failed to give.
        let (route, called) = match catch_unwind(AssertUnwindSafe(|| self.classify.classify(&request))) {
            Ok(route) => {
                let gauge = self.table.borrow().in_flight_gauge(method.as_str(), route.as_ref());
                gauge.inc();
                let progress =
                    InProgress::new(self.table.clone(), method, Some(route), gauge, start, self.hook.clone());
                // The timer is user code too: a panic making the sleep (a
                // tokio timer outside a runtime) is answered like the
                // handler's.
                let called = catch_unwind(AssertUnwindSafe(|| {
                    let future = call(request);
                    let deadline = self.deadline.as_ref().map(|(after, timer)| timer.sleep(*after));
                    (future, deadline)
                }));
                (progress, called)
            }
            Err(payload) => {
                let gauge = self.table.borrow().in_flight_gauge(method.as_str(), UNMATCHED_ROUTE);
                gauge.inc();
                let progress = InProgress::new(self.table.clone(), method, None, gauge, start, self.hook.clone());
                (progress, Err(payload))
            }
        };
        match called {
            Ok((future, deadline)) => Instrumented::new(State::Running(Box::pin(future)), Some(route), deadline),
            Err(payload) => Instrumented::new(State::Answered(Some(Ok(route.panicked(&*payload)))), None, None),
        }
    }
}

impl<C, T> fmt::Debug for Boundary<C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrument")
            .field("deadline", &self.deadline.as_ref().map(|(after, _)| after))
            .field("panic_hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

/// A service wrapped to record every request in a [`RouteTable`], with
/// panic isolation, cancellation and an optional deadline.
///
/// Each request is recorded under its method, the route its classifier
/// gives (see [`Classify`]; without one, [`UNMATCHED_ROUTE`]), its status
/// and the time until the response head was ready. What happens when
/// things go wrong:
///
/// | event | answer | recorded status | also |
/// |---|---|---|---|
/// | the inner service's `call`, its future, or the classifier panics | 500, empty body | 500 | `http_request_panics_total` + 1; the panic hook is called |
/// | the deadline passes first | 504, empty body | 504 | the inner future is dropped |
/// | the response future is dropped unfinished (client gone) | none | [`CANCELLED_STATUS`](crate::CANCELLED_STATUS) (499) | |
/// | the inner service returns `Err` | the error, passed on | 500 | |
///
/// In-flight goes back down in every case. The default panic hook writes
/// one line to stderr: `bareprom: handler panicked: <method> <route>:
/// <message>` (the std panic hook still prints its own message first
/// unless you replaced it). The response body type must be `Default` (an
/// empty body) so that 500 and 504 can be built for any service, as Gin's
/// `Recovery` answers.
///
/// With feature `hyper` it is a `hyper::service::Service`; with feature
/// `tower` a `tower_service::Service`, and `InstrumentLayer` applies it to
/// every route of an axum or tonic router.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use bareprom::{Instrument, RouteTable};
///
/// static ROUTES: RouteTable = RouteTable::new("app_");
/// let handler = (); // your hyper or tower service
/// let service = Instrument::new(handler, &ROUTES)
///     .classify(|request: &http::Request<String>| match request.uri().path() {
///         "/hello" => "/hello",
///         _ => bareprom::UNMATCHED_ROUTE,
///     })
///     .on_panic(|report| eprintln!("{} {}: {}", report.method(), report.route(), report.message()));
/// ```
pub struct Instrument<S, C = Unmatched, T = &'static RouteTable> {
    pub(crate) inner: S,
    pub(crate) boundary: Boundary<C, T>,
}

impl<S, T: Borrow<RouteTable>> Instrument<S, Unmatched, T> {
    /// Wraps `inner`, recording into `table` (`&'static RouteTable` or
    /// `Arc<RouteTable>`), every request under [`UNMATCHED_ROUTE`] until a
    /// classifier is given.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let service = bareprom::Instrument::new((), &ROUTES);
    /// ```
    pub fn new(inner: S, table: T) -> Self {
        Instrument {
            inner,
            boundary: Boundary::new(table),
        }
    }
}

impl<S, C, T> Instrument<S, C, T> {
    #[cfg(feature = "tower")]
    pub(crate) fn from_parts(inner: S, boundary: Boundary<C, T>) -> Self {
        Instrument { inner, boundary }
    }

    /// The same wrapper, naming routes with `classify` (see [`Classify`]).
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let service = bareprom::Instrument::new((), &ROUTES).classify(|_: &http::Request<()>| "/health");
    /// ```
    pub fn classify<D>(self, classify: D) -> Instrument<S, D, T> {
        Instrument {
            inner: self.inner,
            boundary: self.boundary.classify(classify),
        }
    }

    /// The same wrapper, answering 504 to a request whose response is not
    /// ready `after` it was called, timed by `timer` (see [`DeadlineTimer`]).
    ///
    /// # Examples
    ///
    /// See [`DeadlineTimer`].
    #[must_use]
    pub fn deadline(self, after: Duration, timer: impl DeadlineTimer + 'static) -> Self {
        Instrument {
            inner: self.inner,
            boundary: self.boundary.deadline(after, timer),
        }
    }

    /// The same wrapper, reporting panics to `hook` instead of stderr.
    ///
    /// # Examples
    ///
    /// See [`PanicReport`].
    #[must_use]
    pub fn on_panic(self, hook: impl Fn(&PanicReport<'_>) + Send + Sync + 'static) -> Self {
        Instrument {
            inner: self.inner,
            boundary: self.boundary.on_panic(hook),
        }
    }

    /// The wrapped service.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// assert_eq!(*bareprom::Instrument::new(7, &ROUTES).inner(), 7);
    /// ```
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Clone, C: Clone, T: Clone> Clone for Instrument<S, C, T> {
    fn clone(&self) -> Self {
        Instrument {
            inner: self.inner.clone(),
            boundary: self.boundary.clone(),
        }
    }
}

impl<S, C, T> fmt::Debug for Instrument<S, C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.boundary.fmt(f)
    }
}

/// A response with `status` and an empty body.
fn status_only<B: Default>(status: StatusCode) -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = status;
    response
}

/// The message of a panic payload, as std's panic hook reads it.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}

fn report(hook: Option<&PanicHook>, report: &PanicReport<'_>) {
    match hook {
        // The hook is user code and may panic itself: that must not undo
        // the isolation it reports on.
        Some(hook) => drop(catch_unwind(AssertUnwindSafe(|| hook(report)))),
        // One line; a closed stderr is not worth failing the request for.
        None => drop(writeln!(
            std::io::stderr(),
            "bareprom: handler panicked: {} {}: {}",
            report.method,
            report.route,
            report.message
        )),
    }
}
