use super::{BUCKETS, heap_per_series, method_status, routes};
use metrics_exporter_prometheus::{Matcher, NativeHistogramConfig, PrometheusBuilder, PrometheusRecorder};

pub fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .expect("valid buckets")
        .set_native_histogram_for_metric(
            Matcher::Full("n_seconds".to_owned()),
            // Bucket factor 1.1, 160 buckets, zero threshold 2^-128: ours.
            NativeHistogramConfig::new(1.1, 160, 2f64.powi(-128)).expect("valid native config"),
        )
        .build_recorder()
}

pub fn encode_recorder() -> PrometheusRecorder {
    let recorder = recorder();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!("http_requests_total", "Requests served.");
        for (i, route) in routes().iter().enumerate() {
            let (method, status) = method_status(i);
            metrics::counter!("http_requests_total", "method" => method, "route" => route.to_owned(), "status" => status)
                .increment(i as u64 * 7 + 1);
        }
    });
    recorder
}

pub fn heap(routes: &[String]) -> f64 {
    let recorder = recorder();
    let handle = recorder.handle();
    let per = metrics::with_local_recorder(&recorder, || {
        heap_per_series(routes, |_, route| {
            metrics::counter!("heap_total", "method" => "GET", "route" => route.to_owned(), "status" => "200")
                .increment(1);
        })
    });
    let text = handle.render();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("heap_total{")).count(),
        super::SERIES
    );
    per
}
