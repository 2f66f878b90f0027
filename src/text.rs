//! The encoder for the Prometheus text exposition format v0.0.4.
//!
//! This is the only module that escapes strings or formats numbers. Metric
//! types hand it [`Labels`] (label values escaped once, when a series is
//! created) and raw values; it writes `name{labels} value\n`.

use std::fmt::Write as _;

/// The `Content-Type` of what [`Registry::encode`](crate::Registry::encode)
/// writes: the Prometheus text format, version 0.0.4.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
/// ```
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `# TYPE` of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `counter`
    Counter,
    /// `gauge`
    Gauge,
    /// `histogram`
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A metric value as it is written: integers exactly, floats shortest.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    /// An unsigned integer, printed with all its digits.
    U64(u64),
    /// A signed integer, printed with all its digits.
    I64(i64),
    /// A float: the shortest digits that parse back to the same bits.
    F64(f64),
}

/// A series' labels as the encoder writes them.
#[derive(Clone, Copy, Debug)]
pub enum Labels<'a> {
    /// A rendered block, `a="x",b="y"` with the values escaped (UTF-8);
    /// empty for a series without labels.
    Block(&'a [u8]),
    /// A family's escaped values, each preceded by its glue (`a="`, then
    /// `",b="`, ...), closed by a `"`: written piece by piece, so that a
    /// family need not store every series' rendered block.
    Values {
        /// The start of every line of this family's series, from
        /// [`Encoder::line_head`] (padded at the end), and the name it was
        /// made for; empty when there is none.
        head: LineHead<'a>,
        /// What precedes each value, from [`glue`]: padded at the end.
        glue: &'a [String],
        /// The text the values are in, one after the other.
        text: &'a str,
        /// Where the first value starts in `text`.
        start: usize,
        /// Where each value ends in `text`, as many as `glue`.
        ends: &'a [u32],
    },
}

/// Spaces after each glue text, so that glue of up to 16 bytes is copied as
/// one fixed-size chunk (see [`put`]).
const GLUE_PAD: usize = 16;

/// Spaces after a line head, so that a head of up to 32 bytes is copied as
/// one fixed-size chunk (see [`put`]).
const HEAD_PAD: usize = 32;

/// What every sample line of one labelled family starts with, up to its
/// first label value: `name{`, the constant labels, the first label name
/// and `="`. Written as one piece instead of four (about a fifth fewer
/// instructions per line).
#[derive(Clone, Copy, Debug, Default)]
pub struct LineHead<'a> {
    /// The metric name the head was made for: lines of other names (a
    /// suffix, another family) write their parts one by one.
    name: &'a str,
    /// The head, padded with [`HEAD_PAD`] spaces; empty for none.
    padded: &'a [u8],
}

impl<'a> LineHead<'a> {
    /// A head made by [`Encoder::line_head`] for `name`.
    pub fn new(name: &'a str, padded: &'a [u8]) -> Self {
        LineHead { name, padded }
    }

    /// The head if it was made for exactly this `name` (the same string,
    /// not an equal one: the borrow guarantees it is unchanged).
    fn for_name(self, name: &str) -> Option<&'a [u8]> {
        (!self.padded.is_empty() && std::ptr::eq(self.name, name)).then_some(self.padded)
    }
}

/// The glue [`Labels::Values`] needs for these label names: `a="`, `",b="`,
/// ..., each padded.
pub(crate) fn glue<'n>(names: impl IntoIterator<Item = &'n str>) -> Box<[String]> {
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| format!("{}{name}=\"{:GLUE_PAD$}", if i == 0 { "" } else { "\"," }, ""))
        .collect()
}

/// Appends `text[from..to]`. When that is at most 16 (or 32) bytes and
/// `text` has 16 (or 32) bytes from `from`, those are appended as one
/// fixed-size chunk and the excess cut off again: a couple of moves instead
/// of a `memcpy` call, which costs more than the copy at these sizes (label
/// values and glue are mostly short; measured: encoding 10k three-label
/// series about 15 % faster).
#[inline]
fn put(out: &mut Vec<u8>, text: &[u8], from: usize, to: usize) {
    let len = to - from;
    let end = out.len() + len;
    if len <= 16
        && let Some(chunk) = text.get(from..from + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok())
    {
        out.extend_from_slice(chunk);
        out.truncate(end);
    } else if len <= 32
        && let Some(chunk) = text.get(from..from + 32).and_then(|c| <&[u8; 32]>::try_from(c).ok())
    {
        out.extend_from_slice(chunk);
        out.truncate(end);
    } else {
        out.extend_from_slice(text.get(from..to).unwrap_or_default());
    }
}

impl Labels<'_> {
    /// No labels.
    pub const NONE: Labels<'static> = Labels::Block(b"");

    fn is_empty(&self) -> bool {
        match self {
            Labels::Block(block) => block.is_empty(),
            Labels::Values { ends, .. } => ends.is_empty(),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match *self {
            Labels::Block(block) => out.extend_from_slice(block),
            Labels::Values {
                glue,
                text,
                start,
                ends,
                ..
            } => {
                for (glue, from, to) in spans(glue, start, ends) {
                    put(out, glue.as_bytes(), 0, glue.len() - GLUE_PAD);
                    put(out, text.as_bytes(), from, to);
                }
                out.push(b'"');
            }
        }
    }

    /// Replaces `block` with the labels rendered as one block, for a series
    /// that writes them on several lines (histograms).
    pub fn render_into(&self, block: &mut Vec<u8>) {
        block.clear();
        match *self {
            Labels::Block(rendered) => block.extend_from_slice(rendered),
            Labels::Values { .. } => self.write(block),
        }
    }
}

/// Each value's (padded) glue and where the value lies in the text, for
/// [`Labels::Values`].
fn spans<'a>(glue: &'a [String], mut start: usize, ends: &'a [u32]) -> impl Iterator<Item = (&'a str, usize, usize)> {
    glue.iter().zip(ends).map(move |(glue, &end)| {
        let span = (glue.as_str(), start, end as usize);
        start = end as usize;
        span
    })
}

/// Writes families into a byte buffer, prefixing the registry's constant
/// labels to every sample.
pub struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    const_labels: &'a str,
    /// A buffer series may render their labels into, reused across series.
    pub scratch: Vec<u8>,
    /// The buffer of the current family's [`LineHead`], reused across
    /// families.
    pub head: Vec<u8>,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`; `const_labels` is a rendered label block
    /// (see [`render_labels`]) or empty.
    pub fn new(out: &'a mut Vec<u8>, const_labels: &'a str) -> Self {
        Encoder {
            out,
            const_labels,
            scratch: Vec::new(),
            head: Vec::new(),
        }
    }

    /// How many bytes have been written so far, to truncate back to.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Forgets everything written after `len` (a collector that panicked).
    pub fn truncate(&mut self, len: usize) {
        self.out.truncate(len);
    }

    /// Writes the `# HELP` and `# TYPE` lines that open a family.
    pub fn header(&mut self, name: &str, help: &str, kind: Kind) {
        self.out.extend_from_slice(b"# HELP ");
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b' ');
        escape_help(self.out, help);
        self.out.extend_from_slice(b"\n# TYPE ");
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b' ');
        self.out.extend_from_slice(kind.as_str().as_bytes());
        self.out.push(b'\n');
    }

    /// Renders the [`LineHead`] of a family named `name` whose first label
    /// has the glue `first_glue` (from [`glue`]) into `head`.
    pub fn line_head(&self, head: &mut Vec<u8>, name: &str, first_glue: &str) {
        head.clear();
        head.extend_from_slice(name.as_bytes());
        head.push(b'{');
        if !self.const_labels.is_empty() {
            head.extend_from_slice(self.const_labels.as_bytes());
            head.push(b',');
        }
        head.extend_from_slice(
            first_glue
                .as_bytes()
                .get(..first_glue.len() - GLUE_PAD)
                .unwrap_or_default(),
        );
        head.extend_from_slice(&[b' '; HEAD_PAD]);
    }

    /// Writes one sample line: `name` + `suffix`, the constant labels, the
    /// series' `labels`, an optional rendered `le` bound, the value.
    pub fn sample(&mut self, name: &str, suffix: &str, labels: Labels<'_>, le: Option<&str>, value: Value) {
        let out = &mut *self.out;
        if let Labels::Values {
            head,
            glue,
            text,
            start,
            ends,
        } = labels
            && let Some(head) = head.for_name(name)
            && suffix.is_empty()
            && le.is_none()
        {
            // The head holds everything up to the first value.
            put(out, head, 0, head.len() - HEAD_PAD);
            for (i, (glue, from, to)) in spans(glue, start, ends).enumerate() {
                if i > 0 {
                    put(out, glue.as_bytes(), 0, glue.len() - GLUE_PAD);
                }
                put(out, text.as_bytes(), from, to);
            }
            out.extend_from_slice(b"\"} ");
            write_value(out, value);
            out.push(b'\n');
            return;
        }
        out.extend_from_slice(name.as_bytes());
        if !suffix.is_empty() {
            out.extend_from_slice(suffix.as_bytes());
        }
        let mut open = false;
        if !self.const_labels.is_empty() {
            out.push(b'{');
            out.extend_from_slice(self.const_labels.as_bytes());
            open = true;
        }
        if !labels.is_empty() {
            out.push(if open { b',' } else { b'{' });
            labels.write(out);
            open = true;
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
        escape_label_value(&mut out, value);
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

/// Label values escape `\`, `"` and newline, and nothing else.
fn escape_label_value(out: &mut Vec<u8>, value: &str) {
    escape(out, value, true);
}

/// HELP text escapes `\` and newline, and nothing else.
fn escape_help(out: &mut Vec<u8>, help: &str) {
    escape(out, help, false);
}

fn escape(out: &mut Vec<u8>, s: &str, quote: bool) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let replacement: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'"' if quote => b"\\\"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(replacement);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

fn write_value(out: &mut Vec<u8>, value: Value) {
    match value {
        Value::U64(v) => write_u64(out, v),
        Value::I64(v) => {
            if v < 0 {
                out.push(b'-');
            }
            write_u64(out, v.unsigned_abs());
        }
        Value::F64(v) => write_f64(out, v),
    }
}

/// Two ASCII digits for every number below 100, so the integer formatter
/// emits two digits per division.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes every digit of `v`.
#[allow(clippy::cast_possible_truncation)] // every cast is of a value below 100
pub(crate) fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    // Digits go right-aligned into the first 20 bytes; then 20 bytes from
    // the first digit are appended as one fixed-size chunk and the excess
    // cut off (no `memcpy` call for a variable length, see [`put`]).
    let mut buf = [0u8; 40];
    let mut pos = 20;
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        pos -= 1;
        buf[pos] = b'0' + v as u8;
    }
    let end = out.len() + 20 - pos;
    if let Some(digits) = buf.get(pos..pos + 20).and_then(|c| <&[u8; 20]>::try_from(c).ok()) {
        out.extend_from_slice(digits);
    }
    out.truncate(end);
}

/// Writes `v` as the shortest digits that parse back to the same bits.
///
/// Special values first (`NaN`, `+Inf`, `-Inf`, as Prometheus spells them),
/// then finite values: positional notation when `1e-4 <= |v| < 1e16` (so
/// every integer below 2^53 prints as an integer and bucket bounds such as
/// `1000` print as users write them), exponent notation (`1e21`, `5e-324`)
/// otherwise.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else {
        write_finite(out, v);
    }
}

fn write_finite(out: &mut Vec<u8>, v: f64) {
    // Integers that f64 holds exactly take the integer formatter: the common
    // case for gauges and bucket counts, and much cheaper than `fmt`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::float_cmp)] // |v| < 2^53, integral
    if v.abs() < 9_007_199_254_740_992.0 && v == (v as i64) as f64 {
        if v.is_sign_negative() {
            out.push(b'-');
        }
        write_u64(out, v.abs() as u64);
        return;
    }
    // `{:e}` gives the shortest round-trip digits (Rust's float printing is
    // exact and shortest); only the layout is ours to choose.
    let mut buf = StackBuf::default();
    let _ = write!(buf, "{v:e}");
    let text = buf.as_bytes();
    let e_at = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
    let exp: i32 = std::str::from_utf8(&text[e_at + 1..])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(-4..16).contains(&exp) {
        out.extend_from_slice(text);
        return;
    }
    let (sign, mantissa) = match text[..e_at].split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, &text[..e_at]),
    };
    if sign {
        out.push(b'-');
    }
    // The mantissa is `d` or `d.ddd`: collect its digits without the point.
    let digits: Vec<u8> = mantissa.iter().copied().filter(u8::is_ascii_digit).collect();
    if exp < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', exp.unsigned_abs() as usize - 1));
        out.extend_from_slice(&digits);
    } else {
        let int_len = exp.unsigned_abs() as usize + 1; // exp >= 0 here
        if digits.len() <= int_len {
            out.extend_from_slice(&digits);
            out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

/// A fixed buffer for `{:e}` output, which is at most 24 bytes for an f64.
#[derive(Default)]
struct StackBuf {
    bytes: [u8; 32],
    len: usize,
}

impl StackBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_f64(v: f64, expected: &str) {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, expected);
        if v.is_finite() {
            assert_eq!(text.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{text}");
        }
    }

    #[test]
    fn floats_are_shortest_and_exact() {
        check_f64(0.0, "0");
        check_f64(-0.0, "-0");
        check_f64(1.0, "1");
        check_f64(-3.0, "-3");
        check_f64(0.1, "0.1");
        check_f64(0.1 + 0.2, "0.30000000000000004");
        check_f64(1000.0, "1000");
        check_f64(2.5e-3, "0.0025");
        check_f64(1e-4, "0.0001");
        check_f64(1e-5, "1e-5");
        check_f64(1e-7, "1e-7");
        check_f64(123_456.789, "123456.789");
        check_f64(9_007_199_254_740_993.0, "9007199254740992");
        check_f64(1e16, "1e16");
        check_f64(1.5e16, "1.5e16");
        check_f64(1e21, "1e21");
        check_f64(f64::MAX, "1.7976931348623157e308");
        check_f64(f64::MIN, "-1.7976931348623157e308");
        check_f64(f64::MIN_POSITIVE, "2.2250738585072014e-308");
        check_f64(5e-324, "5e-324");
        check_f64(f64::INFINITY, "+Inf");
        check_f64(f64::NEG_INFINITY, "-Inf");
        check_f64(f64::NAN, "NaN");
    }

    #[test]
    fn integers_print_every_digit() {
        for v in [0, 9, 10, 99, 100, 101, 12_345, 9_007_199_254_740_993, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        let mut out = Vec::new();
        write_value(&mut out, Value::I64(i64::MIN));
        assert_eq!(String::from_utf8(out).unwrap(), i64::MIN.to_string());
    }

    #[test]
    fn escaping_touches_only_what_the_format_says() {
        assert_eq!(
            render_labels([("a", "x\\y\"z\nw\t\u{1F600}")]),
            "a=\"x\\\\y\\\"z\\nw\t\u{1F600}\""
        );
        let mut out = Vec::new();
        escape_help(&mut out, "a\\b\"c\nd");
        assert_eq!(out, b"a\\\\b\"c\\nd");
    }
}
