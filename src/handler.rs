//! The framework-agnostic metrics endpoint: a request's method, path and
//! `Accept` header in, status, content type and body out. Mounting on any
//! HTTP server is a matter of copying three fields each way.

use crate::registry::Registry;
use crate::text::CONTENT_TYPE;

/// The path [`Registry::handle`] serves metrics on.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::METRICS_PATH, "/metrics");
/// ```
pub const METRICS_PATH: &str = "/metrics";

/// What the metrics endpoint needs of an HTTP request.
///
/// # Examples
///
/// ```
/// let request = bareprom::MetricsRequest::new("GET", "/metrics?x=1");
/// assert_eq!(request.path, "/metrics?x=1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsRequest<'a> {
    /// The method, as sent (`GET`, `HEAD`, …).
    pub method: &'a str,
    /// The request target; a query string is ignored.
    pub path: &'a str,
    /// The `Accept` header, if any. Only the text format v0.0.4 is served
    /// today, so it is not consulted yet; it is here so that content
    /// negotiation can arrive without changing callers.
    pub accept: Option<&'a str>,
}

impl<'a> MetricsRequest<'a> {
    /// A request without an `Accept` header.
    ///
    /// # Examples
    ///
    /// ```
    /// let request = bareprom::MetricsRequest::new("HEAD", "/metrics");
    /// assert_eq!(request.accept, None);
    /// ```
    pub fn new(method: &'a str, path: &'a str) -> Self {
        MetricsRequest {
            method,
            path,
            accept: None,
        }
    }
}

/// What the metrics endpoint answers.
///
/// # Examples
///
/// ```
/// let response = bareprom::Registry::new().handle(&bareprom::MetricsRequest::new("GET", "/metrics"));
/// assert_eq!((response.status, response.content_type), (200, bareprom::CONTENT_TYPE));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsResponse {
    /// 200, 404 (another path) or 405 (another method).
    pub status: u16,
    /// The `Content-Type` to send.
    pub content_type: &'static str,
    /// The `Allow` header to send with a 405.
    pub allow: Option<&'static str>,
    /// The body. Empty for `HEAD`: a server that computes `Content-Length`
    /// from the body should answer `HEAD` by calling with `GET` and sending
    /// no body.
    pub body: Vec<u8>,
}

impl Registry {
    /// Answers a request for [`METRICS_PATH`]: `GET` and `HEAD` get the
    /// exposition, other methods 405, other paths 404.
    ///
    /// # Examples
    ///
    /// Mounted on a hand-rolled server, or any framework, in three lines:
    ///
    /// ```
    /// static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
    /// let registry = bareprom::Registry::new();
    /// registry.register(&UP)?;
    ///
    /// // e.g. tiny_http: `let (method, url) = (req.method().as_str(), req.url());`
    /// let (method, url) = ("GET", "/metrics");
    /// let response = registry.handle(&bareprom::MetricsRequest::new(method, url));
    /// assert_eq!(response.status, 200);
    /// assert_eq!(response.body, b"# HELP app_up Up.\n# TYPE app_up gauge\napp_up 0\n");
    ///
    /// let response = registry.handle(&bareprom::MetricsRequest::new("POST", "/metrics"));
    /// assert_eq!((response.status, response.allow), (405, Some("GET, HEAD")));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn handle(&self, request: &MetricsRequest<'_>) -> MetricsResponse {
        self.handle_at(METRICS_PATH, request)
    }

    /// As [`Registry::handle`], serving on `metrics_path` instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let registry = bareprom::Registry::new();
    /// let response = registry.handle_at("/internal/metrics", &bareprom::MetricsRequest::new("GET", "/metrics"));
    /// assert_eq!(response.status, 404);
    /// ```
    pub fn handle_at(&self, metrics_path: &str, request: &MetricsRequest<'_>) -> MetricsResponse {
        let path = request.path.split_once('?').map_or(request.path, |(path, _)| path);
        if path != metrics_path {
            return plain(404, "not found\n");
        }
        match request.method {
            "GET" => {
                let mut body = Vec::new();
                self.encode(&mut body);
                MetricsResponse {
                    status: 200,
                    content_type: CONTENT_TYPE,
                    allow: None,
                    body,
                }
            }
            "HEAD" => MetricsResponse {
                status: 200,
                content_type: CONTENT_TYPE,
                allow: None,
                body: Vec::new(),
            },
            _ => MetricsResponse {
                allow: Some("GET, HEAD"),
                ..plain(405, "method not allowed\n")
            },
        }
    }
}

fn plain(status: u16, body: &str) -> MetricsResponse {
    MetricsResponse {
        status,
        content_type: "text/plain; charset=utf-8",
        allow: None,
        body: body.as_bytes().to_vec(),
    }
}

/// Answers a request from the default registry; see [`Registry::handle`].
///
/// # Examples
///
/// ```
/// let response = bareprom::handle(&bareprom::MetricsRequest::new("GET", "/nope"));
/// assert_eq!(response.status, 404);
/// ```
pub fn handle(request: &MetricsRequest<'_>) -> MetricsResponse {
    crate::default_registry().handle(request)
}
