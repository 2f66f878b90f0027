//! The crate's one error type: what went wrong at registration or
//! construction time, or in a transport's exchange (a push). The hot path
//! never returns it.

use std::fmt;

/// What kind of mistake an [`Error`] reports.
///
/// # Examples
///
/// ```
/// use bareprom::{Counter, ErrorKind};
///
/// let err = Counter::try_new("http-requests", "Requests.").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidMetricName);
/// assert_eq!(
///     err.to_string(),
///     "invalid metric name: \"http-requests\" (character '-' at position 4)"
/// );
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    InvalidMetricName,
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    InvalidLabelName,
    /// A label name starts with `__` (reserved for Prometheus itself), or is
    /// `le` on a histogram.
    ReservedLabelName,
    /// The same label name appears twice in one family.
    DuplicateLabelName,
    /// A histogram's bucket bounds are empty, unsorted, contain NaN, or are
    /// more than a static [`Histogram`](crate::Histogram) can hold.
    InvalidBuckets,
    /// A metric whose name (or one of whose sample names) is already taken in
    /// the registry.
    DuplicateMetric,
    /// A registry constant label has the same name as a label of a metric.
    LabelClash,
    /// A family has the name of a family of another kind, help text or
    /// label names (or would write the same series) in the registries a
    /// scrape merges.
    FamilyClash,
    /// A registry would include itself.
    IncludeCycle,
    /// A unit is empty, not made of `[a-zA-Z0-9_:]`, or not the suffix
    /// `_<unit>` of the metric's family name (`OpenMetrics` requires it).
    InvalidUnit,
    /// An exemplar's label names and values have more than
    /// [`MAX_EXEMPLAR_CHARS`](crate::MAX_EXEMPLAR_CHARS) characters together
    /// (a bad exemplar label name is an [`InvalidLabelName`](Self::InvalidLabelName),
    /// [`ReservedLabelName`](Self::ReservedLabelName) or
    /// [`DuplicateLabelName`](Self::DuplicateLabelName)).
    InvalidExemplar,

    // Pushing to a Pushgateway (`push.rs`). Kept together, after the
    // registration kinds, so that kinds other modules add merge cleanly.
    /// A Pushgateway URL is not `http://host[:port][/prefix]` (another
    /// scheme, no host, a bad port, credentials, a query or a fragment).
    InvalidPushUrl,
    /// A push's job name is empty.
    InvalidJob,
    /// An extra header, or a bearer token, cannot be sent as given: a name
    /// that is not an HTTP token or that the client sets itself, or a value
    /// with a control character.
    InvalidHeader,
    /// A pushed sample already carries the `job` label or one of the
    /// grouping labels (`client_golang` refuses these pushes too: the gateway
    /// would overwrite the label silently).
    GroupingLabelClash,
    /// The gateway refused the connection (nothing listens on that port).
    ConnectionRefused,
    /// Connecting, sending the request or receiving the answer took longer
    /// than its timeout.
    Timeout,
    /// Any other failure to resolve, connect, send or receive.
    Io,
    /// The gateway answered with a status other than 2xx;
    /// [`Error::status`] and [`Error::response_body`] say what it answered.
    GatewayRejected,
    /// The gateway's answer is not HTTP/1.x, or exceeds the client's limits.
    InvalidResponse,
}

impl ErrorKind {
    /// The lowercase message for this kind, without detail. `const` so that
    /// constructors can use it as a compile-time panic message.
    pub(crate) const fn message(self) -> &'static str {
        match self {
            ErrorKind::InvalidMetricName => "invalid metric name",
            ErrorKind::InvalidLabelName => "invalid label name",
            ErrorKind::ReservedLabelName => "reserved label name",
            ErrorKind::DuplicateLabelName => "duplicate label name",
            ErrorKind::InvalidBuckets => "invalid histogram buckets",
            ErrorKind::DuplicateMetric => "metric already registered",
            ErrorKind::LabelClash => "constant label clashes with a metric label",
            ErrorKind::FamilyClash => "family clashes with a family of the same name",
            ErrorKind::IncludeCycle => "registry would include itself",
            ErrorKind::InvalidUnit => "invalid unit",
            ErrorKind::InvalidExemplar => "invalid exemplar",
            ErrorKind::InvalidPushUrl => "invalid pushgateway url",
            ErrorKind::InvalidJob => "invalid job name",
            ErrorKind::InvalidHeader => "invalid push header",
            ErrorKind::GroupingLabelClash => "pushed metric carries a grouping label",
            ErrorKind::ConnectionRefused => "connection refused",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Io => "i/o error",
            ErrorKind::GatewayRejected => "pushgateway rejected the request",
            ErrorKind::InvalidResponse => "invalid pushgateway response",
        }
    }
}

/// An error from constructing or registering a metric, or from pushing to a
/// Pushgateway.
///
/// Opaque on purpose: match on [`Error::kind`], read the message through
/// `Display` (lowercase, no trailing period, naming the offending input; a
/// push error names the method and URL and, when the gateway answered, its
/// status and body, which [`Error::status`] and [`Error::response_body`]
/// give too).
///
/// # Examples
///
/// ```
/// use bareprom::{Counter, ErrorKind, Registry};
///
/// static A: Counter = Counter::new("jobs_total", "Jobs run.");
/// static B: Counter = Counter::new("jobs_total", "Jobs run, again.");
/// let registry = Registry::new();
/// registry.register(&A)?;
/// let err = registry.register(&B).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::DuplicateMetric);
/// assert_eq!(err.to_string(), "metric already registered: \"jobs_total\"");
/// # Ok::<(), bareprom::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    subject: String,
    /// What exactly is wrong with the subject, when there is more to say.
    detail: Option<String>,
    /// Set by transports: the exchange that failed, shown instead of the
    /// quoted subject.
    exchange: Option<Box<Exchange>>,
}

/// What a transport error says about the request it was for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Exchange {
    /// `METHOD url: what happened`, written as it is.
    detail: String,
    /// The peer's answer, when it answered: status and body text.
    answer: Option<(u16, String)>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, subject: &str) -> Self {
        Error {
            kind,
            subject: subject.to_owned(),
            detail: None,
            exchange: None,
        }
    }

    /// The same error, saying what exactly is wrong (e.g. which character).
    pub(crate) fn with_detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
    }

    /// A transport's error: `detail` names the request (method and URL) and
    /// what happened; `answer` is the peer's status and body, if it answered.
    pub(crate) fn exchange(kind: ErrorKind, detail: String, answer: Option<(u16, String)>) -> Self {
        Error {
            kind,
            subject: String::new(),
            detail: None,
            exchange: Some(Box::new(Exchange { detail, answer })),
        }
    }

    /// The HTTP status the peer answered, for an error of kind
    /// [`ErrorKind::GatewayRejected`]; `None` for every other error.
    ///
    /// # Examples
    ///
    /// ```
    /// # use bareprom::{ErrorKind, Pusher};
    /// let err = Pusher::new("http://127.0.0.1:9091", "")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidJob);
    /// assert_eq!(err.status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        self.exchange.as_ref()?.answer.as_ref().map(|answer| answer.0)
    }

    /// The body the peer answered with (lossily decoded, at most 64 KiB),
    /// for an error of kind [`ErrorKind::GatewayRejected`]; `None` for every
    /// other error. The `Display` text includes it too.
    ///
    /// # Examples
    ///
    /// ```
    /// # use bareprom::{ErrorKind, Pusher};
    /// let err = Pusher::new("ftp://127.0.0.1:9091", "nightly").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidPushUrl);
    /// assert_eq!(err.response_body(), None);
    /// ```
    pub fn response_body(&self) -> Option<&str> {
        self.exchange.as_ref()?.answer.as_ref().map(|answer| &*answer.1)
    }

    /// What kind of mistake this is.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{ErrorKind, Gauge};
    ///
    /// let err = Gauge::try_new("", "Empty names are invalid.").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidMetricName);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(exchange) = &self.exchange {
            return write!(f, "{}: {}", self.kind.message(), exchange.detail);
        }
        write!(f, "{}: {:?}", self.kind.message(), self.subject)?;
        match &self.detail {
            Some(detail) => write!(f, " ({detail})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}
