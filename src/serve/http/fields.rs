//! Header field lines: their syntax and the few fields the server reads.

use std::borrow::Cow;

use super::{Head, Reject, bad};

/// Field facts needed only until the head is complete.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) count: usize,
    pub(super) hosts: usize,
    pub(super) content_length: Option<u64>,
    pub(super) transfer_encoding: bool,
}

/// RFC 9110 section 5.6.2: `tchar`.
pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Bytes allowed in a field value: SP, HTAB, VCHAR and obs-text.
fn is_field_byte(b: u8) -> bool {
    b == b' ' || b == b'\t' || (b > 0x20 && b != 0x7f)
}

/// Refuses an unfinished header line that can never become valid.
pub(super) fn check_partial_field(tail: &[u8]) -> Result<(), Reject> {
    let body = tail.strip_suffix(b"\r").unwrap_or(tail);
    if matches!(body.first(), Some(b' ' | b'\t')) {
        return Err(bad("obsolete line folding"));
    }
    let name_len = body.iter().position(|&b| b == b':').unwrap_or(body.len());
    let (name, value) = body.split_at(name_len);
    if !name.iter().all(|&b| is_tchar(b)) {
        return Err(bad("invalid header name"));
    }
    if !value.iter().all(|&b| is_field_byte(b)) {
        return Err(bad("invalid character in header value"));
    }
    Ok(())
}

pub(super) fn parse_field<'a>(line: &'a [u8], head: &mut Head<'a>, fields: &mut Fields) -> Result<(), Reject> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return Err(bad("obsolete line folding"));
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Err(bad("header line without colon"));
    };
    let (name, value) = line.split_at(colon);
    let value = value.get(1..).unwrap_or_default();
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(bad("invalid header name"));
    }
    if !value.iter().all(|&b| is_field_byte(b)) {
        return Err(bad("invalid character in header value"));
    }
    let value = value.trim_ascii();
    if name.eq_ignore_ascii_case(b"connection") {
        for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            head.conn_close |= token.eq_ignore_ascii_case(b"close");
            head.conn_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
        }
    } else if name.eq_ignore_ascii_case(b"accept") {
        let value = std::str::from_utf8(value).map_err(|_| bad("Accept is not UTF-8"))?;
        join(&mut head.accept, value);
    } else if name.eq_ignore_ascii_case(b"accept-encoding") {
        let value = std::str::from_utf8(value).map_err(|_| bad("Accept-Encoding is not UTF-8"))?;
        join(&mut head.accept_encoding, value);
    } else if name.eq_ignore_ascii_case(b"authorization") {
        if head.authorization.replace(value).is_some() {
            return Err(bad("repeated Authorization header"));
        }
    } else if name.eq_ignore_ascii_case(b"host") {
        fields.hosts += 1;
        if fields.hosts > 1 {
            return Err(bad("repeated Host header"));
        }
    } else if name.eq_ignore_ascii_case(b"content-length") {
        let length = parse_content_length(value)?;
        if fields.content_length.is_some_and(|before| before != length) {
            return Err(bad("conflicting Content-Length"));
        }
        fields.content_length = Some(length);
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        fields.transfer_encoding = true;
    }
    if fields.transfer_encoding && fields.content_length.is_some() {
        // RFC 9112 section 6.3 calls this a likely smuggling attempt.
        return Err(bad("both Content-Length and Transfer-Encoding"));
    }
    Ok(())
}

/// Adds a field line's value to those of the same name before it (RFC
/// 9110 section 5.3).
fn join<'a>(joined: &mut Option<Cow<'a, str>>, value: &'a str) {
    *joined = Some(match joined.take() {
        None => Cow::Borrowed(value),
        Some(before) => Cow::Owned(format!("{before}, {value}")),
    });
}

fn parse_content_length(value: &[u8]) -> Result<u64, Reject> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(bad("invalid Content-Length"));
    }
    // At most 19 digits always fit in a u64.
    Ok(value.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')))
}
