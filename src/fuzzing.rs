//! Entry points for the fuzz crate in `fuzz/`; not part of the API.
//!
//! Compiled only under `cfg(fuzzing)`, which cargo-fuzz sets. The `/proc`
//! parsers and the std server's request-head parser are crate-private and
//! return crate-private types, so they cannot be re-exported as they are;
//! this module runs them instead. The unit tests in `src/corpus_tests.rs`
//! include this file too, so `cargo test` replays the `proc_parsers` and
//! `http_request` corpora through exactly what the fuzzer runs.
#![doc(hidden)]

use crate::process::linux;
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
