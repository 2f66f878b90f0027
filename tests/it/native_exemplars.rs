//! Exemplars on native histograms: the latest ten in protobuf's
//! `Histogram.exemplars` (field 16), read by the test-only decoder and the
//! Python one; with classic buckets alongside, one per classic bucket in
//! `OpenMetrics` (strict oracle, byte-exact) and protobuf buckets; none in
//! the text formats without classic buckets; validation errors.

use std::time::Duration;

use bareprom::{ErrorKind, NativeHistogram, NativeHistogramVec, Registry};

use crate::exemplars::{check, now};
use crate::protobuf_decode::{PbExemplar, PbHistogram, decode};
use crate::protobuf_python::python_decode;

fn protobuf(registry: &Registry) -> Vec<u8> {
    let mut body = Vec::new();
    registry.encode_protobuf(&mut body);
    body
}

fn histogram_of(body: &[u8]) -> PbHistogram {
    let families = decode(body).unwrap();
    assert_eq!(families[0].kind, 4, "HISTOGRAM");
    families[0].metrics[0].histogram.clone().unwrap()
}

fn at(e: &PbExemplar) -> Duration {
    let (secs, nanos) = e.timestamp.expect("a native histogram exemplar has a timestamp");
    Duration::new(u64::try_from(secs).unwrap(), u32::try_from(nanos).unwrap())
}

/// One exemplar as `pb_decode.py` prints it.
fn python_form(e: &PbExemplar) -> String {
    let labels: Vec<String> = e.labels.iter().map(|(n, v)| format!("{n}='{v}'")).collect();
    let t = at(e);
    format!(
        "{{{}}}:{:?}@{}.{:09}",
        labels.join(","),
        e.value.unwrap(),
        t.as_secs(),
        t.subsec_nanos()
    )
}

#[test]
fn a_native_histogram_keeps_its_ten_latest_exemplars_in_field_16() {
    static PLAIN: NativeHistogram = NativeHistogram::new("nx_plain_seconds", "Plain.");
    let registry = Registry::new().without_health();
    registry.register(&PLAIN).unwrap();
    let from = now();
    for i in 1..=12 {
        PLAIN
            .observe_with_exemplar(f64::from(i), &[("trace_id", &format!("t{i}"))])
            .unwrap();
    }
    let to = now();
    assert_eq!(PLAIN.count(), 12);
    let body = protobuf(&registry);
    let h = histogram_of(&body);
    assert_eq!(h.sample_count, Some(12));
    assert!(h.buckets.is_empty() && h.bucket_exemplars.is_empty(), "{h:?}");
    assert_eq!(h.exemplars.len(), 10, "{:?}", h.exemplars);
    let mut values: Vec<f64> = h.exemplars.iter().map(|e| e.value.unwrap()).collect();
    for e in &h.exemplars {
        let v = e.value.unwrap();
        assert_eq!(e.labels, [("trace_id".to_owned(), format!("t{v}"))]);
        assert!(from <= at(e) && at(e) <= to, "timestamp outside the calls");
    }
    assert!(h.exemplars.windows(2).all(|w| at(&w[0]) <= at(&w[1])), "oldest first");
    values.sort_by(f64::total_cmp);
    assert_eq!(values, (3..=12).map(f64::from).collect::<Vec<_>>(), "the ten latest");
    // Without classic buckets the text formats have no place for them.
    check(
        &registry,
        "# HELP nx_plain_seconds Plain.\n\
         # TYPE nx_plain_seconds histogram\n\
         nx_plain_seconds_bucket{le=\"+Inf\"} 12\n\
         nx_plain_seconds_sum 78\n\
         nx_plain_seconds_count 12\n\
         # EOF\n",
        (from, to),
    );
    // The Python decoder reads the same exemplars from field 16.
    if let Some(python) = python_decode(&body) {
        let python = python.unwrap_or_else(|e| panic!("the Python decoder refuses: {e}"));
        let want: Vec<String> = h.exemplars.iter().map(python_form).collect();
        let want = format!(" exemplars={}\n", want.join(";"));
        assert!(python.ends_with(&want), "{python}\nwant …{want}");
    }
}

#[test]
fn with_classic_buckets_the_bucket_exemplars_show_in_openmetrics_too() {
    static RPC: NativeHistogramVec<1> =
        NativeHistogramVec::new("nx_rpc_seconds", "RPC.", ["method"]).with_classic_buckets(&[0.1, 1.0]);
    let registry = Registry::new().without_health();
    registry.register(&RPC).unwrap();
    let from = now();
    let get = RPC.with(["get"]);
    get.observe_with_exemplar(0.0625, &[("trace_id", "a")]).unwrap();
    get.observe_with_exemplar(0.5, &[("trace_id", "b")]).unwrap();
    get.observe_with_exemplar(4.0, &[("trace_id", "c")]).unwrap();
    get.observe_with_exemplar(0.09375, &[("trace_id", "d")]).unwrap(); // same classic bucket as "a": replaces it there
    RPC.with(["put"]).observe(0.5); // a series without exemplars
    let to = now();
    let exemplars = check(
        &registry,
        "# HELP nx_rpc_seconds RPC.\n\
         # TYPE nx_rpc_seconds histogram\n\
         nx_rpc_seconds_bucket{method=\"get\",le=\"0.1\"} 2 # {trace_id=\"d\"} 0.09375 @TS\n\
         nx_rpc_seconds_bucket{method=\"get\",le=\"1.0\"} 3 # {trace_id=\"b\"} 0.5 @TS\n\
         nx_rpc_seconds_bucket{method=\"get\",le=\"+Inf\"} 4 # {trace_id=\"c\"} 4 @TS\n\
         nx_rpc_seconds_sum{method=\"get\"} 4.65625\n\
         nx_rpc_seconds_count{method=\"get\"} 4\n\
         nx_rpc_seconds_bucket{method=\"put\",le=\"0.1\"} 0\n\
         nx_rpc_seconds_bucket{method=\"put\",le=\"1.0\"} 1\n\
         nx_rpc_seconds_bucket{method=\"put\",le=\"+Inf\"} 1\n\
         nx_rpc_seconds_sum{method=\"put\"} 0.5\n\
         nx_rpc_seconds_count{method=\"put\"} 1\n\
         # EOF\n",
        (from, to),
    );
    assert_eq!(exemplars.len(), 3);

    let body = protobuf(&registry);
    let families = decode(&body).unwrap();
    let h = families[0].metrics[0].histogram.clone().unwrap();
    assert_eq!(h.schema, Some(3), "one message with the native parts");
    // The `+Inf` bucket is written only because it has an exemplar.
    assert_eq!(h.buckets, [(2, 0.1), (3, 1.0), (4, f64::INFINITY)]);
    let value = |e: &PbExemplar| e.value.unwrap();
    let on_buckets: Vec<(usize, f64)> = h.bucket_exemplars.iter().map(|(i, e)| (*i, value(e))).collect();
    assert_eq!(on_buckets, [(0, 0.09375), (1, 0.5), (2, 4.0)]);
    // Field 16 keeps all four, "a" included, oldest first.
    let recent: Vec<f64> = h.exemplars.iter().map(value).collect();
    assert_eq!(recent, [0.0625, 0.5, 4.0, 0.09375]);
    assert!(h.exemplars.iter().all(|e| from <= at(e) && at(e) <= to));
    let put = families[0].metrics[1].histogram.clone().unwrap();
    assert!(put.exemplars.is_empty() && put.bucket_exemplars.is_empty(), "{put:?}");

    if let Some(python) = python_decode(&body) {
        let python = python.unwrap_or_else(|e| panic!("the Python decoder refuses: {e}"));
        let line = python.lines().find(|l| l.contains("method='get'")).unwrap();
        let bounds = ["0.1", "1.0", "inf"];
        let buckets: Vec<String> = h
            .bucket_exemplars
            .iter()
            .map(|(i, e)| format!("{}={}", bounds[*i], python_form(e)))
            .collect();
        assert!(
            line.contains(&format!(" bucket_exemplars={} ", buckets.join(";"))),
            "{line}"
        );
        let recent: Vec<String> = h.exemplars.iter().map(python_form).collect();
        assert!(line.ends_with(&format!(" exemplars={}", recent.join(";"))), "{line}");
    }
}

#[test]
fn invalid_native_exemplars_are_errors_and_the_observation_counts() {
    static BAD: NativeHistogram = NativeHistogram::new("nx_bad_seconds", "Bad.");
    static BAD_VEC: NativeHistogramVec<1> = NativeHistogramVec::new("nx_bad_vec_seconds", "Bad.", ["op"]);
    let registry = Registry::new().without_health();
    registry.register(&BAD).unwrap();
    registry.register(&BAD_VEC).unwrap();
    let long = "x".repeat(127);
    let cases = [
        (vec![("trace-id", "a")], ErrorKind::InvalidLabelName),
        (vec![("__trace", "a")], ErrorKind::ReservedLabelName),
        (vec![("a", "1"), ("a", "2")], ErrorKind::DuplicateLabelName),
        (vec![("ab", long.as_str())], ErrorKind::InvalidExemplar),
    ];
    for (labels, kind) in &cases {
        let err = BAD.observe_with_exemplar(0.5, labels).unwrap_err();
        assert_eq!(err.kind(), *kind, "{labels:?}");
        assert!(err.to_string().chars().next().is_some_and(char::is_lowercase), "{err}");
        let err = BAD_VEC.with(["read"]).observe_with_exemplar(0.5, labels).unwrap_err();
        assert_eq!(err.kind(), *kind, "{labels:?}");
    }
    // NaN is not observed and records nothing, but bad labels still fail.
    BAD.observe_with_exemplar(f64::NAN, &[("trace_id", "nan")]).unwrap();
    let err = BAD.observe_with_exemplar(f64::NAN, &[("1a", "x")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidLabelName);
    assert_eq!(BAD.count(), 4, "every valid value counted");
    assert_eq!(BAD_VEC.with(["read"]).count(), 4);
    let families = decode(&protobuf(&registry)).unwrap();
    for family in &families {
        let h = family.metrics[0].histogram.clone().unwrap();
        assert_eq!(h.sample_count, Some(4), "{}", family.name);
        assert!(h.exemplars.is_empty(), "{}: {:?}", family.name, h.exemplars);
    }
}
