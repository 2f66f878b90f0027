//! The framework-agnostic metrics endpoint: a request's method, path,
//! `Accept` and `Accept-Encoding` headers in; status, content type, content
//! coding and body out. Mounting on any HTTP server is a matter of copying
//! a few fields each way.

use crate::gzip::gzip;
use crate::negotiate::{ContentEncoding, Format, negotiate, negotiate_encoding};
use crate::registry::Registry;

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
    /// The `Accept` header, if any (several joined with `, `). It is
    /// negotiated ([`negotiate`](crate::negotiate)) among the formats the
    /// endpoint writes: the text format v0.0.4 (also the answer to no
    /// header, or one that accepts nothing offered), then `OpenMetrics`
    /// 1.0.0 and 0.0.1, and the protobuf exposition, for a scraper that
    /// names it.
    pub accept: Option<&'a str>,
    /// The `Accept-Encoding` header, if any (several joined with `, `): the
    /// body is gzip-compressed when it allows gzip
    /// ([`negotiate_encoding`](crate::negotiate_encoding)).
    pub accept_encoding: Option<&'a str>,
}

impl<'a> MetricsRequest<'a> {
    /// A request without `Accept` and `Accept-Encoding` headers.
    ///
    /// # Examples
    ///
    /// ```
    /// let request = bareprom::MetricsRequest::new("HEAD", "/metrics");
    /// assert_eq!((request.accept, request.accept_encoding), (None, None));
    /// ```
    pub fn new(method: &'a str, path: &'a str) -> Self {
        MetricsRequest {
            method,
            path,
            accept: None,
            accept_encoding: None,
        }
    }
}

/// What the metrics endpoint answers.
///
/// Send `Content-Type`, `Content-Encoding` when `content_encoding` is set,
/// and `Vary: Accept-Encoding` on every 200: the body depends on the
/// request's `Accept-Encoding`, and a cache between scraper and server must
/// not hand a gzip body to a client that did not ask for one.
///
/// # Examples
///
/// ```
/// let response = bareprom::Registry::new().handle(&bareprom::MetricsRequest::new("GET", "/metrics"));
/// assert_eq!(response.status, 200);
/// assert_eq!(response.content_type, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsResponse {
    /// 200, 404 (another path) or 405 (another method).
    pub status: u16,
    /// The `Content-Type` to send: the format's, with the `escaping`
    /// parameter `client_golang` adds ([`Negotiated::content_type`](crate::Negotiated::content_type)).
    pub content_type: &'static str,
    /// The `Content-Encoding` to send, if any: `Some("gzip")` when the body
    /// is gzip-compressed.
    pub content_encoding: Option<&'static str>,
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
    /// The exposition is in the format the `Accept` header prefers among
    /// the text format v0.0.4, `OpenMetrics` 1.0.0/0.0.1 and the protobuf
    /// exposition (0.0.4 when it states no preference; every Prometheus
    /// prefers `OpenMetrics`, or protobuf with native histograms enabled:
    /// see [`Registry::encode_protobuf`]), with that format's complete
    /// `Content-Type`, and gzip-compressed when
    /// `Accept-Encoding` allows it, as every Prometheus asks. Names outside
    /// the legacy charset (metrics built with `try_new_utf8`) are written
    /// quoted when the range that chose the format says
    /// `escaping=allow-utf-8` (what Prometheus 3 asks), else escaped by the
    /// scheme it names (`underscores` when it names none, as every
    /// Prometheus 2); the `Content-Type` names the escaping
    /// ([`Registry::encode_negotiated`]). A `HEAD`
    /// gets the headers a `GET` would, without the body.
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
    ///
    /// // What Prometheus sends: the body comes back gzip-compressed.
    /// let scrape = bareprom::MetricsRequest {
    ///     accept_encoding: Some("gzip"),
    ///     ..bareprom::MetricsRequest::new("GET", "/metrics")
    /// };
    /// let response = registry.handle(&scrape);
    /// assert_eq!(response.content_encoding, Some("gzip"));
    /// assert_eq!(response.body[..2], [0x1F, 0x8B]);
    ///
    /// // Prometheus asks for OpenMetrics first.
    /// let scrape = bareprom::MetricsRequest {
    ///     accept: Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
    ///     ..bareprom::MetricsRequest::new("GET", "/metrics")
    /// };
    /// let response = registry.handle(&scrape);
    /// assert_eq!(
    ///     response.content_type,
    ///     "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
    /// );
    /// assert!(response.body.ends_with(b"# EOF\n"));
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
        let head = match request.method {
            "GET" => false,
            "HEAD" => true,
            _ => {
                return MetricsResponse {
                    allow: Some("GET, HEAD"),
                    ..plain(405, "method not allowed\n")
                };
            }
        };
        let negotiated = negotiate(request.accept, OFFERED);
        let coding = negotiate_encoding(request.accept_encoding);
        let mut body = Vec::new();
        if !head {
            self.encode_negotiated(negotiated, &mut body);
            if coding == ContentEncoding::Gzip {
                let mut compressed = Vec::new();
                gzip(&body, &mut compressed);
                body = compressed;
            }
        }
        MetricsResponse {
            status: 200,
            content_type: negotiated.content_type(),
            content_encoding: coding.header_value(),
            allow: None,
            body,
        }
    }
}

/// The formats [`Registry::handle`] can write, in order of preference (a
/// tie goes to the first): a client that states no preference (curl, a
/// browser) gets the text format 0.0.4. `OpenMetrics` 0.0.1 is the same
/// encoder as 1.0.0, as in `client_golang`: the two versions differ in
/// nothing this crate writes; so are the text formats 0.0.4 and 1.0.0
/// (Prometheus 3's name for the same syntax with quoted UTF-8 names, which
/// the text encoder writes whenever the scraper asks `escaping=allow-utf-8`).
/// Protobuf is chosen only when the scraper names it: wildcards never
/// select it.
const OFFERED: &[Format] = &[
    Format::Text0_0_4,
    Format::OpenMetrics1_0_0,
    Format::OpenMetrics0_0_1,
    Format::Text1_0_0,
    Format::ProtobufDelimited,
];

fn plain(status: u16, body: &str) -> MetricsResponse {
    MetricsResponse {
        status,
        content_type: "text/plain; charset=utf-8",
        content_encoding: None,
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
