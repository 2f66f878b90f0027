//! `OpenMetrics` 1.0 text: byte-exact renderings per metric kind, the strict
//! `OpenMetrics` oracle (and what it must reject), the Python client's
//! `OpenMetrics` parser on every rendering, and negotiation by the handler.

use std::sync::Arc;

use bareprom::{
    Counter, CounterVec, FloatCounter, FloatGauge, FloatGaugeVec, Gauge, Histogram, HistogramVec, Info, MetricsRequest,
    Registry,
};

use crate::oracle_om;

/// The `OpenMetrics` exposition of `registry`, as a string.
fn openmetrics(registry: &Registry) -> String {
    let mut body = Vec::new();
    registry.encode_openmetrics(&mut body);
    String::from_utf8(body).expect("utf-8")
}

/// Asserts the whole `OpenMetrics` exposition, that the oracle and the
/// Python parser accept it, and that it means what the 0.0.4 text means
/// (when every counter is named `x_total`, the two parse alike).
#[track_caller]
fn check_om(registry: &Registry, expected: &str, same_as_text: bool) {
    let text = openmetrics(registry);
    assert_eq!(text, expected, "\n--- got ---\n{text}--- expected ---\n{expected}");
    let om = oracle_om::parse(&text).unwrap_or_else(|e| panic!("OpenMetrics oracle rejects: {e}\n{text}"));
    if same_as_text {
        assert_eq!(om, crate::parse(&registry.render()), "OpenMetrics and 0.0.4 disagree");
    }
    python_accepts(&text);
    crate::gzip::round_trip(text.as_bytes());
}

/// Runs `prometheus_client.openmetrics.parser` over `text`; fails if it
/// refuses it. Without Python or the package: a failure under CI, else a
/// visible skip.
#[track_caller]
pub(crate) fn python_accepts(text: &str) {
    if let Some(Err(stderr)) = python_parse(text) {
        panic!("the Python OpenMetrics parser refuses:\n{stderr}\n{text}");
    }
}

/// What the Python parser says of `text`: `None` when it cannot run (a
/// failure under CI, else a visible skip).
#[track_caller]
fn python_parse(text: &str) -> Option<Result<(), String>> {
    const SCRIPT: &str = "import sys\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
        n = sum(len(f.samples) for f in text_string_to_metric_families(sys.stdin.read()))\n\
        print(n)\n";
    crate::python::run_parser_script(SCRIPT, text).map(|result| result.map(drop))
}

#[test]
fn the_python_parser_is_a_real_check() {
    // What the spec forbids, the Python parser refuses too: the checks
    // above cannot pass vacuously.
    for bad in [
        "# HELP x X.\n# TYPE x counter\nx_total 1\n",
        "# HELP x X.\n# TYPE x counter\nx 1\n# EOF\n",
        "# HELP x X.\n# TYPE x gauge\n# UNIT x bytes\nx 1\n# EOF\n",
    ] {
        if let Some(result) = python_parse(bad) {
            assert!(result.is_err(), "python accepted:\n{bad}");
        }
    }
}

#[test]
fn counters_are_family_x_with_samples_x_total() {
    static REQUESTS: Counter = Counter::new("om_requests_total", "Requests \"served\".\nAll of them \\ really.");
    static BUSY: FloatCounter = FloatCounter::new("om_busy_seconds_total", "Busy.").with_unit("seconds");
    static ERRORS: CounterVec<2> = CounterVec::new("om_errors_total", "Errors.", ["service", "code"]);
    let r = Registry::new();
    r.register(&REQUESTS).unwrap();
    r.register(&BUSY).unwrap();
    r.register(&ERRORS).unwrap();
    REQUESTS.inc_by(u64::MAX);
    BUSY.inc_by(0.1 + 0.2);
    ERRORS.with(["db", "timeout"]).inc();
    ERRORS.with(["q\"uo\\te\nd", "\u{1F600} ü"]).inc_by(3);
    check_om(
        &r,
        "# HELP om_requests Requests \\\"served\\\".\\nAll of them \\\\ really.\n\
         # TYPE om_requests counter\n\
         om_requests_total 18446744073709551615\n\
         # HELP om_busy_seconds Busy.\n\
         # TYPE om_busy_seconds counter\n\
         # UNIT om_busy_seconds seconds\n\
         om_busy_seconds_total 0.30000000000000004\n\
         # HELP om_errors Errors.\n\
         # TYPE om_errors counter\n\
         om_errors_total{service=\"db\",code=\"timeout\"} 1\n\
         om_errors_total{service=\"q\\\"uo\\\\te\\nd\",code=\"\u{1F600} ü\"} 3\n\
         # HELP bareprom_series_dropped Lookups of new label sets sent to the overflow series by the series limit.\n\
         # TYPE bareprom_series_dropped counter\n\
         bareprom_series_dropped_total{family=\"om_errors_total\"} 0\n\
         # EOF\n",
        true,
    );
}

#[test]
fn a_counter_named_without_total_gets_total_samples() {
    static JOBS: Counter = Counter::new("om_jobs", "Jobs.");
    let r = Registry::new();
    r.register(&JOBS).unwrap();
    JOBS.inc();
    assert_eq!(r.render(), "# HELP om_jobs Jobs.\n# TYPE om_jobs counter\nom_jobs 1\n");
    check_om(
        &r,
        "# HELP om_jobs Jobs.\n# TYPE om_jobs counter\nom_jobs_total 1\n# EOF\n",
        false,
    );
}

#[test]
fn gauges_with_and_without_units() {
    static DEPTH: Gauge = Gauge::new("om_queue_depth", "Depth.");
    static HEAP: FloatGauge = FloatGauge::new("om_heap_bytes", "Heap.").with_unit("bytes");
    static LAG: FloatGaugeVec<1> = FloatGaugeVec::new("om_lag_seconds", "Lag.", ["peer"]).with_unit("seconds");
    let r = Registry::new();
    r.register(&DEPTH).unwrap();
    r.register(&HEAP).unwrap();
    r.register(&LAG).unwrap();
    DEPTH.set(-3);
    HEAP.set(1e21);
    LAG.with(["a"]).set(f64::NAN);
    LAG.with(["b"]).set(f64::NEG_INFINITY);
    LAG.with(["c"]).set(1.5e-7);
    check_om(
        &r,
        "# HELP om_queue_depth Depth.\n\
         # TYPE om_queue_depth gauge\n\
         om_queue_depth -3\n\
         # HELP om_heap_bytes Heap.\n\
         # TYPE om_heap_bytes gauge\n\
         # UNIT om_heap_bytes bytes\n\
         om_heap_bytes 1e21\n\
         # HELP om_lag_seconds Lag.\n\
         # TYPE om_lag_seconds gauge\n\
         # UNIT om_lag_seconds seconds\n\
         om_lag_seconds{peer=\"a\"} NaN\n\
         om_lag_seconds{peer=\"b\"} -Inf\n\
         om_lag_seconds{peer=\"c\"} 1.5e-7\n\
         # HELP bareprom_series_dropped Lookups of new label sets sent to the overflow series by the series limit.\n\
         # TYPE bareprom_series_dropped counter\n\
         bareprom_series_dropped_total{family=\"om_lag_seconds\"} 0\n\
         # EOF\n",
        true,
    );
}

#[test]
fn histograms_write_canonical_bounds() {
    static RPC: Histogram = Histogram::with_buckets("om_rpc_seconds", "RPC.", &[0.25, 1.0, 10.0]).with_unit("seconds");
    static SIZES: HistogramVec<1> = HistogramVec::with_buckets("om_body_bytes", "Sizes.", ["route"], &[100.0, 1e4]);
    let r = Registry::new();
    r.register(&RPC).unwrap();
    r.register(&SIZES).unwrap();
    for v in [0.1, 0.5, 3.0, 100.0] {
        RPC.observe(v);
    }
    SIZES.with(["/a"]).observe(50.0);
    check_om(
        &r,
        "# HELP om_rpc_seconds RPC.\n\
         # TYPE om_rpc_seconds histogram\n\
         # UNIT om_rpc_seconds seconds\n\
         om_rpc_seconds_bucket{le=\"0.25\"} 1\n\
         om_rpc_seconds_bucket{le=\"1.0\"} 2\n\
         om_rpc_seconds_bucket{le=\"10.0\"} 3\n\
         om_rpc_seconds_bucket{le=\"+Inf\"} 4\n\
         om_rpc_seconds_sum 103.6\n\
         om_rpc_seconds_count 4\n\
         # HELP om_body_bytes Sizes.\n\
         # TYPE om_body_bytes histogram\n\
         om_body_bytes_bucket{route=\"/a\",le=\"100.0\"} 1\n\
         om_body_bytes_bucket{route=\"/a\",le=\"10000.0\"} 1\n\
         om_body_bytes_bucket{route=\"/a\",le=\"+Inf\"} 1\n\
         om_body_bytes_sum{route=\"/a\"} 50\n\
         om_body_bytes_count{route=\"/a\"} 1\n\
         # HELP bareprom_series_dropped Lookups of new label sets sent to the overflow series by the series limit.\n\
         # TYPE bareprom_series_dropped counter\n\
         bareprom_series_dropped_total{family=\"om_body_bytes\"} 0\n\
         # EOF\n",
        true,
    );
}

#[test]
fn a_histogram_with_a_negative_bound_or_sum_has_no_sum_or_count() {
    static TEMP: Histogram = Histogram::with_buckets("om_temp_celsius", "Temperature.", &[-10.0, 0.0, 30.0]);
    static DELTA: Histogram = Histogram::with_buckets("om_delta", "Delta.", &[1.0]);
    let r = Registry::new();
    r.register(&TEMP).unwrap();
    r.register(&DELTA).unwrap();
    TEMP.observe(-20.0);
    TEMP.observe(20.0);
    DELTA.observe(-5.0);
    check_om(
        &r,
        "# HELP om_temp_celsius Temperature.\n\
         # TYPE om_temp_celsius histogram\n\
         om_temp_celsius_bucket{le=\"-10.0\"} 1\n\
         om_temp_celsius_bucket{le=\"0.0\"} 1\n\
         om_temp_celsius_bucket{le=\"30.0\"} 2\n\
         om_temp_celsius_bucket{le=\"+Inf\"} 2\n\
         # HELP om_delta Delta.\n\
         # TYPE om_delta histogram\n\
         om_delta_bucket{le=\"1.0\"} 1\n\
         om_delta_bucket{le=\"+Inf\"} 1\n\
         # EOF\n",
        false,
    );
}

#[test]
fn info_and_build_info() {
    let r = Registry::new();
    r.register_arc(Arc::new(Info::build("om_app", "1.2.3", "4f2a9c1").unwrap()))
        .unwrap();
    r.register_arc(Arc::new(
        Info::new("om_host_info", "Host.", &[("os", "linux \"6\"")]).unwrap(),
    ))
    .unwrap();
    r.register_arc(Arc::new(Info::new("om_bare_info", "No labels.", &[]).unwrap()))
        .unwrap();
    check_om(
        &r,
        "# HELP om_app_build Build information: the version and revision this binary was built from.\n\
         # TYPE om_app_build info\n\
         om_app_build_info{version=\"1.2.3\",revision=\"4f2a9c1\"} 1\n\
         # HELP om_host Host.\n\
         # TYPE om_host info\n\
         om_host_info{os=\"linux \\\"6\\\"\"} 1\n\
         # HELP om_bare No labels.\n\
         # TYPE om_bare info\n\
         om_bare_info 1\n\
         # EOF\n",
        true,
    );
    assert!(
        r.render()
            .contains("# TYPE om_app_build_info gauge\nom_app_build_info{version=\"1.2.3\",revision=\"4f2a9c1\"} 1\n")
    );
}

#[test]
fn an_empty_registry_is_just_eof_and_constant_labels_come_first() {
    static UP: Gauge = Gauge::new("om_up", "Up.");
    let r = Registry::new();
    check_om(&r, "# EOF\n", true);
    let labelled = Registry::with_const_labels(&[("backend", "open\"ai")]).unwrap();
    labelled.register(&UP).unwrap();
    check_om(
        &labelled,
        "# HELP om_up Up.\n# TYPE om_up gauge\nom_up{backend=\"open\\\"ai\"} 0\n# EOF\n",
        true,
    );
}

#[test]
fn units_must_be_the_name_suffix() {
    for (name, unit) in [
        ("om_heap_bytes", "seconds"),
        ("om_heap_bytes", ""),
        ("om_bytes", "om_bytes"),
        ("om_heap_bytes", "by-tes"),
    ] {
        let err = Gauge::try_new(name, "x").unwrap().try_with_unit(unit).unwrap_err();
        assert_eq!(err.kind(), bareprom::ErrorKind::InvalidUnit, "{name} {unit}");
    }
    // A counter's family is the name without `_total`.
    assert!(
        Counter::try_new("om_sent_bytes_total", "x")
            .unwrap()
            .try_with_unit("bytes")
            .is_ok()
    );
    assert!(
        Counter::try_new("om_sent_bytes_total", "x")
            .unwrap()
            .try_with_unit("total")
            .is_err()
    );
    let err = Gauge::try_new("om_heap_bytes", "x")
        .unwrap()
        .try_with_unit("seconds")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid unit: \"seconds\" (a unit is [a-zA-Z0-9_:]+ and the family name \"om_heap_bytes\" must end in \"_seconds\")"
    );
}

#[test]
fn the_oracle_rejects_what_openmetrics_forbids() {
    let good = "# HELP x X.\n# TYPE x counter\nx_total 1\n# EOF\n";
    assert!(oracle_om::parse(good).is_ok());
    for (bad, why) in [
        ("# HELP x X.\n# TYPE x counter\nx_total 1\n", "missing # EOF"),
        ("# HELP x X.\n# TYPE x counter\nx_total 1\n# EOF\n# EOF\n", "two EOFs"),
        ("# HELP x X.\n# TYPE x counter\nx_total 1\n# EOF", "EOF without newline"),
        (
            "# HELP x X.\n# TYPE x counter\nx 1\n# EOF\n",
            "counter sample without _total",
        ),
        (
            "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n# EOF\n",
            "counter family named _total",
        ),
        (
            "# HELP x X.\n# TYPE x counter\nx_created 1\n# EOF\n",
            "a _created sample",
        ),
        ("# HELP x X.\n# TYPE x counter\nx_total -1\n# EOF\n", "negative counter"),
        (
            "# HELP x X.\n# TYPE x gauge\n# UNIT x bytes\nx 1\n# EOF\n",
            "unit not a suffix",
        ),
        (
            "# HELP x_b X.\n# TYPE x_b gauge\n# UNIT x_b b\n# UNIT x_b b\nx_b 1\n# EOF\n",
            "unit twice",
        ),
        ("# HELP x X.\n# TYPE x info\nx_info 2\n# EOF\n", "info value not 1"),
        ("# HELP x X.\n# TYPE x info\nx 1\n# EOF\n", "info sample without _info"),
        ("# HELP x X.\n# TYPE x gauge\nx 1 123\n# EOF\n", "timestamp"),
        (
            "# HELP x X \"q\".\n# TYPE x gauge\nx 1\n# EOF\n",
            "unescaped quote in help",
        ),
        ("# HELP x X.\n# TYPE x gauge\n\nx 1\n# EOF\n", "blank line"),
        (
            "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n# EOF\n",
            "integral bound without .0",
        ),
        (
            "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n# EOF\n",
            "count is not +Inf",
        ),
        (
            "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\n# EOF\n",
            "sum without count",
        ),
        (
            "# HELP x X.\n# TYPE x gauge\nx{a=\"1\"} 1 # {trace_id=\"a\"} 1\n# EOF\n",
            "an exemplar on a gauge (exemplars.rs has the rest)",
        ),
    ] {
        assert!(oracle_om::parse(bad).is_err(), "accepted {why}:\n{bad}");
    }
}

#[test]
fn the_handler_negotiates_openmetrics_as_scrapers_ask() {
    static SERVED: Counter = Counter::new("om_served_total", "Served.");
    let r = Registry::new();
    r.register(&SERVED).unwrap();
    let prometheus_2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let prometheus_3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    for (accept, content_type, eof) in [
        (Some(prometheus_2), crate::OPENMETRICS_SCRAPE, true),
        (
            Some(prometheus_3),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
            true,
        ),
        (
            Some("application/openmetrics-text;version=0.0.1"),
            "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores",
            true,
        ),
        (Some("application/openmetrics-text"), crate::OPENMETRICS_SCRAPE, true),
        (None, crate::TEXT_SCRAPE, false),
        (Some("*/*"), crate::TEXT_SCRAPE, false),
        (
            Some("text/html,application/xhtml+xml,*/*;q=0.8"),
            crate::TEXT_SCRAPE,
            false,
        ),
        (Some("application/openmetrics-text;q=0"), crate::TEXT_SCRAPE, false),
    ] {
        let request = MetricsRequest {
            accept,
            ..MetricsRequest::new("GET", "/metrics")
        };
        let response = r.handle(&request);
        assert_eq!(response.content_type, content_type, "{accept:?}");
        let body = String::from_utf8(response.body).unwrap();
        assert_eq!(body.ends_with("# EOF\n"), eof, "{accept:?}: {body}");
        if eof {
            assert!(body.contains("# TYPE om_served counter\nom_served_total 0\n"), "{body}");
            oracle_om::parse(&body).unwrap();
        } else {
            crate::parse(&body);
        }
    }
}
