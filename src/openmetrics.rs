//! The encoder for `OpenMetrics` 1.0 text: a second [`Sink`] fed by the
//! same registry walk as the text format 0.0.4.
//!
//! What differs from 0.0.4 (see `text.rs`, whose escaping and number
//! formatting it shares): the exposition ends with `# EOF`; a counter's
//! family is named without `_total` and its sample with it (a counter
//! registered as `x_total` or as `x` is family `x`, sample `x_total`); an
//! info metric `x_info` is family `x` of type `info`; a family with a unit
//! gets `# UNIT`; `# HELP` also escapes `"`; a bucket bound that is an
//! integer is written with `.0` (`le="1.0"`), the canonical form the
//! specification asks for and `client_golang` writes.
//!
//! A histogram's `_sum` is counter-like in `OpenMetrics` (never negative or
//! NaN) and may not appear with a negative bucket bound, and `_count` only
//! appears with `_sum`. When a histogram has a negative bound, or its sum is
//! negative or NaN, both are left out; its `+Inf` bucket still carries the
//! count.
//!
//! An exemplar (see `exemplar.rs`) follows its counter sample or histogram
//! bucket line: `x_total 5 # {trace_id="abc"} 1 1700000000.123`, its
//! label values escaped as any label value, its value the shortest float,
//! its timestamp (optional) seconds since the epoch with the decimals its
//! nanoseconds need. A gauge never carries one (the specification forbids
//! it).
//!
//! `_created` samples are not written: the crate keeps no creation time per
//! series, and a made-up one (the registration time, say) would be wrong
//! for every series created later or reset.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use crate::exemplar::Exemplar;
use crate::expose::{FamilyDesc, HistogramPoint, Kind, Plain, Scope, SeriesLabels, Sink, Value};
use crate::text::kept::Buffer as _;
use crate::text::{LineShape, Out, escape, kept, write_f64, write_label_name, write_quoted, write_u64, write_value};

/// The `Content-Type` of `OpenMetrics` 1.0 text.
///
/// # Examples
///
/// ```
/// assert_eq!(
///     bareprom::OPENMETRICS_CONTENT_TYPE,
///     "application/openmetrics-text; version=1.0.0; charset=utf-8"
/// );
/// ```
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn kind_str(kind: Kind) -> &'static str {
    match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
        Kind::Info => "info",
    }
}

/// The `OpenMetrics` 1.0 sink: appends the exposition to a byte buffer;
/// [`run`](OpenMetricsEncoder::run) writes the closing `# EOF`.
pub(crate) struct OpenMetricsEncoder<'a> {
    out: Out<'a>,
    /// What every sample of a counter or info family appends to `s.name`.
    suffix: &'static str,
    /// Whether the name is written quoted inside the braces (a UTF-8 name
    /// with `escaping=allow-utf-8`); then `s.name` holds it escaped for the
    /// quotes.
    quoted: bool,
    /// The sample line of the open family and scope (see `text/line.rs`);
    /// empty when the family has no labels. Out of `s` while the encoder
    /// runs: the line loop reads it for every series, and through `s` that
    /// is one load more each time (callgrind: 4 % more instructions for
    /// 1000 series).
    shape: LineShape,
    /// The other buffers, kept per thread between scrapes (`text/kept.rs`).
    s: &'a mut Scratch,
}

/// The buffers of an [`OpenMetricsEncoder`].
#[derive(Default)]
struct Scratch {
    /// The open family's name as `OpenMetrics` names it.
    name: Vec<u8>,
    /// The open family's label names, each followed by `="` and preceded
    /// (after the first) by `",`, one after the other; `glue_at` holds
    /// where each ends.
    glue: Vec<u8>,
    glue_at: Vec<usize>,
    /// The open scope's constant labels, escaped.
    const_labels: Vec<u8>,
    /// A series' whole label block.
    block: Vec<u8>,
    /// The buffers of the encoder's `shape` between scrapes.
    shape: LineShape,
    /// Bucket bound text.
    le: Vec<u8>,
    /// A histogram series' bucket lines up to the `le` value.
    bucket_start: Vec<u8>,
    /// The buffer of [`Sink::take_counts`].
    counts: Vec<u64>,
}

impl kept::Buffers for Scratch {
    fn clear(&mut self) -> usize {
        self.name.clear_kept()
            + self.glue.clear_kept()
            + self.glue_at.clear_kept()
            + self.const_labels.clear_kept()
            + self.block.clear_kept()
            + self.shape.clear_kept()
            + self.le.clear_kept()
            + self.bucket_start.clear_kept()
            + self.counts.clear_kept()
    }
}

thread_local! {
    static KEPT: kept::Kept<Scratch> = const { Cell::new(None) };
}

impl OpenMetricsEncoder<'_> {
    /// Runs `f` with an encoder appending to `out`, on this thread's kept
    /// buffers, then writes the closing `# EOF` line.
    pub(crate) fn run(out: &mut Vec<u8>, f: impl FnOnce(&mut OpenMetricsEncoder<'_>)) {
        kept::with(&KEPT, |s| {
            let mut encoder = OpenMetricsEncoder {
                out: Out::new(out),
                suffix: "",
                quoted: false,
                shape: std::mem::take(&mut s.shape),
                s,
            };
            f(&mut encoder);
            encoder.out.vec().extend_from_slice(b"# EOF\n");
            encoder.s.shape = std::mem::take(&mut encoder.shape);
        });
    }

    /// Renders a series' label block into `self.s.block` (for histograms,
    /// whose every line repeats it).
    fn label_block(&mut self, labels: SeriesLabels<'_>) {
        self.s.block.clear();
        write_labels(
            &mut self.s.block,
            &self.s.glue,
            &self.s.glue_at,
            &self.s.const_labels,
            labels,
        );
    }

    /// `name` + `suffix` + `{block` + `,le="..."` + `} ` + value + newline.
    fn line(&mut self, suffix: &str, le: Option<&[u8]>, value: Value) {
        let out = self.out.vec();
        let mut open = false;
        if self.quoted {
            open_quoted(out, &self.s.name, suffix);
            if !self.s.block.is_empty() {
                out.push(b',');
                out.extend_from_slice(&self.s.block);
            }
            open = true;
        } else {
            out.extend_from_slice(&self.s.name);
            out.extend_from_slice(suffix.as_bytes());
            if !self.s.block.is_empty() {
                out.push(b'{');
                out.extend_from_slice(&self.s.block);
                open = true;
            }
        }
        if let Some(le) = le {
            out.extend_from_slice(if open { b",le=\"" } else { b"{le=\"" });
            out.extend_from_slice(le);
            out.push(b'"');
            open = true;
        }
        out.extend_from_slice(if open { b"} " } else { b" " });
        write_value(out, value);
        out.push(b'\n');
    }
}

impl OpenMetricsEncoder<'_> {
    /// Makes the line shape of the open family and scope: the sample line
    /// up to the first label value, then the glue after each value.
    fn make_shape(&mut self) {
        let Some(&first) = self.s.glue_at.first() else {
            self.shape.clear();
            return;
        };
        // The label block's buffer is free between series.
        let mut head = std::mem::take(&mut self.s.block);
        head.clear();
        if self.quoted {
            open_quoted(&mut head, &self.s.name, self.suffix);
            head.push(b',');
        } else {
            head.extend_from_slice(&self.s.name);
            head.extend_from_slice(self.suffix.as_bytes());
            head.push(b'{');
        }
        if !self.s.const_labels.is_empty() {
            head.extend_from_slice(&self.s.const_labels);
            head.push(b',');
        }
        head.extend_from_slice(self.s.glue.get(..first).unwrap_or_default());
        let glue = &self.s.glue;
        let after = self
            .s
            .glue_at
            .windows(2)
            .map(|w| glue.get(w[0]..w[1]).unwrap_or_default());
        self.shape.set(&head, after.chain([&b"\"} "[..]]));
        self.s.block = head;
    }
}

/// Appends `{"name suffix"`: a quoted sample name, its braces left open.
fn open_quoted(out: &mut Vec<u8>, name: &[u8], suffix: &str) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(name);
    out.extend_from_slice(suffix.as_bytes());
    out.push(b'"');
}

/// Appends a family name in a header line: as it is, or quoted.
fn header_name(out: &mut Vec<u8>, name: &str, quoted: bool) {
    if quoted {
        write_quoted(out, name);
    } else {
        out.extend_from_slice(name.as_bytes());
    }
}

/// Appends `const,a="x",b="y"` (whichever parts exist), without braces:
/// `glue` holds each label name with its `="` (and `",` before all but the
/// first), ending at the entries of `glue_at`.
fn write_labels(dst: &mut Vec<u8>, glue: &[u8], glue_at: &[usize], const_labels: &[u8], labels: SeriesLabels<'_>) {
    dst.extend_from_slice(const_labels);
    let mut wrote = false;
    let mut from = 0;
    let mut put_glue = |dst: &mut Vec<u8>, i: usize| {
        if let Some(&end) = glue_at.get(i) {
            wrote = true;
            if i == 0 && !const_labels.is_empty() {
                dst.push(b',');
            }
            dst.extend_from_slice(glue.get(from..end).unwrap_or_default());
            from = end;
        }
    };
    match labels {
        SeriesLabels::None => return,
        SeriesLabels::Escaped { .. } => {
            for (i, value) in labels.escaped_values().enumerate() {
                put_glue(dst, i);
                dst.extend_from_slice(value.as_bytes());
            }
        }
        SeriesLabels::Raw(values) => {
            for (i, value) in values.iter().enumerate() {
                put_glue(dst, i);
                escape(dst, value, true);
            }
        }
    }
    if wrote {
        dst.push(b'"');
    }
}

/// Turns the sample line just written (ending in a newline) into one with
/// an exemplar: ` # {a="x"} value timestamp`, the timestamp in seconds
/// written exactly (`1700000000.123`), left out when there is none.
fn write_exemplar(out: &mut Vec<u8>, exemplar: &Exemplar) {
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    out.extend_from_slice(b" # {");
    for (i, (name, value)) in exemplar.labels().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        escape(out, value, true);
        out.push(b'"');
    }
    out.extend_from_slice(b"} ");
    write_f64(out, exemplar.value());
    if let Some(since) = exemplar.since_epoch() {
        out.push(b' ');
        write_timestamp(out, since);
    }
    out.push(b'\n');
}

/// Seconds since the epoch with as many decimals as the nanoseconds need
/// (none for a whole second): exact, unlike a float's shortest form.
fn write_timestamp(out: &mut Vec<u8>, since: Duration) {
    write_u64(out, since.as_secs());
    let nanos = since.subsec_nanos();
    if nanos != 0 {
        let digits = format!(".{nanos:09}");
        out.extend_from_slice(digits.trim_end_matches('0').as_bytes());
    }
}

/// `name` without `suffix`, unless that leaves nothing.
fn strip<'n>(name: &'n str, suffix: &str) -> &'n str {
    name.strip_suffix(suffix)
        .filter(|base| !base.is_empty())
        .unwrap_or(name)
}

/// Appends `.0` to an integral bound (`1` → `1.0`), the canonical form.
fn canonical_le(le: &mut Vec<u8>) {
    if le.iter().all(|b| b.is_ascii_digit() || *b == b'-') {
        le.extend_from_slice(b".0");
    }
}

impl Sink for OpenMetricsEncoder<'_> {
    fn family(&mut self, name: &str, family: &FamilyDesc<'_>) {
        let (base, suffix) = match family.kind {
            Kind::Counter => (strip(name, "_total"), "_total"),
            Kind::Info => (strip(name, "_info"), "_info"),
            Kind::Gauge | Kind::Histogram => (name, ""),
        };
        self.quoted = family.utf8 && !crate::name::is_legacy_metric_name(name);
        self.s.name.clear();
        if self.quoted {
            escape(&mut self.s.name, base, true);
        } else {
            self.s.name.extend_from_slice(base.as_bytes());
        }
        self.suffix = suffix;
        let quoted = self.quoted;
        let out = self.out.vec();
        out.extend_from_slice(b"# HELP ");
        header_name(out, base, quoted);
        out.push(b' ');
        escape(out, family.help, true);
        out.extend_from_slice(b"\n# TYPE ");
        header_name(out, base, quoted);
        out.push(b' ');
        out.extend_from_slice(kind_str(family.kind).as_bytes());
        out.push(b'\n');
        if !family.unit.is_empty() {
            out.extend_from_slice(b"# UNIT ");
            header_name(out, base, quoted);
            out.push(b' ');
            out.extend_from_slice(family.unit.as_bytes());
            out.push(b'\n');
        }
        self.s.glue.clear();
        self.s.glue_at.clear();
        for (i, label) in family.labels.iter().enumerate() {
            if i > 0 {
                self.s.glue.extend_from_slice(b"\",");
            }
            write_label_name(&mut self.s.glue, label, family.utf8);
            self.s.glue.extend_from_slice(b"=\"");
            self.s.glue_at.push(self.s.glue.len());
        }
        self.s.const_labels.clear();
        self.make_shape();
    }

    fn scope(&mut self, scope: Scope<'_>) {
        self.s.const_labels.clear();
        self.s.const_labels.extend_from_slice(scope.escaped.as_bytes());
        self.make_shape();
    }

    fn series(&mut self, labels: SeriesLabels<'_>, value: Value) {
        if let SeriesLabels::Escaped { text, start, ends } = labels
            && self.shape.fits(ends.len())
            && self.shape.write(&mut self.out, text, start, ends, value)
        {
            return;
        }
        // Written straight to the output: one copy of each label value.
        let out = self.out.vec();
        let own = !matches!(labels, SeriesLabels::None) && !self.s.glue_at.is_empty();
        if self.quoted {
            open_quoted(out, &self.s.name, self.suffix);
            if own || !self.s.const_labels.is_empty() {
                out.push(b',');
                write_labels(out, &self.s.glue, &self.s.glue_at, &self.s.const_labels, labels);
            }
            out.extend_from_slice(b"} ");
            write_value(out, value);
            out.push(b'\n');
            return;
        }
        out.extend_from_slice(&self.s.name);
        out.extend_from_slice(self.suffix.as_bytes());
        if own || !self.s.const_labels.is_empty() {
            out.push(b'{');
            write_labels(out, &self.s.glue, &self.s.glue_at, &self.s.const_labels, labels);
            out.extend_from_slice(b"} ");
        } else {
            out.push(b' ');
        }
        write_value(out, value);
        out.push(b'\n');
    }

    fn plain_series(&mut self, batch: &[Plain<'_>]) {
        for series in batch {
            if !(self.shape.fits(series.ends.len())
                && self
                    .shape
                    .write(&mut self.out, series.text, series.start, series.ends, series.value))
            {
                self.series(series.labels(), series.value);
            }
        }
    }

    fn histogram(&mut self, labels: SeriesLabels<'_>, point: &HistogramPoint<'_>) {
        self.histogram_with_exemplars(labels, point, &[]);
    }

    fn carries_exemplars(&self) -> bool {
        true
    }

    fn series_with_exemplar(&mut self, labels: SeriesLabels<'_>, value: Value, exemplar: &Exemplar) {
        self.series(labels, value);
        // Only counters carry exemplars (the specification allows them on
        // counters and histogram buckets, not on gauges).
        if self.suffix == "_total" {
            write_exemplar(self.out.vec(), exemplar);
        }
    }

    fn histogram_with_exemplars(
        &mut self,
        labels: SeriesLabels<'_>,
        point: &HistogramPoint<'_>,
        exemplars: &[Option<Arc<Exemplar>>],
    ) {
        let exemplar = |i: usize| exemplars.get(i).and_then(Option::as_deref);
        self.label_block(labels);
        // The bucket lines differ only from the `le` value on: their start
        // is made once per series.
        let mut start = std::mem::take(&mut self.s.bucket_start);
        start.clear();
        if self.quoted {
            open_quoted(&mut start, &self.s.name, "_bucket");
            if !self.s.block.is_empty() {
                start.push(b',');
                start.extend_from_slice(&self.s.block);
            }
            start.extend_from_slice(b",le=\"");
        } else {
            start.extend_from_slice(&self.s.name);
            start.extend_from_slice(b"_bucket{");
            if !self.s.block.is_empty() {
                start.extend_from_slice(&self.s.block);
                start.push(b',');
            }
            start.extend_from_slice(b"le=\"");
        }
        let mut le = std::mem::take(&mut self.s.le);
        let out = self.out.vec();
        let mut bucket = |le: &[u8], total: u64, exemplar: Option<&Exemplar>| {
            out.extend_from_slice(&start);
            out.extend_from_slice(le);
            out.extend_from_slice(b"\"} ");
            write_u64(out, total);
            out.push(b'\n');
            if let Some(exemplar) = exemplar {
                write_exemplar(out, exemplar);
            }
        };
        for (i, (bound, total)) in point.bounds.iter().zip(point.cumulative).enumerate() {
            le.clear();
            match point.les.and_then(|les| les.get(i)) {
                Some(text) => le.extend_from_slice(text.as_bytes()),
                None => write_f64(&mut le, *bound),
            }
            canonical_le(&mut le);
            bucket(&le, *total, exemplar(i));
        }
        let count = point.count();
        bucket(b"+Inf", count, exemplar(point.bounds.len()));
        self.s.le = le;
        self.s.bucket_start = start;
        // `_sum` is counter-like and `_count` needs it (see the module docs).
        let negative_bound = point.bounds.first().is_some_and(|b| *b < 0.0);
        if !negative_bound && point.sum >= 0.0 {
            self.line("_sum", None, Value::F64(point.sum));
            self.line("_count", None, Value::U64(count));
        }
    }

    fn take_counts(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.s.counts)
    }

    fn put_counts(&mut self, counts: Vec<u64>) {
        self.s.counts = counts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_bounds_get_a_fraction_and_others_stay() {
        for (bound, want) in [
            ("1", "1.0"),
            ("-2", "-2.0"),
            ("0.25", "0.25"),
            ("1e+21", "1e+21"),
            ("1e-05", "1e-05"),
        ] {
            let mut le = bound.as_bytes().to_vec();
            canonical_le(&mut le);
            assert_eq!(le, want.as_bytes(), "{bound}");
        }
    }
}
