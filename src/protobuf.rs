//! The encoder for the Prometheus protobuf exposition: a [`Sink`] that
//! writes length-delimited `io.prometheus.client.MetricFamily` messages,
//! each prefixed by its length as a varint (content type
//! `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited`).
//!
//! Hand-written: varints, zig-zag, fixed 64-bit doubles and
//! length-delimited fields, nothing else of protobuf is needed. The field numbers are those of upstream
//! `metrics.proto` (`prometheus/client_model`,
//! `io/prometheus/client/metrics.proto`, as vendored by Prometheus in
//! `prompb/io/prometheus/client/metrics.proto`), proto2:
//!
//! | message | field = number |
//! |---|---|
//! | `MetricFamily` | `name` = 1, `help` = 2, `type` = 3, `metric` = 4, `unit` = 5 |
//! | `MetricType` | `COUNTER` = 0, `GAUGE` = 1, `SUMMARY` = 2, `UNTYPED` = 3, `HISTOGRAM` = 4 |
//! | `Metric` | `label` = 1, `gauge` = 2, `counter` = 3, `histogram` = 7 |
//! | `LabelPair` | `name` = 1, `value` = 2 |
//! | `Gauge` | `value` = 1 (double) |
//! | `Histogram` | `sample_count` = 1, `sample_sum` = 2, `bucket` = 3, `schema` = 5 (sint32), `zero_threshold` = 6, `zero_count` = 7, `negative_span` = 9, `negative_delta` = 10 (sint64), `positive_span` = 12, `positive_delta` = 13 (sint64), `exemplars` = 16 (`Exemplar`, repeated) |
//! | `Counter` | `value` = 1 (double), `exemplar` = 2 |
//! | `Bucket` | `cumulative_count` = 1, `upper_bound` = 2, `exemplar` = 3 |
//! | `Exemplar` | `label` = 1 (`LabelPair`), `value` = 2 (double), `timestamp` = 3 (`google.protobuf.Timestamp`) |
//! | `google.protobuf.Timestamp` | `seconds` = 1 (int64), `nanos` = 2 (int32) |
//! | `BucketSpan` | `offset` = 1 (sint32), `length` = 2 |
//!
//! What is written, as `client_golang` writes it: every field that has a
//! value, zeros included (proto2 `optional` fields that are set); a
//! counter's or gauge's value as a double (a `u64` above 2^53 rounds, as in
//! every protobuf exposition); a classic histogram's finite buckets with
//! their cumulative counts, without the `+Inf` bucket (optional in the
//! format: the scraper takes it from `sample_count`). Constant labels come
//! before the family's own labels, as in the text format. A label value
//! kept escaped for the text formats is unescaped on the way
//! ([`unescape`]).
//!
//! Exemplars (see `exemplar.rs`): a counter's in `Counter.exemplar`, a
//! histogram bucket's in `Bucket.exemplar`; an exemplar of the `+Inf`
//! bucket adds that bucket explicitly (bound `+Inf`), as `client_golang`
//! does. A gauge has no exemplar field. A native histogram's latest
//! exemplars (`native/exemplar.rs`) go in `Histogram.exemplars`, field 16
//! (upstream: `// Only used for native histograms. These exemplars MUST
//! have a timestamp.` / `repeated Exemplar exemplars = 16;`, `client_model`
//! commit 10dc9dfb), oldest first, leaving out any without a timestamp
//! (a clock before 1970); its classic buckets alongside carry theirs in
//! `Bucket.exemplar` as a classic histogram's do.
//!
//! A native histogram ([`NativePoint`]) is a `Histogram` with `schema`,
//! `zero_threshold` (always above 0), `zero_count` and the spans and
//! packed deltas of each sign, after its classic buckets if it keeps any
//! alongside (`with_classic_buckets`; one message with both, as
//! `client_golang` sends); an empty one gets a no-op positive span.
//! Prometheus 2.42 (with `--enable-feature=native-histograms`) reads a
//! histogram as native only from these fields, and stores only the native
//! parts of a histogram that has them (2.45 and later can keep the classic
//! buckets as well, with `scrape_classic_histograms`).
//!
//! A family is built in one buffer and written with its length when the
//! next one opens or at the end of the scrape; a metric is built in a
//! second buffer. The buffers are kept per thread (`text/kept.rs`), so a
//! scrape on a thread that has scraped allocates only for a family or
//! metric larger than any before, for one larger than the kept limit
//! (64 KiB of buffers in all), or for an exemplar.

use std::cell::Cell;
use std::sync::Arc;

use crate::exemplar::Exemplar;
use crate::expose::{FamilyDesc, HistogramPoint, Kind, NativePoint, Plain, Scope, SeriesLabels, Sink, Value, unescape};
use crate::text;
use crate::text::kept::Buffer as _;

/// Wire type of varint fields.
const VARINT: u8 = 0;
/// Wire type of double fields.
const FIXED64: u8 = 1;
/// Wire type of strings, bytes and nested messages.
const LEN: u8 = 2;

/// Appends `v` as a base-128 varint.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        // Truncation is the point: the low seven bits, with the high bit set.
        #[allow(clippy::cast_possible_truncation)]
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(v as u8);
}

/// The zig-zag form of a signed value (`sint32`, `sint64`): small
/// magnitudes of either sign get short varints.
fn zigzag(v: i64) -> u64 {
    #[allow(clippy::cast_sign_loss)] // the bit pattern is the point
    let z = ((v << 1) ^ (v >> 63)) as u64;
    z
}

/// A field's tag: one byte up to field 15, two from 16
/// (`Histogram.exemplars`).
fn put_tag(out: &mut Vec<u8>, field: u8, wire: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire));
}

fn put_u64_field(out: &mut Vec<u8>, field: u8, v: u64) {
    put_tag(out, field, VARINT);
    put_varint(out, v);
}

fn put_f64_field(out: &mut Vec<u8>, field: u8, v: f64) {
    put_tag(out, field, FIXED64);
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

fn put_bytes_field(out: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    put_tag(out, field, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_label(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    put_tag(out, 1, LEN);
    // Both lengths are below 2^64; a pair's length is their fields' sum.
    let len = 2 + varint_len(name.len() as u64) + name.len() + varint_len(value.len() as u64) + value.len();
    put_varint(out, len as u64);
    put_bytes_field(out, 1, name);
    put_bytes_field(out, 2, value);
}

/// `Exemplar { label*, value, timestamp }`, the timestamp a
/// `google.protobuf.Timestamp { seconds = 1, nanos = 2 }` when there is one.
fn put_exemplar(out: &mut Vec<u8>, exemplar: &Exemplar) {
    for (name, value) in exemplar.labels() {
        put_label(out, name.as_bytes(), value.as_bytes());
    }
    put_f64_field(out, 2, exemplar.value());
    if let Some(since) = exemplar.since_epoch() {
        let mut timestamp = Vec::new();
        put_u64_field(&mut timestamp, 1, since.as_secs());
        put_u64_field(&mut timestamp, 2, u64::from(since.subsec_nanos()));
        put_bytes_field(out, 3, &timestamp);
    }
}

/// `Bucket { cumulative_count = 1, upper_bound = 2, exemplar = 3 }`.
fn put_bucket_with_exemplar(out: &mut Vec<u8>, count: u64, bound: f64, exemplar: &Exemplar) {
    let mut bucket = Vec::new();
    put_u64_field(&mut bucket, 1, count);
    put_f64_field(&mut bucket, 2, bound);
    let mut message = Vec::new();
    put_exemplar(&mut message, exemplar);
    put_bytes_field(&mut bucket, 3, &message);
    put_bytes_field(out, 3, &bucket);
}

fn varint_len(v: u64) -> usize {
    // 1 byte per started 7 bits, at least one.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// The `i`-th of the label names kept one after the other in `names`.
fn label_name<'n>(names: &'n str, ends: &[usize], i: usize) -> &'n [u8] {
    let start = if i == 0 {
        0
    } else {
        ends.get(i - 1).copied().unwrap_or(0)
    };
    let end = ends.get(i).copied().unwrap_or(start);
    names.as_bytes().get(start..end).unwrap_or_default()
}

/// `f64` of a sample value, as the format carries every value.
#[allow(clippy::cast_precision_loss)]
fn as_f64(value: Value) -> f64 {
    match value {
        Value::U64(v) => v as f64,
        Value::I64(v) => v as f64,
        Value::F64(v) => v,
    }
}

/// The protobuf sink: appends delimited `MetricFamily` messages to a byte
/// buffer, inside [`run`](ProtobufEncoder::run), which writes the last family.
pub(crate) struct ProtobufEncoder<'a> {
    out: &'a mut Vec<u8>,
    /// Where the open family's message starts in `out`, if one is open.
    family_at: Option<usize>,
    kind: Kind,
    /// The buffers, kept per thread between scrapes (`text/kept.rs`).
    s: &'a mut Scratch,
}

/// The buffers of a [`ProtobufEncoder`].
#[derive(Default)]
struct Scratch {
    /// The family's label names, one after the other; `name_ends` ends each.
    names: String,
    name_ends: Vec<usize>,
    /// The constant labels of the current scope, as encoded `label` fields.
    constant: Vec<u8>,
    /// The metric being built.
    metric: Vec<u8>,
    /// A nested message being built (a counter, gauge or histogram body).
    inner: Vec<u8>,
    /// Scratch for one unescaped label value.
    value: Vec<u8>,
    counts: Vec<u64>,
}

impl text::kept::Buffers for Scratch {
    fn clear(&mut self) -> usize {
        self.names.clear_kept()
            + self.name_ends.clear_kept()
            + self.constant.clear_kept()
            + self.metric.clear_kept()
            + self.inner.clear_kept()
            + self.value.clear_kept()
            + self.counts.clear_kept()
    }
}

thread_local! {
    static KEPT: text::kept::Kept<Scratch> = const { Cell::new(None) };
}

impl ProtobufEncoder<'_> {
    /// Runs `f` with an encoder appending to `out`, on this thread's kept
    /// buffers, then writes the last family.
    pub(crate) fn run(out: &mut Vec<u8>, f: impl FnOnce(&mut ProtobufEncoder<'_>)) {
        text::kept::with(&KEPT, |s| {
            let mut encoder = ProtobufEncoder {
                out,
                family_at: None,
                kind: Kind::Gauge,
                s,
            };
            f(&mut encoder);
            encoder.finish();
        });
    }

    /// Puts the open family's length, if there is one, before it: the
    /// family was written into `out` from `family_at`; its length is
    /// appended and rotated to the front (one move of the family, as
    /// copying it from a buffer of its own would be, and no buffer as large
    /// as the largest family).
    fn finish(&mut self) {
        if let Some(start) = self.family_at.take() {
            let len = self.out.len() - start;
            put_varint(self.out, len as u64);
            let width = self.out.len() - start - len;
            if let Some(family) = self.out.get_mut(start..) {
                family.rotate_right(width);
            }
        }
    }

    /// Starts a metric: its constant and own labels.
    fn begin_metric(&mut self, labels: SeriesLabels<'_>) {
        self.s.metric.clear();
        self.s.metric.extend_from_slice(&self.s.constant);
        match labels {
            SeriesLabels::None => {}
            SeriesLabels::Raw(values) => {
                for (i, value) in values.iter().enumerate().take(self.s.name_ends.len()) {
                    let name = label_name(&self.s.names, &self.s.name_ends, i);
                    put_label(&mut self.s.metric, name, value.as_bytes());
                }
            }
            SeriesLabels::Escaped { .. } => {
                for (i, escaped) in labels.escaped_values().enumerate().take(self.s.name_ends.len()) {
                    let name = label_name(&self.s.names, &self.s.name_ends, i);
                    // Most values have nothing escaped: their bytes are the
                    // raw value, copied once, not unescaped into `value`
                    // first (on the benches' 10k series this took protobuf
                    // from 3.4 to 2.8 times the text encode time).
                    // (`has_escapes` reads a word at a time: `contains`'
                    // `memchr` cost more than the copy on such short values.)
                    let raw = if text::has_escapes(escaped.as_bytes()) {
                        self.s.value.clear();
                        unescape(&mut self.s.value, escaped);
                        &self.s.value[..]
                    } else {
                        escaped.as_bytes()
                    };
                    put_label(&mut self.s.metric, name, raw);
                }
            }
        }
    }

    /// Ends a metric whose body (field `field` of `Metric`) is in `inner`.
    fn end_metric(&mut self, field: u8) {
        put_bytes_field(&mut self.s.metric, field, &self.s.inner);
        put_bytes_field(self.out, 4, &self.s.metric);
    }
}

impl Sink for ProtobufEncoder<'_> {
    fn family(&mut self, name: &str, family: &FamilyDesc<'_>) {
        self.finish();
        self.family_at = Some(self.out.len());
        self.kind = family.kind;
        put_bytes_field(self.out, 1, name.as_bytes());
        put_bytes_field(self.out, 2, family.help.as_bytes());
        let kind = match family.kind {
            Kind::Counter => 0,
            // An info metric is a gauge of value 1 in protobuf, as
            // client_golang writes it: the format has no info type.
            Kind::Gauge | Kind::Info => 1,
            Kind::Histogram => 4,
        };
        put_u64_field(self.out, 3, kind);
        if !family.unit.is_empty() {
            put_bytes_field(self.out, 5, family.unit.as_bytes());
        }
        self.s.names.clear();
        self.s.name_ends.clear();
        for label in family.labels.iter() {
            self.s.names.push_str(label);
            self.s.name_ends.push(self.s.names.len());
        }
        self.s.constant.clear();
    }

    fn scope(&mut self, scope: Scope<'_>) {
        self.s.constant.clear();
        for (name, value) in scope.pairs {
            put_label(&mut self.s.constant, name.as_bytes(), value.as_bytes());
        }
    }

    fn plain_series(&mut self, batch: &[Plain<'_>]) {
        for series in batch {
            self.series(series.labels(), series.value);
        }
    }

    fn series(&mut self, labels: SeriesLabels<'_>, value: Value) {
        self.begin_metric(labels);
        // A histogram family never hands a plain series; a counter's body is
        // `Metric.counter` (3), anything else a gauge's (2). The body,
        // `{ value }`, is 9 bytes: written in place, not built aside.
        put_tag(&mut self.s.metric, if self.kind == Kind::Counter { 3 } else { 2 }, LEN);
        self.s.metric.push(9);
        put_f64_field(&mut self.s.metric, 1, as_f64(value));
        put_bytes_field(self.out, 4, &self.s.metric);
    }

    fn histogram(&mut self, labels: SeriesLabels<'_>, point: &HistogramPoint<'_>) {
        self.histogram_with_exemplars(labels, point, &[]);
    }

    fn carries_exemplars(&self) -> bool {
        true
    }

    /// `Counter { value, exemplar }`; a gauge has no exemplar field.
    fn series_with_exemplar(&mut self, labels: SeriesLabels<'_>, value: Value, exemplar: &Exemplar) {
        if self.kind != Kind::Counter {
            self.series(labels, value);
            return;
        }
        self.begin_metric(labels);
        self.s.inner.clear();
        put_f64_field(&mut self.s.inner, 1, as_f64(value));
        let mut message = Vec::new();
        put_exemplar(&mut message, exemplar);
        put_bytes_field(&mut self.s.inner, 2, &message);
        self.end_metric(3);
    }

    /// A bucket with an exemplar is `Bucket { cumulative_count,
    /// upper_bound, exemplar }`; an exemplar of the `+Inf` bucket brings
    /// that bucket in explicitly (upper bound `+Inf`), as `client_golang`
    /// writes it, since the format has nowhere else to put it.
    fn histogram_with_exemplars(
        &mut self,
        labels: SeriesLabels<'_>,
        point: &HistogramPoint<'_>,
        exemplars: &[Option<Arc<Exemplar>>],
    ) {
        self.begin_metric(labels);
        self.s.inner.clear();
        put_u64_field(&mut self.s.inner, 1, point.count());
        put_f64_field(&mut self.s.inner, 2, point.sum);
        put_classic_buckets(&mut self.s.inner, point, exemplars);
        self.end_metric(7);
    }

    /// `Histogram` with `schema`, `zero_threshold` (always above 0),
    /// `zero_count`, and the spans and deltas of each sign, after the
    /// classic buckets if it keeps any (both in one message, as
    /// `client_golang` sends them). An empty histogram gets one no-op positive span (offset 0,
    /// length 0), as `client_golang` sends: Prometheus 2.42 reads a
    /// histogram as native only if it has a span, a zero count or a zero
    /// threshold, and the span makes that hold whatever the threshold.
    fn native_histogram(&mut self, labels: SeriesLabels<'_>, point: &NativePoint<'_>) {
        self.native_histogram_with_exemplars(labels, point, &[], &[]);
    }

    /// As [`native_histogram`](Sink::native_histogram), with the classic
    /// buckets' exemplars on them and the recent ones in
    /// `Histogram.exemplars` (field 16), by timestamp, each with one.
    fn native_histogram_with_exemplars(
        &mut self,
        labels: SeriesLabels<'_>,
        point: &NativePoint<'_>,
        recent: &[Option<Arc<Exemplar>>],
        classic: &[Option<Arc<Exemplar>>],
    ) {
        self.begin_metric(labels);
        self.s.inner.clear();
        put_u64_field(&mut self.s.inner, 1, point.count);
        put_f64_field(&mut self.s.inner, 2, point.sum);
        if let Some(histogram) = &point.classic {
            put_classic_buckets(&mut self.s.inner, histogram, classic);
        }
        put_u64_field(&mut self.s.inner, 5, zigzag(i64::from(point.schema)));
        put_f64_field(&mut self.s.inner, 6, point.zero_threshold);
        put_u64_field(&mut self.s.inner, 7, point.zero_count);
        let negative = put_buckets(&mut self.s.inner, &mut self.s.value, 9, point.first_key, point.negative);
        let positive = put_buckets(
            &mut self.s.inner,
            &mut self.s.value,
            12,
            point.first_key,
            point.positive,
        );
        if !negative && !positive {
            // No-op span: `BucketSpan { offset: 0, length: 0 }`.
            put_bytes_field(&mut self.s.inner, 12, &[0x08, 0x00, 0x10, 0x00]);
        }
        if !recent.is_empty() {
            let mut timed: Vec<(std::time::Duration, &Exemplar)> = recent
                .iter()
                .filter_map(|e| e.as_deref())
                .filter_map(|e| Some((e.since_epoch()?, e)))
                .collect();
            timed.sort_by_key(|(at, _)| *at);
            let mut message = Vec::new();
            for (_, exemplar) in timed {
                message.clear();
                put_exemplar(&mut message, exemplar);
                put_bytes_field(&mut self.s.inner, 16, &message);
            }
        }
        self.end_metric(7);
    }

    fn take_counts(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.s.counts)
    }

    fn put_counts(&mut self, mut counts: Vec<u64>) {
        counts.clear();
        self.s.counts = counts;
    }
}

/// Appends the finite buckets of a classic histogram (`Histogram.bucket`,
/// field 3), cumulative, with their exemplars (`exemplars[i]` for bucket
/// `i`); the `+Inf` bucket is left to `sample_count` unless it has an
/// exemplar, which brings it in explicitly (upper bound `+Inf`), as
/// `client_golang` writes it, since the format has nowhere else to put it.
fn put_classic_buckets(out: &mut Vec<u8>, point: &HistogramPoint<'_>, exemplars: &[Option<Arc<Exemplar>>]) {
    let exemplar = |i: usize| exemplars.get(i).and_then(Option::as_deref);
    for (i, (&bound, &count)) in point.bounds.iter().zip(point.cumulative).enumerate() {
        match exemplar(i) {
            Some(exemplar) => put_bucket_with_exemplar(out, count, bound, exemplar),
            None => put_bucket(out, count, bound),
        }
    }
    if let Some(exemplar) = exemplar(point.bounds.len()) {
        put_bucket_with_exemplar(out, point.count(), f64::INFINITY, exemplar);
    }
}

/// `Bucket { cumulative_count, upper_bound }` (`Histogram.bucket`, field
/// 3): two tags, the count's varint and the bound's 8 bytes.
fn put_bucket(out: &mut Vec<u8>, count: u64, bound: f64) {
    put_tag(out, 3, LEN);
    put_varint(out, (2 + varint_len(count) + 8) as u64);
    put_u64_field(out, 1, count);
    put_f64_field(out, 2, bound);
}

/// Appends the spans (field `span_field`) and then the packed deltas
/// (`span_field + 1`) of the nonzero counts among `counts`, the count of
/// key `first_key` first; `scratch` holds the deltas meanwhile. A span is a
/// run of nonzero counts; its offset is the gap from the previous span's
/// end (from key 0 for the first). Returns whether there was any bucket.
fn put_buckets(out: &mut Vec<u8>, scratch: &mut Vec<u8>, span_field: u8, first_key: i32, counts: &[u64]) -> bool {
    scratch.clear();
    let mut previous: i64 = 0;
    // The key after the last span written (0 before the first).
    let mut next_key = 0i64;
    let mut i = 0;
    while i < counts.len() {
        if counts[i] == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < counts.len() && counts[i] != 0 {
            // Counts are far below 2^63: each is observations counted.
            #[allow(clippy::cast_possible_wrap)]
            let count = counts[i] as i64;
            put_varint(scratch, zigzag(count - previous));
            previous = count;
            i += 1;
        }
        let key = i64::from(first_key) + i64::try_from(start).unwrap_or(i64::MAX);
        let offset = zigzag(key - next_key);
        let length = (i - start) as u64;
        put_tag(out, span_field, LEN);
        put_varint(out, (2 + varint_len(offset) + varint_len(length)) as u64);
        put_u64_field(out, 1, offset);
        put_u64_field(out, 2, length);
        next_key = key + length.cast_signed();
    }
    if scratch.is_empty() {
        return false;
    }
    put_bytes_field(out, span_field + 1, scratch);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_match_the_protobuf_examples() {
        // The encoding guide's examples: 1 is 01, 150 is 96 01, 300 is AC 02.
        for (v, bytes) in [
            (1, &[0x01][..]),
            (150, &[0x96, 0x01]),
            (300, &[0xAC, 0x02]),
            (0, &[0x00]),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out, bytes, "{v}");
            assert_eq!(varint_len(v), bytes.len());
        }
        let mut out = Vec::new();
        put_varint(&mut out, u64::MAX);
        assert_eq!(out.len(), 10);
        assert_eq!(varint_len(u64::MAX), 10);
        for (v, z) in [
            (0, 0),
            (-1, 1),
            (1, 2),
            (-2, 3),
            (i64::MAX, u64::MAX - 1),
            (i64::MIN, u64::MAX),
        ] {
            assert_eq!(zigzag(v), z, "{v}");
        }
    }
}
