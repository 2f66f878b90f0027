// Test oracle front for Prometheus 3 UTF-8 names: expositions whose names
// outside the legacy charset are written quoted (`escaping=allow-utf-8`):
// `# HELP "a.b" …`, `# TYPE "a.b" gauge`, `{"a.b",method="GET"} 1`,
// `{"a.b_total"} 1`, `x{"my.label"="v"} 1`.
//
// Each quoted name is replaced by a legacy placeholder (a sample name by
// its family's placeholder and the rest of the name as suffix), the result
// is checked by the strict 0.0.4 oracle (`oracle.rs`) or the OpenMetrics
// one (`oracle_om.rs`), and the names of what they parsed are mapped back.
// A placeholder is a prefix found nowhere in the text (`bq_`, `bq_q`, …),
// `m` or `l`, a number, `x` and the name with every character outside
// `[a-zA-Z0-9_]` made `_` (so the oracles' suffix rules, a unit's for one,
// still see the name's tail). Rejected here, on top of what they reject:
// a quoted name that is legacy (a quoted name is written only where one is
// needed), an empty one, an unterminated one or a bad escape in it.
//
// Std only: included verbatim from the integration tests and the fuzz crate.

use crate::oracle;

/// Parses a 0.0.4 (`openmetrics` false) or OpenMetrics exposition that may
/// quote names; names in the result are the original ones.
///
/// # Errors
/// A quoting error here, or the strict oracle's error on the rewrite.
pub(crate) fn parse(text: &str, openmetrics: bool) -> Result<oracle::Exposition, String> {
    let mut base = String::from("bq_");
    while text.contains(&base) {
        base.push('q');
    }
    let (metric, label) = (format!("{base}m"), format!("{base}l"));
    let (metric, label) = (metric.as_str(), label.as_str());
    let mut names: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut family: Option<String> = None;
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        let err = |e: String| format!("utf-8 line {n}: {e}");
        let header = ["# HELP ", "# TYPE ", "# UNIT "]
            .into_iter()
            .find(|h| line.starts_with(h));
        if let Some(header) = header {
            let rest = &line[header.len()..];
            out.push_str(header);
            if rest.starts_with('"') {
                let (name, after) = quoted(rest, true).map_err(err)?;
                if header == "# HELP " {
                    family = Some(name.clone());
                }
                out.push_str(&placeholder(&mut names, metric, &name));
                out.push_str(after);
            } else {
                if header == "# HELP " {
                    family = None;
                }
                out.push_str(rest);
            }
            continue;
        }
        if line.starts_with('#') {
            out.push_str(line);
            continue;
        }
        let tables = Tables {
            names: &mut names,
            labels: &mut labels,
            metric,
            label,
        };
        sample(line, family.as_deref(), tables, &mut out).map_err(err)?;
    }
    let parsed = if openmetrics {
        crate::oracle_om::parse(&out)
    } else {
        oracle::parse(&out)
    };
    let mut exposition = parsed.map_err(|e| format!("{e}\n(rewritten:)\n{out}"))?;
    for f in &mut exposition.families {
        f.name = restore(&f.name, &names, metric);
        for s in &mut f.samples {
            s.name = restore(&s.name, &names, metric);
            for (l, _) in &mut s.labels {
                *l = restore(l, &labels, label);
            }
        }
    }
    Ok(exposition)
}

/// The placeholder tables of one parse and their prefixes.
struct Tables<'a> {
    names: &'a mut Vec<String>,
    labels: &'a mut Vec<String>,
    metric: &'a str,
    label: &'a str,
}

/// Rewrites one sample line.
fn sample(line: &str, family: Option<&str>, tables: Tables<'_>, out: &mut String) -> Result<(), String> {
    let Tables {
        names,
        labels,
        metric,
        label,
    } = tables;
    let mut rest = line;
    let mut open = false;
    if let Some(inner) = line.strip_prefix('{').filter(|r| r.starts_with('"')) {
        let (name, after) = quoted(inner, true)?;
        // A sample of a quoted family: the family's placeholder, the rest
        // of the name as the suffix the strict oracles check.
        let base = family.filter(|f| name.starts_with(f)).unwrap_or(&name);
        out.push_str(&placeholder(names, metric, base));
        out.push_str(&name[base.len()..]);
        if let Some(after) = after.strip_prefix(',') {
            out.push('{');
            rest = after;
            open = true;
        } else if let Some(after) = after.strip_prefix('}') {
            out.push_str(after);
            return Ok(());
        } else {
            return Err("expected ',' or '}' after a quoted name".into());
        }
    }
    if !open {
        let Some(at) = rest.find(['{', ' ']) else {
            out.push_str(rest);
            return Ok(());
        };
        out.push_str(&rest[..=at]);
        if rest.as_bytes()[at] == b' ' {
            out.push_str(&rest[at + 1..]);
            return Ok(());
        }
        rest = &rest[at + 1..];
    }
    // Label pairs: a name (legacy, or quoted), `=`, a quoted value.
    loop {
        if rest.starts_with('"') {
            let (name, after) = quoted(rest, false)?;
            out.push_str(&placeholder(labels, label, &name));
            rest = after;
        }
        let Some(at) = rest.find('"') else {
            out.push_str(rest);
            return Ok(());
        };
        // Up to and with the value's opening quote, then the value.
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let end = value_end(rest).ok_or("unterminated label value")?;
        out.push_str(&rest[..=end]);
        rest = &rest[end + 1..];
        if let Some(after) = rest.strip_prefix(',') {
            out.push(',');
            rest = after;
        } else {
            out.push_str(rest);
            return Ok(());
        }
    }
}

/// Where the quoted string starting after an opening quote ends (the
/// index of its closing quote).
fn value_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// A quoted name at the start of `s`: the name unescaped, and what follows.
fn quoted(s: &str, metric: bool) -> Result<(String, &str), String> {
    let inner = &s[1..];
    let end = value_end(inner).ok_or("unterminated quoted name")?;
    let mut name = String::new();
    let mut it = inner[..end].chars();
    while let Some(c) = it.next() {
        match (c == '\\').then(|| it.next()) {
            None => name.push(c),
            Some(Some('\\')) => name.push('\\'),
            Some(Some('n')) => name.push('\n'),
            Some(Some('"')) => name.push('"'),
            Some(e) => return Err(format!("bad escape in a quoted name: {e:?}")),
        }
    }
    if name.is_empty() {
        return Err("empty quoted name".into());
    }
    let legacy = name
        .char_indices()
        .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || (metric && c == ':') || (i > 0 && c.is_ascii_digit()));
    if legacy {
        return Err(format!("quoted name {name:?} needs no quotes"));
    }
    Ok((name, &inner[end + 1..]))
}

fn placeholder(table: &mut Vec<String>, prefix: &str, name: &str) -> String {
    let i = table.iter().position(|n| n == name).unwrap_or_else(|| {
        table.push(name.to_owned());
        table.len() - 1
    });
    format!("{prefix}{i}x{}", tail(name))
}

/// `name` with every character outside `[a-zA-Z0-9_]` made `_`.
fn tail(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect()
}

/// The original of a name that starts with a placeholder, the rest kept as
/// a suffix.
fn restore(name: &str, table: &[String], prefix: &str) -> String {
    let Some(rest) = name.strip_prefix(prefix) else {
        return name.to_owned();
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let original = rest[..digits].parse::<usize>().ok().and_then(|i| table.get(i));
    let Some(original) = original else {
        return name.to_owned();
    };
    match rest[digits..]
        .strip_prefix('x')
        .and_then(|r| r.strip_prefix(tail(original).as_str()))
    {
        Some(suffix) => format!("{original}{suffix}"),
        None => name.to_owned(),
    }
}
