use super::{BUCKETS, SERIES, encode_labels, heap_per_series, routes};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

pub fn counter() -> IntCounter {
    IntCounter::new("c_total", "C.").expect("valid")
}

pub fn vec(name: &str) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, "Requests."), &["method", "route", "status"]).expect("valid")
}

pub fn histogram() -> Histogram {
    Histogram::with_opts(HistogramOpts::new("h_seconds", "H.").buckets(BUCKETS.to_vec())).expect("valid")
}

pub fn encode_registry() -> Registry {
    let registry = Registry::new();
    let family = vec("http_requests_total");
    for (i, route) in routes().iter().enumerate() {
        family
            .with_label_values(&encode_labels(i, route))
            .inc_by(i as u64 * 7 + 1);
    }
    registry.register(Box::new(family)).expect("registers");
    registry
}

pub fn heap(routes: &[String]) -> f64 {
    let family = vec("heap_total");
    let per = heap_per_series(routes, |_, route| {
        drop(family.with_label_values(&["GET", route, "200"]))
    });
    let families = prometheus::core::Collector::collect(&family);
    assert_eq!(families[0].get_metric().len(), SERIES);
    per
}
