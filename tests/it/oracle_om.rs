// Test oracle for OpenMetrics 1.0 text: the OpenMetrics rules checked
// here, the rest by translating the exposition into the text format 0.0.4
// and handing it to the strict 0.0.4 oracle (`oracle.rs`), so both formats
// are held to one set of rules for what they share (escaping, numbers,
// histograms adding up, no duplicate series, no split families).
//
// Rejected here, on top of what `oracle.rs` rejects: a missing or repeated
// `# EOF`, anything after it; a counter family named `x_total` or a counter
// sample other than `x_total` (`_created` included: bareprom never writes
// one); an info family whose sample is not `x_info` with the value 1; a
// `# UNIT` that is not the family name's suffix, on an info family, repeated,
// or before `# TYPE`; a bucket bound that is an integer without `.0`; a
// sample timestamp; an exemplar anywhere but on a counter's `_total` sample
// or a histogram's `_bucket` line, or one whose label set is malformed
// (names `[a-zA-Z_][a-zA-Z0-9_]*`, not `__`, each once; values escaping
// only `\\`, `\"`, `\n`), longer than 128 characters (names and values,
// unescaped), whose value or timestamp is not a number, or whose value is
// above its bucket's bound. `_sum` and `_count` of a histogram are left out
// together or not at all (a series without them is checked by the 0.0.4
// oracle as if its sum were NaN and its count the `+Inf` bucket).
//
// Std only: included verbatim from the integration tests and the fuzz
// crate, next to `oracle.rs`.

use crate::oracle;

/// Parses an OpenMetrics exposition into what its 0.0.4 twin would parse
/// to: counter families named `x_total`, info families the gauge `x_info`,
/// bucket bounds without the `.0` of integers.
///
/// # Errors
/// `"openmetrics line N: reason"` for an OpenMetrics rule, or the 0.0.4
/// oracle's error on the translation.
pub(crate) fn parse(text: &str) -> Result<oracle::Exposition, String> {
    let Some(body) = text.strip_suffix("# EOF\n") else {
        return Err("openmetrics: the exposition does not end with \"# EOF\\n\"".into());
    };
    if !(body.is_empty() || body.ends_with('\n')) {
        return Err("openmetrics: \"# EOF\" is not on a line of its own".into());
    }
    let mut out = String::with_capacity(body.len());
    let mut family = Open::default();
    let lines = body.strip_suffix('\n').map(|b| b.split('\n'));
    for (i, line) in lines.into_iter().flatten().enumerate() {
        let n = i + 1;
        let err = |e: String| format!("openmetrics line {n}: {e}");
        if line == "# EOF" {
            return Err(err("a second # EOF".into()));
        }
        translate(line, &mut family, &mut out).map_err(err)?;
        out.push('\n');
    }
    if let Some(pending) = family.pending.take() {
        out.push_str(&pending);
    }
    close(&family).map_err(|e| format!("openmetrics: {e}"))?;
    let out = out.replace("\n\u{0}\n", "\n");
    let out = out.strip_prefix("\u{0}\n").unwrap_or(&out);
    oracle::parse(out).map_err(|e| format!("openmetrics (as 0.0.4): {e}\n{out}"))
}

#[derive(Default)]
struct Open {
    name: String,
    kind: String,
    typed: bool,
    unit: bool,
    /// Per histogram family: how many `_sum` and `_count` lines, to pair them.
    sums: usize,
    counts: usize,
    /// The `_sum` and `_count` lines a histogram series without them is
    /// checked with (sum NaN, count its `+Inf` bucket), until its `_sum`.
    pending: Option<String>,
    /// Where in the translation the family's name goes, in its HELP line.
    help_at: usize,
}

#[allow(
    clippy::too_many_lines,
    reason = "one match per line kind, in the order of the format"
)]
fn translate(line: &str, family: &mut Open, out: &mut String) -> Result<(), String> {
    if let Some(pending) = family.pending.take()
        && !line.starts_with(&format!("{}_sum", family.name))
    {
        out.push_str(&pending);
    }
    if line.is_empty() {
        return Err("blank line".into());
    }
    if let Some(rest) = line.strip_prefix("# HELP ") {
        close(family)?;
        let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
        *family = Open {
            name: name.to_owned(),
            help_at: out.len() + "# HELP ".len(),
            ..Open::default()
        };
        let help = unescape_help(help)?;
        // Re-escaped for 0.0.4, where `"` is not escaped in HELP; the name is
        // fixed once the TYPE is known, so it is a placeholder here.
        out.push_str("# HELP \u{1}");
        out.push(' ');
        out.push_str(&help.replace('\\', "\\\\").replace('\n', "\\n"));
        return Ok(());
    }
    if let Some(rest) = line.strip_prefix("# TYPE ") {
        let (name, kind) = rest.split_once(' ').ok_or("TYPE without a type")?;
        if family.name.is_empty() || name != family.name || family.typed {
            return Err(format!("TYPE {name} does not follow its HELP"));
        }
        family.typed = true;
        kind.clone_into(&mut family.kind);
        let (name_004, kind_004) = match kind {
            "counter" if name.ends_with("_total") => {
                return Err(format!("counter family {name} named with _total"));
            }
            "counter" => (format!("{name}_total"), "counter"),
            "info" => (format!("{name}_info"), "gauge"),
            "gauge" | "histogram" => (name.to_owned(), kind),
            other => return Err(format!("type {other} is never written by bareprom")),
        };
        // The HELP line written last gets the 0.0.4 name.
        let at = family.help_at;
        out.replace_range(at..=at, &name_004);
        for piece in ["# TYPE ", &name_004, " ", kind_004] {
            out.push_str(piece);
        }
        return Ok(());
    }
    if let Some(rest) = line.strip_prefix("# UNIT ") {
        let (name, unit) = rest.split_once(' ').ok_or("UNIT without a unit")?;
        if name != family.name || !family.typed || family.unit {
            return Err(format!("UNIT {name} not after its TYPE, or repeated"));
        }
        if family.kind == "info" {
            return Err("an info family has no unit".into());
        }
        if unit.is_empty() || !name.ends_with(&format!("_{unit}")) {
            return Err(format!("unit {unit:?} is not the suffix of {name}"));
        }
        family.unit = true;
        out.push('\u{0}');
        return Ok(());
    }
    if line.starts_with('#') {
        return Err(format!("unsupported comment {line:?}"));
    }
    if !family.typed {
        return Err("sample before its family's TYPE".into());
    }
    let (line, exemplar) = split_exemplar(line);
    let end = line.find(['{', ' ']).ok_or("sample without a value")?;
    let sample = &line[..end];
    let suffix = sample
        .strip_prefix(family.name.as_str())
        .ok_or_else(|| format!("sample {sample} outside family {}", family.name))?;
    match (family.kind.as_str(), suffix) {
        ("counter", "_total") | ("gauge", "") | ("histogram", "_bucket") => {}
        ("info", "_info") => {
            if !line.ends_with(" 1") {
                return Err("an info sample's value is 1".into());
            }
        }
        ("histogram", "_sum") => family.sums += 1,
        ("histogram", "_count") => family.counts += 1,
        (kind, _) => return Err(format!("sample {sample} in a {kind} family")),
    }
    if let Some(exemplar) = exemplar {
        if !matches!(suffix, "_total" | "_bucket") {
            return Err(format!(
                "an exemplar on {sample} (only counters and buckets carry them)"
            ));
        }
        let parsed = parse_exemplar(exemplar)?;
        if suffix == "_bucket" {
            let le = bucket_bound(line)?;
            if parsed.value > le {
                return Err(format!("exemplar value {} above its bucket's bound {le}", parsed.value));
            }
        }
    }
    if suffix == "_bucket" {
        // `le` is the last label: `x_bucket{a="1",le="+Inf"} 5` or
        // `x_bucket{le="+Inf"} 5` give the series' labels `{a="1"}` or none.
        if let Some((head, count)) = line.rsplit_once("le=\"+Inf\"} ") {
            let head = &head[family.name.len() + "_bucket".len()..];
            let series = match head.strip_suffix(',') {
                Some(labels) => format!("{labels}}}"),
                None => String::new(),
            };
            family.pending = Some(format!(
                "{n}_sum{series} NaN\n{n}_count{series} {count}\n",
                n = family.name
            ));
        }
        return bucket(line, out);
    }
    out.push_str(line);
    Ok(())
}

/// A bucket line's bound, as a number.
fn bucket_bound(line: &str) -> Result<f64, String> {
    let at = line.rfind("le=\"").ok_or("bucket without le")? + 4;
    let len = line[at..].find('"').ok_or("unterminated le")?;
    number(&line[at..at + len])
}

/// An OpenMetrics number: a float, `+Inf`, `-Inf` or `NaN`.
fn number(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ if s.is_empty() || s.contains(['i', 'I', 'n', 'N', '_']) => Err(format!("not a number: {s:?}")),
        _ => s.parse().map_err(|_| format!("not a number: {s:?}")),
    }
}

/// One exemplar as the oracle reads it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Exemplar {
    /// The sample line it follows, without the exemplar.
    pub(crate) sample: String,
    /// Name and unescaped value pairs, in order.
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: f64,
    /// The timestamp as written, if any.
    pub(crate) timestamp: Option<String>,
}

/// The sample line without its exemplar, and the exemplar's text (after
/// ` # `), if it has one. A ` # ` inside a quoted label value is part of
/// the value.
fn split_exemplar(line: &str) -> (&str, Option<&str>) {
    // Without a label set the name ends at a space, and a `{` further on
    // is the exemplar's.
    let tail = match line.find(['{', ' ']) {
        Some(at) if line.as_bytes()[at] == b' ' => &line[at..],
        _ => after_labels(line),
    };
    let head = line.len() - tail.len();
    match tail.find(" # ") {
        Some(at) => (&line[..head + at], Some(&tail[at + 3..])),
        None => (line, None),
    }
}

/// Parses `{a="x",b="y"} value [timestamp]`.
fn parse_exemplar(text: &str) -> Result<Exemplar, String> {
    let body = text.strip_prefix('{').ok_or("an exemplar starts with {")?;
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut rest = body;
    if let Some(after) = rest.strip_prefix('}') {
        rest = after;
    } else {
        loop {
            let eq = rest.find("=\"").ok_or("exemplar label without =\"")?;
            let name = &rest[..eq];
            let valid = name
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()));
            if name.is_empty() || !valid || name.starts_with("__") {
                return Err(format!("invalid exemplar label name {name:?}"));
            }
            if labels.iter().any(|(n, _)| n == name) {
                return Err(format!("exemplar label {name} twice"));
            }
            let mut value = String::new();
            let mut chars = rest[eq + 2..].char_indices();
            let end = loop {
                match chars.next().ok_or("unterminated exemplar label value")? {
                    (i, '"') => break eq + 2 + i + 1,
                    (_, '\\') => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => return Err(format!("invalid escape {other:?} in an exemplar label value")),
                    },
                    (_, '\n') => return Err("raw newline in an exemplar label value".into()),
                    (_, c) => value.push(c),
                }
            };
            labels.push((name.to_owned(), value));
            rest = &rest[end..];
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            } else {
                return Err("exemplar labels not separated by ,".into());
            }
        }
    }
    let chars: usize = labels.iter().map(|(n, v)| n.chars().count() + v.chars().count()).sum();
    if chars > 128 {
        return Err(format!("exemplar label set of {chars} characters (at most 128)"));
    }
    let rest = rest.strip_prefix(' ').ok_or("no space before the exemplar value")?;
    let mut parts = rest.split(' ');
    let value = number(parts.next().unwrap_or_default())?;
    let timestamp = parts.next().map(str::to_owned);
    if let Some(ts) = &timestamp
        && !number(ts)?.is_finite()
    {
        return Err(format!("exemplar timestamp {ts:?} is not finite"));
    }
    if parts.next().is_some() {
        return Err("trailing text after an exemplar".into());
    }
    Ok(Exemplar {
        sample: String::new(),
        labels,
        value,
        timestamp,
    })
}

/// Every exemplar of a valid exposition (checked with [`parse`] first), in
/// order.
///
/// # Errors
/// As [`parse`].
pub(crate) fn exemplars(text: &str) -> Result<Vec<Exemplar>, String> {
    parse(text)?;
    let mut found = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let (sample, Some(exemplar)) = split_exemplar(line) {
            found.push(Exemplar {
                sample: sample.to_owned(),
                ..parse_exemplar(exemplar)?
            });
        }
    }
    Ok(found)
}

/// A bucket line with its bound in 0.0.4 form; refuses an integral bound
/// without `.0`.
fn bucket(line: &str, out: &mut String) -> Result<(), String> {
    let at = line.rfind("le=\"").ok_or("bucket without le")? + 4;
    let len = line[at..].find('"').ok_or("unterminated le")?;
    let le = &line[at..at + len];
    let bound = match le.strip_suffix(".0") {
        Some(int) if !int.is_empty() && int.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) => int,
        _ if le.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) => {
            return Err(format!("bound {le:?} is not canonical (an integer needs .0)"));
        }
        _ => le,
    };
    out.push_str(&line[..at]);
    out.push_str(bound);
    out.push_str(&line[at + len..]);
    Ok(())
}

fn close(family: &Open) -> Result<(), String> {
    if !family.name.is_empty() && !family.typed {
        return Err(format!("family {} has no TYPE", family.name));
    }
    if family.sums != family.counts {
        return Err(format!("family {}: _sum and _count not paired", family.name));
    }
    Ok(())
}

/// OpenMetrics HELP escapes `\\`, `\n` and `\"`; nothing else.
fn unescape_help(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match (c == '\\').then(|| it.next()) {
            None if c == '"' => return Err("unescaped \" in HELP".into()),
            None => out.push(c),
            Some(Some('\\')) => out.push('\\'),
            Some(Some('n')) => out.push('\n'),
            Some(Some('"')) => out.push('"'),
            Some(Some(e)) => return Err(format!("invalid escape \\{e} in HELP")),
            Some(None) => return Err("lone trailing backslash in HELP".into()),
        }
    }
    Ok(out)
}

/// What follows a sample line's label set (the whole line without one):
/// where an exemplar would start. A ` # ` inside a quoted label value is
/// part of the value.
fn after_labels(line: &str) -> &str {
    let Some(open) = line.find('{') else {
        return line;
    };
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in line[open..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '}' if !quoted => return &line[open + i + 1..],
            _ => {}
        }
    }
    ""
}
