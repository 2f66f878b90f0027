//! The constructors of families whose names may lie outside the legacy
//! charset (Prometheus 3 UTF-8 names).

use std::borrow::Cow;

use super::{Cell, Family};
use crate::error::Error;
use crate::expose::Kind;
use crate::histogram::{DEFAULT_BUCKETS, HistogramCell};
use crate::layout;
use crate::metric::Meta;
use crate::name;

impl<C: Cell, const N: usize> Family<C, N> {
    /// A family whose metric and label names may lie outside the legacy
    /// charset (Prometheus 3 UTF-8 names); histograms get
    /// [`DEFAULT_BUCKETS`]. Names are written quoted to a scraper that
    /// accepts UTF-8 names (`escaping=allow-utf-8`) and escaped for any
    /// other (see [`Escaping`](crate::Escaping)); legacy names as they are.
    ///
    /// # Errors
    ///
    /// As [`Family::try_new`], for an empty name; and for label names that
    /// a scraper would see as one ([`DuplicateLabelName`](crate::ErrorKind::DuplicateLabelName):
    /// `a.b` and `a_b` both escape to `a_b`), or that are or escape to a
    /// name starting with `__` ([`ReservedLabelName`](crate::ErrorKind::ReservedLabelName):
    /// a label name outside the legacy charset may not start with `_` or a
    /// digit, which the `dots` escaping turns into `__`).
    ///
    /// # Examples
    ///
    /// ```
    /// let requests = bareprom::CounterVec::try_new_utf8(
    ///     "http.server.requests_total",
    ///     "Requests.",
    ///     ["http.request.method"],
    /// )?;
    /// requests.with(["GET"]).inc();
    /// let err = bareprom::CounterVec::try_new_utf8("x", "X.", ["a.b", "a_b"]).unwrap_err();
    /// assert_eq!(err.kind(), bareprom::ErrorKind::DuplicateLabelName);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_new_utf8(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        labels: [&str; N],
    ) -> Result<Self, Error> {
        name::check_label_names_utf8(&labels, matches!(C::KIND, Kind::Histogram))?;
        let meta = Meta::try_new_utf8(name.into(), help.into(), &labels)?;
        Ok(Self::from_meta(meta, labels, Cow::Borrowed(&DEFAULT_BUCKETS)))
    }
}

impl<const N: usize> Family<HistogramCell, N> {
    /// [`try_with_buckets`](Self::try_with_buckets) for names that may lie
    /// outside the legacy charset, as [`Family::try_new_utf8`].
    ///
    /// # Errors
    ///
    /// As [`Family::try_new_utf8`], and
    /// [`ErrorKind::InvalidBuckets`](crate::ErrorKind::InvalidBuckets).
    ///
    /// # Examples
    ///
    /// ```
    /// let h = bareprom::HistogramVec::try_with_buckets_utf8(
    ///     "http.server.request.duration",
    ///     "Request time.",
    ///     ["http.route"],
    ///     vec![0.1, 1.0],
    /// )?;
    /// h.with(["/"]).observe(0.5);
    /// assert_eq!(h.with(["/"]).count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_with_buckets_utf8(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        labels: [&str; N],
        bounds: impl Into<Cow<'static, [f64]>>,
    ) -> Result<Self, Error> {
        let bounds = layout::validated(bounds.into())?;
        name::check_label_names_utf8(&labels, true)?;
        let meta = Meta::try_new_utf8(name.into(), help.into(), &labels)?;
        Ok(Self::from_meta(meta, labels, bounds))
    }
}
