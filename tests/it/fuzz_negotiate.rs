//! The `negotiate` fuzz check; see `fuzz_checks.rs`.

use bareprom::{ContentEncoding, Escaping, Format, negotiate, negotiate_encoding};

const FORMATS: [Format; 5] = [
    Format::Text0_0_4,
    Format::Text1_0_0,
    Format::OpenMetrics1_0_0,
    Format::OpenMetrics0_0_1,
    Format::ProtobufDelimited,
];

/// Runs both negotiators on headers from `data` and checks what holds for
/// any header: the format is one of those offered (text 0.0.4 when none
/// is), gzip is chosen only when the header names `gzip`, `x-gzip` or `*`;
/// appending `*/*;q=0` to `Accept` or another coding to `Accept-Encoding`
/// changes nothing, nor does refusing gzip when it was not chosen.
///
/// The first byte picks the offered formats (a bit each), the second
/// rotates their order; the rest, read as UTF-8 lossily, is the `Accept`
/// header up to the first newline and the `Accept-Encoding` header after.
///
/// # Panics
///
/// When a property does not hold.
pub(crate) fn check_negotiate(data: &[u8]) {
    let (mask, rotate, rest) = match data {
        [mask, rotate, rest @ ..] => (*mask, usize::from(*rotate), rest),
        _ => (0xFF, 0, data),
    };
    let mut offered: Vec<Format> = FORMATS
        .iter()
        .enumerate()
        .filter(|&(i, _)| mask & (1 << i) != 0)
        .map(|(_, &f)| f)
        .collect();
    if !offered.is_empty() {
        let by = rotate % offered.len();
        offered.rotate_left(by);
    }
    let text = String::from_utf8_lossy(rest);
    let (accept, accept_encoding) = text.split_once('\n').unwrap_or((&text, ""));

    let chosen = negotiate(Some(accept), &offered);
    if offered.is_empty() {
        assert_eq!(chosen.format, Format::Text0_0_4, "nothing offered");
    } else {
        assert!(offered.contains(&chosen.format), "{chosen:?} is not among {offered:?}");
    }
    let excluded = negotiate(Some(&format!("{accept},*/*;q=0")), &offered);
    assert_eq!(excluded, chosen, "appending */*;q=0 to {accept:?}");
    // The chosen format's own content type always chooses it again.
    let again = negotiate(Some(chosen.format.content_type()), &offered);
    assert_eq!(again.format, chosen.format);
    // So does the response's content type, escaping included; and an
    // escaping other than the default comes only from a header that names
    // one.
    let response = negotiate(Some(chosen.content_type()), &offered);
    assert_eq!(response, chosen, "{}", chosen.content_type());
    if chosen.escaping != Escaping::Underscores {
        assert!(
            accept.to_ascii_lowercase().contains("escaping"),
            "{chosen:?} from {accept:?}"
        );
    }

    let coding = negotiate_encoding(Some(accept_encoding));
    let lower = accept_encoding.to_ascii_lowercase();
    if coding == ContentEncoding::Gzip {
        assert!(
            lower.contains("gzip") || lower.contains('*'),
            "gzip for {accept_encoding:?}"
        );
    }
    let unrelated = negotiate_encoding(Some(&format!("{accept_encoding},br;q=0.9")));
    assert_eq!(unrelated, coding, "appending br;q=0.9 to {accept_encoding:?}");
    if coding == ContentEncoding::Identity {
        let refused = negotiate_encoding(Some(&format!("{accept_encoding},gzip;q=0")));
        assert_eq!(refused, coding, "appending gzip;q=0 to {accept_encoding:?}");
    }
    assert_eq!(negotiate_encoding(Some(accept)), negotiate_encoding(Some(accept)));
}
