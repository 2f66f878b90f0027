//! The format-neutral exposition: what a metric says about itself, and the
//! [`Sink`] it says it to.
//!
//! A scrape walks the registry's families; each family describes itself
//! once ([`FamilyDesc`]: name, help, unit, kind, label names) and then hands
//! every series to the sink: its own label values ([`SeriesLabels`]) and a
//! value ([`Value`]) or a histogram snapshot ([`HistogramPoint`]). What the
//! bytes look like is the sink's business: the text format 0.0.4 (`text.rs`) and
//! the protobuf exposition (`protobuf.rs`) are sinks; `OpenMetrics` is one
//! more that needs no change to any metric type.
//!
//! Label values reach the sink in one of two shapes, and neither is a copy
//! made for the scrape. A family keeps its series' values in page texts,
//! escaped once when the series is created (`\`, `"` and newline, the
//! escaping of both text formats), so the text sinks copy them as they are;
//! a binary sink unescapes on the fly ([`unescape`]), which for a value
//! without a backslash (checked first) is a plain copy of the same bytes.
//! Collectors and the registry's own families hand raw values, which the
//! text sinks escape as they write.
//!
//! An exemplar travels with its series: a counter's through
//! [`Sink::series_with_exemplar`], a histogram's per bucket through
//! [`Sink::histogram_with_exemplars`], a native histogram's through
//! [`Sink::native_histogram_with_exemplars`]. They default to the plain call, so
//! a sink that cannot carry exemplars (the text format 0.0.4) ignores
//! them by doing nothing.

use std::sync::Arc;

use crate::exemplar::Exemplar;

/// The type of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A value that only goes up.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into cumulative buckets, with a sum.
    Histogram,
    /// Constant labels describing the target, value 1: the `OpenMetrics`
    /// `info` type (`x` with sample `x_info`), written as the gauge `x_info`
    /// in the text format 0.0.4 (as `client_python` does).
    Info,
}

/// A sample value: integers exactly, floats as they are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// An unsigned integer.
    U64(u64),
    /// A signed integer.
    I64(i64),
    /// A float.
    F64(f64),
}

/// A family's label names, borrowed from wherever the family keeps them.
#[derive(Clone, Copy, Debug)]
pub enum Names<'a> {
    /// Names known at compile time (or borrowed `&str`s).
    Strs(&'a [&'a str]),
    /// Names built at run time.
    Strings(&'a [String]),
}

impl<'a> Names<'a> {
    /// No labels.
    pub const NONE: Names<'static> = Names::Strs(&[]);

    /// How many names.
    pub fn len(self) -> usize {
        match self {
            Names::Strs(names) => names.len(),
            Names::Strings(names) => names.len(),
        }
    }

    /// The names in order.
    pub fn iter(self) -> impl Iterator<Item = &'a str> {
        let (strs, strings): (&'a [&'a str], &'a [String]) = match self {
            Names::Strs(names) => (names, &[]),
            Names::Strings(names) => (&[], names),
        };
        strs.iter().copied().chain(strings.iter().map(String::as_str))
    }

    /// Whether both hold the same names in the same order.
    pub fn same(self, other: Names<'_>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// What a family says about itself before its series.
#[derive(Clone, Copy, Debug)]
pub struct FamilyDesc<'a> {
    /// The metric name, as the family was built (a registry's name prefix
    /// is applied by the registry, see [`Scope`]).
    pub name: &'a str,
    /// The help text, unescaped.
    pub help: &'a str,
    /// The unit (`OpenMetrics` `# UNIT`); empty for none. Set by the
    /// metrics' `with_unit`; always the suffix `_<unit>` of the family name.
    pub unit: &'a str,
    /// The type.
    pub kind: Kind,
    /// The family's own label names (constant labels come from the
    /// [`Scope`]).
    pub labels: Names<'a>,
    /// Whether the name or a label name lies outside the legacy charset
    /// (only the `_utf8` constructors allow that). When false every name
    /// is legacy, and nothing on the way to the bytes looks at them again.
    pub utf8: bool,
}

/// The constant labels every series of a family member carries, from the
/// registry that holds the member and every registry that includes it.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// The label pairs, raw.
    pub pairs: &'a [(String, String)],
    /// The same pairs rendered for the text formats: `a="x",b="y"`, the
    /// values escaped; empty for none.
    pub escaped: &'a str,
    /// Whether a label name lies outside the legacy charset (a registry
    /// made with `with_utf8_names`); when false all are legacy.
    pub utf8: bool,
}

impl Scope<'_> {
    /// No constant labels.
    pub const NONE: Scope<'static> = Scope {
        pairs: &[],
        escaped: "",
        utf8: false,
    };
}

/// One series' own label values, in the order of the family's names.
#[derive(Clone, Copy, Debug)]
pub enum SeriesLabels<'a> {
    /// A series without labels.
    None,
    /// Values kept escaped for the text formats, one after the other in
    /// `text`: the first starts at `start`, each ends at its entry in
    /// `ends`. Binary formats read them through [`unescape`].
    Escaped {
        /// The page text the values are in.
        text: &'a str,
        /// Where the first value starts.
        start: usize,
        /// Where each value ends, one per label name.
        ends: &'a [u32],
    },
    /// Raw values, one per label name.
    Raw(&'a [String]),
}

impl<'a> SeriesLabels<'a> {
    /// Each escaped value of [`SeriesLabels::Escaped`] in turn (nothing for
    /// the other shapes).
    pub fn escaped_values(self) -> impl Iterator<Item = &'a str> {
        let (text, mut start, ends) = match self {
            SeriesLabels::Escaped { text, start, ends } => (text, start, ends),
            SeriesLabels::None | SeriesLabels::Raw(_) => ("", 0, &[][..]),
        };
        ends.iter().map(move |&end| {
            let value = text.get(start..end as usize).unwrap_or_default();
            start = end as usize;
            value
        })
    }
}

/// A counter or gauge series with its values kept escaped (see
/// [`SeriesLabels::Escaped`]), one of a batch handed to
/// [`Sink::plain_series`].
#[derive(Clone, Copy, Debug)]
pub struct Plain<'a> {
    /// The page text the values are in.
    pub text: &'a str,
    /// Where the first value starts.
    pub start: usize,
    /// Where each value ends, one per label name.
    pub ends: &'a [u32],
    /// The value.
    pub value: Value,
}

impl<'a> Plain<'a> {
    /// A placeholder, to fill a batch's array with.
    pub const EMPTY: Plain<'static> = Plain {
        text: "",
        start: 0,
        ends: &[],
        value: Value::U64(0),
    };

    /// The series' labels.
    pub fn labels(&self) -> SeriesLabels<'a> {
        SeriesLabels::Escaped {
            text: self.text,
            start: self.start,
            ends: self.ends,
        }
    }
}

/// Appends the raw form of a value escaped for the text formats (`\\`,
/// `\"`, `\n`), for a sink that needs raw label values. A value without a
/// backslash is appended as it is.
pub(crate) fn unescape(out: &mut Vec<u8>, escaped: &str) {
    let bytes = escaped.as_bytes();
    if !bytes.contains(&b'\\') {
        out.extend_from_slice(bytes);
        return;
    }
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\'
            && let Some((&next, tail)) = tail.split_first()
        {
            out.push(if next == b'n' { b'\n' } else { next });
            rest = tail;
        } else {
            out.push(b);
            rest = tail;
        }
    }
}

/// One histogram series at one moment, read once: every cumulative bucket,
/// the `+Inf` bucket (= the count) and the sum agree with each other.
#[derive(Clone, Copy, Debug)]
pub struct HistogramPoint<'a> {
    /// The finite upper bounds, ascending.
    pub bounds: &'a [f64],
    /// The bounds formatted for the text formats' `le`, when the family
    /// keeps them (a sink formats them itself otherwise).
    pub les: Option<&'a [Box<str>]>,
    /// The cumulative count at each bound, then the total count (the
    /// `+Inf` bucket): one more entry than `bounds`.
    pub cumulative: &'a [u64],
    /// The sum of all observations.
    pub sum: f64,
}

impl HistogramPoint<'_> {
    /// The number of observations: the `+Inf` bucket.
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

/// One native (sparse, exponential-bucket) histogram series at one moment,
/// read once: `count` is the zero bucket plus every bucket, in every point.
///
/// Bucket `k` (a key) of schema `s` holds the observations `v` with
/// `base^(k-1) < |v| <= base^k`, `base = 2^(2^-s)`; the zero bucket holds
/// those with `|v| <= zero_threshold`.
#[derive(Clone, Copy, Debug)]
pub struct NativePoint<'a> {
    /// The schema, from -4 (base 65536) to 8 (base 2^(1/256)).
    pub schema: i32,
    /// The zero bucket's half-width, always above 0.
    pub zero_threshold: f64,
    /// The zero bucket's count.
    pub zero_count: u64,
    /// The key of `positive[0]` and `negative[0]`.
    pub first_key: i32,
    /// The counts of the consecutive keys from `first_key`, for positive
    /// observations (zeros included; a sink skips them).
    pub positive: &'a [u64],
    /// The same for negative observations (by absolute value).
    pub negative: &'a [u64],
    /// The number of observations.
    pub count: u64,
    /// The sum of all observations.
    pub sum: f64,
    /// The classic buckets kept alongside, if any: read before the native
    /// buckets, so that no cumulative count exceeds `count`; its own
    /// `+Inf` bucket is the classic buckets' total.
    pub classic: Option<HistogramPoint<'a>>,
}

/// Where a scrape's families go: one implementation per wire format.
///
/// The registry opens each family ([`family`](Sink::family)) and each
/// member of it ([`scope`](Sink::scope): one registry's share, with its
/// constant labels); the member's metric then writes its series.
pub trait Sink {
    /// Opens a family named `name` (the registry's prefix applied): every
    /// series until the next call belongs to it.
    fn family(&mut self, name: &str, family: &FamilyDesc<'_>);
    /// Sets the constant labels of the series that follow.
    fn scope(&mut self, scope: Scope<'_>);
    /// A counter or gauge series.
    fn series(&mut self, labels: SeriesLabels<'_>, value: Value);
    /// Counter or gauge series with escaped labels, several at a time: what
    /// a labelled family hands over, so that a text sink writes a batch in
    /// one call (one dynamic call per batch, not per series). The default
    /// hands each to [`series`](Sink::series).
    fn plain_series(&mut self, batch: &[Plain<'_>]) {
        for series in batch {
            self.series(series.labels(), series.value);
        }
    }
    /// A histogram series.
    fn histogram(&mut self, labels: SeriesLabels<'_>, point: &HistogramPoint<'_>);
    /// A native histogram series. A format without native histograms (the
    /// text formats) gets what this default writes: the classic buckets
    /// kept alongside if there are any, else a classic histogram with only
    /// the `+Inf` bucket, its `_sum` and `_count` — true, if coarse, and
    /// what `client_golang` writes for a native-only histogram in text.
    fn native_histogram(&mut self, labels: SeriesLabels<'_>, point: &NativePoint<'_>) {
        if let Some(classic) = &point.classic {
            self.histogram(labels, classic);
            return;
        }
        let counts = [point.count];
        self.histogram(
            labels,
            &HistogramPoint {
                bounds: &[],
                les: None,
                cumulative: &counts,
                sum: point.sum,
            },
        );
    }
    /// Whether this format writes exemplars: a family skips looking its
    /// series' exemplars up for one that does not (the default, and the
    /// text format 0.0.4).
    fn carries_exemplars(&self) -> bool {
        false
    }
    /// A counter series with the exemplar of its latest exemplar-carrying
    /// increment. A format that cannot carry exemplars (the text format
    /// 0.0.4) gets what this default writes: the series without it.
    fn series_with_exemplar(&mut self, labels: SeriesLabels<'_>, value: Value, exemplar: &Exemplar) {
        let _ = exemplar;
        self.series(labels, value);
    }
    /// A histogram series with an exemplar per bucket (`exemplars[i]` for
    /// the bucket of `bounds[i]`, the last for `+Inf`; `None` for a bucket
    /// without, and fewer entries than buckets mean `None` for the rest).
    /// The default, for a format without exemplars, writes the histogram
    /// without them.
    fn histogram_with_exemplars(
        &mut self,
        labels: SeriesLabels<'_>,
        point: &HistogramPoint<'_>,
        exemplars: &[Option<Arc<Exemplar>>],
    ) {
        let _ = exemplars;
        self.histogram(labels, point);
    }
    /// A native histogram series with its exemplars: `recent`, the latest
    /// few recorded on it (protobuf's `Histogram.exemplars`), and
    /// `classic`, one per classic bucket alongside (as for
    /// [`histogram_with_exemplars`](Sink::histogram_with_exemplars); empty
    /// without classic buckets). A format without native histograms gets
    /// what this default writes: the classic buckets with their exemplars
    /// if there are classic buckets, else what
    /// [`native_histogram`](Sink::native_histogram) writes, without any
    /// exemplar (a `+Inf`-only bucket would need an exemplar value in it,
    /// and the format has no place for the native ones).
    fn native_histogram_with_exemplars(
        &mut self,
        labels: SeriesLabels<'_>,
        point: &NativePoint<'_>,
        recent: &[Option<Arc<Exemplar>>],
        classic: &[Option<Arc<Exemplar>>],
    ) {
        let _ = recent;
        match &point.classic {
            Some(histogram) if !classic.is_empty() => self.histogram_with_exemplars(labels, histogram, classic),
            _ => self.native_histogram(labels, point),
        }
    }
    /// A buffer for a histogram's cumulative counts, to hand back with
    /// [`put_counts`](Sink::put_counts) (reused across series).
    fn take_counts(&mut self) -> Vec<u64>;
    /// Returns the buffer of [`take_counts`](Sink::take_counts).
    fn put_counts(&mut self, counts: Vec<u64>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_inverts_the_text_escaping() {
        for (escaped, raw) in [
            ("plain", "plain"),
            ("a\\\\b", "a\\b"),
            ("q\\\"x\\\"", "q\"x\""),
            ("l1\\nl2", "l1\nl2"),
            ("\\", "\\"),
        ] {
            let mut out = Vec::new();
            unescape(&mut out, escaped);
            assert_eq!(out, raw.as_bytes(), "{escaped}");
        }
    }
}
