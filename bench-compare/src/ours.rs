use super::{BUCKETS, SERIES, encode_labels, heap_per_series, routes};
use bareprom::{Counter, CounterVec, Histogram, NativeHistogram, Registry, ShardedCounter};
use std::sync::Arc;

pub static COUNTER: Counter = Counter::new("c_total", "C.");
/// The counter type for counters many threads bump at once.
pub static SHARDED: ShardedCounter = ShardedCounter::new("sharded_total", "S.");
pub static HELD: CounterVec<3> = CounterVec::new("held_total", "H.", ["method", "route", "status"]);
pub static HISTOGRAM: Histogram = Histogram::with_buckets("h_seconds", "H.", &BUCKETS);
/// Bucket factor 1.1 (schema 3), client_golang's suggested start.
pub static NATIVE: NativeHistogram = NativeHistogram::new("n_seconds", "N.");

pub fn encode_registry() -> Registry {
    let registry = Registry::new();
    let family = Arc::new(
        CounterVec::<3>::try_new("http_requests_total", "Requests served.", ["method", "route", "status"])
            .expect("valid"),
    );
    for (i, route) in routes().iter().enumerate() {
        family.with(encode_labels(i, route)).inc_by(i as u64 * 7 + 1);
    }
    registry.register_arc(family).expect("registers");
    registry
}

pub fn heap(routes: &[String]) -> f64 {
    let family = CounterVec::<3>::try_new("heap_total", "Heap.", ["method", "route", "status"]).expect("valid");
    let per = heap_per_series(routes, |_, route| drop(family.with(["GET", route, "200"])));
    assert_eq!(family.len(), SERIES);
    per
}
