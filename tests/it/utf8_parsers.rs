//! UTF-8 names read back by the Python parsers (`prometheus_client` 0.26,
//! text and OpenMetrics), and the OpenMetrics pieces around a quoted name:
//! units, constant labels, collectors and exemplars.

use bareprom::{CounterVec, Escaping, Gauge, Registry};

use super::utf8::{ESCAPED, OM, Queues, TEXT, check, encode, registry};

/// What the Python parsers (`prometheus_client` 0.26, text and
/// OpenMetrics) read: one line per sample, `family|sample|label names`.
fn python_names(text: &str, openmetrics: bool) -> Option<Vec<String>> {
    let module = if openmetrics {
        "prometheus_client.openmetrics.parser"
    } else {
        "prometheus_client.parser"
    };
    let script = format!(
        "import sys\n\
         from {module} import text_string_to_metric_families as parse\n\
         for f in parse(sys.stdin.read()):\n\
         \x20   for s in f.samples:\n\
         \x20       print(f.name + '|' + s.name + '|' + ','.join(k for k in s.labels))\n"
    );
    let lines = crate::python::run_parser_script(&script, text)?;
    Some(lines.unwrap_or_else(|stderr| panic!("the Python parser refuses:\n{stderr}\n{text}")))
}

#[test]
fn the_python_parsers_read_the_original_names_back() {
    let registry = registry();
    for (format, openmetrics, counter_family) in [
        (TEXT, false, "http.server.requests"),
        (OM, true, "http.server.requests"),
    ] {
        let text = encode(&registry, format, Escaping::AllowUtf8);
        let Some(lines) = python_names(&text, openmetrics) else {
            return;
        };
        let want = [
            format!("{counter_family}|http.server.requests_total|http.request.method,code"),
            "http.server.active|http.server.active|".to_owned(),
            "http.server.request.duration|http.server.request.duration_bucket|http.route,le".to_owned(),
            "http.server.request.duration|http.server.request.duration_bucket|http.route,le".to_owned(),
            "http.server.request.duration|http.server.request.duration_bucket|http.route,le".to_owned(),
            "http.server.request.duration|http.server.request.duration_sum|http.route".to_owned(),
            "http.server.request.duration|http.server.request.duration_count|http.route".to_owned(),
            "legacy_up|legacy_up|".to_owned(),
        ];
        assert_eq!(lines, want, "{format:?}");
        // Escaped, every scheme reads as legacy names.
        for (escaping, requests, ..) in ESCAPED {
            let text = encode(&registry, format, escaping);
            let lines = python_names(&text, openmetrics).unwrap_or_default();
            assert!(
                lines[0].starts_with(&format!("{requests}|{requests}_total|")),
                "{lines:?}"
            );
        }
    }
}

#[test]
fn units_and_constant_labels_with_quoted_names_in_openmetrics() {
    let registry = Registry::with_const_labels_utf8(&[("service.name", "checkout")])
        .unwrap()
        .without_health();
    registry
        .register_owned(
            Gauge::try_new_utf8("db.wait_seconds", "Wait.")
                .unwrap()
                .try_with_unit("seconds")
                .unwrap(),
        )
        .unwrap()
        .set(3);
    registry.register_collector("queues", Queues).unwrap();
    let expected = "# HELP \"db.wait_seconds\" Wait.\n\
         # TYPE \"db.wait_seconds\" gauge\n\
         # UNIT \"db.wait_seconds\" seconds\n\
         {\"db.wait_seconds\",\"service.name\"=\"checkout\"} 3\n\
         # HELP \"queue.depth\" Depth.\n\
         # TYPE \"queue.depth\" gauge\n\
         {\"queue.depth\",\"service.name\"=\"checkout\",\"queue.name\"=\"a\"} 5\n\
         # EOF\n";
    check(&registry, OM, Escaping::AllowUtf8, expected);
    let Some(lines) = python_names(expected, true) else {
        return;
    };
    assert_eq!(
        lines,
        [
            "db.wait_seconds|db.wait_seconds|service.name",
            "queue.depth|queue.depth|service.name,queue.name"
        ]
    );
    check(
        &registry,
        OM,
        Escaping::Underscores,
        "# HELP db_wait_seconds Wait.\n\
         # TYPE db_wait_seconds gauge\n\
         # UNIT db_wait_seconds seconds\n\
         db_wait_seconds{service_name=\"checkout\"} 3\n\
         # HELP queue_depth Depth.\n\
         # TYPE queue_depth gauge\n\
         queue_depth{service_name=\"checkout\",queue_name=\"a\"} 5\n\
         # EOF\n",
    );
}

#[test]
fn exemplars_follow_quoted_and_escaped_samples() {
    let registry = Registry::new().without_health();
    let jobs = registry
        .register_owned(CounterVec::try_new_utf8("app.jobs_total", "Jobs.", ["queue.name"]).unwrap())
        .unwrap();
    jobs.with(["a"]).inc_with_exemplar(&[("trace_id", "t1")]).unwrap();
    let quoted = encode(&registry, OM, Escaping::AllowUtf8);
    let sample = "{\"app.jobs_total\",\"queue.name\"=\"a\"} 1 # {trace_id=\"t1\"} 1 ";
    assert!(quoted.contains(&format!("\n{sample}")), "{quoted}");
    let parsed = crate::oracle_utf8::parse(&quoted, true).unwrap_or_else(|e| panic!("{e}\n{quoted}"));
    assert_eq!(parsed.families[0].samples[0].name, "app.jobs_total");
    if let Some(lines) = python_names(&quoted, true) {
        assert_eq!(lines, ["app.jobs|app.jobs_total|queue.name"]);
    }
    let escaped = encode(&registry, OM, Escaping::Underscores);
    assert!(
        escaped.contains("\napp_jobs_total{queue_name=\"a\"} 1 # {trace_id=\"t1\"} 1 "),
        "{escaped}"
    );
    crate::oracle_om::parse(&escaped).unwrap_or_else(|e| panic!("{e}\n{escaped}"));
}
