//! The constructors of histogram families with their own bucket bounds.

use std::borrow::Cow;

use super::Family;
use crate::error::Error;
use crate::histogram::HistogramCell;
use crate::{layout, name};

impl<const N: usize> Family<HistogramCell, N> {
    /// A histogram family with the given bucket bounds (ascending; a
    /// trailing `+Inf` is optional).
    ///
    /// # Panics
    ///
    /// As [`Family::new`], and if the bounds are empty, unsorted or contain
    /// NaN; in a `static` that is a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// static DB: bareprom::HistogramVec<1> =
    ///     bareprom::HistogramVec::with_buckets("db_seconds", "Query time.", ["table"], &[0.01, 0.1, 1.0]);
    /// DB.with(["users"]).observe(0.05);
    /// assert_eq!(DB.with(["users"]).count(), 1);
    /// ```
    pub const fn with_buckets(
        name: &'static str,
        help: &'static str,
        labels: [&'static str; N],
        bounds: &'static [f64],
    ) -> Self {
        name::unwrap(name::buckets(bounds));
        Self::build(name, help, labels, bounds.split_at(name::finite_len(bounds)).0)
    }

    /// A histogram family for names or bounds built at run time.
    ///
    /// # Errors
    ///
    /// As [`Family::try_new`], and
    /// [`ErrorKind::InvalidBuckets`](crate::ErrorKind::InvalidBuckets).
    ///
    /// # Examples
    ///
    /// ```
    /// let bounds = bareprom::linear_buckets(10.0, 10.0, 5)?;
    /// let h = bareprom::HistogramVec::try_with_buckets("batch_size", "Batch sizes.", ["queue"], bounds)?;
    /// h.with(["q1"]).observe(25.0);
    /// assert_eq!(h.with(["q1"]).count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_with_buckets(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        labels: [&str; N],
        bounds: impl Into<Cow<'static, [f64]>>,
    ) -> Result<Self, Error> {
        let bounds = layout::validated(bounds.into())?;
        Self::try_build(name.into(), help.into(), labels, bounds)
    }
}
