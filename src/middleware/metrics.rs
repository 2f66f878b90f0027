//! The `/metrics` endpoint as an `http` service, alone or in front of an
//! application service.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};

use crate::handler::{METRICS_PATH, MetricsRequest};
use crate::registry::Registry;

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
/// assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8; escaping=underscores");
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
    /// as [`Instrument`](crate::Instrument)'s are.
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
