//! Feature `tower`: [`MetricsService`] and [`Instrument`] as tower
//! services, and [`InstrumentLayer`], which wraps every route of an axum or
//! tonic router. The only module naming tower's types; the work is in
//! `middleware.rs`.

use std::borrow::Borrow;
use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};

use crate::middleware::{
    Beside, BesideFuture, Boundary, Classify, DeadlineTimer, Instrument, Instrumented, MetricsService, PanicReport,
    Unmatched,
};
use crate::registry::Registry;
use crate::routes::RouteTable;

impl<B, ResBody, R> tower_service::Service<Request<B>> for MetricsService<ResBody, R>
where
    ResBody: From<Vec<u8>>,
    R: Borrow<Registry>,
{
    type Response = Response<ResBody>;
    type Error = Infallible;
    type Future = Ready<Result<Response<ResBody>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.respond(&request)))
    }
}

impl<S, B, ResBody, C, T> tower_service::Service<Request<B>> for Instrument<S, C, T>
where
    S: tower_service::Service<Request<B>, Response = Response<ResBody>>,
    ResBody: Default,
    C: Classify<B>,
    T: Borrow<RouteTable> + Clone,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Instrumented<S::Future, C::Route, T>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let inner = &mut self.inner;
        self.boundary.call(request, |request| inner.call(request))
    }
}

impl<S, B, ResBody, R> tower_service::Service<Request<B>> for Beside<S, ResBody, R>
where
    S: tower_service::Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Unpin,
    ResBody: From<Vec<u8>> + Default,
    R: Borrow<Registry>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BesideFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.app.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if self.is_metrics(&request) {
            BesideFuture::metrics(self.metrics.respond(&request))
        } else {
            BesideFuture::app(self.app.call(request))
        }
    }
}

/// A `tower_layer::Layer` wrapping services in [`Instrument`]: the same
/// recording, panic isolation, cancellation and deadline, for axum (
/// `Router::layer`) and tonic.
///
/// In axum, classify by the route pattern that matched,
/// `axum::extract::MatchedPath`, which the router puts in the request's
/// extensions before the layer runs when the layer is added with
/// `Router::layer`; a request no route matched (the fallback) has none and
/// is [`UNMATCHED_ROUTE`](crate::UNMATCHED_ROUTE). Mount `/metrics` with
/// `route_service` after the layer, so scrapes are not recorded as
/// requests.
///
/// # Examples
///
/// ```
/// use axum::{Router, body::Body, extract::MatchedPath, http::Request, routing::get};
/// use bareprom::{InstrumentLayer, MetricsService, RouteTable, UNMATCHED_ROUTE};
///
/// static ROUTES: RouteTable = RouteTable::new("app_");
/// bareprom::register(&ROUTES)?;
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "hi" }))
///     .layer(InstrumentLayer::new(&ROUTES).classify(|req: &Request<Body>| {
///         req.extensions().get::<MatchedPath>().map_or(UNMATCHED_ROUTE.into(), |p| p.as_str().to_owned())
///     }))
///     .route_service("/metrics", MetricsService::<Body>::new(bareprom::default_registry()));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub struct InstrumentLayer<C = Unmatched, T = &'static RouteTable> {
    boundary: Boundary<C, T>,
}

impl<T: Borrow<RouteTable>> InstrumentLayer<Unmatched, T> {
    /// A layer recording into `table`, every request under
    /// [`UNMATCHED_ROUTE`](crate::UNMATCHED_ROUTE) until a classifier is
    /// given.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let layer = bareprom::InstrumentLayer::new(&ROUTES);
    /// ```
    pub fn new(table: T) -> Self {
        InstrumentLayer {
            boundary: Boundary::new(table),
        }
    }
}

impl<C, T> InstrumentLayer<C, T> {
    /// As [`Instrument::classify`].
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let layer = bareprom::InstrumentLayer::new(&ROUTES).classify(|_: &http::Request<()>| "/");
    /// ```
    pub fn classify<D>(self, classify: D) -> InstrumentLayer<D, T> {
        InstrumentLayer {
            boundary: self.boundary.classify(classify),
        }
    }

    /// As [`Instrument::deadline`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::{future::Future, pin::Pin, time::Duration};
    /// # struct Tokio;
    /// # impl bareprom::DeadlineTimer for Tokio {
    /// #     fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> { Box::pin(tokio::time::sleep(d)) }
    /// # }
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let layer = bareprom::InstrumentLayer::new(&ROUTES).deadline(Duration::from_secs(5), Tokio);
    /// ```
    #[must_use]
    pub fn deadline(self, after: Duration, timer: impl DeadlineTimer + 'static) -> Self {
        InstrumentLayer {
            boundary: self.boundary.deadline(after, timer),
        }
    }

    /// As [`Instrument::on_panic`].
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let layer = bareprom::InstrumentLayer::new(&ROUTES).on_panic(|report| eprintln!("{}", report.message()));
    /// ```
    #[must_use]
    pub fn on_panic(self, hook: impl Fn(&PanicReport<'_>) + Send + Sync + 'static) -> Self {
        InstrumentLayer {
            boundary: self.boundary.on_panic(hook),
        }
    }
}

impl<S, C: Clone, T: Clone> tower_layer::Layer<S> for InstrumentLayer<C, T> {
    type Service = Instrument<S, C, T>;

    fn layer(&self, inner: S) -> Instrument<S, C, T> {
        Instrument::from_parts(inner, self.boundary.clone())
    }
}

impl<C: Clone, T: Clone> Clone for InstrumentLayer<C, T> {
    fn clone(&self) -> Self {
        InstrumentLayer {
            boundary: self.boundary.clone(),
        }
    }
}

impl<C, T> fmt::Debug for InstrumentLayer<C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("InstrumentLayer").field(&self.boundary).finish()
    }
}
