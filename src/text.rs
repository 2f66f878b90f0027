//! The encoder for the Prometheus text exposition format v0.0.4: a
//! [`Sink`] that writes bytes.
//!
//! With `text/number.rs`, the only module that escapes strings or formats
//! numbers. Families hand it their label values escaped once, when a series
//! was created (see `expose.rs`), and raw values; it writes
//! `name{labels} value\n`.
//!
//! Two habits keep it fast. A labelled family's sample lines all start with
//! the same bytes up to the first label value (`name{`, the constant
//! labels, the first label name, `="`): that line head is made once per
//! family and scope and written as one piece. And a line with escaped
//! values is written in one pass into room reserved past the output's end,
//! its short pieces copied as fixed-size chunks (see `text/line.rs`).

pub(crate) mod kept;
mod line;
mod names;
mod number;

pub(crate) use line::{LineShape, Out};
pub(crate) use names::{NameEscaper, write_label_name, write_quoted};
pub(crate) use number::{NumBuf, Put, write_f64, write_u64};

use std::cell::Cell;

use kept::Buffer as _;

use crate::expose::{FamilyDesc, HistogramPoint, Kind, Plain, Scope, SeriesLabels, Sink, Value};

/// The `Content-Type` of what [`Registry::encode`](crate::Registry::encode)
/// writes: the Prometheus text format, version 0.0.4.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
/// ```
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn kind_str(kind: Kind) -> &'static str {
    match kind {
        Kind::Counter => "counter",
        Kind::Gauge | Kind::Info => "gauge",
        Kind::Histogram => "histogram",
    }
}

/// The text 0.0.4 sink: appends the exposition to a byte buffer.
pub(crate) struct TextEncoder<'a> {
    out: Out<'a>,
    /// Whether the open family's name is written quoted inside the braces
    /// (a UTF-8 name with `escaping=allow-utf-8`); then `s.name` holds it
    /// escaped for the quotes.
    quoted: bool,
    kind: Kind,
    /// The sample line of the open family and scope (see `text/line.rs`);
    /// empty when the family has no labels. Out of `s` while the encoder
    /// runs: the line loop reads it for every series, and through `s` that
    /// is one load more each time (callgrind: 4 % more instructions for
    /// 1000 series).
    shape: LineShape,
    /// The other buffers, kept per thread between scrapes (`text/kept.rs`).
    s: &'a mut Scratch,
}

/// The buffers of a [`TextEncoder`].
#[derive(Default)]
struct Scratch {
    /// The open family's name, prefix applied.
    name: Vec<u8>,
    /// The glue before each label value of the open family (`a="`, then
    /// `",b="`, ...), one after the other; `glue_at` holds where each
    /// starts and its length.
    glue: Vec<u8>,
    glue_at: Vec<(usize, usize)>,
    /// The open scope's constant labels, escaped.
    const_labels: Vec<u8>,
    /// The buffers of the encoder's `shape` between scrapes.
    shape: LineShape,
    /// Scratch for building the shape's head.
    head: Vec<u8>,
    /// A series' whole label block, for histograms (written on each line).
    block: Vec<u8>,
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
            + self.shape.clear_kept()
            + self.head.clear_kept()
            + self.block.clear_kept()
            + self.bucket_start.clear_kept()
            + self.counts.clear_kept()
    }
}

thread_local! {
    static KEPT: kept::Kept<Scratch> = const { Cell::new(None) };
}

impl TextEncoder<'_> {
    /// Runs `f` with an encoder appending to `out`, on this thread's kept
    /// buffers.
    pub(crate) fn run<R>(out: &mut Vec<u8>, f: impl FnOnce(&mut TextEncoder<'_>) -> R) -> R {
        kept::with(&KEPT, |s| {
            let mut encoder = TextEncoder {
                out: Out::new(out),
                quoted: false,
                kind: Kind::Gauge,
                shape: std::mem::take(&mut s.shape),
                s,
            };
            let result = f(&mut encoder);
            encoder.s.shape = std::mem::take(&mut encoder.shape);
            result
        })
    }

    fn set_name(&mut self, name: &str) {
        self.s.name.clear();
        self.s.name.extend_from_slice(name.as_bytes());
    }

    /// Makes the line shape of the open family and scope: everything up to
    /// the first label value, then the glue after each label value.
    fn make_head(&mut self) {
        self.s.head.clear();
        let name = &self.s.name;
        let consts = !self.s.const_labels.is_empty();
        let Some(&(start, len)) = self.s.glue_at.first() else {
            // Without labels a line is short: see `series`.
            self.shape.clear();
            return;
        };
        if self.quoted {
            self.s.head.extend_from_slice(b"{\"");
            self.s.head.extend_from_slice(name);
            self.s.head.extend_from_slice(b"\",");
        } else {
            self.s.head.extend_from_slice(name);
            self.s.head.push(b'{');
        }
        if consts {
            self.s.head.extend_from_slice(&self.s.const_labels);
            self.s.head.push(b',');
        }
        self.s.head.extend_from_slice(&self.s.glue[start..start + len]);
        let glue = &self.s.glue;
        let after = self.s.glue_at.iter().skip(1).map(|&(at, len)| &glue[at..at + len]);
        self.shape.set(&self.s.head, after.chain([&b"\"} "[..]]));
    }

    /// Writes `const,a="x",b="y"` (whichever parts exist), without braces.
    fn label_block(&self, block: &mut Vec<u8>, labels: SeriesLabels<'_>) {
        block.clear();
        block.extend_from_slice(&self.s.const_labels);
        match labels {
            SeriesLabels::None => {}
            SeriesLabels::Escaped { .. } => {
                for (i, value) in labels.escaped_values().enumerate() {
                    self.push_glue(block, i, !self.s.const_labels.is_empty());
                    block.extend_from_slice(value.as_bytes());
                }
                if !self.s.glue_at.is_empty() {
                    block.push(b'"');
                }
            }
            SeriesLabels::Raw(values) => {
                for (i, value) in values.iter().enumerate() {
                    self.push_glue(block, i, !self.s.const_labels.is_empty());
                    escape(block, value, true);
                }
                if !values.is_empty() {
                    block.push(b'"');
                }
            }
        }
    }

    /// The glue before value `i`; the first needs a comma after constant
    /// labels.
    fn push_glue(&self, block: &mut Vec<u8>, i: usize, after_const: bool) {
        if let Some(&(start, len)) = self.s.glue_at.get(i) {
            if i == 0 && after_const {
                block.push(b',');
            }
            block.extend_from_slice(&self.s.glue[start..start + len]);
        }
    }

    /// `name` + `suffix` + `{block` + `,le="..."` + `} ` + value + newline.
    fn line(&mut self, suffix: &str, block: &[u8], le: Option<&str>, value: Value) {
        let name = &self.s.name;
        let out = self.out.vec();
        let mut open = false;
        if self.quoted {
            out.extend_from_slice(b"{\"");
            out.extend_from_slice(name);
            out.extend_from_slice(suffix.as_bytes());
            out.push(b'"');
            if !block.is_empty() {
                out.push(b',');
                out.extend_from_slice(block);
            }
            open = true;
        } else {
            out.extend_from_slice(name);
            out.extend_from_slice(suffix.as_bytes());
            if !block.is_empty() {
                out.push(b'{');
                out.extend_from_slice(block);
                open = true;
            }
        }
        if let Some(le) = le {
            out.extend_from_slice(if open { b",le=\"" } else { b"{le=\"" });
            out.extend_from_slice(le.as_bytes());
            out.push(b'"');
            open = true;
        }
        out.extend_from_slice(if open { b"} " } else { b" " });
        write_value(out, value);
        out.push(b'\n');
    }

    /// Everything but the header lines of [`Sink::family`].
    fn open_family(&mut self, family: &FamilyDesc<'_>) {
        self.kind = family.kind;
        self.s.glue.clear();
        self.s.glue_at.clear();
        for (i, label) in family.labels.iter().enumerate() {
            let start = self.s.glue.len();
            if i > 0 {
                self.s.glue.extend_from_slice(b"\",");
            }
            write_label_name(&mut self.s.glue, label, family.utf8);
            self.s.glue.extend_from_slice(b"=\"");
            self.s.glue_at.push((start, self.s.glue.len() - start));
        }
        self.s.const_labels.clear();
        self.make_head();
    }

    /// [`Sink::family`] for a name written quoted (`# HELP "a.b" …`).
    fn quoted_family(&mut self, name: &str, family: &FamilyDesc<'_>) {
        let out = self.out.vec();
        out.extend_from_slice(b"# HELP ");
        write_quoted(out, name);
        out.push(b' ');
        escape(out, family.help, false);
        out.extend_from_slice(b"\n# TYPE ");
        write_quoted(out, name);
        out.push(b' ');
        out.extend_from_slice(kind_str(family.kind).as_bytes());
        out.push(b'\n');
        self.s.name.clear();
        escape(&mut self.s.name, name, true);
        self.open_family(family);
    }
}

impl Sink for TextEncoder<'_> {
    fn family(&mut self, name: &str, family: &FamilyDesc<'_>) {
        self.quoted = family.utf8 && !crate::name::is_legacy_metric_name(name);
        if self.quoted {
            return self.quoted_family(name, family);
        }
        let out = self.out.vec();
        out.extend_from_slice(b"# HELP ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        escape(out, family.help, false);
        out.extend_from_slice(b"\n# TYPE ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(kind_str(family.kind).as_bytes());
        out.push(b'\n');
        self.set_name(name);
        self.open_family(family);
    }

    fn scope(&mut self, scope: Scope<'_>) {
        // Mostly the same scope as the family before (often none): the
        // length decides without a call to `memcmp`.
        let escaped = scope.escaped.as_bytes();
        if self.s.const_labels.len() != escaped.len() || (!escaped.is_empty() && self.s.const_labels != escaped) {
            self.s.const_labels.clear();
            self.s.const_labels.extend_from_slice(scope.escaped.as_bytes());
            self.make_head();
        }
    }

    fn series(&mut self, labels: SeriesLabels<'_>, value: Value) {
        let written = match labels {
            SeriesLabels::Escaped { text, start, ends } => {
                self.shape.fits(ends.len()) && self.shape.write(&mut self.out, text, start, ends, value)
            }
            SeriesLabels::None if !self.quoted && self.s.const_labels.is_empty() => {
                // `name value`: three pieces, not worth a label block.
                let name = &self.s.name;
                let out = self.out.vec();
                out.extend_from_slice(name);
                out.push(b' ');
                write_value(out, value);
                out.push(b'\n');
                true
            }
            SeriesLabels::None | SeriesLabels::Raw(_) => false,
        };
        if written {
            return;
        }
        let mut block = std::mem::take(&mut self.s.block);
        self.label_block(&mut block, labels);
        self.line("", &block, None, value);
        self.s.block = block;
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
        // Every line repeats the labels: render them once. The bucket lines
        // differ only from the `le` value on: their start is made once too.
        let mut block = std::mem::take(&mut self.s.block);
        self.label_block(&mut block, labels);
        let mut start = std::mem::take(&mut self.s.bucket_start);
        start.clear();
        let name = &self.s.name;
        if self.quoted {
            start.extend_from_slice(b"{\"");
            start.extend_from_slice(name);
            start.extend_from_slice(b"_bucket\"");
            if !block.is_empty() {
                start.push(b',');
                start.extend_from_slice(&block);
            }
            start.extend_from_slice(b",le=\"");
        } else {
            start.extend_from_slice(name);
            start.extend_from_slice(b"_bucket{");
            if !block.is_empty() {
                start.extend_from_slice(&block);
                start.push(b',');
            }
            start.extend_from_slice(b"le=\"");
        }
        let out = self.out.vec();
        let mut bucket = |le: &[u8], total: u64| {
            out.extend_from_slice(&start);
            out.extend_from_slice(le);
            out.extend_from_slice(b"\"} ");
            write_u64(out, total);
            out.push(b'\n');
        };
        for (i, (bound, total)) in point.bounds.iter().zip(point.cumulative).enumerate() {
            if let Some(le) = point.les.and_then(|les| les.get(i)) {
                bucket(le.as_bytes(), *total);
            } else {
                let le = NumBuf::of(Value::F64(*bound));
                bucket(le.chunk().get(..le.len()).unwrap_or_default(), *total);
            }
        }
        let count = point.count();
        bucket(b"+Inf", count);
        self.line("_sum", &block, None, Value::F64(point.sum));
        self.line("_count", &block, None, Value::U64(count));
        self.s.bucket_start = start;
        self.s.block = block;
    }

    fn take_counts(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.s.counts)
    }

    fn put_counts(&mut self, counts: Vec<u64>) {
        self.s.counts = counts;
    }
}

/// Renders label pairs as `a="x",b="y"`, escaping the values.
pub(crate) fn render_labels<'s>(pairs: impl IntoIterator<Item = (&'s str, &'s str)>) -> String {
    let mut out = Vec::new();
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        escape(&mut out, value, true);
        out.push(b'"');
    }
    // Only ASCII was inserted between whole UTF-8 strings, so this cannot fail.
    String::from_utf8(out).unwrap_or_default()
}

/// Formats a float as [`write_f64`] does, for an `le` label value.
pub(crate) fn render_f64(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_f64(&mut out, v);
    // Only ASCII is written, so this cannot fail.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `value` to `out` escaped as a label value (`\`, `"` and
/// newline, nothing else), for families that store their values escaped.
pub(crate) fn push_escaped_label_value(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(at) = rest.find(['\\', '"', '\n']) {
        let (plain, special) = rest.split_at(at);
        out.push_str(plain);
        let mut chars = special.chars();
        out.push_str(match chars.next() {
            Some('\\') => "\\\\",
            Some('"') => "\\\"",
            _ => "\\n",
        });
        rest = chars.as_str();
    }
    out.push_str(rest);
}

/// Label values escape `\`, `"` and newline; HELP text `\` and newline;
/// nothing else.
pub(crate) fn escape(out: &mut Vec<u8>, s: &str, quote: bool) {
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(at) = next_special(bytes, start, quote) {
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(match bytes[at] {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            _ => b"\\\"",
        });
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether escaping changes `value` as a label value (it holds a `\`,
/// `"` or newline).
pub(crate) fn needs_escaping(value: &str) -> bool {
    next_special(value.as_bytes(), 0, true).is_some()
}

/// Whether a value kept escaped holds an escape sequence (a raw value
/// never holds a backslash or newline once escaped, so none means the
/// bytes are the raw value).
pub(crate) fn has_escapes(escaped: &[u8]) -> bool {
    next_special(escaped, 0, false).is_some()
}

/// Where the first byte from `from` on that [`escape`] replaces is: eight
/// bytes at a time (a help text or value mostly has none, and a byte loop
/// cost more than the copy).
fn next_special(bytes: &[u8], from: usize, quote: bool) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each zero byte of `x` is set, and any set bit at or
    // below the lowest zero byte's is exact (the borrow only runs upward).
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let tail = bytes.get(from..)?;
    let mut chunks = tail.chunks_exact(8);
    let mut at = from;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let mut hits = zero_bytes(word ^ (ONES * u64::from(b'\\'))) | zero_bytes(word ^ (ONES * u64::from(b'\n')));
        if quote {
            hits |= zero_bytes(word ^ (ONES * u64::from(b'"')));
        }
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(|&b| b == b'\\' || b == b'\n' || (quote && b == b'"'))
        .map(|i| at + i)
}

pub(crate) fn write_value(out: &mut impl Put, value: Value) {
    match value {
        Value::U64(v) => write_u64(out, v),
        Value::I64(v) => {
            if v < 0 {
                out.put(b"-");
            }
            write_u64(out, v.unsigned_abs());
        }
        Value::F64(v) => write_f64(out, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_touches_only_what_the_format_says() {
        assert_eq!(
            render_labels([("a", "x\\y\"z\nw\t\u{1F600}")]),
            "a=\"x\\\\y\\\"z\\nw\t\u{1F600}\""
        );
        let mut out = Vec::new();
        escape(&mut out, "a\\b\"c\nd", false);
        assert_eq!(out, b"a\\\\b\"c\\nd");
    }

    /// The word-at-a-time scan finds every special byte wherever it sits
    /// (each offset in and around a word, runs of them, bytes next to
    /// them in value), as a byte-by-byte escape does.
    #[test]
    fn escape_matches_a_byte_loop() {
        fn naive(s: &str, quote: bool) -> Vec<u8> {
            let mut out = Vec::new();
            for &b in s.as_bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'"' if quote => out.extend_from_slice(b"\\\""),
                    _ => out.push(b),
                }
            }
            out
        }
        let fillers = ["a", "\u{1}", "\u{7f}", "[", "]", "!", "#", "\u{e9}", "\u{1F600}"];
        for len in 0..20 {
            for at in 0..len {
                for special in ["\\", "\n", "\"", "\\\\", "\n\""] {
                    for filler in fillers {
                        let s: String = (0..len).map(|i| if i == at { special } else { filler }).collect();
                        for quote in [false, true] {
                            let mut out = Vec::new();
                            escape(&mut out, &s, quote);
                            assert_eq!(out, naive(&s, quote), "{s:?} {quote}");
                        }
                    }
                }
            }
        }
    }
}
