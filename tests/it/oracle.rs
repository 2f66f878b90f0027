// Test oracle: a strict, test-only parser for the Prometheus text exposition
// format v0.0.4, used to check what bareprom writes.
//
// It is deliberately stricter than real consumers (promtool, the Prometheus
// scraper, the Python client's parser): it also rejects output those tools
// accept but which is sloppy or ambiguous, e.g. missing HELP lines, timestamps,
// CRLF line ends, blank lines, double spaces, `{}`, trailing commas, unknown escapes,
// split families, duplicate series, `x_total` samples under `# TYPE x counter`,
// and histograms whose buckets do not add up. Integer values are kept as exact
// `i128` so `u64::MAX` round-trips. Every error names the 1-based line and the
// reason.
//
// Std only and self-contained: this file is included verbatim as a module
// from the integration tests and from the fuzz crate.

use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, PartialEq)]
pub struct Exposition {
    pub families: Vec<Family>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    pub name: String,
    pub help: String,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: Value,
}

#[derive(Clone, Copy, Debug)]
pub enum Value {
    Int(i128),
    Float(f64),
}

impl Value {
    /// Lossy numeric view (large `Int`s round to the nearest `f64`).
    #[must_use]
    #[allow(clippy::cast_precision_loss, reason = "documented as lossy")]
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
        }
    }

    /// Exact identity: `Int` equals only the same `Int`, `Float` compares bit
    /// patterns (so `0.0` != `-0.0`), and any NaN equals any NaN.
    #[must_use]
    pub fn same(self, other: Value) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            _ => false,
        }
    }
}

// Equality is `same`, so expected structs holding NaN samples compare equal.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.same(*other)
    }
}

impl Exposition {
    #[must_use]
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Value of the sample with this name and exactly this label set (in any
    /// order); a subset or superset of the labels does not match.
    #[must_use]
    pub fn value(&self, sample_name: &str, labels: &[(&str, &str)]) -> Option<Value> {
        let mut want = labels.to_vec();
        want.sort_unstable();
        let samples = self.families.iter().flat_map(|f| &f.samples);
        let found = samples.filter(|s| s.name == sample_name).find(|s| {
            let mut have: Vec<_> = s.labels.iter().map(|(k, v)| (&**k, &**v)).collect();
            have.sort_unstable();
            have == want
        });
        found.map(|s| s.value)
    }
}

/// Parses a whole exposition; `Err` is `"line N: reason"`.
///
/// # Errors
/// On the first violation of the strict rules described at the top of the file.
pub(crate) fn parse(text: &str) -> Result<Exposition, String> {
    let mut p = Parser::default();
    if text.is_empty() {
        return Ok(Exposition { families: vec![] });
    }
    let Some(body) = text.strip_suffix('\n') else {
        let n = text.split('\n').count();
        return Err(format!("line {n}: missing final newline"));
    };
    let mut n = 0;
    for line in body.split('\n') {
        n += 1;
        p.line(line, n).map_err(|e| format!("line {n}: {e}"))?;
    }
    if let (Some(f), false) = (p.families.last(), p.typed) {
        return Err(format!("line {n}: family {} has HELP but no TYPE", f.name));
    }
    p.check_last()?;
    let families = p.families;
    Ok(Exposition { families })
}

// Label set normalised for identity: sorted, without `skip` (`le`/`quantile`
// when grouping), and without empty values, since Prometheus treats `l=""` as
// an absent label (so `x` and `x{l=""}` are the same series).
type Key = Vec<(String, String)>;

fn key(labels: &[(String, String)], skip: &str) -> Key {
    let keep = |(n, v): &&(String, String)| n != skip && !v.is_empty();
    let mut k: Key = labels.iter().filter(keep).cloned().collect();
    k.sort();
    k
}

#[derive(Default)]
struct Parser {
    families: Vec<Family>,
    lines: Vec<usize>,               // line numbers of the last family's samples
    typed: bool,                     // the last family has had its TYPE line
    names: HashSet<String>,          // every family name seen in a HELP line
    owners: HashMap<String, String>, // sample name -> the family that may emit it
    series: HashSet<(String, Key)>,
}

impl Parser {
    fn line(&mut self, line: &str, n: usize) -> Result<(), String> {
        if line.is_empty() {
            return Err("empty line".into());
        } else if line.starts_with(' ') {
            return Err("leading space".into());
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            // HELP text is verbatim up to the newline: it may end in spaces,
            // or in a `\r` the format has no escape for (promtool, the Python
            // parser and Prometheus all keep it as text).
            return self.help(rest);
        } else if line.ends_with('\r') {
            // Elsewhere a `\r` is legal only inside a quoted label value; at
            // the end of a line it is a CRLF line ending.
            return Err("carriage return (\\r) at the end of a line".into());
        } else if line.ends_with(' ') {
            return Err("trailing space".into());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            return self.kind(rest);
        } else if line.starts_with('#') {
            return Err(format!("unsupported comment {line:?} (only HELP and TYPE)"));
        }
        self.sample(line, n)
    }

    fn help(&mut self, rest: &str) -> Result<(), String> {
        if let (Some(f), false) = (self.families.last(), self.typed) {
            return Err(format!("HELP line, but family {} has no TYPE line", f.name));
        }
        self.check_last()?;
        // Everything after the single separator space is the text, verbatim.
        let (name, raw) = rest.split_once(' ').unwrap_or((rest, ""));
        metric_name(name)?;
        if !self.names.insert(name.to_string()) {
            return Err(format!("second HELP for {name}: family repeated or split"));
        }
        let help = unescape(raw, false).map_err(|e| format!("HELP text: {e}"))?;
        let (name, kind, samples) = (name.to_string(), Kind::Untyped, vec![]);
        self.families.push(Family {
            name,
            help,
            kind,
            samples,
        });
        self.lines.clear();
        self.typed = false;
        Ok(())
    }

    fn kind(&mut self, rest: &str) -> Result<(), String> {
        let parts: Vec<&str> = rest.split(' ').collect();
        let [name, kind] = parts[..] else {
            return Err("TYPE line must be exactly '# TYPE <name> <type>'".into());
        };
        metric_name(name)?;
        let (kind, owned): (_, &[&str]) = match kind {
            "counter" => (Kind::Counter, &[""]),
            "gauge" => (Kind::Gauge, &[""]),
            "untyped" => (Kind::Untyped, &[""]),
            "histogram" => (Kind::Histogram, &["_bucket", "_sum", "_count"]),
            "summary" => (Kind::Summary, &["", "_sum", "_count"]),
            _ => return Err(format!("unknown metric type {kind:?}")),
        };
        let pending = self.families.last_mut().filter(|f| f.name == name);
        let Some(f) = pending.filter(|_| !self.typed) else {
            return Err(format!("TYPE for {name} not directly after its HELP line"));
        };
        (f.kind, self.typed) = (kind, true);
        // E.g. gauge `x_count` and summary `x` would both write `x_count`.
        for suffix in owned {
            let sample = format!("{name}{suffix}");
            if let Some(other) = self.owners.insert(sample.clone(), name.to_string()) {
                return Err(format!("{sample} would belong to {other} and {name}"));
            }
        }
        Ok(())
    }

    fn sample(&mut self, line: &str, n: usize) -> Result<(), String> {
        let s = parse_sample(line)?;
        let Some(f) = self.families.last_mut() else {
            return Err("sample before any HELP/TYPE".into());
        };
        if !self.typed {
            return Err(format!("sample between HELP and TYPE of {}", f.name));
        }
        let (special, elem) = match f.kind {
            Kind::Histogram => ("le", format!("{}_bucket", f.name)),
            Kind::Summary => ("quantile", f.name.clone()),
            _ => ("", f.name.clone()),
        };
        let has = |l: &str| label(&s, l).is_some();
        let suffix = s.name.strip_prefix(f.name.as_str());
        let sum_or_count = !special.is_empty() && matches!(suffix, Some("_sum" | "_count"));
        if s.name != elem && !sum_or_count {
            let (s, k, f) = (&s.name, f.kind, &f.name);
            return Err(format!("TYPE/sample name mismatch: {s} in {k:?} family {f}"));
        } else if s.name == elem && !special.is_empty() && !has(special) {
            return Err(format!("{} sample without a {special:?} label", s.name));
        } else if sum_or_count && has(special) {
            return Err(format!("{} must not carry a {special:?} label", s.name));
        }
        if !self.series.insert((s.name.clone(), key(&s.labels, ""))) {
            return Err(format!("duplicate series {} {:?}", s.name, s.labels));
        }
        let negative = match s.value {
            Value::Int(i) => i < 0,
            Value::Float(x) => x.is_nan() || x < 0.0, // -0.0 < 0.0 is false: accepted
        };
        if f.kind == Kind::Counter && negative {
            return Err(format!("counter {} has negative or NaN value", s.name));
        }
        f.samples.push(s);
        self.lines.push(n);
        Ok(())
    }

    /// Validates the family that just ended (histogram/summary group rules).
    fn check_last(&self) -> Result<(), String> {
        match self.families.last() {
            Some(f) if matches!(f.kind, Kind::Histogram | Kind::Summary) => groups(f, &self.lines),
            _ => Ok(()),
        }
    }
}

// One histogram/summary group: the samples sharing a label set minus
// `le`/`quantile`. Stage 0 = buckets/quantiles, 1 = after _sum, 2 = after _count.
#[derive(Default)]
struct Group {
    key: Key,
    stage: u8,
    last_le: Option<f64>,
    last_count: i128,
    inf_count: Option<i128>,
    quantiles: Vec<f64>,
}

const UNFINISHED: &str = "lacks _sum and _count";

// Runs when the family ends, so errors carry the offending sample's own line.
fn groups(fam: &Family, lines: &[usize]) -> Result<(), String> {
    let hist = fam.kind == Kind::Histogram;
    let special = if hist { "le" } else { "quantile" };
    let (sum, count) = (format!("{}_sum", fam.name), format!("{}_count", fam.name));
    let mut done: HashSet<Key> = HashSet::new();
    let mut cur: Option<Group> = None;
    let err = |n: usize, m: String| format!("line {n}: {} {m}", fam.name);
    for (s, &n) in fam.samples.iter().zip(lines) {
        let k = key(&s.labels, special);
        if cur.as_ref().is_none_or(|g| g.key != k) {
            if let Some(g) = cur.take().filter(|g| g.stage != 2) {
                return Err(err(n, format!("group {:?} {UNFINISHED}", g.key)));
            }
            if !done.insert(k.clone()) {
                return Err(err(n, format!("group {k:?} reappears: must be contiguous")));
            }
            let g = Group::default();
            cur = Some(Group { key: k, ..g });
        }
        let g = cur.as_mut().expect("set above");
        if s.name == sum {
            if g.stage != 0 || (hist && g.inf_count.is_none()) {
                return Err(err(n, "_sum must follow buckets ending in le=\"+Inf\"".into()));
            }
            g.stage = 1;
        } else if s.name == count {
            if g.stage != 1 {
                return Err(err(n, "_count must directly follow the group's _sum".into()));
            }
            let c = whole(s.value).map_err(|e| err(n, e))?;
            if hist && g.inf_count != Some(c) {
                return Err(err(n, format!("_count {c} != +Inf bucket {:?}", g.inf_count)));
            }
            g.stage = 2;
        } else {
            if g.stage != 0 {
                return Err(err(n, format!("{} after the group's _sum/_count", s.name)));
            }
            let raw = label(s, special).expect("checked when the sample was read");
            let x = parse_value(raw).map_err(|e| err(n, format!("{special}: {e}")))?;
            let x = x.as_f64();
            if hist {
                if x.is_nan() || g.last_le.is_some_and(|l| x <= l) {
                    return Err(err(n, format!("le=\"{raw}\" is not strictly ascending")));
                }
                let c = whole(s.value).map_err(|e| err(n, e))?;
                if c < g.last_count {
                    let last = g.last_count;
                    return Err(err(n, format!("le=\"{raw}\" count {c} < previous {last}")));
                }
                (g.last_le, g.last_count) = (Some(x), c);
                if x == f64::INFINITY {
                    g.inf_count = Some(c);
                }
            } else {
                if !(0.0..=1.0).contains(&x) || g.quantiles.contains(&x) {
                    return Err(err(n, format!("quantile=\"{raw}\" outside [0,1] or repeated")));
                }
                g.quantiles.push(x);
            }
        }
    }
    match (cur.filter(|g| g.stage != 2), lines.last()) {
        (Some(g), Some(&n)) => Err(err(n, format!("group {:?} {UNFINISHED}", g.key))),
        _ => Ok(()),
    }
}

/// A non-negative whole count: `Int`, or a finite integral `Float` in `i128` range.
fn whole(v: Value) -> Result<i128, String> {
    #[allow(clippy::cast_possible_truncation, reason = "integral, range-checked")]
    let c = match v {
        Value::Int(i) => Some(i),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 1.7e38 => Some(x as i128),
        Value::Float(_) => None,
    };
    let err = || format!("count {v:?} is not a non-negative integer");
    c.filter(|&c| c >= 0).ok_or_else(err)
}

fn label<'a>(s: &'a Sample, name: &str) -> Option<&'a str> {
    s.labels.iter().find(|(l, _)| l == name).map(|(_, v)| v.as_str())
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, or without `:` for label names.
fn is_name(s: &str, colon: bool) -> bool {
    let ok = |(i, c): (usize, char)| {
        c.is_ascii_alphabetic() || c == '_' || (colon && c == ':') || (i > 0 && c.is_ascii_digit())
    };
    !s.is_empty() && s.chars().enumerate().all(ok)
}

fn metric_name(s: &str) -> Result<(), String> {
    is_name(s, true)
        .then_some(())
        .ok_or_else(|| format!("invalid metric name {s:?}"))
}

/// Decodes `\\`, `\n` and (in label values) `\"`; other escapes are errors.
fn unescape(s: &str, quote: bool) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match (c == '\\').then(|| it.next()) {
            None => out.push(c),
            Some(Some('\\')) => out.push('\\'),
            Some(Some('n')) => out.push('\n'),
            Some(Some('"')) if quote => out.push('"'),
            Some(Some(e)) => return Err(format!("invalid escape \\{e}")),
            Some(None) => return Err("lone trailing backslash".into()),
        }
    }
    Ok(out)
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let end = line.find(['{', ' ']).ok_or("sample line without a value")?;
    let (name, mut rest) = line.split_at(end);
    metric_name(name)?;
    let mut labels: Vec<(String, String)> = vec![];
    if let Some(r) = rest.strip_prefix('{') {
        if r.starts_with('}') {
            return Err("empty label set {} not allowed".into());
        }
        rest = r;
        loop {
            if rest.starts_with('}') {
                return Err("trailing comma in label set".into());
            }
            let (l, r) = rest.split_once('=').ok_or("label without '='")?;
            if !is_name(l, false) {
                return Err(format!("invalid label name {l:?}"));
            } else if l.starts_with("__") {
                return Err(format!("label name {l:?} uses the reserved __ prefix"));
            }
            if labels.iter().any(|(k, _)| k == l) {
                return Err(format!("duplicate label name {l:?}"));
            }
            let r = r.strip_prefix('"').ok_or("unquoted label value")?;
            // The value ends at the first '"' not preceded by an escaping backslash.
            let mut esc = false;
            let close = r.char_indices().find(|&(_, c)| {
                let end = !esc && c == '"';
                esc = !esc && c == '\\';
                end
            });
            let (i, _) = close.ok_or("unterminated label value")?;
            let v = unescape(&r[..i], true).map_err(|e| format!("label {l:?}: {e}"))?;
            labels.push((l.to_string(), v));
            match r[i + 1..].split_at_checked(1) {
                Some((",", r)) => rest = r,
                Some(("}", r)) => {
                    rest = r;
                    break;
                }
                _ => return Err("expected ',' or '}' after label value".into()),
            }
        }
    }
    let token = rest.strip_prefix(' ').ok_or("no space before the value")?;
    if token.is_empty() || token.starts_with(' ') {
        return Err("expected exactly one space and a value".into());
    } else if token.contains(' ') {
        return Err("extra token after the value (timestamps are not allowed)".into());
    }
    let (name, value) = (name.to_string(), parse_value(token)?);
    Ok(Sample { name, labels, value })
}

fn parse_value(s: &str) -> Result<Value, String> {
    match s {
        "+Inf" => return Ok(Value::Float(f64::INFINITY)),
        "-Inf" => return Ok(Value::Float(f64::NEG_INFINITY)),
        "NaN" => return Ok(Value::Float(f64::NAN)),
        _ => {}
    }
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let canonical = unsigned == "0" || !unsigned.starts_with('0');
    // No let-chains: the fuzz crate including this file may be edition 2021.
    let int = (digits(unsigned) && canonical && s != "-0").then(|| s.parse::<i128>());
    if let Some(Ok(i)) = int {
        return Ok(Value::Int(i));
    }
    // Otherwise a plain decimal float: -?D+(.D+)?([eE][+-]?D+)?
    let (mantissa, exp) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    if !(digits(int) && frac.is_none_or(digits) && exp.is_none_or(digits)) {
        return Err(format!("invalid value {s:?}"));
    }
    // A finite-looking literal like 1e400 must not silently become +Inf.
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Value::Float(x)),
        _ => Err(format!("value {s:?} overflows f64 (write +Inf/-Inf)")),
    }
}
