//! The gateway's answer, parsed from the bytes read so far (sans-IO).
//!
//! A client that sends `Connection: close` needs little of an HTTP/1.1
//! response: the status, and enough of the body to quote in an error. The
//! parser takes every byte read so far and whether the connection has
//! ended, and says whether that is a whole answer; it never needs the bytes
//! after the part of the body it keeps, so a huge body costs at most
//! [`MAX_BODY`] bytes. Interim `1xx` answers are skipped. Lines may end in
//! CRLF or a bare LF (RFC 9112 lets a recipient accept either).

/// The most bytes of one head (status line and fields) accepted.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// The most header fields in one head.
pub(crate) const MAX_FIELDS: usize = 100;
/// The most body bytes kept; an answer is complete once this many arrived.
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// The longest chunk-size line of a chunked body, extensions included.
const MAX_CHUNK_LINE: usize = 1024;

/// A final (non-`1xx`) answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The reason phrase, lossily decoded.
    pub(crate) reason: String,
    /// The body, decoded from chunks when chunked, at most [`MAX_BODY`] bytes.
    pub(crate) body: Vec<u8>,
    /// Whether the body was longer than what `body` holds.
    pub(crate) truncated: bool,
}

/// What the bytes so far amount to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Parse {
    /// More bytes are needed (never returned once the connection ended).
    Incomplete,
    Complete(Answer),
    /// Not an HTTP/1.x answer, or one past the limits; the reason is a
    /// lowercase phrase.
    Invalid(&'static str),
}

/// How the body of an answer ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// Parses `buf`, every byte read from the connection so far; `closed` says
/// the peer has ended it (no byte will follow).
pub(crate) fn parse_response(buf: &[u8], closed: bool) -> Parse {
    let mut start = 0;
    loop {
        let rest = &buf[start..];
        let Some(head_len) = head_end(rest) else {
            return if rest.len() > MAX_HEAD {
                Parse::Invalid("answer head too large")
            } else if closed {
                Parse::Invalid("connection closed before the answer's head ended")
            } else {
                Parse::Incomplete
            };
        };
        if head_len > MAX_HEAD {
            return Parse::Invalid("answer head too large");
        }
        let (status, reason, framing) = match head(&rest[..head_len]) {
            Ok(head) => head,
            Err(reason) => return Parse::Invalid(reason),
        };
        let body = &rest[head_len..];
        match status {
            101 => return Parse::Invalid("unexpected protocol switch"),
            100..=199 => start += head_len,
            204 | 304 => return complete(status, reason, Vec::new(), false),
            _ => return parse_body(status, reason, framing, body, closed),
        }
    }
}

fn complete(status: u16, reason: String, body: Vec<u8>, truncated: bool) -> Parse {
    Parse::Complete(Answer {
        status,
        reason,
        body,
        truncated,
    })
}

/// The length of the head including the empty line that ends it, if it has
/// ended.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for (i, &b) in buf.iter().enumerate() {
        if b == b'\n' {
            let line = &buf[line_start..i];
            if (line.is_empty() || line == b"\r") && line_start > 0 {
                return Some(i + 1);
            }
            line_start = i + 1;
        }
    }
    None
}

/// Splits a byte string into lines, without their `\r\n` or `\n`.
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
}

/// Reads the status line and the fields that frame the body.
fn head(head: &[u8]) -> Result<(u16, String, Framing), &'static str> {
    let mut lines = lines(head);
    let status_line = lines.next().unwrap_or_default();
    let (status, reason) = status_line_parts(status_line).ok_or("not an http/1.x status line")?;
    let mut length: Option<u64> = None;
    let mut chunked = None;
    let mut fields = 0;
    for line in lines.filter(|line| !line.is_empty()) {
        fields += 1;
        if fields > MAX_FIELDS {
            return Err("too many header fields in the answer");
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or("header field without a colon")?;
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.is_empty() || !name.iter().all(|&b| is_token_byte(b)) {
            return Err("invalid header field name");
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            // A list of equal lengths is one length (RFC 9110 section 8.6).
            for part in value.split(|&b| b == b',').map(trim) {
                let n = decimal(part).ok_or("invalid content-length")?;
                if length.is_some_and(|seen| seen != n) {
                    return Err("conflicting content-length values");
                }
                length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // Only the last coding of the last field frames the body.
            let last = value.rsplit(|&b| b == b',').next().map(trim).unwrap_or_default();
            chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
        }
    }
    // Transfer-Encoding overrides Content-Length; a final coding other than
    // chunked means the body runs to the end of the connection.
    let framing = match (chunked, length) {
        (Some(true), _) => Framing::Chunked,
        (None, Some(0)) => Framing::None,
        (None, Some(n)) => Framing::Length(n),
        (Some(false), _) | (None, None) => Framing::UntilClose,
    };
    Ok((status, reason, framing))
}

/// `HTTP/1.x SP 3DIGIT [SP reason]`.
fn status_line_parts(line: &[u8]) -> Option<(u16, String)> {
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let (&minor, rest) = rest.split_first()?;
    let rest = rest.strip_prefix(b" ")?;
    if !minor.is_ascii_digit() || rest.len() < 3 || !rest[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status = rest[..3].iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0'));
    let reason = match &rest[3..] {
        [] => &[][..],
        [b' ', reason @ ..] => reason,
        _ => return None,
    };
    (status >= 100).then(|| (status, String::from_utf8_lossy(reason).into_owned()))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !is_space(b)).map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            .flatten()
    })
}

fn parse_body(status: u16, reason: String, framing: Framing, body: &[u8], closed: bool) -> Parse {
    match framing {
        Framing::None => complete(status, reason, Vec::new(), false),
        Framing::Length(n) => {
            let want = usize::try_from(n).unwrap_or(usize::MAX).min(MAX_BODY);
            if body.len() >= want {
                complete(status, reason, body[..want].to_vec(), want as u64 != n)
            } else if closed {
                Parse::Invalid("connection closed before the answer's body ended")
            } else {
                Parse::Incomplete
            }
        }
        Framing::UntilClose if body.len() >= MAX_BODY => {
            let truncated = body.len() > MAX_BODY || !closed;
            complete(status, reason, body[..MAX_BODY].to_vec(), truncated)
        }
        Framing::UntilClose if closed => complete(status, reason, body.to_vec(), false),
        Framing::UntilClose => Parse::Incomplete,
        Framing::Chunked => match dechunk(body) {
            Ok(Some((data, truncated))) => complete(status, reason, data, truncated),
            Ok(None) if closed => Parse::Invalid("connection closed inside a chunked body"),
            Ok(None) => Parse::Incomplete,
            Err(reason) => Parse::Invalid(reason),
        },
    }
}

/// Decodes a chunked body: `Some((data, truncated))` once the last chunk
/// and the trailer section have arrived or [`MAX_BODY`] bytes of data have,
/// `None` while more bytes are needed.
fn dechunk(mut body: &[u8]) -> Result<Option<(Vec<u8>, bool)>, &'static str> {
    let mut data = Vec::new();
    loop {
        let Some(eol) = body.iter().position(|&b| b == b'\n') else {
            return if body.len() > MAX_CHUNK_LINE {
                Err("chunk size line too long")
            } else {
                Ok(None)
            };
        };
        if eol > MAX_CHUNK_LINE {
            return Err("chunk size line too long");
        }
        let line = body[..eol].strip_suffix(b"\r").unwrap_or(&body[..eol]);
        let size_digits = trim(line.split(|&b| b == b';').next().unwrap_or_default());
        let size = hexadecimal(size_digits).ok_or("invalid chunk size")?;
        body = &body[eol + 1..];
        if size == 0 {
            // The trailer section: fields, then an empty line.
            return Ok(trailers_end(body).map(|()| (data, false)));
        }
        let room = MAX_BODY - data.len();
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size > room && body.len() >= room {
            data.extend_from_slice(&body[..room]);
            return Ok(Some((data, true)));
        }
        let Some(chunk) = body.get(..size) else {
            return Ok(None);
        };
        data.extend_from_slice(chunk);
        body = &body[size..];
        match body {
            [b'\r', b'\n', rest @ ..] | [b'\n', rest @ ..] => body = rest,
            [] | [b'\r'] => return Ok(None),
            _ => return Err("chunk data not followed by a line end"),
        }
    }
}

/// `Some(())` once the trailer fields and the empty line after them arrived.
fn trailers_end(mut rest: &[u8]) -> Option<()> {
    let mut fields = 0;
    loop {
        let eol = rest.iter().position(|&b| b == b'\n')?;
        if rest[..eol].is_empty() || &rest[..eol] == b"\r" {
            return Some(());
        }
        fields += 1;
        if fields > MAX_FIELDS {
            // Enough of an answer: the data is whole, only trailers remain.
            return Some(());
        }
        rest = &rest[eol + 1..];
    }
}

fn hexadecimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let digit = char::from(d).to_digit(16)?;
        n.checked_mul(16)?.checked_add(u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn answer(bytes: &[u8]) -> Answer {
        match parse_response(bytes, true) {
            Parse::Complete(answer) => answer,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_pushgateways_answers() {
        let ok = answer(b"HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 22:17:55 GMT\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(
            (ok.status, &*ok.reason, &*ok.body, ok.truncated),
            (200, "OK", &b""[..], false)
        );
        let refused = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
            Content-Length: 26\r\n\r\nimproper label name \"__x\"\n";
        let refused = answer(refused);
        assert_eq!((refused.status, &*refused.reason), (400, "Bad Request"));
        assert_eq!(refused.body, b"improper label name \"__x\"\n");
    }

    #[test]
    fn framing() {
        let chunked = b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n\
            4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: 1\r\n\r\n";
        assert_eq!(answer(chunked).body, b"Wikipedia");
        assert_eq!(parse_response(&chunked[..chunked.len() - 2], false), Parse::Incomplete);
        let until_close = b"HTTP/1.0 503\nServer: x\n\nbusy";
        assert_eq!(parse_response(until_close, false), Parse::Incomplete);
        let busy = answer(until_close);
        assert_eq!((busy.status, &*busy.reason, &*busy.body), (503, "", &b"busy"[..]));
        let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nokTRAILING";
        assert_eq!(answer(interim).status, 202);
        assert_eq!(answer(interim).body, b"ok");
        let no_content = b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n";
        assert_eq!(parse_response(no_content, false), parse_response(no_content, true));
    }

    #[test]
    fn a_long_body_is_cut_at_the_limit() {
        let mut long = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 99999999999\r\n\r\n".to_vec();
        long.resize(long.len() + MAX_BODY, b'x');
        let cut = answer(&long);
        assert_eq!((cut.body.len(), cut.truncated), (MAX_BODY, true));
    }

    #[test]
    fn refusals() {
        let cases: [(&[u8], &str); 9] = [
            (b"SSH-2.0-OpenSSH\r\n\r\n", "not an http/1.x status line"),
            (b"HTTP/2 200\r\n\r\n", "not an http/1.x status line"),
            (b"HTTP/1.1 20 OK\r\n\r\n", "not an http/1.x status line"),
            (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "header field without a colon"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
                "conflicting content-length values",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "invalid content-length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
                "connection closed before the answer's body ended",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "invalid chunk size",
            ),
            (b"HTTP/1.1 200", "connection closed before the answer's head ended"),
        ];
        for (bytes, reason) in cases {
            assert_eq!(
                parse_response(bytes, true),
                Parse::Invalid(reason),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let huge_head = vec![b'H'; MAX_HEAD + 1];
        assert_eq!(
            parse_response(&huge_head, false),
            Parse::Invalid("answer head too large")
        );
    }
}
