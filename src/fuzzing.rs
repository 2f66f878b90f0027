//! Entry points for the fuzz crate in `fuzz/`; not part of the API.
//!
//! Compiled only under `cfg(fuzzing)`, which cargo-fuzz sets. The `/proc`
//! parsers, the std server's request-head parser and the push client's
//! answer parser are crate-private and return crate-private types, so they
//! cannot be re-exported as they are; this module runs them instead. The
//! unit tests in `src/corpus_tests.rs` include this file too, so `cargo
//! test` replays the `proc_parsers`, `http_request` and `push_response`
//! corpora through exactly what the fuzzer runs.
#![doc(hidden)]

use std::sync::Arc;

use crate::process::linux;
use crate::push::labels::first_clash;
use crate::push::response::{self, MAX_BODY, parse_response};
use crate::push::target::{Gateway, push_component};
use crate::serve::http::reference::{self, Facts, Verdict};
use crate::serve::http::{Head, Limits, Parse, Version, parse_head};

/// Runs every `/proc` parser on `bytes`, then the arithmetic the collector
/// does on what they return, with the units the input holds and with
/// extreme ones.
///
/// # Panics
///
/// When a parser panics, or breaks one of these documented properties:
/// `parse_stat` gives `None` exactly when the text has no `)`; an auxiliary
/// vector never yields a zero unit; derived seconds are never negative, NaN
/// or infinite.
pub fn proc_parsers(bytes: &[u8]) {
    // The collector reads the text files lossily; so does this.
    let text = String::from_utf8_lossy(bytes);
    let auxv = linux::parse_auxv(bytes);
    assert!(auxv.clock_ticks != Some(0) && auxv.page_size != Some(0), "{auxv:?}");
    let boot = linux::parse_boot_time(&text);
    let limits = linux::parse_limits(&text);
    let net = linux::parse_netstat(&text);
    let stat = linux::parse_stat(&text);
    assert_eq!(stat.is_some(), text.contains(')'), "parse_stat gave {stat:?}");
    let stat = stat.unwrap_or_default();
    for ticks in [auxv.clock_ticks.unwrap_or(100), 0, 1, u64::MAX] {
        let cpu = linux::cpu_seconds(&stat, ticks);
        assert!(cpu.is_none_or(|s| s.is_finite() && s >= 0.0), "cpu seconds {cpu:?}");
        for boot in [boot.unwrap_or(0), u64::MAX] {
            let since_epoch = linux::start_time_seconds(&stat, boot, ticks);
            let sane = since_epoch.is_none_or(|s| s.is_finite() && s >= 0.0);
            assert!(sane, "start time {since_epoch:?}");
        }
    }
    for page_size in [auxv.page_size.unwrap_or(4096), 0, u64::MAX] {
        std::hint::black_box(linux::resident_bytes(&stat, page_size));
    }
    std::hint::black_box((limits, net));
}

/// Runs the std server's request-head parser on `bytes` and checks it
/// against the naive reference in `src/serve/http/reference.rs`.
///
/// An input starting with `0xFF` and at least four bytes long sets the
/// limits from its next three bytes (request line, head / 2, fields), so
/// that limits of 0 and around the input's size are reached; any other input
/// is parsed whole with the server's default limits.
///
/// # Panics
///
/// When the parser panics or breaks a property: whatever the reference says
/// of the lines that have ended, the parser says too (the same head, the
/// same status, or still incomplete); an early refusal of an unfinished head
/// is one the reference agrees with once the head is completed; an accepted
/// head borrows only from the bytes it used, every shorter prefix of it is
/// incomplete, and bytes after it (a pipelined request) change nothing; a
/// refused input stays refused when more bytes arrive.
pub fn http_request(bytes: &[u8]) {
    let (limits, buf) = match bytes {
        [0xFF, line, head, fields, rest @ ..] => {
            let limits = Limits {
                request_line: usize::from(*line),
                head: usize::from(*head) * 2,
                headers: usize::from(*fields),
            };
            (limits, rest)
        }
        _ => (Limits::default(), bytes),
    };
    let parsed = parse_head(buf, &limits);
    match (&parsed, reference::judge(buf, &limits)) {
        (Parse::Complete(head, used), Verdict::Accepted(facts)) => {
            assert_eq!(facts_of(head, *used), facts, "{:?}", String::from_utf8_lossy(buf));
            check_accepted(buf, &limits, &parsed, head, *used);
        }
        (Parse::Error(reject), Verdict::Refused(status)) => assert_eq!(reject.status(), status, "{reject:?}"),
        (Parse::Incomplete, Verdict::Unfinished) => assert!(buf.len() <= limits.head, "incomplete past the limit"),
        (Parse::Error(reject), Verdict::Unfinished) => {
            // Ending the current line and the head completes it, unless only
            // empty lines have come so far: then a request line is missing.
            let ended = [buf, b"\r\n\r\n"].concat();
            let verdict = match reference::judge(&ended, &limits) {
                Verdict::Unfinished => reference::judge(&[buf, b"GET / HTTP/1.0\r\n\r\n"].concat(), &limits),
                verdict => verdict,
            };
            assert!(
                matches!(verdict, Verdict::Refused(_)),
                "refused early ({reject:?}), then {verdict:?}"
            );
        }
        (parsed, verdict) => panic!("parser: {parsed:?}, reference: {verdict:?}"),
    }
    if let Parse::Error(_) = parsed {
        let longer = [buf, b"\r\n\r\nGET / HTTP/1.0\r\n\r\n"].concat();
        assert!(
            matches!(parse_head(&longer, &limits), Parse::Error(_)),
            "accepted after a refusal"
        );
    }
}

fn facts_of(head: &Head<'_>, used: usize) -> Facts {
    Facts {
        method: head.method.to_owned(),
        path: head.path.to_owned(),
        http11: head.version == Version::Http11,
        close: head.conn_close,
        keep_alive: head.conn_keep_alive,
        accept: head.accept.as_deref().map(str::to_owned),
        accept_encoding: head.accept_encoding.as_deref().map(str::to_owned),
        authorization: head.authorization.map(<[u8]>::to_vec),
        has_body: head.has_body,
        used,
    }
}

/// The properties of an accepted head that the reference does not model.
fn check_accepted(buf: &[u8], limits: &Limits, parsed: &Parse<'_>, head: &Head<'_>, used: usize) {
    assert!(
        0 < used && used <= buf.len() && used <= limits.head,
        "used {used} of {}",
        buf.len()
    );
    let within = buf.get(..used).unwrap_or_default().as_ptr_range();
    let borrowed = [
        head.method.as_bytes(),
        head.path.as_bytes(),
        head.authorization.unwrap_or_default(),
    ];
    for part in borrowed.into_iter().filter(|part| !part.is_empty()) {
        let range = part.as_ptr_range();
        // `path` may be the constant "/" when the target has no path.
        let constant = part == b"/";
        assert!(
            constant || (within.start <= range.start && range.end <= within.end),
            "borrows outside the head"
        );
    }
    let whole = buf.get(..used).unwrap_or_default();
    assert_eq!(&parse_head(whole, limits), parsed, "the head alone");
    let pipelined = [whole, b"GET /next HTTP/1.1\r\n"].concat();
    assert_eq!(
        &parse_head(&pipelined, limits),
        parsed,
        "with a pipelined request after it"
    );
    // Bytes arrive in any split: no prefix of an acceptable head is refused.
    let cuts = (0..16).map(|k| used * k / 16).chain([used.saturating_sub(2), used - 1]);
    for cut in cuts {
        let prefix = buf.get(..cut).unwrap_or_default();
        assert_eq!(parse_head(prefix, limits), Parse::Incomplete, "prefix of {cut} bytes");
    }
}

/// Runs the push client's parser of the gateway's answer on `bytes`, and
/// its scan for grouping labels in an exposition.
///
/// An input starting with `0xFE` and at least three bytes long builds an
/// answer from its next two bytes (status; framing, chunk size and line
/// ends) and the rest (the body), and checks that it parses to exactly what
/// was built, in pieces too. One starting with `0xFD` builds a labelled gauge
/// from the rest (a label name from its bytes up to the first `0`, the
/// value from what follows), encodes it, and checks that the scan finds both
/// label names, so it reads through any value. One starting with `0xFC`
/// reads a gateway URL from the rest up to the first `0` and a grouping
/// value from what follows: an accepted URL gives back the same gateway when
/// written out and parsed again, and the value's path component holds no
/// `/` and decodes (base64url or percent-decoding) to the value. Any other
/// input is parsed as it is.
///
/// # Panics
///
/// When the parser panics or breaks a property: once the connection has
/// ended it never asks for more; an answer it has completed, or refused,
/// stays completed (the same answer) or refused whatever bytes follow, and
/// reading to the end changes neither its status nor its body; a kept body
/// is at most 64 KiB.
pub fn push_response(bytes: &[u8]) {
    match bytes {
        [0xFE, status, framing, body @ ..] => built_answer(*status, *framing, body),
        [0xFD, rest @ ..] => labelled_exposition(rest),
        [0xFC, rest @ ..] => gateway_url_and_path(rest),
        _ => raw_answer(bytes),
    }
    std::hint::black_box(first_clash(bytes, &["job", "instance"]));
}

fn raw_answer(buf: &[u8]) {
    let open = parse_response(buf, false);
    let closed = parse_response(buf, true);
    assert_ne!(closed, response::Parse::Incomplete, "incomplete after the end");
    let longer = [buf, b"HTTP/1.1 200 OK\r\n\r\n\r\n0\r\n\r\n"].concat();
    match &open {
        response::Parse::Complete(answer) => {
            assert!(answer.body.len() <= MAX_BODY && answer.status >= 200);
            assert_eq!(parse_response(&longer, false), open, "changed by later bytes");
            let response::Parse::Complete(at_end) = &closed else {
                panic!("complete, then {closed:?} at the end");
            };
            assert_eq!((at_end.status, &at_end.body), (answer.status, &answer.body));
        }
        response::Parse::Invalid(_) => {
            assert!(
                matches!(parse_response(&longer, false), response::Parse::Invalid(_)),
                "accepted after a refusal"
            );
            assert!(
                matches!(closed, response::Parse::Invalid(_)),
                "refused, then {closed:?} at the end"
            );
        }
        response::Parse::Incomplete => {}
    }
    // What a prefix decides, the whole input decides the same way.
    for cut in (0..16).map(|k| buf.len() * k / 16) {
        match parse_response(&buf[..cut], false) {
            response::Parse::Complete(answer) => {
                assert_eq!(open, response::Parse::Complete(answer), "prefix of {cut} bytes");
            }
            response::Parse::Invalid(_) => assert!(
                matches!(open, response::Parse::Invalid(_)),
                "prefix of {cut} bytes refused"
            ),
            response::Parse::Incomplete => {}
        }
    }
}

fn built_answer(status: u8, framing: u8, body: &[u8]) {
    let status = 200 + u16::from(status) * 3 / 2;
    let eol: &[u8] = if framing & 0x80 == 0 { b"\r\n" } else { b"\n" };
    let chunk = 1 + usize::from(framing >> 2 & 0x1F);
    let mut answer = format!("HTTP/1.1 {status} Some Reason").into_bytes();
    answer.extend_from_slice(eol);
    answer.extend_from_slice(b"Date: Tue, 01 Dec 2026 22:17:55 GMT");
    answer.extend_from_slice(eol);
    let mode = framing % 3;
    match mode {
        0 => answer.extend_from_slice(format!("Content-Length: {}", body.len()).as_bytes()),
        1 => answer.extend_from_slice(b"Transfer-Encoding: gzip, chunked"),
        _ => answer.extend_from_slice(b"Connection: close"),
    }
    answer.extend_from_slice(eol);
    answer.extend_from_slice(eol);
    let head_len = answer.len();
    if mode == 1 {
        for (i, piece) in body.chunks(chunk).enumerate() {
            let size = if i % 2 == 0 {
                format!("{:x}", piece.len())
            } else {
                format!("{:X};ext=1", piece.len())
            };
            answer.extend_from_slice(size.as_bytes());
            answer.extend_from_slice(eol);
            answer.extend_from_slice(piece);
            answer.extend_from_slice(eol);
        }
        answer.extend_from_slice(b"0");
        answer.extend_from_slice(eol);
        answer.extend_from_slice(eol);
    } else {
        answer.extend_from_slice(body);
    }
    let no_body = status == 204 || status == 304;
    let kept = if no_body {
        &[][..]
    } else {
        &body[..body.len().min(MAX_BODY)]
    };
    let expected = response::Parse::Complete(response::Answer {
        status,
        reason: "Some Reason".to_owned(),
        body: kept.to_vec(),
        truncated: !no_body && body.len() > MAX_BODY,
    });
    assert_eq!(
        parse_response(&answer, true),
        expected,
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    if mode != 2 {
        assert_eq!(parse_response(&answer, false), expected, "before the end");
        let end = if no_body { head_len } else { answer.len() };
        for cut in (0..16).map(|k| end * k / 16).chain([end.saturating_sub(1)]) {
            assert_eq!(
                parse_response(&answer[..cut], false),
                response::Parse::Incomplete,
                "prefix of {cut} bytes"
            );
        }
    }
    raw_answer(&answer);
}

fn labelled_exposition(rest: &[u8]) {
    let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let name: String = rest[..split]
        .iter()
        .map(|&b| char::from(b'a' + b % 26))
        .take(16)
        .collect();
    let value = String::from_utf8_lossy(rest.get(split + 1..).unwrap_or_default());
    let Ok(gauges) = crate::GaugeVec::<2>::try_new("fuzz_gauge", "Fuzzed labels.", [name.as_str(), "zz_after"]) else {
        return;
    };
    let registry = crate::Registry::new();
    let gauges = Arc::new(gauges);
    registry
        .register_arc(Arc::clone(&gauges))
        .unwrap_or_else(|e| panic!("{e}"));
    gauges.with([&*value, &*value]).set(1);
    let text = registry.render();
    let found = |label: &str| first_clash(text.as_bytes(), &[label]);
    assert_eq!(found(&name), Some((&b"fuzz_gauge"[..], name.as_bytes())), "{text}");
    assert_eq!(
        found("zz_after"),
        Some((&b"fuzz_gauge"[..], &b"zz_after"[..])),
        "{text}"
    );
    assert_eq!(found("zz_absent"), None, "{text}");
}

fn gateway_url_and_path(rest: &[u8]) {
    let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let url = String::from_utf8_lossy(&rest[..split]);
    if let Ok(gateway) = Gateway::parse(&url) {
        let written = format!("http://{}{}", gateway.authority(), gateway.prefix);
        assert_eq!(
            Gateway::parse(&written).as_ref(),
            Ok(&gateway),
            "{url:?} written as {written:?}"
        );
    }
    let value = String::from_utf8_lossy(rest.get(split + 1..).unwrap_or_default());
    let mut path = String::new();
    push_component(&mut path, "l", &value);
    let decoded = if let Some(encoded) = path.strip_prefix("/l@base64/") {
        if encoded == "=" {
            Vec::new()
        } else {
            decode_base64url(encoded)
        }
    } else {
        let encoded = path.strip_prefix("/l/").unwrap_or_else(|| panic!("{path:?}"));
        assert!(!encoded.is_empty() && encoded != "." && encoded != "..", "{path:?}");
        percent_decode(encoded)
    };
    assert_eq!(path.matches('/').count(), 2, "{path:?}");
    assert!(
        path.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%@=/".contains(&b)),
        "{path:?}"
    );
    assert_eq!(decoded, value.as_bytes(), "{path:?}");
}

fn decode_base64url(text: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'A'..=b'Z' => u32::from(c - b'A'),
        b'a'..=b'z' => u32::from(c - b'a') + 26,
        b'0'..=b'9' => u32::from(c - b'0') + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url: {text:?}"),
    };
    let mut out = Vec::new();
    for group in text.as_bytes().chunks(4) {
        assert!(group.len() > 1, "a lone base64 digit in {text:?}");
        let n = group
            .iter()
            .enumerate()
            .fold(0, |n, (i, &c)| n | digit(c) << (18 - 6 * i));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..group.len()]);
    }
    out
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or_else(|e| panic!("{e}"));
            out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{e}: {text:?}")));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
