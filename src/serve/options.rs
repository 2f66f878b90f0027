//! The builder that configures and starts a [`Server`].

use std::fmt;
use std::io;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::time::Duration;

use super::{MetricsRequest, MetricsResponse, Server};
use crate::Registry;

/// Called with the status code of every response the server sends.
pub(crate) type ResponseHook = Arc<dyn Fn(u16) + Send + Sync>;

/// Settings for the exposition server; build with [`ServeOptions::new`],
/// adjust with the chained methods, then start with [`ServeOptions::serve`].
///
/// `Debug` shows the settings but never the token or password.
///
/// ```
/// use bareprom::{MetricsResponse, ServeOptions};
/// use std::time::Duration;
///
/// let server = ServeOptions::new()
///     .path("/metrics")
///     .max_connections(16)
///     .read_timeout(Duration::from_secs(5))
///     .serve("127.0.0.1:0", |_req| MetricsResponse {
///         status: 200,
///         content_type: "text/plain; version=0.0.4",
///         content_encoding: None,
///         allow: None,
///         body: b"up 1\n".to_vec(),
///     })?;
/// println!("serving on http://{}/metrics", server.local_addr());
/// server.stop();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct ServeOptions {
    pub(super) path: String,
    pub(super) max_connections: usize,
    pub(super) read_timeout: Duration,
    pub(super) write_timeout: Duration,
    pub(super) max_renders: usize,
    pub(super) render_timeout: Duration,
    pub(super) max_head_bytes: usize,
    pub(super) max_headers: usize,
    pub(super) bearer_token: Option<String>,
    pub(super) basic_auth: Option<(String, String)>,
    pub(super) on_response: Option<ResponseHook>,
}

impl ServeOptions {
    /// The defaults: path `/metrics`, 64 connections, 10 s read and write
    /// timeouts, 4 renderings at once with a 10 s render timeout, heads of at
    /// most 8192 bytes and 100 header fields, and no authentication.
    ///
    /// ```
    /// let options = bareprom::ServeOptions::new();
    /// assert!(format!("{options:?}").contains("/metrics"));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        ServeOptions {
            path: "/metrics".to_owned(),
            max_connections: 64,
            read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            max_renders: 4,
            render_timeout: Duration::from_secs(10),
            max_head_bytes: 8192,
            max_headers: 100,
            bearer_token: None,
            basic_auth: None,
            on_response: None,
        }
    }

    /// The only path that reaches the handler; every other path gets 404.
    /// It is compared byte for byte with the request's path after the query
    /// string is cut off, without percent-decoding.
    ///
    /// ```
    /// let options = bareprom::ServeOptions::new().path("/internal/metrics");
    /// # let server = options.serve("127.0.0.1:0", |_| bareprom::MetricsResponse {
    /// #     status: 200, content_type: "text/plain", content_encoding: None, allow: None, body: Vec::new() })?;
    /// # server.stop();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        path.clone_into(&mut self.path);
        self
    }

    /// How many connections may be open at once (at least 1); each has a
    /// worker thread of its own. When all are taken, a new connection
    /// replaces the one that has been evictable longest: a connection
    /// waiting for a request, one whose client has not accepted a 64 KiB
    /// piece of its response for 1 s, or one answering a pipelined request
    /// (which scrapers never send). If none is evictable yet, the new
    /// connection waits for one to become so (or to finish), at most 2 s,
    /// then gets `503 Service Unavailable` and is closed; it gets the 503 at
    /// once if `min(32, n)` connections beyond the free workers are already
    /// waiting.
    ///
    /// The server uses at most `n + min(32, n) + 3` file descriptors, and
    /// lowers `n` at start if that would not fit into the soft
    /// `RLIMIT_NOFILE` minus the descriptors already open;
    /// [`Server::max_connections`] tells the value in force.
    ///
    /// ```
    /// let options = bareprom::ServeOptions::new().max_connections(8);
    /// # drop(options);
    /// ```
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// The longest time to receive one request head, counted from when the
    /// server starts waiting for it (at least 1 ms). It bounds an idle
    /// keep-alive connection as well as a client that sends its head a byte
    /// at a time: the clock is not reset by each byte.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = bareprom::ServeOptions::new().read_timeout(Duration::from_secs(3));
    /// # drop(options);
    /// ```
    #[must_use]
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// The longest time to send one response (at least 1 ms); a client that
    /// reads too slowly is disconnected. A client that has not accepted a
    /// 64 KiB piece of its response for 1 s can be disconnected sooner: when
    /// a new connection needs its place, or when four distinct renderings
    /// are being written and its is the oldest.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = bareprom::ServeOptions::new().write_timeout(Duration::from_secs(3));
    /// # drop(options);
    /// ```
    #[must_use]
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.write_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// How many different requests may be rendered at once (at least 1).
    /// Requests arriving while an identical one (same method, path and
    /// `Accept`) is being rendered share its rendering and its body, as
    /// `client_golang` coalesces concurrent gathers; a request that would be a
    /// further rendering gets `503`, like promhttp's
    /// `MaxRequestsInFlight`.
    ///
    /// ```
    /// let options = bareprom::ServeOptions::new().max_renders(2);
    /// # drop(options);
    /// ```
    #[must_use]
    pub fn max_renders(mut self, n: usize) -> Self {
        self.max_renders = n.max(1);
        self
    }

    /// The longest a scrape waits for its rendering (at least 1 ms), like
    /// promhttp's `Timeout`: past it the scrape gets `503`. A handler cannot
    /// be interrupted, so the scrape whose thread runs the handler gets its
    /// `503` when the handler returns; the others get theirs at the timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = bareprom::ServeOptions::new().render_timeout(Duration::from_secs(5));
    /// # drop(options);
    /// ```
    #[must_use]
    pub fn render_timeout(mut self, d: Duration) -> Self {
        self.render_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// The largest request head in bytes. A request line longer than this
    /// gets 414; a longer head gets 431. The server never buffers more than
    /// this plus one 4 KiB read per connection.
    ///
    /// ```
    /// let options = bareprom::ServeOptions::new().max_head_bytes(4096);
    /// # drop(options);
    /// ```
    #[must_use]
    pub fn max_head_bytes(mut self, n: usize) -> Self {
        self.max_head_bytes = n;
        self
    }

    /// The most header fields a request may have; more gets 431.
    ///
    /// ```
    /// let options = bareprom::ServeOptions::new().max_headers(32);
    /// # drop(options);
    /// ```
    #[must_use]
    pub fn max_headers(mut self, n: usize) -> Self {
        self.max_headers = n;
        self
    }

    /// Requires `Authorization: Bearer <token>`; other requests get 401 with
    /// `WWW-Authenticate: Bearer`. The comparison takes the same time
    /// wherever the first difference is. If basic authentication is also
    /// set, either credential is accepted.
    ///
    /// ```
    /// let options = bareprom::ServeOptions::new().bearer_token("s3cret");
    /// assert!(!format!("{options:?}").contains("s3cret"));
    /// ```
    #[must_use]
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.bearer_token = Some(token.to_owned());
        self
    }

    /// Requires HTTP basic authentication (RFC 7617) with this user and
    /// password; other requests get 401 with
    /// `WWW-Authenticate: Basic realm="metrics"`. The comparison takes the
    /// same time wherever the first difference is.
    ///
    /// ```
    /// let options = bareprom::ServeOptions::new().basic_auth("prometheus", "s3cret");
    /// assert!(!format!("{options:?}").contains("s3cret"));
    /// ```
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.basic_auth = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Calls `hook` with the status code of every response sent, so the
    /// crate can count its own scrapes. A panic in the hook is caught.
    #[must_use]
    pub(crate) fn on_response(mut self, hook: ResponseHook) -> Self {
        self.on_response = Some(hook);
        self
    }

    /// Binds `addr` and starts serving in background threads until the
    /// returned [`Server`] is stopped or dropped.
    ///
    /// The handler is called only for authorized, well-formed `GET` and
    /// `HEAD` requests for the configured path; the server itself answers
    /// everything else (400, 401, 404, 405, 408, 414, 431, 503, 505). For
    /// `HEAD` the server sends the handler's headers without the body. A
    /// handler that panics produces a 500 and the server keeps serving. The
    /// handler runs on the connection's own thread and no lock is held while
    /// it runs, so scrapes can run in parallel; identical scrapes that
    /// arrive while it runs share its answer (see
    /// [`ServeOptions::max_renders`]).
    ///
    /// # Errors
    ///
    /// Whatever binding the address or starting the server's threads returns.
    ///
    /// ```
    /// use bareprom::{MetricsResponse, ServeOptions};
    /// use std::io::{Read, Write};
    ///
    /// let server = ServeOptions::new().serve("127.0.0.1:0", |req| MetricsResponse {
    ///     status: 200,
    ///     content_type: "text/plain",
    ///     content_encoding: None,
    ///     allow: None,
    ///     body: format!("you asked for {}\n", req.path).into_bytes(),
    /// })?;
    /// let mut client = std::net::TcpStream::connect(server.local_addr())?;
    /// client.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
    /// let mut reply = String::new();
    /// client.read_to_string(&mut reply)?;
    /// assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
    /// assert!(reply.ends_with("you asked for /metrics\n"));
    /// server.stop();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn serve<H>(self, addr: impl ToSocketAddrs, handler: H) -> io::Result<Server>
    where
        H: Fn(&MetricsRequest<'_>) -> MetricsResponse + Send + Sync + 'static,
    {
        super::start(self, addr, Box::new(handler))
    }

    /// Serves `registry` at the configured path, and counts every response
    /// by status code in `bareprom_exposition_requests_total{code}`,
    /// registered in `registry` (once, however many servers share it, and
    /// present from the first scrape on with `code="200"` at zero). That
    /// family is all it adds to `registry`.
    ///
    /// # Errors
    ///
    /// Whatever binding the address or starting the server's threads returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// static REGISTRY: bareprom::Registry = bareprom::Registry::new();
    /// static UP: bareprom::Gauge = bareprom::Gauge::new("app_up", "Up.");
    /// REGISTRY.register(&UP).unwrap();
    /// UP.set(1);
    ///
    /// let server = bareprom::ServeOptions::new().serve_registry("127.0.0.1:0", &REGISTRY)?;
    /// let mut client = std::net::TcpStream::connect(server.local_addr())?;
    /// client.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
    /// let mut reply = String::new();
    /// client.read_to_string(&mut reply)?;
    /// assert!(reply.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8; escaping=underscores\r\n"));
    /// assert!(reply.contains("\napp_up 1\n"));
    /// server.stop();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn serve_registry(self, addr: impl ToSocketAddrs, registry: &'static Registry) -> io::Result<Server> {
        // Already registered (another server for the same registry) is fine:
        // the family is process-wide and counts both.
        let _ = registry.register(&super::EXPOSITION_REQUESTS);
        // Present from the first scrape on, so the sample count is stable
        // and `rate()` sees the first request.
        super::EXPOSITION_REQUESTS.with(["200"]);
        let path = self.path.clone();
        self.on_response(Arc::new(|status| {
            super::EXPOSITION_REQUESTS.with([&status.to_string()]).inc();
        }))
        .serve(addr, move |request| {
            // The server strips the body of a HEAD itself but needs its
            // length, so the registry is always asked as for a GET.
            registry.handle_at(
                &path,
                &MetricsRequest {
                    method: "GET",
                    ..*request
                },
            )
        })
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions::new()
    }
}

impl fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets are replaced so that logging the options cannot leak them.
        let redacted = |set: bool| if set { Some("<redacted>") } else { None };
        f.debug_struct("ServeOptions")
            .field("path", &self.path)
            .field("max_connections", &self.max_connections)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("max_renders", &self.max_renders)
            .field("render_timeout", &self.render_timeout)
            .field("max_head_bytes", &self.max_head_bytes)
            .field("max_headers", &self.max_headers)
            .field("bearer_token", &redacted(self.bearer_token.is_some()))
            .field("basic_auth", &redacted(self.basic_auth.is_some()))
            .field("on_response", &self.on_response.is_some())
            .finish()
    }
}
