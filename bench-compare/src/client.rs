use super::{BUCKETS, heap_per_series, method_status, routes};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, NativeHistogramConfig};
use prometheus_client::registry::Registry;

/// Three run-time `&str`s, compared in full.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Lookup {
    pub method: &'static str,
    pub route: &'static str,
    pub status: &'static str,
}

/// A label set with a value owned because it is only known at run time.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Owned {
    pub method: &'static str,
    pub route: String,
    pub status: &'static str,
}

pub fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// A native-only histogram, bucket factor 1.1 (schema 3), default zero
/// threshold 2^-128, no bucket limit.
pub fn native_histogram() -> Histogram {
    Histogram::new_native(NativeHistogramConfig::new(1.1))
}

pub fn encode_registry() -> Registry {
    let mut registry = Registry::default();
    let family = Family::<Owned, Counter>::default();
    for (i, route) in routes().iter().enumerate() {
        let (method, status) = method_status(i);
        family
            .get_or_create(&Owned {
                method,
                route: route.clone(),
                status,
            })
            .inc_by(i as u64 * 7 + 1);
    }
    registry.register("http_requests", "Requests served.", family);
    registry
}

pub fn heap(routes: &[String]) -> f64 {
    let family = Family::<Owned, Counter>::default();
    let keys: Vec<Owned> = routes
        .iter()
        .map(|r| Owned {
            method: "GET",
            route: r.clone(),
            status: "200",
        })
        .collect();
    let per = heap_per_series(routes, |i, _| {
        family.get_or_create(&keys[i]).inc();
    });
    drop(keys);
    per
}
