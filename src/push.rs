//! A Pushgateway client on `std::net::TcpStream`: for batch jobs that end
//! before any scrape.
//!
//! [`Pusher`] names a group, `job` plus grouping labels in order, at
//! `http://host:port[/prefix]/metrics/job/<job>{/<label>/<value>}`, and sends a
//! registry's exposition there: [`Pusher::push`] (`PUT`, replaces the whole
//! group), [`Pusher::push_add`] (`POST`, replaces only the families pushed)
//! and [`Pusher::delete`] (`DELETE`, removes the group). One connection per
//! request, HTTP/1.1 with `Connection: close`; nothing runs in the background.
//!
//! Only `http://`. For TLS, terminate it in a proxy, or connect your own TLS
//! stream and hand it to [`Pusher::push_on`] (any `Read + Write`).

mod exchange;
pub(crate) mod labels;
pub(crate) mod response;
pub(crate) mod target;

use std::fmt;
use std::io::{Read, Write};
use std::time::Duration;

use crate::error::{Error, ErrorKind};
use crate::{ContentEncoding, Registry};
use target::{Gateway, STANDARD, base64, push_component};

/// The body format of a push.
///
/// Only the text format exists today; the Prometheus protobuf format will
/// be another variant. Compression is a separate option,
/// [`Pusher::content_encoding`].
///
/// # Examples
///
/// ```
/// use bareprom::{PushFormat, Pusher};
///
/// let pusher = Pusher::new("127.0.0.1:9091", "nightly")?.format(PushFormat::Text);
/// # Ok::<(), bareprom::Error>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PushFormat {
    /// Text exposition format 0.0.4 ([`CONTENT_TYPE`](crate::CONTENT_TYPE)); the default.
    #[default]
    Text,
}

/// Where and how to push: a gateway, a job, grouping labels, timeouts and
/// headers. Clone one to push to other groups with the same settings;
/// every request is one exchange on a new connection.
///
/// Defaults: connect timeout 5 s, write timeout 10 s, read timeout 30 s
/// (the Python client's push timeout; a gateway checks a push against all
/// it holds before it answers), no authentication, no extra headers, text
/// format, no compression. Each timeout bounds its whole phase (connecting; sending the
/// request; receiving the answer after the request is sent), not one read or
/// write.
///
/// `Debug` shows no credential.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use bareprom::{Gauge, Pusher, Registry};
///
/// static LAST_SUCCESS: Gauge = Gauge::new("backup_last_success_seconds", "When the backup last succeeded.");
/// let registry = Registry::new();
/// registry.register(&LAST_SUCCESS)?;
/// LAST_SUCCESS.set(1_764_633_600);
///
/// let pusher = Pusher::new("http://127.0.0.1:9091", "db_backup")?
///     .grouping("instance", "db-1")?
///     .read_timeout(Duration::from_secs(5));
/// pusher.push(&registry)?;
/// # Ok::<(), bareprom::Error>(())
/// ```
#[derive(Clone)]
pub struct Pusher {
    gateway: Gateway,
    job: String,
    grouping: Vec<(String, String)>,
    /// The group's path, encoded, prefix included.
    path: String,
    connect_timeout: Duration,
    write_timeout: Duration,
    read_timeout: Duration,
    /// The whole `Authorization` value; never shown by `Debug`.
    authorization: Option<String>,
    headers: Vec<(String, String)>,
    format: PushFormat,
    encoding: ContentEncoding,
}

/// Fields the client writes itself; an extra header may not set them.
const OWN_HEADERS: [&str; 7] = [
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "authorization",
];

/// The three requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Put,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl Pusher {
    /// A pusher for group `job` on the gateway at `gateway`,
    /// `http://host[:port][/prefix]`. Without a scheme, `http://` is assumed
    /// (as `client_golang` does); the port defaults to 80. A job name that
    /// contains `/` is sent base64url-encoded, as the Pushgateway specifies.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPushUrl`] for a URL of another scheme (`https`
    /// included: see [`Pusher::push_on`]), without a host, with a bad port,
    /// credentials (use [`Pusher::basic_auth`]), a query or a fragment;
    /// [`ErrorKind::InvalidJob`] for an empty job.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::Pusher;
    ///
    /// let pusher = Pusher::new("127.0.0.1:9091", "reports/daily")?;
    /// assert_eq!(pusher.url(), "http://127.0.0.1:9091/metrics/job@base64/cmVwb3J0cy9kYWlseQ");
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn new(gateway: &str, job: &str) -> Result<Pusher, Error> {
        let gateway = Gateway::parse(gateway)?;
        if job.is_empty() {
            return Err(Error::new(ErrorKind::InvalidJob, job));
        }
        let mut path = gateway.prefix.clone();
        path.push_str("/metrics");
        push_component(&mut path, "job", job);
        Ok(Pusher {
            gateway,
            job: job.to_owned(),
            grouping: Vec::new(),
            path,
            connect_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            authorization: None,
            headers: Vec::new(),
            format: PushFormat::Text,
            encoding: ContentEncoding::Identity,
        })
    }

    /// Adds a grouping label after the job and those added before, in that
    /// order in the URL. Any UTF-8 value is allowed: an empty one, or one
    /// with `/`, `.` or `..`, goes base64url-encoded (`<name>@base64/...`),
    /// any other percent-encoded.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidLabelName`] for a name that is not
    /// `[a-zA-Z_][a-zA-Z0-9_]*`; [`ErrorKind::ReservedLabelName`] for one
    /// starting with `__` (the gateway refuses those) or for `job` (the job
    /// is [`Pusher::new`]'s); [`ErrorKind::DuplicateLabelName`] for a name
    /// already in the group.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{ErrorKind, Pusher};
    ///
    /// let pusher = Pusher::new("127.0.0.1:9091", "etl")?
    ///     .grouping("instance", "db-1")?
    ///     .grouping("path", "/var/lib")?
    ///     .grouping("stage", "")?;
    /// assert_eq!(
    ///     pusher.url(),
    ///     "http://127.0.0.1:9091/metrics/job/etl/instance/db-1/path@base64/L3Zhci9saWI/stage@base64/="
    /// );
    /// let err = pusher.grouping("job", "other").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::ReservedLabelName);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn grouping(mut self, name: &str, value: &str) -> Result<Pusher, Error> {
        crate::name::label_name(name).map_err(|kind| Error::new(kind, name))?;
        if name == "job" {
            return Err(Error::new(ErrorKind::ReservedLabelName, name));
        }
        if self.grouping.iter().any(|(seen, _)| seen == name) {
            return Err(Error::new(ErrorKind::DuplicateLabelName, name));
        }
        push_component(&mut self.path, name, value);
        self.grouping.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// How long connecting may take, per address the host resolves to
    /// (default 5 s). Resolving a host name is not bounded by it: use an IP
    /// address where that matters. A zero duration counts as 1 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pusher = bareprom::Pusher::new("127.0.0.1:9091", "etl")?.connect_timeout(Duration::from_secs(1));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Pusher {
        self.connect_timeout = timeout;
        self
    }

    /// How long sending the whole request may take (default 10 s). A zero
    /// duration counts as 1 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pusher = bareprom::Pusher::new("127.0.0.1:9091", "etl")?.write_timeout(Duration::from_secs(2));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub fn write_timeout(mut self, timeout: Duration) -> Pusher {
        self.write_timeout = timeout;
        self
    }

    /// How long the whole answer may take to arrive once the request is
    /// sent (default 30 s). A zero duration counts as 1 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pusher = bareprom::Pusher::new("127.0.0.1:9091", "etl")?.read_timeout(Duration::from_secs(5));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Pusher {
        self.read_timeout = timeout;
        self
    }

    /// Sends `Authorization: Basic` with `user` and `password` (RFC 7617),
    /// as the gateway's `--web.config.file` basic auth expects. Replaces a
    /// bearer token set before. Over plain `http://` the credentials travel
    /// in clear text.
    ///
    /// # Examples
    ///
    /// ```
    /// let pusher = bareprom::Pusher::new("127.0.0.1:9091", "etl")?.basic_auth("batch", "s3cret");
    /// assert!(!format!("{pusher:?}").contains("s3cret"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Pusher {
        let mut value = String::from("Basic ");
        base64(&mut value, format!("{user}:{password}").as_bytes(), STANDARD, true);
        self.authorization = Some(value);
        self
    }

    /// Sends `Authorization: Bearer <token>`, replacing basic auth set
    /// before.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidHeader`] for a token with a control character
    /// (a line break would end the header).
    ///
    /// # Examples
    ///
    /// ```
    /// let pusher = bareprom::Pusher::new("127.0.0.1:9091", "etl")?.bearer_token("tok3n")?;
    /// assert!(!format!("{pusher:?}").contains("tok3n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn bearer_token(mut self, token: &str) -> Result<Pusher, Error> {
        if !is_field_value(token) {
            return Err(Error::new(
                ErrorKind::InvalidHeader,
                "bearer token with a control character",
            ));
        }
        self.authorization = Some(format!("Bearer {token}"));
        Ok(self)
    }

    /// Adds a header to every request, after the client's own; adding a
    /// name twice sends it twice.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidHeader`] for a name that is not an HTTP token,
    /// one the client writes itself (`Host`, `Content-Length`,
    /// `Content-Type`, `Content-Encoding`, `Transfer-Encoding`,
    /// `Connection`, and `Authorization`: use [`Pusher::basic_auth`] or
    /// [`Pusher::bearer_token`]), or a value with a control character.
    ///
    /// # Examples
    ///
    /// ```
    /// let pusher = bareprom::Pusher::new("127.0.0.1:9091", "etl")?.header("X-Tenant", "blue")?;
    /// assert!(pusher.clone().header("Content-Length", "1").is_err());
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Result<Pusher, Error> {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token || OWN_HEADERS.iter().any(|own| own.eq_ignore_ascii_case(name)) {
            return Err(Error::new(ErrorKind::InvalidHeader, name));
        }
        if !is_field_value(value) {
            return Err(Error::new(ErrorKind::InvalidHeader, value));
        }
        self.headers.push((name.to_owned(), value.trim().to_owned()));
        Ok(self)
    }

    /// The body format (default, and so far only, [`PushFormat::Text`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let pusher = bareprom::Pusher::new("127.0.0.1:9091", "etl")?.format(bareprom::PushFormat::Text);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub fn format(mut self, format: PushFormat) -> Pusher {
        self.format = format;
        self
    }

    /// Compresses the body: [`ContentEncoding::Gzip`] sends it gzipped
    /// ([`gzip`](crate::gzip)) with `Content-Encoding: gzip`, which the
    /// Pushgateway reads (1.5.1 does); the default,
    /// [`ContentEncoding::Identity`], sends it as it is. Exposition text
    /// shrinks about tenfold, which matters for large pushes over slow
    /// links.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{ContentEncoding, Pusher};
    ///
    /// let pusher = Pusher::new("127.0.0.1:9091", "etl")?.content_encoding(ContentEncoding::Gzip);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub fn content_encoding(mut self, encoding: ContentEncoding) -> Pusher {
        self.encoding = encoding;
        self
    }

    /// The group's URL, as requests name it.
    ///
    /// # Examples
    ///
    /// ```
    /// let pusher = bareprom::Pusher::new("http://gw.internal:9091/pushgateway/", "etl")?
    ///     .grouping("instance", "db 1")?;
    /// assert_eq!(pusher.url(), "http://gw.internal:9091/pushgateway/metrics/job/etl/instance/db%201");
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}{}", self.gateway.authority(), self.path)
    }

    /// Replaces the whole group with `registry`'s metrics (`PUT`): families
    /// pushed before and not in this push are gone afterwards.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::GroupingLabelClash`] before connecting, when a sample
    /// already carries `job` or a grouping label; then
    /// [`ErrorKind::ConnectionRefused`], [`ErrorKind::Timeout`],
    /// [`ErrorKind::Io`], [`ErrorKind::InvalidResponse`], or
    /// [`ErrorKind::GatewayRejected`] for an answer other than 2xx (the
    /// gateway answers 400 to a push inconsistent with what it holds). Every
    /// message names the method and URL.
    ///
    /// # Examples
    ///
    /// ```
    /// # use bareprom::{ErrorKind, Pusher, Registry};
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// // Nothing listens on `port`.
    /// let pusher = Pusher::new(&format!("127.0.0.1:{port}"), "etl")?;
    /// let err = pusher.push(&Registry::new()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    /// assert!(err.to_string().starts_with(&format!("connection refused: PUT http://127.0.0.1:{port}/metrics/job/etl: ")));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn push(&self, registry: &Registry) -> Result<(), Error> {
        let body = self.body(Method::Put, registry)?;
        self.send(Method::Put, &body)
    }

    /// Replaces only the families `registry` holds within the group
    /// (`POST`); other families pushed before stay.
    ///
    /// # Errors
    ///
    /// As [`Pusher::push`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let registry = bareprom::Registry::new();
    /// bareprom::Pusher::new("127.0.0.1:9091", "etl")?.push_add(&registry)?;
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn push_add(&self, registry: &Registry) -> Result<(), Error> {
        let body = self.body(Method::Post, registry)?;
        self.send(Method::Post, &body)
    }

    /// Deletes the group, every family in it (`DELETE`).
    ///
    /// # Errors
    ///
    /// As [`Pusher::push`], except for the label clash.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// bareprom::Pusher::new("127.0.0.1:9091", "etl")?.grouping("instance", "db-1")?.delete()?;
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn delete(&self) -> Result<(), Error> {
        self.send(Method::Delete, &[])
    }

    /// [`Pusher::push`] over a stream the caller connected, e.g. a TLS
    /// stream from the TLS crate of their choice; the request is written as
    /// to the gateway URL's host. This pusher's timeouts do not apply: set
    /// them on the stream (a read or write that fails with `TimedOut` or
    /// `WouldBlock` is reported as [`ErrorKind::Timeout`]).
    ///
    /// # Errors
    ///
    /// As [`Pusher::push`], less the connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::net::TcpStream;
    /// # let registry = bareprom::Registry::new();
    /// let pusher = bareprom::Pusher::new("gw.internal:443", "etl")?;
    /// let mut stream = TcpStream::connect("gw.internal:443").unwrap(); // wrap it in TLS here
    /// pusher.push_on(&mut stream, &registry)?;
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn push_on<S: Read + Write>(&self, stream: &mut S, registry: &Registry) -> Result<(), Error> {
        let body = self.body(Method::Put, registry)?;
        self.finish(Method::Put, self.exchange(stream, Method::Put, &body))
    }

    /// [`Pusher::push_add`] over a stream the caller connected; see
    /// [`Pusher::push_on`].
    ///
    /// # Errors
    ///
    /// As [`Pusher::push_on`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let registry = bareprom::Registry::new();
    /// let pusher = bareprom::Pusher::new("gw.internal:443", "etl")?;
    /// let mut stream = std::net::TcpStream::connect("gw.internal:443").unwrap();
    /// pusher.push_add_on(&mut stream, &registry)?;
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn push_add_on<S: Read + Write>(&self, stream: &mut S, registry: &Registry) -> Result<(), Error> {
        let body = self.body(Method::Post, registry)?;
        self.finish(Method::Post, self.exchange(stream, Method::Post, &body))
    }

    /// [`Pusher::delete`] over a stream the caller connected; see
    /// [`Pusher::push_on`].
    ///
    /// # Errors
    ///
    /// As [`Pusher::push_on`], except for the label clash.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let pusher = bareprom::Pusher::new("gw.internal:443", "etl")?;
    /// let mut stream = std::net::TcpStream::connect("gw.internal:443").unwrap();
    /// pusher.delete_on(&mut stream)?;
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn delete_on<S: Read + Write>(&self, stream: &mut S) -> Result<(), Error> {
        self.finish(Method::Delete, self.exchange(stream, Method::Delete, &[]))
    }

    /// Encodes the registry in the push format, refusing samples that carry
    /// a label of the grouping key.
    fn body(&self, method: Method, registry: &Registry) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        match self.format {
            PushFormat::Text => registry.encode(&mut body),
        }
        let mut names = vec!["job"];
        names.extend(self.grouping.iter().map(|(name, _)| &**name));
        if let Some((metric, label)) = labels::first_clash(&body, &names) {
            let detail = format!(
                "{} {}: metric {} already has label {}",
                method.as_str(),
                self.url(),
                String::from_utf8_lossy(metric),
                String::from_utf8_lossy(label)
            );
            return Err(Error::exchange(ErrorKind::GroupingLabelClash, detail, None));
        }
        match self.encoding {
            ContentEncoding::Identity => Ok(body),
            ContentEncoding::Gzip => {
                let mut compressed = Vec::new();
                crate::gzip(&body, &mut compressed);
                Ok(compressed)
            }
        }
    }
}

impl fmt::Debug for Pusher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pusher")
            .field("url", &self.url())
            .field("job", &self.job)
            .field("grouping", &self.grouping)
            .field("connect_timeout", &self.connect_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("authorization", &self.authorization.as_ref().map(|_| "<hidden>"))
            .field("headers", &self.headers)
            .field("format", &self.format)
            .field("encoding", &self.encoding)
            .finish()
    }
}

/// A header value we can write as it is: no control character but tab.
fn is_field_value(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests;
