//! The crate's one error type: what went wrong at registration or
//! construction time. The hot path never returns it.

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
        }
    }
}

/// An error from constructing or registering a metric.
///
/// Opaque on purpose: match on [`Error::kind`], read the message through
/// `Display` (lowercase, no trailing period, naming the offending input).
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
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, subject: &str) -> Self {
        Error {
            kind,
            subject: subject.to_owned(),
            detail: None,
        }
    }

    /// The same error, saying what exactly is wrong (e.g. which character).
    pub(crate) fn with_detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
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
        write!(f, "{}: {:?}", self.kind.message(), self.subject)?;
        match &self.detail {
            Some(detail) => write!(f, " ({detail})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}
