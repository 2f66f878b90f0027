//! Issue 19's rows, on the data of `benches/support/data.rs`: lookups over
//! route patterns of 4-64 bytes, random lookups in families of 10 000 and
//! 100 000 series, a held 3-label histogram child, and heap per series for
//! repeated and all-distinct label sets.

use std::hint::black_box;

use metrics_exporter_prometheus::PrometheusRecorder;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use super::data::{distinct_sets, random_order, realistic_sets, repeated_sets};
use super::lookups::Lookups;
use super::{ALLOC, BUCKETS, Row, client, meas, prom};

/// Random lookups cycle over this many drawn indexes.
const ORDER: usize = 1 << 16;

/// The lookup rows' families, filled before timing.
pub struct Inputs {
    pub few: Lookups,
    pub many: Lookups,
    pub mid: Lookups,
    pub big: Lookups,
}

impl Inputs {
    pub fn new(recorder: &PrometheusRecorder) -> Self {
        let random = |name, n: usize| {
            let sets = realistic_sets(n, 0x5eed_0000 + n as u64);
            Lookups::in_order(name, sets, random_order(n, ORDER, n as u64), recorder)
        };
        Inputs {
            few: Lookups::new("real_few_total", realistic_sets(50, 0x5eed_0050), recorder),
            many: Lookups::new("real_many_total", realistic_sets(2000, 0x5eed_2000), recorder),
            mid: random("real_10k_total", 10_000),
            big: random("real_100k_total", 100_000),
        }
    }

    pub fn rows<'a>(&'a self, recorder: &'a PrometheusRecorder) -> Vec<Row<'a>> {
        vec![
            self.few
                .row("3-label lookup + inc (50 realistic sets, routes 4-64 B)", recorder),
            self.many.row("3-label lookup + inc (2000 realistic sets)", recorder),
            self.mid.row("random lookup + inc, family of 10 000 series", recorder),
            self.big.row("random lookup + inc, family of 100 000 series", recorder),
            self.few
                .apply_row("3-label lookup + inc, bareprom `apply` (50 realistic sets)", recorder),
            self.many
                .apply_row("3-label lookup + inc, bareprom `apply` (2000 realistic sets)", recorder),
        ]
    }
}

/// The held children of the 3-label histogram row, one per library
/// (`measured` has no held histogram child).
pub struct HeldHistograms {
    ours: bareprom::Child<bareprom::HistogramCell>,
    prom: prometheus::Histogram,
    client: Histogram,
    metrics: metrics::Histogram,
    values: Vec<f64>,
}

const HELD: [&str; 3] = ["GET", "/api/v2/service123/items/:id", "200"];

impl HeldHistograms {
    pub fn new(recorder: &PrometheusRecorder, values: Vec<f64>) -> Self {
        let ours = Box::leak(Box::new(
            bareprom::HistogramVec::<3>::try_new("held_seconds", "H.", ["method", "route", "status"]).expect("valid"),
        ))
        .with(HELD);
        let prom = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new("held_seconds", "H.").buckets(BUCKETS.to_vec()),
            &["method", "route", "status"],
        )
        .expect("valid")
        .with_label_values(&HELD);
        let family: &'static Family<client::Lookup, Histogram, fn() -> Histogram> = Box::leak(Box::new(
            Family::new_with_constructor(client::histogram as fn() -> Histogram),
        ));
        let [method, route, status] = HELD;
        let client = family.get_or_create_owned(&client::Lookup { method, route, status });
        let metrics = metrics::with_local_recorder(
            recorder,
            || metrics::histogram!("held_seconds", "method" => method, "route" => route, "status" => status),
        );
        HeldHistograms {
            ours,
            prom,
            client,
            metrics,
            values,
        }
    }

    pub fn row<'a>(&'a self, recorder: &'a PrometheusRecorder) -> Row<'a> {
        let values = &self.values;
        let handle = recorder.handle();
        Row::new(
            "held 3-label histogram child observe",
            [
                Some(Box::new(move |n| {
                    let held = black_box(&self.ours);
                    for i in 0..n {
                        held.observe(black_box(values[(i & 63) as usize]));
                    }
                })),
                Some(Box::new(move |n| {
                    let held = black_box(&self.prom);
                    for i in 0..n {
                        held.observe(black_box(values[(i & 63) as usize]));
                    }
                })),
                Some(Box::new(move |n| {
                    let held = black_box(&self.client);
                    for i in 0..n {
                        held.observe(black_box(values[(i & 63) as usize]));
                    }
                })),
                Some(Box::new(move |n| {
                    let held = black_box(&self.metrics);
                    for i in 0..n {
                        held.record(black_box(values[(i & 63) as usize]));
                    }
                    handle.run_upkeep();
                })),
                None,
            ],
        )
    }
}

/// Live heap bytes per set that `create` adds for each of `sets`.
fn per_series(sets: &[[&'static str; 3]], mut create: impl FnMut(usize, [&'static str; 3])) -> f64 {
    let before = ALLOC.heap_bytes();
    for (i, set) in sets.iter().enumerate() {
        create(i, *set);
    }
    let after = ALLOC.heap_bytes();
    (after as f64 - before as f64) / sets.len() as f64
}

/// Heap per series of every library for `sets` (see `main.rs` for how each
/// stores its labels; values that `prometheus-client` and `metrics` could
/// borrow as `&'static str` are borrowed, only the route is owned).
pub fn heap(sets: &[[&'static str; 3]], recorder_for_metrics: PrometheusRecorder) -> [f64; 5] {
    let ours = {
        let family = bareprom::CounterVec::<3>::try_new("heap_total", "Heap.", ["method", "route", "status"])
            .expect("valid")
            .with_series_limit(usize::MAX);
        let per = per_series(sets, |_, set| drop(family.with(set)));
        assert_eq!(family.len(), sets.len());
        per
    };
    let prom = {
        let family = prom::vec("heap_total");
        per_series(sets, |_, set| drop(family.with_label_values(&set)))
    };
    let client = {
        let family = Family::<client::Owned, prometheus_client::metrics::counter::Counter>::default();
        let keys: Vec<client::Owned> = sets
            .iter()
            .map(|[method, route, status]| client::Owned {
                method,
                route: (*route).to_owned(),
                status,
            })
            .collect();
        let per = per_series(sets, |i, _| {
            family.get_or_create(&keys[i]).inc();
        });
        drop(keys);
        per
    };
    let metrics = metrics::with_local_recorder(&recorder_for_metrics, || {
        per_series(sets, |_, [method, route, status]| {
            metrics::counter!("heap_total", "method" => method, "route" => route.to_owned(), "status" => status)
                .increment(1);
        })
    });
    let measured = {
        let family = meas::vec();
        per_series(sets, |_, set| family.inc(meas::request(set)))
    };
    [ours, prom, client, metrics, measured]
}

/// The two heap rows' label sets: repeated, all-distinct.
pub fn heap_sets() -> [(&'static str, Vec<[&'static str; 3]>); 2] {
    [
        (
            "heap per series, 10k repeated sets (5 methods x 500 routes x 4 statuses)",
            repeated_sets(),
        ),
        ("heap per series, 10k all-distinct sets", distinct_sets(10_000)),
    ]
}
