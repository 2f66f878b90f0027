//! Exemplars: a label set (typically a trace id) with a value and a time,
//! attached to one counter series or one histogram bucket, so that a
//! dashboard can jump from a spike to a trace.
//!
//! [`Exemplar`] is the validated value. Where recorded exemplars are kept is
//! `exemplar/store.rs`: outside the cells, allocated on first use, so a
//! metric that never records one pays nothing on its hot path and a family
//! series does not grow by a byte.
//!
//! The rules are those of `OpenMetrics` (and `client_golang`): label names
//! as for metrics (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`, each
//! once), any UTF-8 value, and the names and values together at most
//! [`MAX_EXEMPLAR_CHARS`] characters.

pub(crate) mod store;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind};
use crate::name;

/// The most characters (Unicode scalar values, not bytes) the label names
/// and values of one exemplar may have together, as `OpenMetrics` allows.
///
/// # Examples
///
/// ```
/// let long = "x".repeat(bareprom::MAX_EXEMPLAR_CHARS);
/// assert!(bareprom::Exemplar::new(&[("t", &long)], 1.0).is_err()); // 129 characters
/// assert!(bareprom::Exemplar::new(&[("t", &long[1..])], 1.0).is_ok());
/// ```
pub const MAX_EXEMPLAR_CHARS: usize = 128;

/// An exemplar: a small label set, a value and an optional timestamp.
///
/// The metrics' `…_with_exemplar` methods build one for you, stamped with
/// the wall-clock time of the call; a [`Collect`](crate::Collect)
/// implementation hands its own through
/// [`FamilyWriter::series_with_exemplar`](crate::FamilyWriter::series_with_exemplar)
/// and [`HistogramWriter::series_with_exemplars`](crate::HistogramWriter::series_with_exemplars).
/// `OpenMetrics` and the protobuf exposition carry exemplars; the text
/// format 0.0.4 cannot, and leaves them out.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
/// let exemplar = bareprom::Exemplar::new(&[("trace_id", "4bf92f35")], 0.25)?.with_timestamp(Some(at));
/// assert_eq!(exemplar.labels().collect::<Vec<_>>(), [("trace_id", "4bf92f35")]);
/// assert_eq!(exemplar.value(), 0.25);
/// assert_eq!(exemplar.timestamp(), Some(at));
/// # Ok::<(), bareprom::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Exemplar {
    /// `(name, value)` pairs, raw, in the order given.
    labels: Box<[(Box<str>, Box<str>)]>,
    value: f64,
    /// Since the Unix epoch; `None` for no timestamp.
    timestamp: Option<Duration>,
}

impl Exemplar {
    /// An exemplar with these labels and this value, stamped with the
    /// current wall-clock time ([`SystemTime::now`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidLabelName`], [`ErrorKind::ReservedLabelName`] or
    /// [`ErrorKind::DuplicateLabelName`] for a bad label name, and
    /// [`ErrorKind::InvalidExemplar`] when the names and values together
    /// have more than [`MAX_EXEMPLAR_CHARS`] characters.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = bareprom::Exemplar::new(&[("trace-id", "abc")], 1.0).unwrap_err();
    /// assert_eq!(err.kind(), bareprom::ErrorKind::InvalidLabelName);
    /// ```
    pub fn new(labels: &[(&str, &str)], value: f64) -> Result<Exemplar, Error> {
        check(labels)?;
        Ok(Exemplar {
            labels: labels.iter().map(|(n, v)| (Box::from(*n), Box::from(*v))).collect(),
            value,
            timestamp: now(),
        })
    }

    /// The same exemplar with another timestamp; `None` for none (the
    /// timestamp is optional in both formats that carry exemplars). A time
    /// before the Unix epoch counts as none.
    ///
    /// # Examples
    ///
    /// ```
    /// let exemplar = bareprom::Exemplar::new(&[], 1.0)?.with_timestamp(None);
    /// assert_eq!(exemplar.timestamp(), None);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: Option<SystemTime>) -> Exemplar {
        self.timestamp = timestamp.and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        self
    }

    /// The label pairs, in the order given.
    ///
    /// # Examples
    ///
    /// ```
    /// let exemplar = bareprom::Exemplar::new(&[("span", "é\n\"")], 1.0)?;
    /// assert_eq!(exemplar.labels().next(), Some(("span", "é\n\"")));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn labels(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.labels.iter().map(|(n, v)| (&**n, &**v))
    }

    /// The value: a counter's increment, or the observed value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::Exemplar::new(&[], 2.5)?.value(), 2.5);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The timestamp, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(bareprom::Exemplar::new(&[], 1.0)?.timestamp().is_some());
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn timestamp(&self) -> Option<SystemTime> {
        self.timestamp.map(|since| UNIX_EPOCH + since)
    }

    /// The timestamp as whole seconds and nanoseconds since the epoch.
    pub(crate) fn since_epoch(&self) -> Option<Duration> {
        self.timestamp
    }
}

impl fmt::Debug for Exemplar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exemplar")
            .field("labels", &self.labels().collect::<Vec<_>>())
            .field("value", &self.value)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

/// The wall-clock time now, since the epoch (`None` on a clock set before
/// 1970).
fn now() -> Option<Duration> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok()
}

/// Checks an exemplar's label set (see [`Exemplar::new`]).
fn check(labels: &[(&str, &str)]) -> Result<(), Error> {
    let names: Vec<&str> = labels.iter().map(|(n, _)| *n).collect();
    name::check_label_names(&names, false)?;
    let chars: usize = labels.iter().map(|(n, v)| n.chars().count() + v.chars().count()).sum();
    if chars > MAX_EXEMPLAR_CHARS {
        let subject = labels.first().map_or("", |(n, _)| *n);
        return Err(Error::new(ErrorKind::InvalidExemplar, subject).with_detail(format!(
            "its label names and values have {chars} characters, at most {MAX_EXEMPLAR_CHARS} are allowed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        // 2 + 126 two-byte characters = 128 characters, 254 bytes.
        let value = "é".repeat(126);
        assert!(Exemplar::new(&[("ab", &value)], 1.0).is_ok());
        let err = Exemplar::new(&[("abc", &value)], 1.0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidExemplar);
        assert_eq!(
            err.to_string(),
            "invalid exemplar: \"abc\" (its label names and values have 129 characters, at most 128 are allowed)"
        );
    }

    #[test]
    fn bad_names_are_refused_by_kind() {
        for (labels, kind) in [
            (&[("1x", "v")][..], ErrorKind::InvalidLabelName),
            (&[("__x", "v")][..], ErrorKind::ReservedLabelName),
            (&[("a", "v"), ("a", "w")][..], ErrorKind::DuplicateLabelName),
            (&[("", "v")][..], ErrorKind::InvalidLabelName),
        ] {
            assert_eq!(Exemplar::new(labels, 1.0).unwrap_err().kind(), kind, "{labels:?}");
        }
    }
}
