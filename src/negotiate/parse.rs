//! The syntax of `Accept` and `Accept-Encoding` (RFC 9110 sections 5.6,
//! 12.4.2, 12.5.1 and 12.5.3), read leniently where scrapers differ
//! (whitespace around `;` and `=`, empty list elements) and strictly where
//! a guess could pick the wrong format (a bad `q`, a missing `/`): such an
//! element is skipped whole.

use std::borrow::Cow;

/// One element of an `Accept` header, with the parameters negotiation
/// reads. Parameter names are case-insensitive, values are compared as
/// sent (quoted strings unquoted).
#[derive(Debug)]
pub(super) struct MediaRange<'a> {
    pub(super) kind: &'a str,
    pub(super) subtype: &'a str,
    /// Quality in thousandths: 0 to 1000.
    pub(super) q: u16,
    pub(super) version: Option<Cow<'a, str>>,
    pub(super) escaping: Option<Cow<'a, str>>,
    pub(super) proto: Option<Cow<'a, str>>,
    pub(super) encoding: Option<Cow<'a, str>>,
    pub(super) charset: Option<Cow<'a, str>>,
}

/// The well-formed media ranges of an `Accept` header, in order.
pub(super) fn media_ranges(header: &str) -> impl Iterator<Item = MediaRange<'_>> {
    split_outside_quotes(header, b',').filter_map(media_range)
}

/// The well-formed codings of an `Accept-Encoding` header with their
/// quality in thousandths, in order.
pub(super) fn coding_elements(header: &str) -> impl Iterator<Item = (&str, u16)> {
    split_outside_quotes(header, b',').filter_map(|element| {
        let mut parts = split_outside_quotes(element, b';');
        let coding = trim(parts.next()?);
        if !is_token(coding) {
            return None;
        }
        let mut q = 1000;
        for (name, value) in parameters(parts)? {
            if name.eq_ignore_ascii_case("q") {
                q = quality(&value)?;
            }
        }
        Some((coding, q))
    })
}

fn media_range(element: &str) -> Option<MediaRange<'_>> {
    let mut parts = split_outside_quotes(element, b';');
    let (kind, subtype) = trim(parts.next()?).split_once('/')?;
    if !is_token(kind) || !is_token(subtype) || (kind == "*" && subtype != "*") {
        return None;
    }
    let mut range = MediaRange {
        kind,
        subtype,
        q: 1000,
        version: None,
        escaping: None,
        proto: None,
        encoding: None,
        charset: None,
    };
    for (name, value) in parameters(parts)? {
        let slot = match name.to_ascii_lowercase().as_str() {
            "q" => {
                range.q = quality(&value)?;
                continue;
            }
            "version" => &mut range.version,
            "escaping" => &mut range.escaping,
            "proto" => &mut range.proto,
            "encoding" => &mut range.encoding,
            "charset" => &mut range.charset,
            _ => continue,
        };
        // A repeated parameter: the first one counts.
        if slot.is_none() {
            *slot = Some(value);
        }
    }
    Some(range)
}

/// `name=value` pairs; `None` if any is malformed. Empty parts (`a/b;;c=d`)
/// are skipped.
fn parameters<'a>(parts: impl Iterator<Item = &'a str>) -> Option<Vec<(&'a str, Cow<'a, str>)>> {
    let mut params = Vec::new();
    for part in parts.map(trim).filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=')?;
        let (name, value) = (trim(name), trim(value));
        if !is_token(name) {
            return None;
        }
        params.push((name, unquote(value)?));
    }
    Some(params)
}

/// A token, or a quoted string with its escapes resolved.
fn unquote(value: &str) -> Option<Cow<'_, str>> {
    let Some(inner) = value.strip_prefix('"') else {
        return is_token(value).then_some(Cow::Borrowed(value));
    };
    let inner = inner.strip_suffix('"')?;
    if !inner.contains('\\') {
        return (!inner.contains('"')).then_some(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(Cow::Owned(out))
}

/// RFC 9110 section 12.4.2: `0` to `1` with at most three decimals, in
/// thousandths.
fn quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Optional whitespace (space and tab) trimmed from both ends.
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// RFC 9110 section 5.6.2: one or more `tchar`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Splits at `separator` where it is not inside a quoted string.
fn split_outside_quotes(s: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let text = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, b) in text.bytes().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                _ if b == separator && !quoted => {
                    rest = text.get(i + 1..);
                    return text.get(..i);
                }
                _ => {}
            }
        }
        rest = None;
        Some(text)
    })
}

#[cfg(test)]
mod tests {
    use super::{coding_elements, media_ranges, quality, split_outside_quotes};

    #[test]
    fn qualities() {
        for (text, q) in [
            ("0", 0),
            ("1", 1000),
            ("0.5", 500),
            ("0.75", 750),
            ("0.001", 1),
            ("1.000", 1000),
            ("0.", 0),
        ] {
            assert_eq!(quality(text), Some(q), "{text}");
        }
        for text in ["", "2", "1.5", "0.0001", "-0", "0.5x", ".5", "1.001", " 1", "0,5"] {
            assert_eq!(quality(text), None, "{text}");
        }
    }

    #[test]
    fn quoted_separators_do_not_split() {
        let parts: Vec<&str> = split_outside_quotes(r#"a;b="x,\";y",c"#, b',').collect();
        assert_eq!(parts, [r#"a;b="x,\";y""#, "c"]);
        assert_eq!(split_outside_quotes("", b',').collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn ranges_and_their_parameters() {
        let ranges: Vec<_> =
            media_ranges(r#"Text/Plain ; Version = "0.0.4" ;q=0.3, bad, a/b;q=2, */x, */*;charset=UTF-8"#).collect();
        assert_eq!(ranges.len(), 2, "{ranges:?}");
        assert_eq!((ranges[0].kind, ranges[0].subtype, ranges[0].q), ("Text", "Plain", 300));
        assert_eq!(ranges[0].version.as_deref(), Some("0.0.4"));
        assert_eq!(ranges[1].charset.as_deref(), Some("UTF-8"));
    }

    #[test]
    fn codings() {
        let codings: Vec<_> = coding_elements("gzip;q=0.5, , br, identity ; q=0, x;q=9, *").collect();
        assert_eq!(codings, [("gzip", 500), ("br", 1000), ("identity", 0), ("*", 1000)]);
    }
}
