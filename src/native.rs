//! Native histograms: sparse, exponential buckets, as Prometheus' native
//! histograms (schema `s`: bucket `k` holds `base^(k-1) < |v| <= base^k`,
//! `base = 2^(2^-s)`), carried by the protobuf exposition.
//!
//! Storage is a fixed window of [`NATIVE_BUCKETS`] atomic buckets per sign,
//! chosen when the histogram is built, so `observe` is a handful of integer
//! operations, one `fetch_add` and the sum's compare-and-swap: no lock, no
//! allocation, ever (not even a warm-up). The bucket-count limit is met by
//! the strategies `client_golang` uses, applied once, at construction
//! instead of at run time: the schema is the one of the bucket factor
//! ([`schema_for_factor`], as `NativeHistogramBucketFactor`), lowered until
//! the range `[min, max]` fits in the window; observations below the range
//! go to a widened zero bucket (the threshold exposed is the range's lower
//! edge, a power of two, or the configured threshold if larger); those above
//! it are counted in the window's highest bucket (documented on
//! [`NativeHistogram::with_range`]). NaN is not observed.
//!
//! As with the classic histogram there is no separate count: a scrape reads
//! each bucket once and the count it writes is their total, so every scrape
//! has `count == zero bucket + every bucket`, whatever other threads do.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, ErrorKind};
use crate::exemplar::store::Slot;
use crate::expose::{FamilyDesc, Kind, Names, SeriesLabels, Sink};
use crate::layout::{self, Bounds, NativeShape};
use crate::metric::{Meta, Metric, seal};
use crate::name;

mod cell;
pub(crate) mod classic;
mod exemplar;
mod timer;

pub use cell::NativeHistogramCell;
use classic::{Classic, ClassicBounds};
pub use timer::NativeTimer;

/// How many buckets a [`NativeHistogram`] keeps for each sign (the window
/// its range is fitted into): 160, `client_golang`'s usual
/// `NativeHistogramMaxBucketNumber`.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::NATIVE_BUCKETS, 160);
/// ```
pub const NATIVE_BUCKETS: usize = 160;

/// The zero threshold `client_golang` uses by default: 2^-128.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::DEFAULT_ZERO_THRESHOLD, 2f64.powi(-128));
/// ```
pub const DEFAULT_ZERO_THRESHOLD: f64 = f64::from_bits((1023 - 128) << 52);

/// `2^(2^-s)` for `s` = -4 ..= 8: the growth factor of each schema.
const BASES: [f64; 13] = [
    65_536.0,
    256.0,
    16.0,
    4.0,
    2.0,
    std::f64::consts::SQRT_2,
    1.189_207_115_002_721,
    1.090_507_732_665_257_7,
    1.044_273_782_427_413_8,
    1.021_897_148_654_116_6,
    1.010_889_286_051_700_5,
    1.005_429_901_112_802_7,
    1.002_711_275_050_202_5,
];

/// The schema of a bucket factor, as `client_golang` picks it
/// (`-floor(log2(log2(factor)))`, clamped to -4 ..= 8): the lowest schema
/// (widest buckets) whose growth factor is at most `factor`.
///
/// # Panics
///
/// If `factor` is not above 1 (NaN included); in a `const` that is a
/// compile error.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::schema_for_factor(1.1), 3); // 2^(1/8) = 1.0905
/// assert_eq!(bareprom::schema_for_factor(2.0), 0);
/// assert_eq!(bareprom::schema_for_factor(1.0001), 8);
/// ```
pub const fn schema_for_factor(factor: f64) -> i32 {
    assert!(factor > 1.0, "a native histogram's bucket factor must be above 1");
    let mut s = -4;
    while s < 8 {
        // A relative slack of 1e-12, so that a factor computed as
        // `2^(2^-s)` with rounding picks schema `s`, as the logarithms of
        // `-floor(log2(log2(factor)))` do.
        #[allow(clippy::cast_sign_loss)] // s + 4 is 0 ..= 12
        if BASES[(s + 4) as usize] <= factor * (1.0 + 1e-12) {
            return s;
        }
        s += 1;
    }
    8
}

/// Whether `with_range`'s numbers are usable.
pub(crate) const fn range_ok(bucket_factor: f64, min: f64, max: f64, zero_threshold: f64) -> bool {
    bucket_factor > 1.0
        && min >= f64::MIN_POSITIVE
        && min.is_finite()
        && max.is_finite()
        && max >= min
        && zero_threshold > 0.0
        && zero_threshold.is_finite()
}

/// The window of `with_range`'s numbers (which [`range_ok`] accepts): the
/// schema of `bucket_factor`, lowered until `[min, max]` fits in
/// [`NATIVE_BUCKETS`]; the zero threshold widened to the window's lower
/// edge.
pub(crate) const fn shape(bucket_factor: f64, min: f64, max: f64, zero_threshold: f64) -> NativeShape {
    let mut schema = schema_for_factor(bucket_factor);
    // The power of two at or below min: 2^(e-1) <= min.
    let low = exponent(min) - 1;
    // The power of two at or above max: max < 2^e.
    let high = exponent(max);
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let window = NATIVE_BUCKETS as i32;
    while schema > -4 && key_of_power_of_two(high, schema) - key_of_power_of_two(low, schema) > window {
        schema -= 1;
    }
    // 2^low, normal since min is: low + 1023 is 1 ..= 2046.
    #[allow(clippy::cast_sign_loss)]
    let edge = f64::from_bits(((low + 1023) as u64) << 52);
    NativeShape {
        schema,
        lowest: key_of_power_of_two(low, schema),
        zero_threshold: if zero_threshold > edge { zero_threshold } else { edge },
    }
}

/// The exponent `e` of `2^(e-1) <= v < 2^e` (`frexp`'s), for finite `v > 0`.
const fn exponent(v: f64) -> i32 {
    let bits = v.to_bits();
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // 11 bits
    let biased = ((bits >> 52) & 0x7FF) as i32;
    if biased == 0 {
        // Subnormal: the leading one is among the fraction bits.
        #[allow(clippy::cast_possible_wrap)] // at most 64
        let lz = (bits << 12).leading_zeros() as i32;
        -1022 - lz
    } else {
        biased - 1022
    }
}

/// The key of the bucket whose upper bound is `2^m` in schema `s`.
const fn key_of_power_of_two(m: i32, s: i32) -> i32 {
    if s > 0 { m << s } else { (m + (1 << -s) - 1) >> -s }
}

/// The bucket bounds of schema 8 within one power of two, as fractions in
/// `[0.5, 1)`: `2^(j/256 - 1)` for `j` in 0..256 (every lower schema's are
/// every `2^(8-s)`-th of them); and, for each of 1024 equal cells of
/// `[0.5, 1)` (the top 10 fraction bits), how many bounds lie below it.
struct Fractions {
    bounds: [f64; 256],
    below: [u16; CELLS],
}

/// Cells of [`Fractions::below`]. One is `0.5 / 1024` wide, less than the
/// smallest gap between two bounds (`0.5 * (2^(1/256) - 1)`, 0.00136), so
/// at most one bound lies inside a cell.
const CELLS: usize = 1024;

fn fractions() -> &'static Fractions {
    static FRACTIONS: OnceLock<Fractions> = OnceLock::new();
    FRACTIONS.get_or_init(|| {
        let bounds: [f64; 256] =
            std::array::from_fn(|j| (f64::from(u16::try_from(j).unwrap_or(0)) / 256.0 - 1.0).exp2());
        let below = std::array::from_fn(|c| {
            let start = 0.5 + f64::from(u16::try_from(c).unwrap_or(0)) / (2.0 * 1024.0);
            u16::try_from(bounds.partition_point(|&b| b < start)).unwrap_or(256)
        });
        Fractions { bounds, below }
    })
}

/// How many schema-8 bounds are below `frac` (in `[0.5, 1)`, its bits
/// given): the count below its cell, plus the one bound inside the cell if
/// that is below `frac` too. The same as a search of all 256, with one
/// comparison.
#[inline]
fn bounds_below(frac: f64) -> usize {
    let table = fractions();
    #[allow(clippy::cast_possible_truncation)] // 10 bits
    let cell = ((frac.to_bits() >> 42) & (CELLS as u64 - 1)) as usize;
    let below = usize::from(table.below.get(cell).copied().unwrap_or(0));
    below + usize::from(table.bounds.get(below).is_some_and(|&b| b < frac))
}

/// The key of the bucket holding finite `v > 0` in schema `s`: the `k` with
/// `base^(k-1) < v <= base^k`. Computed as `client_golang` does, from the
/// binary exponent and the fraction's place among the bounds (found
/// through a table of the fraction's top bits rather than a binary
/// search), which is exact at powers of two.
pub(crate) fn key(v: f64, s: i32) -> i32 {
    let e = exponent(v);
    // v / 2^e, exactly: the fraction bits under the exponent of 0.5 (v is
    // normal: the window starts at a normal power of two).
    let frac = f64::from_bits((v.to_bits() & !(0x7FF << 52)) | (1022 << 52));
    if s > 0 {
        let idx = bounds_below(frac);
        let step = 1usize << (8 - s);
        // The first bound of schema s at or above frac.
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // at most 256
        let j = idx.div_ceil(step) as i32;
        j + ((e - 1) << s)
    } else {
        // A power of two (no fraction bits) is its bucket's upper bound.
        let k = if v.to_bits() & ((1 << 52) - 1) == 0 { e - 1 } else { e };
        (k + (1 << -s) - 1) >> -s
    }
}

/// A native histogram: observations counted into sparse exponential
/// buckets, exposed over the protobuf format (see the module docs of
/// `protobuf` and [`Format::ProtobufDelimited`](crate::Format::ProtobufDelimited)).
///
/// In the text formats, which cannot carry native buckets, it is written
/// as its classic buckets if it has them
/// ([`with_classic_buckets`](NativeHistogram::with_classic_buckets)), else
/// as a classic histogram with only the `+Inf` bucket, `_sum` and
/// `_count` (as `client_golang` writes a native-only histogram): the count
/// and sum are exact, and no invented bucket boundary is shown.
///
/// Memory and allocation: see [`NativeHistogramCell`], which holds the
/// values (a `static` allocates its buckets a chunk at a time, as
/// observations reach them).
///
/// # Examples
///
/// ```
/// static LATENCY: bareprom::NativeHistogram = bareprom::NativeHistogram::new("rpc_seconds", "RPC latency.");
/// LATENCY.observe(0.25);
/// assert_eq!((LATENCY.count(), LATENCY.sum(), LATENCY.schema()), (1, 0.25, 3));
/// ```
pub struct NativeHistogram {
    meta: Meta,
    cell: NativeHistogramCell,
    /// Recorded exemplars (`native/exemplar.rs`), beside the cell.
    exemplars: Slot,
}

impl NativeHistogram {
    /// A native histogram with bucket factor 1.1 (schema 3, buckets about
    /// 9 % wide) over `[0.001, 1000]`, which schema 3 fits exactly into
    /// [`NATIVE_BUCKETS`]: latencies in seconds from a millisecond.
    ///
    /// # Panics
    ///
    /// If `name` is invalid; in a `static` that is a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogram = bareprom::NativeHistogram::new("h_seconds", "H.");
    /// assert_eq!(H.zero_threshold(), 2f64.powi(-10));
    /// ```
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Self::with_range(name, help, 1.1, 0.001, 1000.0, DEFAULT_ZERO_THRESHOLD)
    }

    /// A native histogram with the schema of `bucket_factor`
    /// ([`schema_for_factor`]), lowered until `[min, max]` fits in
    /// [`NATIVE_BUCKETS`] buckets per sign.
    ///
    /// The window starts at the power of two at or below `min`; an
    /// observation whose absolute value is at or below it, or at or below
    /// `zero_threshold` if that is larger, is counted in the zero bucket,
    /// and that bound is the zero threshold exposed (so it is always above
    /// 0, as Prometheus 2.42 needs to recognise a native histogram). An
    /// observation above the window's top (the power of two at or above
    /// `max`, or higher when the schema leaves room) is counted in the
    /// highest bucket, and fully in the sum. NaN is ignored.
    ///
    /// # Panics
    ///
    /// If `name` is invalid, `bucket_factor` is not above 1, `min` is not
    /// finite and normal (at least `f64::MIN_POSITIVE`), `max` is not finite or below `min`, or
    /// `zero_threshold` is not positive and finite; in a `static` that is
    /// a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// // Sizes in bytes, 1 KiB to 1 GB, buckets at most 2 % wide: schema 6
    /// // would need 1280 buckets for these 20 powers of two, schema 3 needs 160.
    /// static SIZES: bareprom::NativeHistogram =
    ///     bareprom::NativeHistogram::with_range("body_bytes", "Body sizes.", 1.02, 1024.0, 1e9, 2e-128);
    /// assert_eq!(SIZES.schema(), 3);
    /// ```
    pub const fn with_range(
        name: &'static str,
        help: &'static str,
        bucket_factor: f64,
        min: f64,
        max: f64,
        zero_threshold: f64,
    ) -> Self {
        assert!(
            range_ok(bucket_factor, min, max, zero_threshold),
            "a native histogram needs bucket_factor > 1, normal finite min, finite max >= min, positive finite zero_threshold"
        );
        Self::build(Meta::new(name, help), bucket_factor, min, max, zero_threshold)
    }

    /// As [`with_range`](NativeHistogram::with_range), for a name known only
    /// at run time.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`](crate::ErrorKind::InvalidMetricName)
    /// for a bad name;
    /// [`ErrorKind::InvalidBuckets`](crate::ErrorKind::InvalidBuckets) when
    /// `with_range` would panic on the numbers.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{ErrorKind, NativeHistogram};
    /// let h = NativeHistogram::try_new(format!("job_{}_seconds", 7), "Job.", 1.1, 0.001, 1000.0, 1e-9)?;
    /// assert_eq!(h.schema(), 3);
    /// let bad = NativeHistogram::try_new("job_seconds", "Job.", 1.0, 0.001, 1000.0, 1e-9);
    /// assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidBuckets);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        bucket_factor: f64,
        min: f64,
        max: f64,
        zero_threshold: f64,
    ) -> Result<Self, Error> {
        let meta = Meta::try_new(name.into(), help.into())?;
        if !range_ok(bucket_factor, min, max, zero_threshold) {
            return Err(Error::new(ErrorKind::InvalidBuckets, &meta.name).with_detail(format!(
                "native histogram: bucket factor {bucket_factor}, min {min}, max {max}, zero threshold {zero_threshold}"
            )));
        }
        Ok(Self::build(meta, bucket_factor, min, max, zero_threshold))
    }

    const fn build(meta: Meta, bucket_factor: f64, min: f64, max: f64, zero_threshold: f64) -> Self {
        NativeHistogram {
            meta,
            cell: NativeHistogramCell::new(shape(bucket_factor, min, max, zero_threshold), Classic::NONE),
            exemplars: Slot::new(),
        }
    }

    /// The same histogram with classic buckets alongside the native ones
    /// (ascending bounds; a trailing `+Inf` is optional): every observation
    /// counts in both. The text formats then show the classic histogram;
    /// the protobuf exposition sends the classic buckets and the native
    /// parts in one `Histogram`, as `client_golang` does. What Prometheus
    /// keeps of it depends on its version (see the crate's README): 2.42
    /// with native histograms enabled stores only the native histogram;
    /// 2.45 and later keep the classic buckets too when the scrape config
    /// says `scrape_classic_histograms: true` (3.x:
    /// `always_scrape_classic_histograms`).
    ///
    /// # Panics
    ///
    /// If the bounds are empty, unsorted or contain NaN; in a `static` that
    /// is a compile error.
    ///
    /// # Examples
    ///
    /// ```
    /// static RPC: bareprom::NativeHistogram =
    ///     bareprom::NativeHistogram::new("rpc_seconds", "RPC latency.").with_classic_buckets(&[0.1, 1.0]);
    /// RPC.observe(0.5);
    /// let registry = bareprom::Registry::new().without_health();
    /// registry.register(&RPC)?;
    /// assert!(registry.render().contains("rpc_seconds_bucket{le=\"1\"} 1\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub const fn with_classic_buckets(mut self, bounds: &'static [f64]) -> Self {
        name::unwrap(name::buckets(bounds));
        let finite = bounds.split_at(name::finite_len(bounds)).0;
        self.cell.classic_mut().set_bounds(ClassicBounds::Static(finite));
        self
    }

    /// As [`with_classic_buckets`](NativeHistogram::with_classic_buckets),
    /// for bounds built at run time.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidBuckets`](crate::ErrorKind::InvalidBuckets) for
    /// empty, unsorted or NaN bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// let bounds = bareprom::exponential_buckets(0.01, 10.0, 3)?;
    /// let h = bareprom::NativeHistogram::try_new("job_seconds", "Job.", 1.1, 0.001, 1000.0, 1e-9)?
    ///     .try_with_classic_buckets(bounds)?;
    /// h.observe(0.05);
    /// assert_eq!(h.count(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_with_classic_buckets(mut self, bounds: impl Into<Cow<'static, [f64]>>) -> Result<Self, Error> {
        let bounds = layout::validated(bounds.into())?;
        *self.cell.classic_mut() = Classic::shared(Arc::new(Bounds::new(&bounds)));
        Ok(self)
    }

    /// Records one observation.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogram = bareprom::NativeHistogram::new("o_seconds", "O.");
    /// H.observe(-3.0);
    /// H.observe(0.0);
    /// H.observe(f64::NAN); // ignored
    /// assert_eq!(H.count(), 2);
    /// ```
    #[inline]
    pub fn observe(&self, v: f64) {
        self.cell.observe(v);
    }

    /// Starts a [`NativeTimer`] that observes the elapsed seconds when
    /// dropped (or stopped).
    ///
    /// # Examples
    ///
    /// ```
    /// static JOB: bareprom::NativeHistogram = bareprom::NativeHistogram::new("job_seconds", "Job.");
    /// let secs = JOB.start_timer().stop();
    /// assert!(secs >= 0.0);
    /// assert_eq!(JOB.count(), 1);
    /// ```
    pub fn start_timer(&self) -> NativeTimer<'_> {
        self.cell.start_timer()
    }

    /// The number of observations so far.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogram = bareprom::NativeHistogram::new("c_seconds", "C.");
    /// H.observe(1.0);
    /// assert_eq!(H.count(), 1);
    /// ```
    pub fn count(&self) -> u64 {
        self.cell.count()
    }

    /// The sum of the observations so far.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogram = bareprom::NativeHistogram::new("s_seconds", "S.");
    /// H.observe(1.5);
    /// assert_eq!(H.sum(), 1.5);
    /// ```
    pub fn sum(&self) -> f64 {
        self.cell.sum()
    }

    /// The schema: -4 (buckets a factor 65536 wide) to 8 (2^(1/256)).
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogram = bareprom::NativeHistogram::new("sc_seconds", "S.");
    /// assert_eq!(H.schema(), bareprom::schema_for_factor(1.1));
    /// ```
    pub fn schema(&self) -> i32 {
        self.cell.shape().schema
    }

    /// The zero bucket's half-width, as exposed (see
    /// [`with_range`](NativeHistogram::with_range)).
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogram =
    ///     bareprom::NativeHistogram::with_range("z_seconds", "Z.", 1.1, 1e-9, 1e-3, 1e-6);
    /// assert_eq!(H.zero_threshold(), 1e-6);
    /// ```
    pub fn zero_threshold(&self) -> f64 {
        self.cell.shape().zero_threshold
    }
}

impl fmt::Debug for NativeHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeHistogram")
            .field("name", &self.meta.name)
            .field("schema", &self.schema())
            .field("zero_threshold", &self.zero_threshold())
            .field("count", &self.count())
            .field("sum", &self.sum())
            .finish_non_exhaustive()
    }
}

impl Metric for NativeHistogram {}
impl seal::Encode for NativeHistogram {
    fn describe(&self, i: usize) -> Option<FamilyDesc<'_>> {
        (i == 0).then(|| self.meta.desc(Kind::Histogram, Names::NONE))
    }

    fn expose(&self, _: usize, sink: &mut dyn Sink) {
        let mut exemplars = Vec::new();
        if sink.carries_exemplars() {
            self.exemplars.copy(&mut exemplars);
        }
        self.cell.expose(sink, SeriesLabels::None, &exemplars);
    }
}

#[cfg(test)]
mod tests;
