//! The request boundary shared by the hyper and tower adapters: the
//! `/metrics` service (`metrics.rs`) and the instrumenting wrapper, written
//! once against the `http` crate's request and response types. `hyper.rs`
//! and `tower.rs` only implement their crate's `Service` trait on these
//! types (naming `http`'s request and response in those impls); everything
//! else about requests is here.
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
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};

use crate::routes::{RouteTable, UNMATCHED_ROUTE};

mod future;
mod metrics;

pub use future::{BesideFuture, Instrumented};
use future::{InProgress, State};
pub use metrics::{Beside, MetricsService};

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
