//! The native histogram family (`NativeHistogramVec`) and classic buckets
//! kept alongside native ones: what each format gets, the family's series
//! handling, and scrapes under concurrent observes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bareprom::{NativeHistogram, NativeHistogramVec, OVERFLOW_LABEL_VALUE, Registry};

use crate::protobuf_decode::{PbHistogram, decode};

fn protobuf(registry: &Registry) -> Vec<u8> {
    let mut body = Vec::new();
    registry.encode_protobuf(&mut body);
    body
}

/// Every series of the first family: its labels and histogram.
fn series_of(registry: &Registry) -> Vec<(Vec<(String, String)>, PbHistogram)> {
    let families = decode(&protobuf(registry)).unwrap();
    assert_eq!(families[0].kind, 4, "HISTOGRAM");
    let metrics = families[0].metrics.iter();
    metrics
        .map(|m| (m.labels.clone(), m.histogram.clone().unwrap()))
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn a_family_encodes_each_series_with_the_shared_window() {
    static RPC: NativeHistogramVec<2> =
        NativeHistogramVec::with_range("nv_rpc_seconds", "RPC.", ["method", "code"], 2.0, 0.25, 4.0, 1e-9);
    let registry = Registry::with_const_labels(&[("zone", "a")]).unwrap().without_health();
    registry.register(&RPC).unwrap();
    // Schema 0 (factor 2), window (2^-2, 2^2]: key k holds (2^(k-1), 2^k].
    RPC.with(["GET", "200"]).observe(1.0);
    RPC.with(["GET", "200"]).observe(3.0);
    RPC.with(["PUT", "500"]).observe(-0.5);
    RPC.with(["PUT", "500"]).observe(0.1); // under the window: zero bucket
    RPC.init_series([["GET", "404"]]);
    let series = series_of(&registry);
    assert_eq!(series.len(), 3);
    let (get, h) = &series[0];
    assert_eq!(*get, labels(&[("zone", "a"), ("method", "GET"), ("code", "200")]));
    assert_eq!(
        (h.schema, h.zero_threshold, h.sample_count),
        (Some(0), Some(0.25), Some(2))
    );
    assert_eq!(
        (h.positive_spans.as_slice(), h.positive_deltas.as_slice()),
        (&[(0, 1), (1, 1)][..], &[1, 0][..])
    );
    let (_, put) = &series[1];
    assert_eq!((put.zero_count, put.sample_sum), (Some(1), Some(-0.4)));
    assert_eq!(
        (put.negative_spans.as_slice(), put.negative_deltas.as_slice()),
        (&[(-1, 1)][..], &[1][..])
    );
    let (missing, empty) = &series[2];
    assert_eq!(missing[2], ("code".to_owned(), "404".to_owned()));
    assert_eq!(
        (empty.sample_count, empty.positive_spans.as_slice()),
        (Some(0), &[(0, 0)][..])
    );

    assert!(RPC.remove(["GET", "404"]));
    assert_eq!(series_of(&registry).len(), 2);
}

#[test]
fn a_family_has_a_series_cap() {
    static CAPPED: NativeHistogramVec<1> =
        NativeHistogramVec::new("nv_capped_seconds", "Capped.", ["user"]).with_series_limit(2);
    let registry = Registry::new();
    registry.register(&CAPPED).unwrap();
    for user in ["a", "b", "c", "d"] {
        CAPPED.with([user]).observe(0.5);
    }
    assert_eq!((CAPPED.len(), CAPPED.dropped()), (3, 2));
    assert_eq!(CAPPED.with([OVERFLOW_LABEL_VALUE]).count(), 2);
    assert!(
        registry
            .render()
            .contains("bareprom_series_dropped_total{family=\"nv_capped_seconds\"} 2\n")
    );
}

#[test]
fn run_time_constructors_refuse_what_the_const_ones_reject() {
    let bad = NativeHistogramVec::try_with_range("nv_bad_seconds", "Bad.", ["op"], 1.0, 1e-3, 1.0, 1e-9);
    assert_eq!(bad.unwrap_err().kind(), bareprom::ErrorKind::InvalidBuckets);
    let le = NativeHistogramVec::try_new("nv_le_seconds", "Le.", ["le"]);
    assert_eq!(le.unwrap_err().kind(), bareprom::ErrorKind::ReservedLabelName);
    let family = NativeHistogramVec::try_new("nv_ok_seconds", "Ok.", ["op"]).unwrap();
    let unsorted = family.try_with_classic_buckets(vec![1.0, 0.5]);
    assert_eq!(unsorted.unwrap_err().kind(), bareprom::ErrorKind::InvalidBuckets);
    let single = NativeHistogram::new("nv_single_seconds", "S.").try_with_classic_buckets(vec![f64::NAN]);
    assert_eq!(single.unwrap_err().kind(), bareprom::ErrorKind::InvalidBuckets);
}

#[test]
fn classic_buckets_alongside_go_to_text_and_with_the_native_parts_to_protobuf() {
    static BOTH: NativeHistogram =
        NativeHistogram::new("nv_both_seconds", "Both.").with_classic_buckets(&[0.1, 1.0, f64::INFINITY]);
    let registry = Registry::new().without_health();
    registry.register(&BOTH).unwrap();
    for v in [0.05, 0.5, 0.5, 2.0] {
        BOTH.observe(v);
    }
    assert_eq!(
        registry.render(),
        "# HELP nv_both_seconds Both.\n# TYPE nv_both_seconds histogram\n\
         nv_both_seconds_bucket{le=\"0.1\"} 1\nnv_both_seconds_bucket{le=\"1\"} 3\n\
         nv_both_seconds_bucket{le=\"+Inf\"} 4\nnv_both_seconds_sum 3.05\nnv_both_seconds_count 4\n"
    );
    let mut openmetrics = Vec::new();
    registry.encode_openmetrics(&mut openmetrics);
    let openmetrics = String::from_utf8(openmetrics).unwrap();
    assert!(
        openmetrics.contains("nv_both_seconds_bucket{le=\"1.0\"} 3\n"),
        "{openmetrics}"
    );
    // Both text renderings pass the real parsers.
    crate::openmetrics::python_accepts(&openmetrics);
    crate::promtool::promtool_check(&registry.render());
    let series = series_of(&registry);
    let h = &series[0].1;
    // One message: the classic buckets (no `+Inf`) and the native parts.
    assert_eq!(h.buckets, [(1, 0.1), (3, 1.0)]);
    assert_eq!((h.sample_count, h.schema, h.zero_count), (Some(4), Some(3), Some(0)));
    assert_eq!(h.positive_deltas.len(), 3, "0.05, 0.5 and 2.0 in three native buckets");
}

#[test]
fn a_family_shares_its_classic_buckets_with_every_series() {
    static OPS: NativeHistogramVec<1> =
        NativeHistogramVec::new("nv_ops_seconds", "Ops.", ["op"]).with_classic_buckets(&[0.5]);
    let registry = Registry::new().without_health();
    registry.register(&OPS).unwrap();
    OPS.with(["read"]).observe(0.25);
    OPS.with(["write"]).observe(0.75);
    let text = registry.render();
    assert!(
        text.contains("nv_ops_seconds_bucket{op=\"read\",le=\"0.5\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("nv_ops_seconds_bucket{op=\"write\",le=\"0.5\"} 0\n"),
        "{text}"
    );
    assert!(text.contains("nv_ops_seconds_count{op=\"write\"} 1\n"), "{text}");
    crate::promtool::promtool_check(&text);
    let series = series_of(&registry);
    assert_eq!(series[1].1.buckets, [(0, 0.5)]);
}

/// With both kinds of bucket, no cumulative classic count ever exceeds the
/// native count sent with it, and the native count stays the sum of its
/// parts, while two threads observe.
#[test]
fn classic_buckets_never_exceed_the_native_count_under_concurrent_observes() {
    static CB: NativeHistogram =
        NativeHistogram::new("nv_conc_seconds", "Concurrent.").with_classic_buckets(&[0.01, 1.0, 100.0]);
    let _serial = crate::serve::shared();
    let registry = Registry::new();
    registry.register(&CB).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for t in 0..2u32 {
            let stop = &stop;
            scope.spawn(move || {
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    CB.observe([0.003, -0.2, 7.5, 1e9][(i % 4) as usize] * f64::from(t + 1));
                    i = i.wrapping_add(1);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut scrapes, mut moved, mut last) = (0, 0, 0);
        while scrapes < 300 || moved < 10 {
            assert!(Instant::now() < deadline, "the observers never ran during the scrapes");
            scrapes += 1;
            let h = series_of(&registry).remove(0).1;
            let count = h.sample_count.unwrap();
            let mut previous = 0;
            for &(cumulative, bound) in &h.buckets {
                assert!(cumulative >= previous, "not cumulative at {bound}");
                assert!(cumulative <= count, "bucket {bound}: {cumulative} > count {count}");
                previous = cumulative;
            }
            moved += usize::from(count > last);
            last = count;
        }
        stop.store(true, Ordering::Relaxed);
    });
}

#[test]
fn timers_observe_elapsed_seconds_into_their_series() {
    static TIMED: NativeHistogramVec<1> = NativeHistogramVec::new("nv_timed_seconds", "Timed.", ["op"]);
    static STATIC: NativeHistogram = NativeHistogram::new("nv_timed_static_seconds", "Timed.");
    // The family timer holds the series: the handle is a temporary.
    let timer = TIMED.with(["sleep"]).start_timer();
    std::thread::sleep(Duration::from_millis(20));
    let secs = timer.stop();
    assert!(secs >= 0.02, "{secs}");
    let series = TIMED.with(["sleep"]);
    assert_eq!((series.count(), series.sum()), (1, secs));
    drop(STATIC.start_timer());
    assert_eq!(STATIC.count(), 1);
}

/// Replacing the classic buckets of a histogram that has counted into them
/// starts their counts afresh, at the new bounds' length.
#[test]
fn replacing_classic_buckets_starts_their_counts_afresh() {
    let first = NativeHistogram::try_new("nv_replaced_seconds", "Replaced.", 1.1, 0.001, 1000.0, 1e-9)
        .unwrap()
        .try_with_classic_buckets(vec![1.0, 2.0, 3.0])
        .unwrap();
    first.observe(0.5);
    let replaced = first.with_classic_buckets(&[10.0]);
    replaced.observe(0.5);
    let registry = Registry::new().without_health();
    registry.register_arc(std::sync::Arc::new(replaced)).unwrap();
    let text = registry.render();
    assert!(
        text.contains("nv_replaced_seconds_bucket{le=\"10\"} 1\nnv_replaced_seconds_bucket{le=\"+Inf\"} 1\n"),
        "{text}"
    );
    let h = series_of(&registry).remove(0).1;
    assert_eq!((h.sample_count, h.buckets.as_slice()), (Some(2), &[(1, 10.0)][..]));
}
