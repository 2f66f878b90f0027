//! Content negotiation tables: the `Accept` headers real scrapers send,
//! verbatim, then wildcards, `q=0`, parameters and malformed input; and
//! `Accept-Encoding`.

use bareprom::{ContentEncoding, Escaping, Format, negotiate, negotiate_encoding};

/// Prometheus 2.42 (and every 2.x since 2.5 with default settings).
const PROMETHEUS_2_42: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// Prometheus 3.x.
const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/// Prometheus 2.x with `--enable-feature=native-histograms`.
const PROMETHEUS_NATIVE_HISTOGRAMS: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// A browser.
const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

const TEXT: &[Format] = &[Format::Text0_0_4];
const TEXT_OM: &[Format] = &[Format::Text0_0_4, Format::OpenMetrics1_0_0, Format::OpenMetrics0_0_1];
const ALL: &[Format] = &[
    Format::Text0_0_4,
    Format::Text1_0_0,
    Format::OpenMetrics1_0_0,
    Format::OpenMetrics0_0_1,
    Format::ProtobufDelimited,
];

#[test]
#[allow(clippy::too_many_lines, reason = "one row per case")]
fn accept_table() {
    use Escaping::{AllowUtf8, Underscores};
    use Format::{OpenMetrics0_0_1, OpenMetrics1_0_0, ProtobufDelimited, Text0_0_4, Text1_0_0};
    let table: &[(Option<&str>, &[Format], Format, Escaping)] = &[
        // The real scrapers.
        (Some(PROMETHEUS_2_42), TEXT, Text0_0_4, Underscores),
        (Some(PROMETHEUS_2_42), TEXT_OM, OpenMetrics1_0_0, Underscores),
        (Some(PROMETHEUS_2_42), ALL, OpenMetrics1_0_0, Underscores),
        (
            Some(PROMETHEUS_2_42),
            &[Text0_0_4, OpenMetrics0_0_1],
            OpenMetrics0_0_1,
            Underscores,
        ),
        (Some(PROMETHEUS_3), TEXT, Text0_0_4, Underscores),
        (Some(PROMETHEUS_3), TEXT_OM, OpenMetrics1_0_0, AllowUtf8),
        (Some(PROMETHEUS_3), ALL, OpenMetrics1_0_0, AllowUtf8),
        (Some(PROMETHEUS_3), &[Text0_0_4, Text1_0_0], Text1_0_0, AllowUtf8),
        (
            Some(PROMETHEUS_3),
            &[Text0_0_4, OpenMetrics0_0_1],
            OpenMetrics0_0_1,
            Underscores,
        ),
        (Some(PROMETHEUS_NATIVE_HISTOGRAMS), ALL, ProtobufDelimited, Underscores),
        (
            Some(PROMETHEUS_NATIVE_HISTOGRAMS),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (Some(PROMETHEUS_NATIVE_HISTOGRAMS), TEXT, Text0_0_4, Underscores),
        (Some(FIREFOX), ALL, Text0_0_4, Underscores),
        (Some("*/*"), ALL, Text0_0_4, Underscores),
        (
            Some("text/plain;version=0.0.4;q=1,*/*;q=0.1"),
            ALL,
            Text0_0_4,
            Underscores,
        ),
        // No header, an empty one: the text format.
        (None, ALL, Text0_0_4, Underscores),
        (Some(""), ALL, Text0_0_4, Underscores),
        (Some(" \t"), TEXT_OM, Text0_0_4, Underscores),
        // Wildcards: ties go to the first offer; protobuf only when named.
        (
            Some("*/*"),
            &[ProtobufDelimited, OpenMetrics1_0_0],
            OpenMetrics1_0_0,
            Underscores,
        ),
        (Some("application/*"), TEXT_OM, OpenMetrics1_0_0, Underscores),
        (
            Some("text/*;q=0.5, application/*;q=0.4"),
            TEXT_OM,
            Text0_0_4,
            Underscores,
        ),
        (
            Some("application/*"),
            &[Text0_0_4, ProtobufDelimited],
            Text0_0_4,
            Underscores,
        ),
        // Nothing acceptable: text if offered, else the first offer.
        (Some("*/*"), &[ProtobufDelimited], ProtobufDelimited, Underscores),
        (
            Some("image/png"),
            &[OpenMetrics1_0_0, ProtobufDelimited],
            OpenMetrics1_0_0,
            Underscores,
        ),
        (Some("image/png"), &[], Text0_0_4, Underscores),
        // q=0 excludes, even under a wildcard that would allow.
        (
            Some("text/plain;q=0, application/openmetrics-text;q=0.1"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("*/*, text/plain;version=0.0.4;q=0"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("application/openmetrics-text;version=1.0.0;q=0, */*;q=0.5"),
            TEXT_OM,
            Text0_0_4,
            Underscores,
        ),
        (
            Some("application/openmetrics-text;version=1.0.0;q=0,application/openmetrics-text;q=0.9"),
            TEXT_OM,
            OpenMetrics0_0_1,
            Underscores,
        ),
        (Some("text/plain;q=0"), TEXT, Text0_0_4, Underscores),
        // A more specific range wins over a less specific one, whatever q.
        (
            Some("application/openmetrics-text;q=0.2, application/openmetrics-text;version=0.0.1;q=0.9"),
            TEXT_OM,
            OpenMetrics0_0_1,
            Underscores,
        ),
        (
            Some("text/plain;version=1.0.0;q=0.9, text/plain;q=0.1"),
            &[Text0_0_4, Text1_0_0],
            Text1_0_0,
            Underscores,
        ),
        // Parameters: versions must agree, charset must be UTF-8, protobuf
        // needs both its parameters, case does not matter where the RFC
        // says so.
        (
            Some("application/openmetrics-text;version=2.0.0"),
            TEXT_OM,
            Text0_0_4,
            Underscores,
        ),
        (
            Some("text/plain;version=0.0.3, application/openmetrics-text;q=0.1"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("text/plain;charset=iso-8859-1, application/openmetrics-text;q=0.1"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("text/plain;charset=UTF-8;q=0.9, application/openmetrics-text;q=0.1"),
            TEXT_OM,
            Text0_0_4,
            Underscores,
        ),
        (
            Some("APPLICATION/OpenMetrics-Text; VERSION=1.0.0"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily"),
            ALL,
            Text0_0_4,
            Underscores,
        ),
        (
            Some("application/vnd.google.protobuf;proto=x;encoding=delimited"),
            ALL,
            Text0_0_4,
            Underscores,
        ),
        (
            Some("application/vnd.google.protobuf; encoding=delimited; proto=\"io.prometheus.client.MetricFamily\""),
            ALL,
            ProtobufDelimited,
            Underscores,
        ),
        (
            Some("application/openmetrics-text;version=\"1.0.0\";escaping=\"allow-utf-8\""),
            TEXT_OM,
            OpenMetrics1_0_0,
            AllowUtf8,
        ),
        (
            Some("application/openmetrics-text;escaping=dots"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Escaping::Dots,
        ),
        (Some("text/plain;escaping=values"), TEXT, Text0_0_4, Escaping::Values),
        (Some("text/plain;escaping=unknown"), TEXT, Text0_0_4, Underscores),
        (Some("text/plain;escaping=Allow-UTF-8"), TEXT, Text0_0_4, Underscores),
        // The escaping of the range that chose the format, and no other:
        // a refused (`q=0`) or unchosen range's does not count.
        (
            Some("text/plain;version=1.0.0;escaping=allow-utf-8;q=0,text/plain;version=0.0.4;q=0.3"),
            &[Text0_0_4, Text1_0_0],
            Text0_0_4,
            Underscores,
        ),
        (
            Some("application/openmetrics-text;escaping=values;q=0.9,text/plain;escaping=dots;q=0.8"),
            TEXT,
            Text0_0_4,
            Escaping::Dots,
        ),
        (
            Some(
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8",
            ),
            ALL,
            ProtobufDelimited,
            AllowUtf8,
        ),
        // An empty or unquoted-bad escaping makes the element malformed.
        (
            Some("text/plain;version=1.0.0;escaping=,text/plain;version=0.0.4;q=0.5"),
            &[Text0_0_4, Text1_0_0],
            Text0_0_4,
            Underscores,
        ),
        (Some("text/plain;escaping=\"allow-utf-8"), TEXT, Text0_0_4, Underscores),
        // Malformed elements are skipped, the rest still counts.
        (Some("garbage"), TEXT_OM, Text0_0_4, Underscores),
        (Some(";;;,,,==\"\\"), TEXT_OM, Text0_0_4, Underscores),
        (
            Some("text/plain;q=abc, application/openmetrics-text;version=1.0.0;q=0.2"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("text/plain;q=1.5, application/openmetrics-text;q=0.2"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("text/plain;version, application/openmetrics-text;q=0.2"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("*/plain, application/openmetrics-text;q=0.2"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
        (
            Some("text/plain;x=\"a,b;q=0\", application/openmetrics-text;q=0.2"),
            TEXT_OM,
            Text0_0_4,
            Underscores,
        ),
        (
            Some("application/openmetrics-text;q=0.2;x=\"unterminated, text/plain"),
            TEXT_OM,
            Text0_0_4,
            Underscores,
        ),
        (
            Some(",, application/openmetrics-text ,"),
            TEXT_OM,
            OpenMetrics1_0_0,
            Underscores,
        ),
    ];
    for &(accept, offered, format, escaping) in table {
        let got = negotiate(accept, offered);
        assert_eq!(
            (got.format, got.escaping),
            (format, escaping),
            "Accept: {accept:?}, offered {offered:?}"
        );
    }
}

#[test]
fn accept_encoding_table() {
    use ContentEncoding::{Gzip, Identity};
    let table: &[(Option<&str>, ContentEncoding)] = &[
        // What Prometheus (Go's HTTP client) and VictoriaMetrics send.
        (Some("gzip"), Gzip),
        (Some("gzip, deflate, br, zstd"), Gzip),
        (Some("GZIP"), Gzip),
        (Some("x-gzip"), Gzip),
        (Some("*"), Gzip),
        (Some("deflate, br"), Identity),
        (Some("identity"), Identity),
        (None, Identity),
        (Some(""), Identity),
        // Qualities.
        (Some("gzip;q=0"), Identity),
        (Some("gzip;q=0, *"), Identity),
        (Some("*;q=0"), Identity),
        (Some("gzip, identity;q=0"), Gzip),
        (Some("identity;q=0"), Identity),
        (Some("*;q=0.5, identity;q=0"), Gzip),
        (Some("gzip;q=0.5, identity"), Identity),
        (Some("gzip;q=0.5, identity;q=0.5"), Gzip),
        (Some("gzip;q=1.0, identity; q=0.5, *;q=0"), Gzip),
        (Some("br;q=1, gzip;q=0.8"), Gzip),
        (Some("gzip;q=0, gzip;q=0.5"), Gzip),
        // Malformed elements are skipped.
        (Some("gzip;q=x"), Identity),
        (Some("gzip;q=2, deflate"), Identity),
        (Some("gz ip"), Identity),
        (Some("gzip;;, ;"), Gzip),
        (Some("gzip;level=\"9,8\""), Gzip),
    ];
    for &(header, expected) in table {
        assert_eq!(negotiate_encoding(header), expected, "Accept-Encoding: {header:?}");
    }
}

#[test]
fn content_types_are_complete() {
    for &format in ALL {
        let content_type = format.content_type();
        // The chosen format's own content type chooses it again.
        assert_eq!(negotiate(Some(content_type), ALL).format, format, "{content_type}");
        assert!(content_type.is_ascii() && !content_type.contains(['\r', '\n']));
    }
    assert_eq!(Format::Text0_0_4.content_type(), bareprom::CONTENT_TYPE);
}

#[test]
fn response_content_types_name_the_escaping_and_choose_it_again() {
    use bareprom::Negotiated;
    let escapings = [
        Escaping::AllowUtf8,
        Escaping::Underscores,
        Escaping::Dots,
        Escaping::Values,
    ];
    for &format in ALL {
        for escaping in escapings {
            let chosen = Negotiated { format, escaping };
            let content_type = chosen.content_type();
            assert_eq!(
                content_type,
                format!("{}; escaping={}", format.content_type(), escaping.as_str())
            );
            assert_eq!(negotiate(Some(content_type), ALL), chosen, "{content_type}");
        }
    }
    let prometheus_3 = negotiate(Some(PROMETHEUS_3), &[Format::Text0_0_4, Format::OpenMetrics1_0_0]);
    assert_eq!(
        prometheus_3.content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
    );
    assert_eq!(
        negotiate(None, TEXT).content_type(),
        "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"
    );
}
