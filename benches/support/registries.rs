//! The registries the encode rows scrape: 10 000 counters of short routes
//! (`/api/v1/items/<i>`), 100 histograms, and both together.

use std::sync::Arc;

use bareprom::{CounterVec, HistogramVec, Registry};

use crate::SERIES;
use crate::timing::{METHODS, STATUSES, observations};

/// A registry with one `CounterVec<3>` of `SERIES` series.
pub(crate) fn counters_registry() -> Registry {
    let registry = Registry::new();
    add_counters(&registry);
    registry
}

/// A registry with one `HistogramVec<1>` (default buckets) of 100 series.
pub(crate) fn histograms_registry() -> Registry {
    let registry = Registry::new();
    add_histograms(&registry);
    registry
}

/// The 10 000 counters and the 100 histograms in one registry.
pub(crate) fn combined_registry() -> Registry {
    let registry = Registry::new();
    add_counters(&registry);
    add_histograms(&registry);
    registry
}

fn add_counters(registry: &Registry) {
    let family = Arc::new(
        CounterVec::<3>::try_new("http_requests_total", "Requests served.", ["method", "route", "status"])
            .expect("valid names"),
    );
    for i in 0..SERIES {
        let route = format!("/api/v1/items/{i}");
        family
            .with([METHODS[i % 5], &route, STATUSES[i % 2]])
            .inc_by(i as u64 * 7 + 1);
    }
    registry.register_arc(family).expect("registers");
}

fn add_histograms(registry: &Registry) {
    let family =
        Arc::new(HistogramVec::<1>::try_new("rpc_duration_seconds", "RPC latency.", ["method"]).expect("valid names"));
    let values = observations();
    for i in 0..100 {
        let child = family.with([&format!("Service/Method{i}")]);
        for v in values.iter().skip(i % 7).step_by(3) {
            child.observe(*v);
        }
    }
    registry.register_arc(family).expect("registers");
}
