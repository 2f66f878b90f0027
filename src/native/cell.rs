//! The value of one native histogram series: its window's buckets,
//! allocated a chunk at a time as observations reach them, the zero
//! bucket, the sum, and the optional classic buckets alongside.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use super::classic::Classic;
use super::exemplar::NATIVE_EXEMPLARS;
use super::timer::NativeTimer;
use super::{NATIVE_BUCKETS, key};
use crate::counter::add_f64;
use crate::exemplar::Exemplar;
use crate::expose::{Kind, NativePoint, SeriesLabels, Sink};
use crate::layout::{Layout, NativeShape};
use crate::metric::seal;

/// Buckets per chunk: the unit in which a series' bucket storage is
/// allocated (256 bytes).
const CHUNK: usize = 32;
/// Chunks per sign.
const CHUNKS: usize = NATIVE_BUCKETS / CHUNK;

/// The buckets of one sign: [`NATIVE_BUCKETS`] counts in chunks of
/// [`CHUNK`], each allocated when an observation first lands in it.
struct Buckets([OnceLock<Box<[AtomicU64; CHUNK]>>; CHUNKS]);

impl Buckets {
    const fn new() -> Self {
        Buckets([const { OnceLock::new() }; CHUNKS])
    }

    #[inline]
    fn add(&self, slot: usize) {
        if let Some(chunk) = self.0.get(slot / CHUNK) {
            let counts = chunk.get_or_init(|| Box::new([const { AtomicU64::new(0) }; CHUNK]));
            counts[slot % CHUNK].fetch_add(1, Relaxed);
        }
    }

    /// Appends all [`NATIVE_BUCKETS`] counts (0 for a chunk not allocated).
    fn read_into(&self, out: &mut Vec<u64>) {
        for chunk in &self.0 {
            match chunk.get() {
                Some(counts) => out.extend(counts.iter().map(|c| c.load(Relaxed))),
                None => out.resize(out.len() + CHUNK, 0),
            }
        }
    }

    fn total(&self) -> u64 {
        let chunks = self.0.iter().filter_map(OnceLock::get);
        chunks.flat_map(|counts| counts.iter()).map(|c| c.load(Relaxed)).sum()
    }

    #[cfg(test)]
    fn allocated(&self) -> usize {
        self.0.iter().filter(|chunk| chunk.get().is_some()).count()
    }
}

/// The value of one native histogram series: of a
/// [`NativeHistogram`](crate::NativeHistogram), or of one series of a
/// [`NativeHistogramVec`](crate::NativeHistogramVec), whose window (schema,
/// range, zero threshold) and classic bounds it shares.
///
/// Memory: 240 bytes inline, and 256 bytes for each chunk of 32
/// consecutive buckets of a sign that an observation has reached, at most
/// 10 of them (2.5 KiB); classic buckets alongside add 8 bytes per bound
/// and one, on the first observation. A latency spread over two decades at
/// schema 3 fills 3 chunks: about 1 KiB per series.
///
/// # Examples
///
/// ```
/// static RPC: bareprom::NativeHistogramVec<1> =
///     bareprom::NativeHistogramVec::new("rpc_seconds", "RPC latency.", ["method"]);
/// let get = RPC.with(["get"]);
/// get.observe(0.02);
/// assert_eq!((get.count(), get.sum()), (1, 0.02));
/// ```
pub struct NativeHistogramCell {
    shape: NativeShape,
    zero: AtomicU64,
    sum: AtomicU64,
    positive: Buckets,
    negative: Buckets,
    classic: Classic,
}

impl NativeHistogramCell {
    pub(super) const fn new(shape: NativeShape, classic: Classic) -> Self {
        NativeHistogramCell {
            shape,
            zero: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            positive: Buckets::new(),
            negative: Buckets::new(),
            classic,
        }
    }

    pub(super) const fn shape(&self) -> NativeShape {
        self.shape
    }

    /// The classic buckets alongside, if any.
    pub(super) const fn classic(&self) -> &Classic {
        &self.classic
    }

    /// The classic buckets, for the static form's builders.
    pub(super) const fn classic_mut(&mut self) -> &mut Classic {
        &mut self.classic
    }

    /// Records one observation. NaN is ignored.
    ///
    /// Never locks; allocates only the first time an observation lands in
    /// a chunk of 32 buckets that this series has not used (256 bytes, at
    /// most 10 times per series), or the first time with classic buckets.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogramVec<1> = bareprom::NativeHistogramVec::new("h_seconds", "H.", ["op"]);
    /// H.with(["read"]).observe(0.5);
    /// H.with(["read"]).observe(f64::NAN);
    /// assert_eq!(H.with(["read"]).count(), 1);
    /// ```
    #[inline]
    pub fn observe(&self, v: f64) {
        if v.is_nan() {
            return;
        }
        let magnitude = v.abs();
        if magnitude <= self.shape.zero_threshold {
            self.zero.fetch_add(1, Relaxed);
        } else {
            let slot = if magnitude.is_finite() {
                let offset = i64::from(key(magnitude, self.shape.schema)) - i64::from(self.shape.lowest) - 1;
                usize::try_from(offset).unwrap_or(0).min(NATIVE_BUCKETS - 1)
            } else {
                NATIVE_BUCKETS - 1
            };
            let buckets = if v > 0.0 { &self.positive } else { &self.negative };
            buckets.add(slot);
        }
        // After the native bucket: see `Classic::observe`.
        self.classic.observe(v);
        add_f64(&self.sum, v);
    }

    /// Starts a [`NativeTimer`] that observes the elapsed seconds into this
    /// series when dropped (or stopped).
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogramVec<1> = bareprom::NativeHistogramVec::new("h_seconds", "H.", ["op"]);
    /// let read = H.with(["read"]);
    /// drop(read.start_timer());
    /// assert_eq!(read.count(), 1);
    /// ```
    pub fn start_timer(&self) -> NativeTimer<'_> {
        NativeTimer::borrowing(self)
    }

    /// How many observations were made (NaN not included).
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogramVec<1> = bareprom::NativeHistogramVec::new("h_seconds", "H.", ["op"]);
    /// assert_eq!(H.with(["read"]).count(), 0);
    /// ```
    pub fn count(&self) -> u64 {
        self.zero.load(Relaxed) + self.positive.total() + self.negative.total()
    }

    /// The sum of all observations.
    ///
    /// # Examples
    ///
    /// ```
    /// static H: bareprom::NativeHistogramVec<1> = bareprom::NativeHistogramVec::new("h_seconds", "H.", ["op"]);
    /// H.with(["read"]).observe(-1.5);
    /// assert_eq!(H.with(["read"]).sum(), -1.5);
    /// ```
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Relaxed))
    }

    /// How many bucket chunks (of 32 buckets, 256 bytes) this series has
    /// allocated, both signs together.
    #[cfg(test)]
    pub(crate) fn chunks(&self) -> usize {
        self.positive.allocated() + self.negative.allocated()
    }

    /// Reads the classic buckets (first, see `Classic::observe`) and then
    /// every native bucket once, and hands the point to the sink: the count
    /// is the native buckets' total. `exemplars` are the series' recorded
    /// ones, laid out as `exemplar.rs` places them (none: empty).
    pub(super) fn expose(&self, sink: &mut dyn Sink, labels: SeriesLabels<'_>, exemplars: &[Option<Arc<Exemplar>>]) {
        let mut counts = sink.take_counts();
        counts.clear();
        self.classic.read_cumulative(&mut counts);
        let classic_len = counts.len();
        let zero = self.zero.load(Relaxed);
        self.positive.read_into(&mut counts);
        self.negative.read_into(&mut counts);
        let (classic, native) = counts.split_at(classic_len);
        let (positive, negative) = native.split_at(NATIVE_BUCKETS.min(native.len()));
        let count = zero + native.iter().sum::<u64>();
        let sum = self.sum();
        let point = NativePoint {
            schema: self.shape.schema,
            zero_threshold: self.shape.zero_threshold,
            zero_count: zero,
            first_key: self.shape.lowest + 1,
            positive,
            negative,
            count,
            sum,
            classic: self.classic.point(classic, sum),
        };
        if exemplars.is_empty() {
            sink.native_histogram(labels, &point);
        } else {
            let (recent, classic) = exemplars.split_at(NATIVE_EXEMPLARS.min(exemplars.len()));
            sink.native_histogram_with_exemplars(labels, &point, recent, classic);
        }
        sink.put_counts(counts);
    }
}

impl fmt::Debug for NativeHistogramCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeHistogramCell")
            .field("schema", &self.shape.schema)
            .field("zero_threshold", &self.shape.zero_threshold)
            .field("count", &self.count())
            .field("sum", &self.sum())
            .finish_non_exhaustive()
    }
}

impl seal::Series for NativeHistogramCell {
    const KIND: Kind = Kind::Histogram;
    #[allow(clippy::declare_interior_mutable_const)] // a fresh copy at every use is the point
    const ZERO: Self = NativeHistogramCell::new(NativeShape::DEFAULT, Classic::NONE);
    fn create(layout: &Layout) -> Self {
        let classic = if layout.has_buckets() {
            Classic::shared(layout.shared_buckets())
        } else {
            Classic::NONE
        };
        NativeHistogramCell::new(layout.native_shape(), classic)
    }
    fn expose(&self, sink: &mut dyn Sink, labels: SeriesLabels<'_>) {
        NativeHistogramCell::expose(self, sink, labels, &[]);
    }
    fn expose_with_exemplars(
        &self,
        sink: &mut dyn Sink,
        labels: SeriesLabels<'_>,
        exemplars: &[Option<Arc<Exemplar>>],
    ) {
        NativeHistogramCell::expose(self, sink, labels, exemplars);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline size the docs give (240 bytes), and a chunk's 256.
    #[test]
    fn a_series_costs_what_the_docs_say() {
        assert_eq!(std::mem::size_of::<NativeHistogramCell>(), 240);
        assert_eq!(std::mem::size_of::<[AtomicU64; CHUNK]>(), 256);
    }
}
