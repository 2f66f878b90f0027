//! Native histograms: the protobuf they encode to (read by the test-only
//! decoder), their text rendering, scrapes under concurrent observes, and a
//! real Prometheus 2.42 with `--enable-feature=native-histograms` storing
//! and querying one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bareprom::{NativeHistogram, NativeHistogramVec, Registry, ServeOptions};

use crate::prometheus::{get, log_tail, start_prometheus_with};
use crate::protobuf_decode::{PbHistogram, decode};

fn protobuf(registry: &Registry) -> Vec<u8> {
    let mut body = Vec::new();
    registry.encode_protobuf(&mut body);
    body
}

fn histogram_of(registry: &Registry) -> PbHistogram {
    let families = decode(&protobuf(registry)).unwrap();
    assert_eq!(families[0].kind, 4, "HISTOGRAM");
    families[0].metrics[0].histogram.clone().unwrap()
}

/// Rebuilds `(key, count)` of each bucket from spans and deltas, as the
/// spec says: the first span's offset is the first key, each later one the
/// gap after the previous span; each delta is against the previous bucket.
fn buckets(spans: &[(i64, u64)], deltas: &[i64]) -> Vec<(i64, i64)> {
    let (mut out, mut key, mut count, mut at) = (Vec::new(), 0, 0, 0);
    for &(offset, length) in spans {
        key += offset;
        for _ in 0..length {
            count += deltas[at];
            at += 1;
            out.push((key, count));
            key += 1;
        }
    }
    assert_eq!(at, deltas.len(), "as many deltas as the spans' lengths");
    out
}

#[test]
fn native_histogram_encodes_schema_zero_bucket_spans_and_deltas() {
    static H: NativeHistogram = NativeHistogram::new("nh_seconds", "Native.");
    let registry = Registry::new();
    registry.register(&H).unwrap();
    // Schema 3: 1.0 is key 0's upper bound, 2.0 key 8's; 1.05 is key 1
    // (2^(1/8) = 1.09); 1e-4 is under the window, in the zero bucket.
    for v in [1.0, 1.0, 1.05, 2.0, -1.0, 1e-4, 0.0] {
        H.observe(v);
    }
    let h = histogram_of(&registry);
    assert_eq!(h.sample_count, Some(7));
    assert_eq!(h.sample_sum, Some(1.0 + 1.0 + 1.05 + 2.0 - 1.0 + 1e-4));
    assert_eq!(h.schema, Some(3));
    assert_eq!(h.zero_threshold, Some(2f64.powi(-10)));
    assert_eq!(h.zero_count, Some(2));
    assert!(h.buckets.is_empty(), "no classic buckets");
    // Keys 0 and 1 in one span, key 8 after a gap of 6.
    assert_eq!(h.positive_spans, [(0, 2), (6, 1)]);
    assert_eq!(h.positive_deltas, [2, -1, 0]);
    assert_eq!(buckets(&h.positive_spans, &h.positive_deltas), [(0, 2), (1, 1), (8, 1)]);
    assert_eq!(h.negative_spans, [(0, 1)]);
    assert_eq!(h.negative_deltas, [1]);
}

#[test]
fn empty_native_histogram_gets_a_no_op_span_and_a_positive_zero_threshold() {
    static EMPTY: NativeHistogram = NativeHistogram::new("nh_empty_seconds", "Empty.");
    let registry = Registry::new();
    registry.register(&EMPTY).unwrap();
    let body = protobuf(&registry);
    // Histogram { sample_count 0, sample_sum 0.0, schema 3 (zig-zag 6),
    // zero_threshold 2^-10, zero_count 0, positive_span { 0, 0 } }.
    let threshold = 2f64.powi(-10).to_le_bytes();
    let mut histogram = vec![0x08, 0, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0x28, 6, 0x31];
    histogram.extend_from_slice(&threshold);
    histogram.extend_from_slice(&[0x38, 0, 0x62, 4, 0x08, 0, 0x10, 0]);
    let tail = [&[0x3A, u8::try_from(histogram.len()).unwrap()][..], &histogram].concat();
    assert!(body.ends_with(&tail), "{body:02X?}");
    let h = histogram_of(&registry);
    assert_eq!(h.positive_spans, [(0, 0)]);
    assert!(h.zero_threshold.unwrap() > 0.0);
}

#[test]
fn text_formats_get_the_count_and_sum_without_invented_buckets() {
    static T: NativeHistogram = NativeHistogram::new("nh_text_seconds", "Text.");
    let registry = Registry::new();
    registry.register(&T).unwrap();
    T.observe(0.5);
    T.observe(4.0);
    assert_eq!(
        registry.render(),
        "# HELP nh_text_seconds Text.\n# TYPE nh_text_seconds histogram\n\
         nh_text_seconds_bucket{le=\"+Inf\"} 2\nnh_text_seconds_sum 4.5\nnh_text_seconds_count 2\n"
    );
}

#[test]
fn every_scrape_is_consistent_under_concurrent_observes() {
    static C: NativeHistogram = NativeHistogram::new("nh_conc_seconds", "Concurrent.");
    // Threads of ours: the tests that count threads run alone.
    let _serial = crate::serve::shared();
    let registry = Registry::new();
    registry.register(&C).unwrap();
    let stop = AtomicBool::new(false);
    let mut last = 0;
    std::thread::scope(|scope| {
        for t in 0..2u32 {
            let stop = &stop;
            scope.spawn(move || {
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    // Positive, negative, tiny (zero bucket) and huge (top
                    // bucket) values.
                    let v = [0.003, -0.2, 1e-9, 7.5, 1e9][(i % 5) as usize] * f64::from(t + 1);
                    C.observe(v);
                    i = i.wrapping_add(1);
                }
            });
        }
        // Scrapes while both threads observe: at least 300, and until the
        // count has moved under the scrapes (bounded, for a loaded runner).
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut first = None;
        let mut scrapes = 0;
        while scrapes < 300 || first == Some(last) {
            assert!(Instant::now() < deadline, "the observers never ran during the scrapes");
            scrapes += 1;
            let h = histogram_of(&registry);
            let positive: i64 = buckets(&h.positive_spans, &h.positive_deltas).iter().map(|b| b.1).sum();
            let negative: i64 = buckets(&h.negative_spans, &h.negative_deltas).iter().map(|b| b.1).sum();
            let count = h.sample_count.unwrap();
            let parts = h.zero_count.unwrap() + u64::try_from(positive + negative).unwrap();
            assert_eq!(count, parts, "count vs zero bucket + buckets");
            assert!(count >= last, "the count went down");
            last = count;
            first.get_or_insert(count);
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(last > 0);
}

/// The value of a one-sample instant query's answer, as Prometheus wrote it.
fn scalar(answer: &str) -> Option<f64> {
    let after = answer.split("\"value\":[").nth(1)?;
    let value = after.split(",\"").nth(1)?.split('"').next()?;
    value.parse().ok()
}

#[test]
fn real_prometheus_stores_and_queries_our_native_histogram() {
    static LAT: NativeHistogram = NativeHistogram::new("e2e_native_seconds", "Native latency.");
    static BOTH: NativeHistogram =
        NativeHistogram::new("e2e_both_seconds", "Both kinds.").with_classic_buckets(&[0.01, 0.1, 1.0]);
    static OPS: NativeHistogramVec<1> = NativeHistogramVec::new("e2e_ops_seconds", "Per op.", ["op"]);
    let _serial = crate::serve::shared();
    // The descriptors of the server and the child would keep the process
    // tests' descriptor count from settling: they wait.
    let _fds = crate::process::lock();
    let registry = Arc::new(Registry::new());
    registry.register(&LAT).unwrap();
    registry.register(&BOTH).unwrap();
    registry.register(&OPS).unwrap();
    for v in [0.005, 0.05, 0.5, 5.0] {
        BOTH.observe(v);
    }
    OPS.with(["read"]).observe(0.25);
    OPS.with(["write"]).observe(0.5);
    OPS.with(["write"]).observe(-2.0);
    // 1001 values spread over the window, and three in the zero bucket.
    let mut values: Vec<f64> = (0..1001).map(|i| 0.002 * 1.009f64.powi(i)).collect();
    values.extend([0.0, 1e-5, 1e-6]);
    for &v in &values {
        LAT.observe(v);
    }
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2 - 1].midpoint(values[values.len() / 2]);

    let protobuf_scrapes = Arc::new(AtomicUsize::new(0));
    let (for_server, counter) = (Arc::clone(&registry), Arc::clone(&protobuf_scrapes));
    let server = ServeOptions::new()
        .serve("127.0.0.1:0", move |request| {
            let response = for_server.handle(request);
            if response.content_type == crate::PROTOBUF_SCRAPE {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            response
        })
        .unwrap();
    let Some(prometheus) = start_prometheus_with(server.local_addr(), &["--enable-feature=native-histograms"]) else {
        return crate::missing_program("prometheus");
    };
    let query = |q: &str| get(prometheus.port, &format!("/api/v1/query?query={q}")).unwrap_or_default();

    let deadline = Instant::now() + Duration::from_secs(60);
    let count = loop {
        let answer = query("histogram_count(e2e_native_seconds)");
        if let Some(count) = scalar(&answer) {
            break count;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus never answered histogram_count: {answer}\ntargets: {}\nlog:\n{}",
            get(prometheus.port, "/api/v1/targets").unwrap_or_default(),
            log_tail(&prometheus.dir)
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        protobuf_scrapes.load(Ordering::Relaxed) > 0,
        "prometheus never asked for protobuf"
    );
    #[allow(clippy::cast_precision_loss)]
    let ours = LAT.count() as f64;
    // Exactly: the same double.
    assert_eq!(count.to_bits(), ours.to_bits(), "histogram_count {count} vs {ours}");
    let sum = scalar(&query("histogram_sum(e2e_native_seconds)")).unwrap();
    assert_eq!(
        sum.to_bits(),
        LAT.sum().to_bits(),
        "histogram_sum {sum} vs {}",
        LAT.sum()
    );
    let q = scalar(&query("histogram_quantile(0.5,e2e_native_seconds)")).unwrap();
    // Schema 3: a bucket's bounds are a factor 2^(1/8) apart.
    let width = 2f64.powf(1.0 / 8.0) - 1.0;
    assert!(
        (q - median).abs() <= width * median,
        "median {median}, prometheus says {q} (allowed relative error {width})"
    );
    // Classic buckets alongside: 2.42 stores the native histogram and
    // none of the classic series (no `_bucket`, `_count` or `_sum`), as
    // the README says. Asserted as observed with 2.42.0.
    let both = scalar(&query("histogram_count(e2e_both_seconds)"));
    assert_eq!(both, Some(4.0), "the native part of a histogram with both kinds");
    for classic in [
        "e2e_both_seconds_bucket",
        "e2e_both_seconds_count",
        "e2e_both_seconds_sum",
    ] {
        let answer = query(classic);
        assert!(answer.contains("\"result\":[]"), "2.42 stored {classic}: {answer}");
    }
    // The family: one native histogram per label set.
    for (op, sum) in [("read", 0.25), ("write", -1.5)] {
        let answer = query(&format!("histogram_sum(e2e_ops_seconds{{op=\"{op}\"}})"));
        assert_eq!(scalar(&answer), Some(sum), "{op}: {answer}");
    }
    drop(prometheus);
    server.stop();
}
