//! Content negotiation: which exposition format and which content coding
//! to answer a scrape with, from its `Accept` and `Accept-Encoding`
//! headers, exactly as Prometheus, VictoriaMetrics, curl and browsers send
//! them.
//!
//! Both choices are total: any header, malformed or absent, gives an
//! answer (falling back to the text format 0.0.4 and to no coding), never
//! an error, because a scrape that gets *some* valid exposition is always
//! better than a 406.
//!
//! The rules are on [`negotiate`] and [`negotiate_encoding`].

mod parse;

use parse::{MediaRange, coding_elements, media_ranges};

/// An exposition format a server can offer, as negotiation knows it: a
/// media type and its identifying parameters.
///
/// Negotiation treats formats as data, so a caller may offer any of them;
/// [`Registry::handle`](crate::Registry::handle) offers those it can
/// encode.
///
/// # Examples
///
/// ```
/// use bareprom::Format;
/// assert_eq!(Format::Text0_0_4.content_type(), bareprom::CONTENT_TYPE);
/// assert_eq!(
///     Format::OpenMetrics1_0_0.content_type(),
///     "application/openmetrics-text; version=1.0.0; charset=utf-8"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The Prometheus text format 0.0.4: `text/plain; version=0.0.4`.
    Text0_0_4,
    /// The Prometheus text format 1.0.0 (Prometheus 3): the 0.0.4 syntax
    /// with quoted UTF-8 names, `text/plain; version=1.0.0`.
    Text1_0_0,
    /// OpenMetrics 1.0.0: `application/openmetrics-text; version=1.0.0`.
    OpenMetrics1_0_0,
    /// OpenMetrics 0.0.1, the draft Prometheus still asks for:
    /// `application/openmetrics-text; version=0.0.1`.
    OpenMetrics0_0_1,
    /// Length-delimited `io.prometheus.client.MetricFamily` protobuf
    /// messages, which Prometheus asks for first to scrape native
    /// histograms.
    ProtobufDelimited,
}

const PROTO_TYPE: (&str, &str) = ("application", "vnd.google.protobuf");
const PROTO_MESSAGE: &str = "io.prometheus.client.MetricFamily";

impl Format {
    /// The complete `Content-Type` of a response in this format (without
    /// an `escaping` parameter).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(
    ///     bareprom::Format::ProtobufDelimited.content_type(),
    ///     "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
    /// );
    /// ```
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Text0_0_4 => "text/plain; version=0.0.4; charset=utf-8",
            Format::Text1_0_0 => "text/plain; version=1.0.0; charset=utf-8",
            Format::OpenMetrics1_0_0 => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::OpenMetrics0_0_1 => "application/openmetrics-text; version=0.0.1; charset=utf-8",
            Format::ProtobufDelimited => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            }
        }
    }

    /// Type, subtype and `version` (none for protobuf).
    fn media(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Format::Text0_0_4 => ("text", "plain", Some("0.0.4")),
            Format::Text1_0_0 => ("text", "plain", Some("1.0.0")),
            Format::OpenMetrics1_0_0 => ("application", "openmetrics-text", Some("1.0.0")),
            Format::OpenMetrics0_0_1 => ("application", "openmetrics-text", Some("0.0.1")),
            Format::ProtobufDelimited => (PROTO_TYPE.0, PROTO_TYPE.1, None),
        }
    }

    /// How specifically `range` names this format (higher is more
    /// specific), or `None` if it does not match.
    fn specificity(self, range: &MediaRange<'_>) -> Option<u8> {
        if range
            .charset
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case("utf-8"))
        {
            return None;
        }
        let (kind, subtype, version) = self.media();
        let protobuf = self == Format::ProtobufDelimited;
        if range.kind == "*" {
            return (range.subtype == "*" && !protobuf).then_some(0);
        }
        if !range.kind.eq_ignore_ascii_case(kind) {
            return None;
        }
        if range.subtype == "*" {
            return (!protobuf).then_some(1);
        }
        if !range.subtype.eq_ignore_ascii_case(subtype) {
            return None;
        }
        if protobuf {
            let named = range.proto.as_deref() == Some(PROTO_MESSAGE) && range.encoding.as_deref() == Some("delimited");
            return named.then_some(3);
        }
        match range.version.as_deref() {
            None => Some(2),
            Some(v) => (Some(v) == version).then_some(3),
        }
    }
}

/// How a scraper wants metric and label names outside the legacy charset
/// written: the `escaping` parameter of Prometheus 3's `Accept`.
///
/// # Examples
///
/// ```
/// assert_eq!(bareprom::Escaping::default(), bareprom::Escaping::Underscores);
/// assert_eq!(bareprom::Escaping::AllowUtf8.as_str(), "allow-utf-8");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Escaping {
    /// `allow-utf-8`: names are written as they are, quoted where needed.
    AllowUtf8,
    /// `underscores`: every character outside the legacy charset becomes
    /// `_`. The default, as in Prometheus and `client_golang`.
    #[default]
    Underscores,
    /// `dots`: `.` becomes `_dot_`, `_` becomes `__`, every other
    /// character outside the legacy charset `__`. Undone by reversing
    /// those steps for a name made of legacy characters and dots.
    Dots,
    /// `values`: a name is prefixed `U__`, `_` becomes `__` and every
    /// other character outside the legacy charset `_<hex code point>_`
    /// (`a.b` → `U__a_2e_b`). Always undone.
    Values,
}

impl Escaping {
    /// The parameter value, as in `escaping=allow-utf-8`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::Escaping::Dots.as_str(), "dots");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Escaping::AllowUtf8 => "allow-utf-8",
            Escaping::Underscores => "underscores",
            Escaping::Dots => "dots",
            Escaping::Values => "values",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [
            Escaping::AllowUtf8,
            Escaping::Underscores,
            Escaping::Dots,
            Escaping::Values,
        ]
        .into_iter()
        .find(|e| e.as_str() == value)
    }
}

/// The outcome of [`negotiate`]: a format and the name escaping asked for.
///
/// # Examples
///
/// ```
/// use bareprom::{Escaping, Format, Negotiated};
/// let chosen = bareprom::negotiate(Some("text/plain"), &[Format::Text0_0_4]);
/// assert_eq!(chosen, Negotiated { format: Format::Text0_0_4, escaping: Escaping::Underscores });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// The format to answer in: always one of those offered.
    pub format: Format,
    /// The escaping the range that chose `format` asked for.
    pub escaping: Escaping,
}

impl Negotiated {
    /// The complete `Content-Type` of a response in this format and
    /// escaping: the format's, then `; escaping=` and the scheme, as
    /// `client_golang` (`expfmt.Negotiate`) writes it on every response,
    /// `underscores` included. Every Prometheus takes it: 2.x reads only
    /// the media type (and `version`), 3.x also the escaping.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{Escaping, Format, Negotiated};
    /// let prometheus_3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
    ///                     application/openmetrics-text;version=0.0.1;q=0.5,\
    ///                     text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
    ///                     text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    /// let chosen = bareprom::negotiate(Some(prometheus_3), &[Format::Text0_0_4, Format::OpenMetrics1_0_0]);
    /// assert_eq!(chosen, Negotiated { format: Format::OpenMetrics1_0_0, escaping: Escaping::AllowUtf8 });
    /// assert_eq!(
    ///     chosen.content_type(),
    ///     "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
    /// );
    /// ```
    pub const fn content_type(self) -> &'static str {
        macro_rules! each_escaping {
            ($base:expr) => {
                match self.escaping {
                    Escaping::AllowUtf8 => concat!($base, "; escaping=allow-utf-8"),
                    Escaping::Underscores => concat!($base, "; escaping=underscores"),
                    Escaping::Dots => concat!($base, "; escaping=dots"),
                    Escaping::Values => concat!($base, "; escaping=values"),
                }
            };
        }
        match self.format {
            Format::Text0_0_4 => each_escaping!("text/plain; version=0.0.4; charset=utf-8"),
            Format::Text1_0_0 => each_escaping!("text/plain; version=1.0.0; charset=utf-8"),
            Format::OpenMetrics1_0_0 => each_escaping!("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::OpenMetrics0_0_1 => each_escaping!("application/openmetrics-text; version=0.0.1; charset=utf-8"),
            Format::ProtobufDelimited => each_escaping!(
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            ),
        }
    }
}

/// Chooses among `offered` formats (in the caller's order of preference)
/// for a request's `Accept` header.
///
/// Never fails: when nothing offered is acceptable, or the header is
/// absent, empty or unreadable, the answer is [`Format::Text0_0_4`] if it
/// is offered (or nothing is), else the first format offered.
///
/// The rules (RFC 9110 sections 12.4 and 12.5, plus what `client_golang`'s
/// `expfmt` does where the RFC leaves room):
///
/// - A media range matches a format when its type and subtype match (or
///   are `*`) and its identifying parameters agree: `version` for the text
///   formats (absent matches every version), `proto` and `encoding` for
///   protobuf (both required). A `charset` other than `utf-8` never
///   matches. Other parameters (`escaping`, unknown ones) do not affect
///   matching.
/// - Wildcards (`*/*`, `application/*`) never select the protobuf format:
///   only a scraper that names it can decode it (`client_golang` does the
///   same), so `curl` and browsers always get text.
/// - A format's quality is the `q` of the most specific range that matches
///   it (versioned over versionless over `type/*` over `*/*`; the highest
///   `q` among equally specific ones). The highest quality above 0 wins;
///   ties go to the format offered first. `q=0` excludes.
/// - A malformed element (no `/`, a bad token, a bad `q`) is skipped; the
///   rest of the header still counts.
/// - `escaping` (Prometheus 3: `allow-utf-8`, `underscores`, `dots`,
///   `values`) is taken from the range that chose the format; absent or
///   unknown (`client_golang` ignores an unknown value too) means
///   `underscores`, Prometheus' default. `client_golang` instead carries
///   the escaping of a preferred range it could not serve over to the one
///   it chose (Prometheus 3's `text/plain;version=1.0.0;escaping=allow-utf-8`
///   makes its `version=0.0.4` answer quoted); here a range's escaping
///   stays with its format, and the text format 1.0.0 is offered by the
///   handler, so Prometheus 3 gets quoted names either way.
///
/// # Examples
///
/// What a Prometheus 2.42 asks for, served by an endpoint that can write
/// OpenMetrics and text:
///
/// ```
/// use bareprom::Format;
/// let accept = "application/openmetrics-text;version=1.0.0,\
///               application/openmetrics-text;version=0.0.1;q=0.75,\
///               text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// let offered = [Format::Text0_0_4, Format::OpenMetrics1_0_0];
/// assert_eq!(bareprom::negotiate(Some(accept), &offered).format, Format::OpenMetrics1_0_0);
/// // Only the text format: the `q=0.5` range chooses it.
/// assert_eq!(bareprom::negotiate(Some(accept), &[Format::Text0_0_4]).format, Format::Text0_0_4);
/// // Garbage, or no header: the text format.
/// assert_eq!(bareprom::negotiate(Some(";;,=\""), &offered).format, Format::Text0_0_4);
/// assert_eq!(bareprom::negotiate(None, &offered).format, Format::Text0_0_4);
/// ```
pub fn negotiate(accept: Option<&str>, offered: &[Format]) -> Negotiated {
    let fallback = Negotiated {
        format: if offered.is_empty() || offered.contains(&Format::Text0_0_4) {
            Format::Text0_0_4
        } else {
            offered[0]
        },
        escaping: Escaping::default(),
    };
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return fallback;
    };
    // Per offered format: (specificity, q, escaping) of its best range.
    let mut best: Vec<Option<(u8, u16, Escaping)>> = vec![None; offered.len()];
    for range in media_ranges(accept) {
        for (format, slot) in offered.iter().zip(&mut best) {
            let Some(specificity) = format.specificity(&range) else {
                continue;
            };
            let better = slot.is_none_or(|(s, q, _)| (specificity, range.q) > (s, q));
            if better {
                let escaping = range.escaping.as_deref().and_then(Escaping::parse).unwrap_or_default();
                *slot = Some((specificity, range.q, escaping));
            }
        }
    }
    let mut chosen: Option<(u16, Negotiated)> = None;
    for (&format, slot) in offered.iter().zip(&best) {
        if let Some((_, q, escaping)) = *slot
            && q > 0
            && chosen.is_none_or(|(best_q, _)| q > best_q)
        {
            chosen = Some((q, Negotiated { format, escaping }));
        }
    }
    chosen.map_or(fallback, |(_, negotiated)| negotiated)
}

/// A content coding for the response body.
///
/// # Examples
///
/// ```
/// use bareprom::ContentEncoding;
/// assert_eq!(ContentEncoding::Gzip.header_value(), Some("gzip"));
/// assert_eq!(ContentEncoding::Identity.header_value(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentEncoding {
    /// The body as it is; no `Content-Encoding` header.
    Identity,
    /// gzip ([`gzip`](crate::gzip)); `Content-Encoding: gzip`.
    Gzip,
}

impl ContentEncoding {
    /// The `Content-Encoding` header value to send, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let coding = bareprom::negotiate_encoding(Some("gzip, deflate, br"));
    /// assert_eq!(coding.header_value(), Some("gzip"));
    /// ```
    pub const fn header_value(self) -> Option<&'static str> {
        match self {
            ContentEncoding::Identity => None,
            ContentEncoding::Gzip => Some("gzip"),
        }
    }
}

/// Chooses the response's content coding from a request's
/// `Accept-Encoding` header: gzip when its quality (from `gzip`, `x-gzip`
/// or `*`) is above 0 and at least that of `identity` as the header states
/// it (by name or by `*`); else no coding. So `gzip;q=0.5` alone means
/// gzip, while `gzip;q=0.5, identity` prefers the body as it is.
///
/// Never fails: an absent, empty or malformed header means no coding, and
/// so does a header that refuses both gzip and `identity` (RFC 9110 allows
/// a 415 there; a scrape is better served).
///
/// # Examples
///
/// ```
/// use bareprom::{ContentEncoding, negotiate_encoding};
/// assert_eq!(negotiate_encoding(Some("gzip")), ContentEncoding::Gzip);
/// assert_eq!(negotiate_encoding(Some("*;q=0.5, identity;q=0")), ContentEncoding::Gzip);
/// assert_eq!(negotiate_encoding(Some("gzip;q=0, identity")), ContentEncoding::Identity);
/// assert_eq!(negotiate_encoding(None), ContentEncoding::Identity);
/// ```
pub fn negotiate_encoding(accept_encoding: Option<&str>) -> ContentEncoding {
    let Some(header) = accept_encoding else {
        return ContentEncoding::Identity;
    };
    let (mut gzip, mut identity, mut any) = (None, None, None);
    for (coding, q) in coding_elements(header) {
        let slot = if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if coding.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if coding == "*" {
            &mut any
        } else {
            continue;
        };
        // A coding named twice counts at its highest quality.
        *slot = Some(slot.map_or(q, |before: u16| before.max(q)));
    }
    let gzip = gzip.or(any).unwrap_or(0);
    // Unnamed, `identity` is acceptable (RFC 9110 section 12.5.3) but
    // preferred to nothing the client named.
    let identity = identity.or(any).unwrap_or(0);
    if gzip > 0 && gzip >= identity {
        ContentEncoding::Gzip
    } else {
        ContentEncoding::Identity
    }
}
