//! A sans-IO parser for HTTP/1.x request heads (RFC 9112).
//!
//! [`parse_head`] looks at the bytes received so far and says whether a whole
//! head is there, more bytes are needed, or the request must be refused. It
//! keeps no state between calls, so the caller simply appends what it reads
//! and asks again. It never panics and never indexes out of bounds: every
//! slice is taken with `get`, `split_at` on a found position, or iterators.
//!
//! Choices that RFC 9112 leaves to the recipient, and the reasons:
//!
//! - A bare LF is accepted as a line end, as section 2.2 allows, because
//!   hand-written scripts (`printf ... | nc`) often send it and it cannot be
//!   confused with anything else. A CR anywhere but directly before the LF is
//!   refused with 400, as section 2.2 requires of a bare CR.
//! - Empty lines before the request line are skipped (section 2.2 asks
//!   servers to ignore at least one); they still count towards the head limit.
//! - The request line must be exactly `method SP target SP version`: the
//!   lenient whitespace splitting that section 3 permits makes smuggling
//!   easier and no real client needs it.
//! - Line folding (obs-fold) is refused with 400, as section 5.2 allows.
//! - `Host` is required for HTTP/1.1 and must not repeat (section 3.2 makes
//!   this a MUST).
//! - Well-formed versions other than 1.0 and 1.1 (including 1.2) get 505, as
//!   the server's specification asks, although RFC 9110 would let a server
//!   treat 1.2 as 1.1.
//! - Errors are found as early as possible: complete lines are checked as
//!   they arrive and the unfinished last line is checked for bytes that can
//!   never become valid, so garbage is refused without waiting for a line end.
//!   Once a prefix is refused, no longer input is accepted.
//! - A request that announces a body (`Content-Length` above zero or any
//!   `Transfer-Encoding`) is parsed but flagged with [`Head::has_body`]; the
//!   server refuses or closes it, because it never reads bodies.
//!
//! [`Head`] borrows from the buffer, so parsing allocates nothing except when
//! several `Accept` fields have to be joined. Header field lines are handled
//! in `http/fields.rs`.

use std::borrow::Cow;

mod fields;
#[cfg(any(test, fuzzing))]
pub(crate) mod reference;

use fields::{Fields, check_partial_field, is_tchar, parse_field};

/// Size limits applied while parsing; see [`Reject`] for the statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Longest request line, without its line end; longer gives 414.
    pub(crate) request_line: usize,
    /// Longest head in bytes, line ends and leading empty lines included;
    /// longer gives 431.
    pub(crate) head: usize,
    /// Most header field lines; more gives 431.
    pub(crate) headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_line: 8192,
            head: 8192,
            headers: 100,
        }
    }
}

/// The two protocol versions this parser accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    Http10,
    Http11,
}

/// A parsed request head; its strings borrow the parsed buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Head<'a> {
    /// The method token, case preserved (methods are case-sensitive).
    pub(crate) method: &'a str,
    /// The path of the target with any query or fragment cut off; not
    /// percent-decoded. `*` for the asterisk form; the path of an absolute
    /// form target (`/` if it has none).
    pub(crate) path: &'a str,
    pub(crate) version: Version,
    /// `Connection` listed `close`.
    pub(crate) conn_close: bool,
    /// `Connection` listed `keep-alive`.
    pub(crate) conn_keep_alive: bool,
    /// All `Accept` fields joined with `, ` (RFC 9110 section 5.3).
    pub(crate) accept: Option<Cow<'a, str>>,
    /// All `Accept-Encoding` fields joined with `, `.
    pub(crate) accept_encoding: Option<Cow<'a, str>>,
    /// The raw `Authorization` value, trimmed.
    pub(crate) authorization: Option<&'a [u8]>,
    /// The request announced a body, which the server will not read.
    pub(crate) has_body: bool,
}

impl Head<'_> {
    /// Whether the connection may stay open after the response.
    pub(crate) fn keep_alive(&self) -> bool {
        if self.conn_close || self.has_body {
            return false;
        }
        match self.version {
            Version::Http11 => true,
            Version::Http10 => self.conn_keep_alive,
        }
    }
}

/// Why a head was refused; each maps to one status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reject {
    /// 400, with a short reason for the error body.
    BadRequest(&'static str),
    /// 414: the request line is longer than the limit.
    UriTooLong,
    /// 431: the head is too large or has too many fields.
    HeaderFieldsTooLarge(&'static str),
    /// 505: a well-formed version other than 1.0 and 1.1.
    VersionNotSupported,
}

impl Reject {
    pub(crate) fn status(self) -> u16 {
        match self {
            Reject::BadRequest(_) => 400,
            Reject::UriTooLong => 414,
            Reject::HeaderFieldsTooLarge(_) => 431,
            Reject::VersionNotSupported => 505,
        }
    }

    pub(crate) fn detail(self) -> &'static str {
        match self {
            Reject::BadRequest(why) | Reject::HeaderFieldsTooLarge(why) => why,
            Reject::UriTooLong => "request line too long",
            Reject::VersionNotSupported => "only HTTP/1.0 and HTTP/1.1 are supported",
        }
    }
}

/// The outcome of looking at the bytes received so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Parse<'a> {
    /// No complete head yet, and nothing seen so far breaks a rule or limit.
    Incomplete,
    /// A head, and how many bytes of the buffer it used (the rest may be the
    /// next pipelined request).
    Complete(Head<'a>, usize),
    /// The request must be refused and the connection closed.
    Error(Reject),
}

/// Parses one request head from the start of `buf`.
pub(crate) fn parse_head<'a>(buf: &'a [u8], limits: &Limits) -> Parse<'a> {
    match parse(buf, limits) {
        Ok(Some((head, used))) => Parse::Complete(head, used),
        Ok(None) => Parse::Incomplete,
        Err(reject) => Parse::Error(reject),
    }
}

const fn bad(why: &'static str) -> Reject {
    Reject::BadRequest(why)
}

fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Result<Option<(Head<'a>, usize)>, Reject> {
    let mut pos = 0;
    while let Some(rest) = buf.get(pos..) {
        if rest.starts_with(b"\r\n") {
            pos += 2;
        } else if rest.starts_with(b"\n") {
            pos += 1;
        } else {
            break;
        }
    }
    let too_large = Reject::HeaderFieldsTooLarge("request head too large");
    let Some((line, mut pos)) = next_line(buf, pos)? else {
        let tail = buf.get(pos..).unwrap_or_default();
        // A trailing CR may be the start of the line end, so it does not count.
        if tail.strip_suffix(b"\r").unwrap_or(tail).len() > limits.request_line {
            return Err(Reject::UriTooLong);
        }
        check_partial_request_line(tail)?;
        return if buf.len() > limits.head {
            Err(too_large)
        } else {
            Ok(None)
        };
    };
    if line.len() > limits.request_line {
        return Err(Reject::UriTooLong);
    }
    let (method, path, version) = parse_request_line(line)?;
    let mut head = Head {
        method,
        path,
        version,
        conn_close: false,
        conn_keep_alive: false,
        accept: None,
        accept_encoding: None,
        authorization: None,
        has_body: false,
    };
    let mut fields = Fields::default();
    loop {
        if pos > limits.head {
            return Err(too_large);
        }
        let Some((line, next)) = next_line(buf, pos)? else {
            check_partial_field(buf.get(pos..).unwrap_or_default())?;
            return if buf.len() > limits.head {
                Err(too_large)
            } else {
                Ok(None)
            };
        };
        if line.is_empty() {
            if next > limits.head {
                return Err(too_large);
            }
            if head.version == Version::Http11 && fields.hosts == 0 {
                return Err(bad("missing Host header"));
            }
            head.has_body = fields.transfer_encoding || fields.content_length.is_some_and(|n| n > 0);
            return Ok(Some((head, next)));
        }
        fields.count += 1;
        if fields.count > limits.headers {
            return Err(Reject::HeaderFieldsTooLarge("too many header fields"));
        }
        parse_field(line, &mut head, &mut fields)?;
        pos = next;
    }
}

/// Finds the line starting at `start`: its content without the line end, and
/// where the next line starts; `None` if no LF has arrived yet.
fn next_line(buf: &[u8], start: usize) -> Result<Option<(&[u8], usize)>, Reject> {
    let rest = buf.get(start..).unwrap_or_default();
    let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let (with_cr, _) = rest.split_at(lf);
    let line = with_cr.strip_suffix(b"\r").unwrap_or(with_cr);
    if line.contains(&b'\r') {
        return Err(bad("bare CR"));
    }
    Ok(Some((line, start + lf + 1)))
}

/// Refuses an unfinished request line that can never become valid.
fn check_partial_request_line(tail: &[u8]) -> Result<(), Reject> {
    let body = tail.strip_suffix(b"\r").unwrap_or(tail);
    if body.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(bad("control character in request line"));
    }
    let method_len = body.iter().position(|&b| b == b' ').unwrap_or(body.len());
    let (method, rest) = body.split_at(method_len);
    if !method.iter().all(|&b| is_tchar(b)) || (method.is_empty() && !rest.is_empty()) {
        return Err(bad("invalid method"));
    }
    if rest.iter().filter(|&&b| b == b' ').nth(2).is_some() {
        return Err(bad("malformed request line"));
    }
    Ok(())
}

fn parse_request_line(line: &[u8]) -> Result<(&str, &str, Version), Reject> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(bad("invalid method"));
    }
    let method = std::str::from_utf8(method).map_err(|_| bad("invalid method"))?;
    let version = match version {
        b"HTTP/1.1" => Version::Http11,
        b"HTTP/1.0" => Version::Http10,
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] if major.is_ascii_digit() && minor.is_ascii_digit() => {
            return Err(Reject::VersionNotSupported);
        }
        _ => return Err(bad("invalid HTTP version")),
    };
    Ok((method, parse_target(target)?, version))
}

/// Extracts the path from a request target (RFC 9112 section 3.2).
fn parse_target(target: &[u8]) -> Result<&str, Reject> {
    if target.is_empty() || target.iter().any(|&b| b <= 0x20 || b == 0x7f) {
        return Err(bad("invalid request target"));
    }
    let target = std::str::from_utf8(target).map_err(|_| bad("request target is not UTF-8"))?;
    let path = if target.starts_with('/') || target == "*" {
        target
    } else {
        absolute_form_path(target).ok_or(bad("invalid request target"))?
    };
    // `split` always yields at least one piece; the fallback is unreachable.
    let path = path.split(['?', '#']).next().unwrap_or("/");
    Ok(if path.is_empty() { "/" } else { path })
}

/// The path part of `scheme://authority/path...`, which servers must accept
/// (RFC 9112 section 3.2.2); empty when the URI has no path.
fn absolute_form_path(target: &str) -> Option<&str> {
    let (scheme, rest) = target.split_once("://")?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest.get(end..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(input: &[u8]) -> (Head<'_>, usize) {
        match parse_head(input, &Limits::default()) {
            Parse::Complete(head, used) => (head, used),
            other => panic!("expected a head from {input:?}, got {other:?}"),
        }
    }

    fn status_of(input: &[u8]) -> u16 {
        match parse_head(input, &Limits::default()) {
            Parse::Error(reject) => reject.status(),
            other => panic!("expected an error from {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn simple_get() {
        let input = b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\nrest";
        let (head, used) = parse_ok(input);
        assert_eq!(used, input.len() - 4);
        assert_eq!(
            (head.method, head.path, head.version),
            ("GET", "/metrics", Version::Http11)
        );
        assert_eq!(head.accept.as_deref(), Some("text/plain"));
        assert!(head.keep_alive() && !head.has_body && head.authorization.is_none());
    }

    #[test]
    fn bare_lf_and_leading_empty_lines() {
        let input = b"\r\n\nGET / HTTP/1.0\nX-A:  b \n\n";
        let (head, used) = parse_ok(input);
        assert_eq!((head.path, head.version, used), ("/", Version::Http10, input.len()));
        assert!(!head.keep_alive());
    }

    #[test]
    fn targets() {
        let path = |t: &str| {
            let input = format!("GET {t} HTTP/1.0\r\n\r\n");
            let (head, _) = parse_ok(input.as_bytes());
            head.path.to_owned()
        };
        assert_eq!(path("http://example.com:9/metrics?a"), "/metrics");
        assert_eq!(path("https://example.com"), "/");
        assert_eq!(path("http://h?q"), "/");
        assert_eq!(path("*"), "*");
        assert_eq!(path("/a#frag"), "/a");
        assert_eq!(path("/caf\u{e9}"), "/caf\u{e9}");
        assert_eq!(status_of(b"GET example.com:80 HTTP/1.0\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET /\xff HTTP/1.0\r\n\r\n"), 400);
    }

    #[test]
    fn connection_tokens_and_accept_joining() {
        let (head, _) =
            parse_ok(b"GET / HTTP/1.0\r\nconnection: Upgrade , KEEP-ALIVE\r\nAccept: a\r\nACCEPT: b\r\nAccept-Encoding: gzip\r\naccept-encoding: br;q=0\r\n\r\n");
        assert!(head.conn_keep_alive && !head.conn_close && head.keep_alive());
        assert_eq!(head.accept.as_deref(), Some("a, b"));
        assert_eq!(head.accept_encoding.as_deref(), Some("gzip, br;q=0"));
        let (head, _) = parse_ok(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo,close\r\n\r\n");
        assert!(head.conn_close && !head.keep_alive());
    }

    #[test]
    fn bodies_are_flagged() {
        let with = |field: &str| {
            let input = format!("POST / HTTP/1.1\r\nHost: h\r\n{field}\r\n\r\n");
            parse_ok(input.as_bytes()).0.has_body
        };
        assert!(!with("Content-Length: 0"));
        assert!(with("Content-Length: 5"));
        assert!(with("Transfer-Encoding: chunked"));
        assert_eq!(status_of(b"GET / HTTP/1.0\r\nContent-Length: -1\r\n\r\n"), 400);
        assert_eq!(
            status_of(b"GET / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n"),
            400
        );
        let both = b"GET / HTTP/1.0\r\nContent-Length: 1\r\nTransfer-Encoding: x\r\n";
        assert_eq!(status_of(both), 400);
    }

    #[test]
    fn malformed_requests_get_400() {
        let cases: &[&[u8]] = &[
            b"GET  / HTTP/1.1\r\n",
            b"GET / HTTP/1.1 \r\n",
            b"GET /\r\n\r\n",
            b"G(T / HTTP/1.1\r\n",
            b"GET / http/1.1\r\n",
            b"GET / HTTP/1.10\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\n folded-first\r\n",
            b"GET / HTTP/1.1\r\nHost : h\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n",
            b"GET / HTTP/1.1\r\n: empty\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n",
            b"GET / HTTP/1.1\r\nX: a\rb\r\n",
            b"GET /\r HTTP/1.1\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n",
            b"GET / HTTP/1.0\r\nAuthorization: a\r\nAuthorization: b\r\n",
            b"GET / HTTP/1.0\r\nAccept: \xff\r\n",
            b"\x00\x01\x02",
            b" GET",
            b"GET / HTTP/1.1\r\nX: \x01",
        ];
        for case in cases {
            assert_eq!(status_of(case), 400, "{}", String::from_utf8_lossy(case));
        }
    }

    #[test]
    fn versions() {
        assert_eq!(status_of(b"GET / HTTP/2.0\r\n"), 505);
        assert_eq!(status_of(b"GET / HTTP/1.2\r\n"), 505);
        assert_eq!(status_of(b"GET / HTTP/0.9\r\n"), 505);
    }

    #[test]
    fn limits() {
        let limits = Limits {
            request_line: 20,
            head: 60,
            headers: 2,
        };
        let status = |input: &[u8]| match parse_head(input, &limits) {
            Parse::Error(reject) => reject.status(),
            Parse::Incomplete => 0,
            Parse::Complete(..) => 200,
        };
        assert_eq!(status(b"GET /aaaaaaaaaaaaaaaaaaaaaaaa"), 414);
        assert_eq!(status(b"GET /aaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.0\r\n\r\n"), 414);
        assert_eq!(status(b"GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\n\r\n"), 200);
        assert_eq!(status(b"GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 431);
        let long = format!("GET / HTTP/1.0\r\nA: {}", "x".repeat(50));
        assert_eq!(status(long.as_bytes()), 431);
        assert_eq!(status(format!("{long}\r\n\r\n").as_bytes()), 431);
        assert_eq!(status(b"GET / HTTP/1.0\r\nA: 1\r\n"), 0);
    }

    #[test]
    fn every_prefix_of_a_valid_head_is_incomplete() {
        let input = b"\r\nGET /m HTTP/1.1\r\nHost: x\r\nAccept: a/b;q=0.5\nAuthorization: Bearer t\r\n\r\n";
        for end in 0..input.len() {
            let prefix = input.get(..end).unwrap_or_default();
            assert_eq!(parse_head(prefix, &Limits::default()), Parse::Incomplete, "{end}");
        }
        let (head, used) = parse_ok(input);
        assert_eq!((used, head.authorization), (input.len(), Some(&b"Bearer t"[..])));
    }

    /// xorshift64*: a tiny deterministic PRNG, so the test needs no crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
        }

        fn byte(&mut self) -> u8 {
            self.next().to_le_bytes()[0]
        }
    }

    /// Checks the properties every answer must have, whatever the input.
    fn check_invariants(input: &[u8], limits: &Limits) {
        match parse_head(input, limits) {
            Parse::Complete(head, used) => {
                assert!(used > 0 && used <= input.len() && used <= limits.head);
                let again = parse_head(input.get(..used).unwrap_or_default(), limits);
                assert_eq!(again, Parse::Complete(head, used));
            }
            Parse::Incomplete => assert!(input.len() <= limits.head),
            Parse::Error(reject) => {
                assert!([400, 414, 431, 505].contains(&reject.status()));
                // Once refused, appending bytes must not make the input acceptable.
                let mut longer = input.to_vec();
                longer.extend_from_slice(b"\r\n\r\n");
                assert!(matches!(parse_head(&longer, limits), Parse::Error(_)));
            }
        }
    }

    #[test]
    fn random_and_mutated_inputs_never_panic() {
        const SEEDS: &[&[u8]] = &[
            b"GET /metrics HTTP/1.1\r\nHost: h\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
            b"HEAD http://h/metrics?x HTTP/1.0\nAuthorization: Basic dTpw\nContent-Length: 0\n\n",
            b"\r\nPOST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ];
        const ALPHABET: &[u8] = b"GETHOST /:\r\n\t ,?#*HTP1.0-\x00\x7f\xff\xc3\xa9";
        let limits = Limits {
            request_line: 64,
            head: 128,
            headers: 4,
        };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut input = Vec::with_capacity(256);
        for round in 0..100_000 {
            input.clear();
            if round % 2 == 0 {
                let len = rng.below(160);
                let from_alphabet = rng.below(2) == 0;
                for _ in 0..len {
                    let byte = if from_alphabet {
                        ALPHABET.get(rng.below(ALPHABET.len())).copied().unwrap_or(0)
                    } else {
                        rng.byte()
                    };
                    input.push(byte);
                }
            } else {
                input.extend_from_slice(SEEDS.get(rng.below(SEEDS.len())).copied().unwrap_or_default());
                for _ in 0..=rng.below(4) {
                    let at = rng.below(input.len() + 1);
                    match rng.below(4) {
                        0 if at < input.len() => drop(input.remove(at)),
                        1 => input.insert(at, ALPHABET.get(rng.below(ALPHABET.len())).copied().unwrap_or(0)),
                        2 => input.truncate(at),
                        _ => {
                            if let Some(b) = input.get_mut(at) {
                                *b = rng.byte();
                            }
                        }
                    }
                }
            }
            check_invariants(&input, &limits);
            check_invariants(&input, &Limits::default());
        }
    }
}
