//! The native histogram family, `NativeHistogramVec<N>`: its constructors,
//! which give the family's [`Layout`] a native window (and classic bounds
//! alongside, if asked) that every series shares.

use std::borrow::Cow;

use super::Family;
use crate::error::{Error, ErrorKind};
use crate::layout::{self, Layout};
use crate::name;
use crate::native::{self, NativeHistogramCell};

/// A native histogram family with `N` labels: one
/// [`NativeHistogram`](crate::NativeHistogram) per label set, with the
/// window, zero threshold and classic buckets of the family (the same
/// options and bucket math as the static form).
///
/// Each series is a [`NativeHistogramCell`], whose memory grows with the
/// buckets it uses: about 240 bytes when created, plus 256 bytes per chunk
/// of 32 buckets that observations reach (at most 2.5 KiB in all), against
/// a classic histogram series' 8 bytes per bound. The series cap,
/// [`with`](Family::with), [`remove`](Family::remove) and
/// [`init_series`](Family::init_series) are those of every family.
///
/// # Examples
///
/// ```
/// use bareprom::{NativeHistogramVec, Registry};
///
/// static RPC: NativeHistogramVec<1> = NativeHistogramVec::new("rpc_seconds", "RPC latency.", ["method"]);
/// let registry = Registry::new().without_health();
/// registry.register(&RPC)?;
/// RPC.with(["get"]).observe(0.02);
/// assert_eq!(RPC.with(["get"]).count(), 1);
/// // Text scrapers get the count and sum (no classic buckets were asked for).
/// assert!(registry.render().contains("rpc_seconds_count{method=\"get\"} 1\n"));
/// # Ok::<(), bareprom::Error>(())
/// ```
pub type NativeHistogramVec<const N: usize> = Family<NativeHistogramCell, N>;

impl<const N: usize> Family<NativeHistogramCell, N> {
    /// A native histogram family with the window of
    /// [`NativeHistogram::with_range`](crate::NativeHistogram::with_range):
    /// the schema of `bucket_factor`, lowered until `[min, max]` fits in
    /// [`NATIVE_BUCKETS`](crate::NATIVE_BUCKETS) buckets per sign; below
    /// the window into a widened zero bucket, above it into the highest.
    ///
    /// # Panics
    ///
    /// As [`Family::new`] and
    /// [`NativeHistogram::with_range`](crate::NativeHistogram::with_range);
    /// in a `static` that is a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// static SIZES: bareprom::NativeHistogramVec<1> = bareprom::NativeHistogramVec::with_range(
    ///     "body_bytes", "Body sizes.", ["route"], 1.02, 1024.0, 1e9, 2e-128,
    /// );
    /// SIZES.with(["/upload"]).observe(4096.0);
    /// assert_eq!(SIZES.with(["/upload"]).count(), 1);
    /// ```
    #[allow(clippy::too_many_arguments)] // the static form's five, and the labels
    pub const fn with_range(
        name: &'static str,
        help: &'static str,
        labels: [&'static str; N],
        bucket_factor: f64,
        min: f64,
        max: f64,
        zero_threshold: f64,
    ) -> Self {
        assert!(
            native::range_ok(bucket_factor, min, max, zero_threshold),
            "a native histogram needs bucket_factor > 1, normal finite min, finite max >= min, positive finite zero_threshold"
        );
        let mut family = Self::build(name, help, labels, &[]);
        let shape = native::shape(bucket_factor, min, max, zero_threshold);
        family.replace_layout(Layout::native(Cow::Borrowed(&[]), shape));
        family
    }

    /// As [`with_range`](Family::with_range), for names built at run time.
    ///
    /// # Errors
    ///
    /// As [`Family::try_new`], and
    /// [`ErrorKind::InvalidBuckets`](crate::ErrorKind::InvalidBuckets) when
    /// `with_range` would panic on the numbers.
    ///
    /// # Examples
    ///
    /// ```
    /// let label = String::from("queue");
    /// let h = bareprom::NativeHistogramVec::try_with_range("wait_seconds", "Wait.", [label.as_str()], 1.1, 1e-6, 60.0, 1e-9)?;
    /// h.with(["mail"]).observe(0.5);
    /// assert_eq!(h.with(["mail"]).count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_with_range(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        labels: [&str; N],
        bucket_factor: f64,
        min: f64,
        max: f64,
        zero_threshold: f64,
    ) -> Result<Self, Error> {
        let mut family = Self::try_build(name.into(), help.into(), labels, Cow::Borrowed(&[]))?;
        if !native::range_ok(bucket_factor, min, max, zero_threshold) {
            return Err(Error::new(ErrorKind::InvalidBuckets, &family.meta.name).with_detail(format!(
                "native histogram: bucket factor {bucket_factor}, min {min}, max {max}, zero threshold {zero_threshold}"
            )));
        }
        let shape = native::shape(bucket_factor, min, max, zero_threshold);
        family.layout = Layout::native(Cow::Borrowed(&[]), shape);
        Ok(family)
    }

    /// The same family with classic buckets alongside the native ones, as
    /// [`NativeHistogram::with_classic_buckets`](crate::NativeHistogram::with_classic_buckets).
    /// Series that exist keep the bounds they were created with. A builder:
    /// on a family given run-time bounds before, the old bounds are not
    /// freed (a `const fn` cannot drop them).
    ///
    /// # Panics
    ///
    /// If the bounds are empty, unsorted or contain NaN; in a `static` that
    /// is a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// static RPC: bareprom::NativeHistogramVec<1> =
    ///     bareprom::NativeHistogramVec::new("rpc_seconds", "RPC latency.", ["method"]).with_classic_buckets(&[0.1, 1.0]);
    /// RPC.with(["get"]).observe(0.5);
    /// let registry = bareprom::Registry::new().without_health();
    /// registry.register(&RPC)?;
    /// assert!(registry.render().contains("rpc_seconds_bucket{method=\"get\",le=\"0.1\"} 0\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub const fn with_classic_buckets(mut self, bounds: &'static [f64]) -> Self {
        name::unwrap(name::buckets(bounds));
        let finite = bounds.split_at(name::finite_len(bounds)).0;
        let shape = self.layout.native_shape();
        self.replace_layout(Layout::native(Cow::Borrowed(finite), shape));
        self
    }

    /// As [`with_classic_buckets`](Family::with_classic_buckets), for
    /// bounds built at run time.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidBuckets`](crate::ErrorKind::InvalidBuckets).
    ///
    /// # Examples
    ///
    /// ```
    /// let bounds = bareprom::linear_buckets(0.1, 0.1, 3)?;
    /// let h = bareprom::NativeHistogramVec::try_new("op_seconds", "Op.", ["op"])?.try_with_classic_buckets(bounds)?;
    /// h.with(["read"]).observe(0.15);
    /// assert_eq!(h.with(["read"]).count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_with_classic_buckets(mut self, bounds: impl Into<Cow<'static, [f64]>>) -> Result<Self, Error> {
        let bounds = layout::validated(bounds.into())?;
        self.layout = Layout::native(bounds, self.layout.native_shape());
        Ok(self)
    }

    /// Replaces the layout in const context, where the old one (borrowed
    /// bounds, nothing shared yet: it owns nothing) cannot be dropped.
    const fn replace_layout(&mut self, layout: Layout) {
        std::mem::forget(std::mem::replace(&mut self.layout, layout));
    }
}
